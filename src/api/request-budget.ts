// What one request's answers and pushes may add up to, for the costs that grow with the
// population rather than with the input, so a batch cannot repeat them per call:
// - --api-max-list: entries of the list answers together. On one node a list is charged from a
//   count before it is built (a refusal costs nothing); a cluster merge is charged after (each
//   node's part is bounded by its own population).
// - --api-max-fanout: connections the request's pushes reached together. Charged from each
//   push's `reached`; once past it, later pushes in the batch are refused without running (the
//   first push of a request always runs: one broadcast to everyone is the product's job).
import { type Err, type Result, err } from "../core/result.ts";

/** What the budget needs to know of a method (its entry in methods/index.ts). */
export interface Budgeted {
  list?: true;
  send?: true;
}

/**
 * The parameter that carries a request's remaining list budget to the nodes running their part
 * of a merged list (api/route.ts, api/dispatch.ts). A caller may send it too: a node takes at
 * most its own --api-max-list, so it can only lower its own budget.
 */
export const PART_LIST_BUDGET = "$listBudget";

/** The budget of a part run for another node: what the caller has left, at most this node's limit. */
export function partBudget(params: Record<string, unknown>, maxList: number): RequestBudget | null {
  const v = params[PART_LIST_BUDGET];
  if (typeof v !== "number" || !(v >= 0)) return null;
  return new RequestBudget(Math.min(Math.floor(v), maxList), Infinity);
}

export class RequestBudget {
  private listsLeft: number;
  private deliveries = 0;

  constructor(private readonly maxList: number, private readonly maxFanout: number) {
    this.listsLeft = maxList;
  }

  /** List entries this request may still take (what a node's part of a merged list may hold). */
  get listsRemaining(): number {
    return Math.max(0, this.listsLeft);
  }

  /** A list query once the list budget is overdrawn, or a push once the fan-out is spent: refused without running. */
  refuse(method: string, spec: Budgeted): Err | null {
    if (this.listsLeft < 0 && spec.list) return this.listTooLarge(method, null);
    if (this.deliveries >= this.maxFanout && spec.send) {
      return err("E_FANOUT_TOO_LARGE", `${method}: the request's earlier pushes reached ${this.deliveries} connections, the limit of ${this.maxFanout} per request (--api-max-fanout); send the rest in another request`);
    }
    return null;
  }

  /** Before a list of `n` entries is built (n from a count): refused when it does not fit, else charged. */
  take(method: string, n: number): Err | null {
    if (n > this.listsLeft) return this.listTooLarge(method, n);
    this.listsLeft -= n;
    return null;
  }

  /** After a call ran: a push's `reached` counts toward --api-max-fanout. */
  reached(spec: Budgeted, r: Result<unknown>): void {
    if (!r.ok || !spec.send) return;
    const n = (r.value as { reached?: unknown } | null)?.reached;
    if (typeof n === "number") this.deliveries += n;
  }

  /** After a list was merged from the cluster's nodes: charged, and refused if it overdraws the budget. */
  chargeList(method: string, r: Result<unknown>): Result<unknown> {
    const n = r.ok ? entriesOf(r.value) : null;
    if (n === null) return r;
    this.listsLeft -= n;
    return this.listsLeft < 0 ? this.listTooLarge(method, n) : r;
  }

  private listTooLarge(method: string, n: number | null): Err {
    const what = n === null ? "the request's earlier lists used up" : `${n} entries would pass`;
    return err("E_LIST_TOO_LARGE", `${method}: ${what} the limit of ${this.maxList} list entries per request (--api-max-list); ask for counts instead, or raise the limit`);
  }
}

/** What an answer costs in list entries: a list's length; a map's entries (a list value counts its length). */
function entriesOf(value: unknown): number | null {
  if (Array.isArray(value)) return value.length;
  if (value === null || typeof value !== "object") return null;
  let n = 0;
  for (const v of Object.values(value)) n += Array.isArray(v) ? v.length : 1;
  return n;
}

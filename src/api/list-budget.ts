// --api-max-list: the entries (uids, clientIds, group names) the list answers of one request
// may hold together. A list costs O(population), not O(input), so a batch of list queries
// would repeat that cost per call; the budget stops it after the first list that overdraws it.
import { type Err, type Result, err } from "../core/result.ts";

export const LIST_METHODS: ReadonlySet<string> = new Set([
  "getClientIdByUid", "getAllUidList", "getClientIdListByGroup", "getUidListByGroup", "getAllGroupIdList",
]);

export class ListBudget {
  private left: number;

  constructor(private readonly max: number) {
    this.left = max;
  }

  /** A list query once the budget is overdrawn is refused without running. */
  refuse(method: string): Err | null {
    return this.left < 0 && LIST_METHODS.has(method) ? this.tooLarge(method, null) : null;
  }

  /** Charges a list answer; one that overdraws the budget is replaced by E_LIST_TOO_LARGE. */
  charge(method: string, r: Result<unknown>): Result<unknown> {
    if (!r.ok || !LIST_METHODS.has(method) || !Array.isArray(r.value)) return r;
    this.left -= r.value.length;
    return this.left < 0 ? this.tooLarge(method, r.value.length) : r;
  }

  private tooLarge(method: string, n: number | null): Err {
    const what = n === null ? "the request's earlier lists used up" : `${n} entries would pass`;
    return err("E_LIST_TOO_LARGE", `${method}: ${what} the limit of ${this.max} list entries per request (--api-max-list); ask for counts instead, or raise the limit`);
  }
}

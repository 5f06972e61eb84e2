// Reads API parameters from a JSON object. Each getter validates one field; the first problem
// is kept in `error` (naming the field) and the method answers it instead of a result.
import { validateGroup, validateUid } from "../core/names.ts";
import { type Err, err } from "../core/result.ts";
import type { Payload } from "../history/types.ts";
import type { RequestBudget } from "./request-budget.ts";

const MAX_CLIENT_ID = 64;

export class Params {
  error: Err | null = null;
  /** `budget`: the request's list budget (none for a call from another node: its caller keeps it). */
  constructor(readonly body: Record<string, unknown>, private readonly budget: RequestBudget | null = null, private readonly method = "") {}

  /** Null when a list of `n` entries may be built for this request (and charges it), else the refusal. */
  listOf(n: number): Err | null {
    return this.budget === null ? null : this.budget.take(this.method, n);
  }

  has(field: string): boolean {
    return this.body[field] !== undefined;
  }

  private fail(field: string, message: string, code: Err["code"] = "E_BAD_PARAMS"): void {
    this.error ??= err(code, `${field}: ${message}`, field);
  }

  /**
   * A string or a non-empty array of strings, each checked by `check`. A name listed twice is
   * one target: it is pushed to once (a repeat would only multiply the fan-out).
   */
  private list(field: string, check: (v: unknown, f: string) => string | null): string[] {
    const v = this.body[field];
    if (v === undefined) { this.fail(field, "is required"); return []; }
    if (!Array.isArray(v)) {
      const ok = check(v, field);
      return ok === null ? [] : [ok];
    }
    if (v.length === 0) this.fail(field, "must not be an empty array");
    const out = new Set<string>();
    v.forEach((item, i) => {
      const ok = check(item, `${field}[${i}]`);
      if (ok !== null) out.add(ok);
    });
    return [...out];
  }

  private checkUid = (v: unknown, f: string): string | null => {
    const r = validateUid(v);
    if (r.ok) return r.value;
    this.fail(f, r.message, r.code);
    return null;
  };

  private checkGroup = (v: unknown, f: string): string | null => {
    const r = validateGroup(v);
    if (r.ok) return r.value;
    this.fail(f, r.message, r.code);
    return null;
  };

  private checkClientId = (v: unknown, f: string): string | null => {
    if (typeof v === "string" && v.length > 0 && v.length <= MAX_CLIENT_ID) return v;
    this.fail(f, `must be a clientId string of 1..${MAX_CLIENT_ID} characters`);
    return null;
  };

  uid(field = "uid"): string { return this.one(field, this.checkUid); }
  uids(field = "uid"): string[] { return this.list(field, this.checkUid); }
  group(field = "group"): string { return this.one(field, this.checkGroup); }
  groups(field = "group"): string[] { return this.list(field, this.checkGroup); }
  clientId(field = "clientId"): string { return this.one(field, this.checkClientId); }
  clientIds(field = "clientId"): string[] { return this.list(field, this.checkClientId); }

  private one(field: string, check: (v: unknown, f: string) => string | null): string {
    const v = this.body[field];
    if (v === undefined) { this.fail(field, "is required"); return ""; }
    return check(v, field) ?? "";
  }

  /** The payload to push: a string goes to seed sockets as-is, anything else as JSON text. */
  data(field = "data"): Payload {
    const v = this.body[field];
    if (v === undefined) { this.fail(field, "is required"); return { text: "", isJson: false }; }
    return typeof v === "string" ? { text: v, isJson: false } : { text: JSON.stringify(v), isJson: true };
  }

  optionalString(field: string, maxLength: number): string | undefined {
    const v = this.body[field];
    if (v === undefined) return undefined;
    if (typeof v !== "string" || v.length > maxLength) this.fail(field, `must be a string of at most ${maxLength} characters`);
    return typeof v === "string" ? v : undefined;
  }

  object(field: string): Record<string, unknown> {
    const v = this.body[field];
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      this.fail(field, "must be a JSON object");
      return {};
    }
    return v as Record<string, unknown>;
  }

  /** Optional `exclude` list of clientIds (validated), or null. */
  excludeIds(field = "exclude"): string[] | null {
    const v = this.body[field];
    if (v === undefined) return null;
    if (!Array.isArray(v)) { this.fail(field, "must be an array of clientIds"); return null; }
    const out: string[] = [];
    v.forEach((id, i) => {
      const ok = this.checkClientId(id, `${field}[${i}]`);
      if (ok !== null) out.push(ok);
    });
    return out;
  }
}

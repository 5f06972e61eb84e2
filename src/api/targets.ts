// --api-max-targets: the uids, groups and clientIds one request names (push targets, membership
// targets and `exclude` entries), counted before anything runs so a request's work is bounded
// by a documented number — a batch's calls together, not each one.
import { type Result, err, ok } from "../core/result.ts";

const TARGET_FIELDS = ["uid", "group", "clientId", "exclude"] as const;

/** Targets named by one call's params: an array counts its length, any other value 1. */
export function targetsOf(params: Record<string, unknown>): number {
  let n = 0;
  for (const f of TARGET_FIELDS) {
    const v = params[f];
    if (v !== undefined) n += Array.isArray(v) ? v.length : 1;
  }
  return n;
}

/** The batch's calls' targets together (malformed calls count 0: they fail on their own). */
export function batchTargets(calls: readonly unknown[]): number {
  let n = 0;
  for (const c of calls) {
    const params = c !== null && typeof c === "object" ? (c as { params?: unknown }).params : undefined;
    if (params !== null && typeof params === "object" && !Array.isArray(params)) n += targetsOf(params as Record<string, unknown>);
  }
  return n;
}

export function checkTargets(n: number, max: number, field: string): Result<null> {
  if (n <= max) return ok(null);
  return err("E_TOO_MANY_TARGETS", `${field}: ${n} uids, groups and clientIds named, over the limit of ${max} (--api-max-targets)`, field);
}

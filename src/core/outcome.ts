// An error whose call may already have taken effect: its outcome is unknown (the caller must not
// retry it as if nothing happened). Set by api/guard.ts; it also travels between nodes
// (engine/redis/engine.ts), hence here, below both.
import type { Err, Result } from "./result.ts";

export type CallFault = Err & { unknown?: true };

/** The one place the flag is set. */
export function markUnknown(e: Err): CallFault {
  return Object.assign(e, { unknown: true as const });
}

export function isUnknownOutcome(r: Result<unknown>): boolean {
  return !r.ok && (r as CallFault).unknown === true;
}

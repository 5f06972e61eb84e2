// Validation of uids and group names at the trust boundary: both become topic suffixes.
import { type Result, ok, err } from "./result.ts";

const MAX_NAME_LENGTH = 128;

// C0 controls, DEL and C1 controls.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function checkName(kind: "uid" | "group", value: unknown): string | null {
  if (typeof value !== "string") return `${kind} must be a string`;
  if (value.length === 0) return `${kind} must not be empty`;
  if (value.length > MAX_NAME_LENGTH) return `${kind} is longer than ${MAX_NAME_LENGTH} characters`;
  if (value.includes(":")) return `${kind} must not contain ':'`;
  if (CONTROL.test(value)) return `${kind} must not contain control characters`;
  return null;
}

/** `all:payload` is the seed protocol's broadcast, so no user can be called "all". */
export const RESERVED_UID = "all";

/** What is wrong with `value` as a uid, or null: the per-message path's check (no allocation). */
export function uidProblem(value: unknown): string | null {
  return value === RESERVED_UID ? `uid "${RESERVED_UID}" is reserved for broadcast` : checkName("uid", value);
}

export function validateUid(value: unknown): Result<string> {
  const problem = uidProblem(value);
  return problem === null ? ok(value as string) : err("E_INVALID_UID", problem);
}

export function validateGroup(value: unknown): Result<string> {
  const problem = checkName("group", value);
  return problem === null ? ok(value as string) : err("E_INVALID_GROUP", problem);
}

// Validation at trust boundaries returns a Result instead of throwing, so hot paths
// never pay for exceptions and callers must handle the failure branch.
import type { ErrorCode } from "./errors.ts";

export type Ok<T> = { ok: true; value: T };
export type Err = { ok: false; code: ErrorCode; message: string; field?: string };
export type Result<T> = Ok<T> | Err;

export function ok<T>(value: T): Ok<T> {
  return { ok: true, value };
}

export function err(code: ErrorCode, message: string, field?: string): Err {
  return field === undefined ? { ok: false, code, message } : { ok: false, code, message, field };
}

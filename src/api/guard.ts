// Runs one API method so that an exception inside it becomes an answer, never a crash or a
// blind 500: E_INTERNAL, marked `unknown` when the call may already have taken effect (a caller
// must not retry it as if nothing happened). See "Errors after a side effect" in docs/http-api.md.
import type { Hub } from "../core/hub.ts";
import { type CallFault, markUnknown } from "../core/outcome.ts";
import { type Err, type Result, err } from "../core/result.ts";

/**
 * Runs a method. A synchronous throw: whether it took effect is exact, from hub.effects (nothing
 * else runs between the snapshot and the throw). A rejection: other requests interleave, so a
 * mutating method is then unknown.
 */
export function guardedCall(
  name: string, mutating: boolean, hub: Hub, run: () => Result<unknown> | Promise<Result<unknown>>,
): Result<unknown> | Promise<Result<unknown>> {
  const before = hub.effects;
  let r: Result<unknown> | Promise<Result<unknown>>;
  try {
    r = run();
  } catch (e) {
    return fault(name, hub, e, hub.effects !== before);
  }
  return r instanceof Promise ? r.catch((e) => fault(name, hub, e, mutating)) : r;
}

/**
 * A cluster error that must not read as "nothing happened": the call's local part ran, or a node
 * that did not answer in time may still run it. Keeps its code; answered 202 (see http.ts).
 */
export function unknownOutcome(e: Err): CallFault {
  return markUnknown(err(e.code, `${e.message}; the call may have taken effect: its outcome is unknown (do not retry it blindly)`, e.field));
}

export function fault(name: string, hub: Hub, e: unknown, mayHaveActed: boolean): CallFault {
  hub.log.error("api_error", { method: name, error: String(e), outcome: mayHaveActed ? "unknown" : "none" });
  if (!mayHaveActed) return err("E_INTERNAL", "internal error; the call had no effect");
  return markUnknown(err("E_INTERNAL", "internal error after the call began to take effect: its outcome is unknown (do not retry it blindly)"));
}

// `batch`: { "calls": [ { "method": "...", "params": { ... } }, ... ] } answered in order, each
// entry { "result": … } or { "error": { code, message } }. A failing call does not stop the rest,
// and the request as a whole is refused only before its first call runs.
import type { Hub } from "../core/hub.ts";
import { isUnknownOutcome } from "../core/outcome.ts";
import { type Err, type Result, err, ok } from "../core/result.ts";
import { dispatch, isMethod } from "./dispatch.ts";
import { fault } from "./guard.ts";
import type { IdempotencyCache } from "./idempotency.ts";
import { RequestBudget } from "./request-budget.ts";
import { batchCounts, checkCounts } from "./targets.ts";

export async function runBatch(body: Record<string, unknown>, hub: Hub, idempotency: IdempotencyCache): Promise<Result<unknown[]>> {
  const calls = body.calls;
  if (!Array.isArray(calls)) return err("E_BAD_PARAMS", "calls: must be an array of { method, params }", "calls");
  if (calls.length > hub.config.apiMaxBatch) {
    hub.metrics.limitsExceeded.incL(["api_max_batch"]);
    return err("E_BATCH_TOO_LARGE", `calls: ${calls.length} calls, over the limit of ${hub.config.apiMaxBatch} (--api-max-batch)`, "calls");
  }
  const counts = batchCounts(calls, hub);
  const refused = checkCounts(counts.targets, counts.memberships, hub, "calls");
  if (!refused.ok) return refused;
  // From here on every call is answered in its place, whatever happens to the others.
  const out: unknown[] = new Array(calls.length);
  const budget = new RequestBudget(hub.config.apiMaxList, hub.config.apiMaxFanout);
  for (let i = 0; i < calls.length; i++) {
    const before = hub.effects;
    let r: Result<unknown>;
    try {
      r = await runOne(calls[i], i, hub, budget, idempotency);
    } catch (e) {
      r = fault(`batch[${i}]`, hub, e, hub.effects !== before || hub.engine.distributed);
    }
    if (!r.ok) hub.metrics.errors.incL([r.code]);
    out[i] = r.ok ? { result: r.value } : { error: errorBody(r) };
  }
  return ok(out);
}

function runOne(call: unknown, i: number, hub: Hub, budget: RequestBudget, idempotency: IdempotencyCache): Result<unknown> | Promise<Result<unknown>> {
  if (call === null || typeof call !== "object" || Array.isArray(call)) {
    return err("E_BAD_PARAMS", `calls[${i}]: must be an object { method, params }`, `calls[${i}]`);
  }
  const { method, params } = call as { method?: unknown; params?: unknown };
  if (typeof method !== "string" || !isMethod(method)) return err("E_UNKNOWN_METHOD", `calls[${i}].method: unknown method ${JSON.stringify(method)}`, `calls[${i}].method`);
  if (params !== undefined && (params === null || typeof params !== "object" || Array.isArray(params))) {
    return err("E_BAD_PARAMS", `calls[${i}].params: must be a JSON object`, `calls[${i}].params`);
  }
  return dispatch(method, (params ?? {}) as Record<string, unknown>, hub, budget, idempotency);
}

/** The JSON error object: code, message, the field at fault, and `outcome: "unknown"` after a fault mid-call. */
export function errorBody(e: Err): Record<string, string> {
  const body: Record<string, string> = { code: e.code, message: e.message };
  if (e.field !== undefined) body.field = e.field;
  if (isUnknownOutcome(e)) body.outcome = "unknown";
  return body;
}

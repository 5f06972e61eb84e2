// `batch`: { "calls": [ { "method": "...", "params": { ... } }, ... ] } answered in order, each
// entry { "result": … } or { "error": { code, message } }. A failing call does not stop the rest.
import type { Hub } from "../core/hub.ts";
import { type Result, err, ok } from "../core/result.ts";
import { dispatch, isMethod } from "./dispatch.ts";

export async function runBatch(body: Record<string, unknown>, hub: Hub): Promise<Result<unknown[]>> {
  const calls = body.calls;
  if (!Array.isArray(calls)) return err("E_BAD_PARAMS", "calls: must be an array of { method, params }", "calls");
  if (calls.length > hub.config.apiMaxBatch) {
    return err("E_BATCH_TOO_LARGE", `calls: ${calls.length} calls, over the limit of ${hub.config.apiMaxBatch} (--api-max-batch)`, "calls");
  }
  const out: unknown[] = new Array(calls.length);
  for (let i = 0; i < calls.length; i++) {
    const r = await runOne(calls[i], i, hub);
    if (!r.ok) hub.metrics.errors.incL([r.code]);
    out[i] = r.ok ? { result: r.value } : { error: errorBody(r) };
  }
  return ok(out);
}

function runOne(call: unknown, i: number, hub: Hub): Result<unknown> | Promise<Result<unknown>> {
  if (call === null || typeof call !== "object" || Array.isArray(call)) {
    return err("E_BAD_PARAMS", `calls[${i}]: must be an object { method, params }`, `calls[${i}]`);
  }
  const { method, params } = call as { method?: unknown; params?: unknown };
  if (typeof method !== "string" || !isMethod(method)) return err("E_UNKNOWN_METHOD", `calls[${i}].method: unknown method ${JSON.stringify(method)}`, `calls[${i}].method`);
  if (params !== undefined && (params === null || typeof params !== "object" || Array.isArray(params))) {
    return err("E_BAD_PARAMS", `calls[${i}].params: must be a JSON object`, `calls[${i}].params`);
  }
  return dispatch(method, (params ?? {}) as Record<string, unknown>, hub);
}

export function errorBody(e: { code: string; message: string; field?: string }) {
  return e.field === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, field: e.field };
}

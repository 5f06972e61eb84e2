// Runs one API method: idempotency keys for sends, then locally or, on a cluster member, through
// the cluster (cluster-api.ts). Used by the HTTP handler and by batch.
import type { Hub } from "../core/hub.ts";
import { type Result, err, ok } from "../core/result.ts";
import { clustered } from "./cluster-api.ts";
import { METHODS } from "./methods/index.ts";
import { Params } from "./params.ts";

const SENDS = new Set(["sendToUid", "sendToClient", "sendToGroup", "sendToAll"]);
const MAX_KEY_LENGTH = 256;

export function isMethod(name: string): boolean {
  return Object.hasOwn(METHODS, name);
}

export function dispatch(name: string, body: Record<string, unknown>, hub: Hub): Result<unknown> | Promise<Result<unknown>> {
  if (SENDS.has(name) && body.idempotencyKey !== undefined) return idempotent(name, body, hub);
  return run(name, body, hub);
}

function run(name: string, body: Record<string, unknown>, hub: Hub): Result<unknown> | Promise<Result<unknown>> {
  return hub.cluster ? clustered(name, body, hub) : METHODS[name]!(new Params(body), hub);
}

/** Same key within the window → the first answer, not a second delivery. Per node, in memory. */
async function idempotent(name: string, body: Record<string, unknown>, hub: Hub): Promise<Result<unknown>> {
  const key = body.idempotencyKey;
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    return err("E_BAD_PARAMS", `idempotencyKey: must be a string of 1..${MAX_KEY_LENGTH} characters`, "idempotencyKey");
  }
  const seen = hub.idempotency.get(key);
  if (seen) {
    if (seen.method !== name) return err("E_IDEMPOTENCY_CONFLICT", `idempotencyKey: already used by ${seen.method}`, "idempotencyKey");
    hub.metrics.idempotentHits.inc();
    return ok(seen.result);
  }
  const r = await run(name, body, hub);
  if (r.ok) hub.idempotency.set(key, name, r.value);
  return r;
}

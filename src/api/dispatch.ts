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
  const seen = hub.idempotency.get(key) ?? inflight.get(key);
  if (seen) {
    if (seen.method !== name) return err("E_IDEMPOTENCY_CONFLICT", `idempotencyKey: already used by ${seen.method}`, "idempotencyKey");
    hub.metrics.idempotentHits.inc();
    return "pending" in seen ? seen.pending : ok(seen.result);
  }
  // A retry arriving while the first call still runs (a cluster send awaits Redis) joins it.
  const pending = Promise.resolve(run(name, body, hub));
  inflight.set(key, { method: name, pending });
  try {
    const r = await pending;
    // A partial answer (Redis unreachable) is not remembered: a retry must reach the others.
    if (r.ok && (r.value as { error?: unknown }).error === undefined) hub.idempotency.set(key, name, r.value);
    return r;
  } finally {
    inflight.delete(key);
  }
}

const inflight = new Map<string, { method: string; pending: Promise<Result<unknown>> }>();

// Runs one API method: idempotency keys for sends, then locally or, on a cluster member, through
// the cluster (cluster-api.ts). Used by the HTTP handler and by batch.
import type { Hub } from "../core/hub.ts";
import { type Result, err } from "../core/result.ts";
import { clustered } from "./cluster-api.ts";
import { guarded, guardedAsync, isUnknownOutcome } from "./guard.ts";
import type { ListBudget } from "./list-budget.ts";
import { METHODS } from "./methods/index.ts";
import { Params } from "./params.ts";

const SENDS = new Set(["sendToUid", "sendToClient", "sendToGroup", "sendToAll"]);
const MAX_KEY_LENGTH = 256;

export function isMethod(name: string): boolean {
  return Object.hasOwn(METHODS, name);
}

/** `lists` is the request's list budget (one per HTTP request, shared by a batch's calls). */
export function dispatch(name: string, body: Record<string, unknown>, hub: Hub, lists: ListBudget): Result<unknown> | Promise<Result<unknown>> {
  const refused = lists.refuse(name);
  if (refused) return overList(hub, refused);
  if (SENDS.has(name) && body.idempotencyKey !== undefined) return idempotent(name, body, hub);
  const r = run(name, body, hub);
  return r instanceof Promise ? r.then((v) => charge(lists, name, v, hub)) : charge(lists, name, r, hub);
}

function charge(lists: ListBudget, name: string, r: Result<unknown>, hub: Hub): Result<unknown> {
  const charged = lists.charge(name, r);
  return charged === r ? r : overList(hub, charged);
}

function overList(hub: Hub, r: Result<unknown>): Result<unknown> {
  hub.metrics.limitsExceeded.incL(["api_max_list"]);
  return r;
}

/** A method that throws answers E_INTERNAL (guard.ts): a batch goes on, a request never crashes. */
function run(name: string, body: Record<string, unknown>, hub: Hub): Result<unknown> | Promise<Result<unknown>> {
  return hub.cluster
    ? guardedAsync(name, hub, () => clustered(name, body, hub))
    : guarded(name, hub, () => METHODS[name]!(new Params(body), hub));
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
    return "pending" in seen ? seen.pending : seen.result as Result<unknown>;
  }
  // A retry arriving while the first call still runs (a cluster send awaits Redis) joins it.
  const pending = Promise.resolve(run(name, body, hub));
  inflight.set(key, { method: name, pending });
  try {
    const r = await pending;
    // A partial answer (Redis unreachable) is not remembered: a retry must reach the others.
    // An unknown outcome is: the call may have delivered, so a retry must not deliver again.
    if ((r.ok && (r.value as { error?: unknown }).error === undefined) || isUnknownOutcome(r)) hub.idempotency.set(key, name, r);
    return r;
  } finally {
    inflight.delete(key);
  }
}

const inflight = new Map<string, { method: string; pending: Promise<Result<unknown>> }>();

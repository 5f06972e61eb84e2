// Runs one API method: idempotency keys for sends, then locally or, on a cluster member, through
// the cluster (cluster-api.ts). Used by the HTTP handler and by batch.
import type { Hub } from "../core/hub.ts";
import { type Result, err } from "../core/result.ts";
import { clustered } from "./cluster-api.ts";
import { guarded, guardedAsync, isUnknownOutcome } from "./guard.ts";
import { type RequestBudget, SEND_METHODS } from "./request-budget.ts";
import { METHODS } from "./methods/index.ts";
import { Params } from "./params.ts";

const MAX_KEY_LENGTH = 256;

export function isMethod(name: string): boolean {
  return Object.hasOwn(METHODS, name);
}

/** `budget` is the request's (one per HTTP request, shared by a batch's calls: request-budget.ts). */
export function dispatch(name: string, body: Record<string, unknown>, hub: Hub, budget: RequestBudget): Result<unknown> | Promise<Result<unknown>> {
  const refused = budget.refuse(name);
  if (refused) return overBudget(hub, refused);
  const r = SEND_METHODS.has(name) && body.idempotencyKey !== undefined ? idempotent(name, body, hub) : run(name, body, hub, budget);
  return r instanceof Promise ? r.then((v) => settled(name, hub, budget, v)) : settled(name, hub, budget, r);
}

function settled(name: string, hub: Hub, budget: RequestBudget, r: Result<unknown>): Result<unknown> {
  budget.reached(name, r);
  return !r.ok && r.code === "E_LIST_TOO_LARGE" ? overBudget(hub, r) : r;
}

function overBudget(hub: Hub, r: Result<unknown>): Result<unknown> {
  if (!r.ok) hub.metrics.limitsExceeded.incL([r.code === "E_LIST_TOO_LARGE" ? "api_max_list" : "api_max_fanout"]);
  return r;
}

/** A method that throws answers E_INTERNAL (guard.ts): a batch goes on, a request never crashes. */
function run(name: string, body: Record<string, unknown>, hub: Hub, budget: RequestBudget | null): Result<unknown> | Promise<Result<unknown>> {
  return hub.cluster
    ? guardedAsync(name, hub, () => clustered(name, body, hub, budget))
    : guarded(name, hub, () => METHODS[name]!(new Params(body, budget, name), hub));
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
  const pending = Promise.resolve(run(name, body, hub, null));
  inflight.set(key, { method: name, pending });
  try {
    const r = await pending;
    // A partial answer with nothing sent to the others (Redis unreachable) is not remembered: a
    // retry must reach them. An unknown outcome is (a 202, or a push Redis or a node did not
    // confirm in time): it may have been delivered, so a retry must not deliver again.
    if (isSettled(r)) hub.idempotency.set(key, name, r);
    return r;
  } finally {
    inflight.delete(key);
  }
}

const inflight = new Map<string, { method: string; pending: Promise<Result<unknown>> }>();

function isSettled(r: Result<unknown>): boolean {
  if (!r.ok) return isUnknownOutcome(r);
  const code = (r.value as { error?: { code?: string } }).error?.code;
  return code === undefined || code === "E_CLUSTER_TIMEOUT";
}

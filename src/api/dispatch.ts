// Runs one API method: idempotency keys for sends, the request's budget, then the method's
// route (route.ts), guarded (guard.ts). Used by the HTTP handler and by batch.
import type { Hub } from "../core/hub.ts";
import { isUnknownOutcome } from "../core/outcome.ts";
import { type Result, err } from "../core/result.ts";
import { guardedCall } from "./guard.ts";
import type { IdempotencyCache } from "./idempotency.ts";
import { type MethodSpec, methodSpec } from "./methods/index.ts";
import { Params } from "./params.ts";
import { type RequestBudget, partBudget } from "./request-budget.ts";
import { routed } from "./route.ts";

const MAX_KEY_LENGTH = 256;
type Answer = Result<unknown> | Promise<Result<unknown>>;

export function isMethod(name: string): boolean {
  return methodSpec(name) !== null;
}

/**
 * `budget` is the request's (one per HTTP request, shared by a batch's calls: request-budget.ts);
 * `idempotency` the node's cache of send results.
 */
export function dispatch(name: string, body: Record<string, unknown>, hub: Hub, budget: RequestBudget, idempotency: IdempotencyCache): Answer {
  const spec = methodSpec(name)!;
  const refused = budget.refuse(name, spec);
  if (refused) return overBudget(hub, refused);
  const r = spec.send && body.idempotencyKey !== undefined ? idempotent(name, spec, body, hub, idempotency) : run(name, spec, body, hub, budget);
  return r instanceof Promise ? r.then((v) => settled(spec, hub, budget, v)) : settled(spec, hub, budget, r);
}

/** A call from another node: the method's local part there (its route ran on the caller). */
export function runForNode(hub: Hub, name: string, params: Record<string, unknown>): Promise<Result<unknown>> {
  const spec = methodSpec(name);
  if (!spec) return Promise.resolve(err("E_UNKNOWN_METHOD", `unknown method ${name}`));
  const budget = spec.list ? partBudget(params, hub.config.apiMaxList) : null;
  return Promise.resolve(guardedCall(name, spec.mutating, hub, () => spec.run(new Params(params, budget, name), hub)));
}

function settled(spec: MethodSpec, hub: Hub, budget: RequestBudget, r: Result<unknown>): Result<unknown> {
  budget.reached(spec, r);
  return !r.ok && r.code === "E_LIST_TOO_LARGE" ? overBudget(hub, r) : r;
}

function overBudget(hub: Hub, r: Result<unknown>): Result<unknown> {
  if (!r.ok) hub.metrics.limitsExceeded.incL([r.code === "E_LIST_TOO_LARGE" ? "api_max_list" : "api_max_fanout"]);
  return r;
}

/** A method that throws answers E_INTERNAL (guard.ts): a batch goes on, a request never crashes. */
function run(name: string, spec: MethodSpec, body: Record<string, unknown>, hub: Hub, budget: RequestBudget | null): Answer {
  return guardedCall(name, spec.mutating, hub, () => routed(name, spec, body, hub, budget));
}

/** Same key within the window → the first answer, not a second delivery. Per node, in memory. */
async function idempotent(name: string, spec: MethodSpec, body: Record<string, unknown>, hub: Hub, cache: IdempotencyCache): Promise<Result<unknown>> {
  const key = body.idempotencyKey;
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    return err("E_BAD_PARAMS", `idempotencyKey: must be a string of 1..${MAX_KEY_LENGTH} characters`, "idempotencyKey");
  }
  const seen = cache.get(key) ?? cache.inflight(key);
  if (seen) {
    if (seen.method !== name) return err("E_IDEMPOTENCY_CONFLICT", `idempotencyKey: already used by ${seen.method}`, "idempotencyKey");
    hub.metrics.idempotentHits.inc();
    return ("pending" in seen ? seen.pending : seen.result) as Result<unknown> | Promise<Result<unknown>>;
  }
  // A retry arriving while the first call still runs (a cluster send awaits Redis) joins it.
  const pending = Promise.resolve(run(name, spec, body, hub, null));
  const done = cache.begin(key, name, pending);
  try {
    const r = await pending;
    // A partial answer with nothing sent to the others (Redis unreachable) is not remembered: a
    // retry must reach them. An unknown outcome is (a 202, or a push Redis or a node did not
    // confirm in time): it may have been delivered, so a retry must not deliver again.
    if (isSettled(r)) cache.set(key, name, r);
    return r;
  } finally {
    done();
  }
}

function isSettled(r: Result<unknown>): boolean {
  if (!r.ok) return isUnknownOutcome(r);
  const code = (r.value as { error?: { code?: string } }).error?.code;
  return code === undefined || code === "E_CLUSTER_TIMEOUT";
}

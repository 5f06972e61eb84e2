// Runs a method where its route (methods/types.ts) says: pushes through the engine; calls about
// one clientId on the node that owns it (the clientId names its node); questions about uids,
// groups and totals on every live node, merged. On an engine with no other nodes (memory) every
// route is the local part, synchronously.
import { nodeOfClientId } from "../core/client-id.ts";
import type { Hub } from "../core/hub.ts";
import { isUnknownOutcome } from "../core/outcome.ts";
import { type Err, type Result, ok } from "../core/result.ts";
import { unknownOutcome } from "./guard.ts";
import { METHODS } from "./methods/index.ts";
import { without } from "./methods/send.ts";
import type { ApiMethod, MethodSpec, Route } from "./methods/types.ts";
import { Params } from "./params.ts";
import { PART_LIST_BUDGET, RequestBudget } from "./request-budget.ts";

type Body = Record<string, unknown>;
type Answer = Result<unknown> | Promise<Result<unknown>>;

/** `budget`: the request's (null for a call from another node: its caller keeps the budget). */
export function routed(name: string, spec: MethodSpec, body: Body, hub: Hub, budget: RequestBudget | null): Answer {
  const local = () => spec.run(new Params(body, budget, name), hub);
  const r: Route = spec.route;
  if (r.via === "engine" || !hub.engine.distributed) return local();
  switch (r.via) {
    case "owner": return onOwner(name, spec, body, hub, local, r.gone);
    case "owner-or-merge":
      return body.clientId !== undefined ? onOwner(name, spec, body, hub, local) : scatterMerge(name, spec, body, hub, budget, r.merge);
    case "merge": return r.counted?.(body, hub) ?? scatterMerge(name, spec, body, hub, budget, r.merge, r.part);
    case "clients": return sendToClients(body, hub, spec.run as ApiMethod);
    case "engine-or-clients": return body.clientId !== undefined ? sendToClients(body, hub, spec.run as ApiMethod) : local();
  }
}

/** `method` on the node that owns `clientId` (validated), or null when that is this node (or there is no other). */
export function ownerCall(clientId: string, method: string, body: Body, hub: Hub): Promise<Result<unknown>> | null {
  const owner = nodeOfClientId(clientId);
  if (owner === null || owner === hub.nodeId || !hub.engine.distributed) return null;
  return hub.engine.call(owner, method, body);
}

/** Runs on the node that owns body.clientId (validated here first). */
async function onOwner(name: string, spec: MethodSpec, body: Body, hub: Hub, local: () => Answer, gone?: unknown): Promise<Result<unknown>> {
  const p = new Params(body);
  const id = p.clientId();
  if (p.error) return p.error;
  const remote = ownerCall(id, name, body, hub);
  if (remote === null) return local();
  const r = await remote;
  // A node that is gone holds no connection: answer as a single node would for an unknown id.
  if (!r.ok && r.code === "E_NO_SUCH_CLIENT" && gone !== undefined) return ok(gone);
  // The owner got the call and did not answer in time: it may still run it.
  if (!r.ok && r.code === "E_CLUSTER_TIMEOUT" && spec.mutating) return unknownOutcome(r);
  return r;
}

/**
 * Here and on every other node. `part`: the method each node runs (a count of distinct uids
 * needs every node's list). A merged list is charged to the request's budget after the merge
 * (each node's part is bounded by its own population).
 */
async function scatterMerge(
  name: string, spec: MethodSpec, body: Body, hub: Hub, budget: RequestBudget | null, merge: (v: unknown[]) => unknown, part = name,
): Promise<Result<unknown>> {
  const partSpec = METHODS[part]!;
  const charged = partSpec.list === true;
  if (charged) {
    const spent = budget?.refuse(part, partSpec);
    if (spent) return spent;
  }
  // Each node's part is refused from its own count before it is built when it alone would not
  // fit what the request has left: the merged list is at least as long as any one part.
  const left = charged && budget ? budget.listsRemaining : null;
  const partBody = left === null ? body : { ...body, [PART_LIST_BUDGET]: left };
  // The local part is synchronous, so whether it changed anything is exact.
  const before = hub.effects;
  const mine = await partSpec.run(new Params(body, left === null ? null : new RequestBudget(left, Infinity), part), hub);
  if (!mine.ok) return mine;
  const acted = hub.effects !== before;
  const results = await hub.engine.scatter(part, partBody);
  const failed = results.find((r) => !r.ok);
  if (failed && !failed.ok) {
    // A change is unknown once any part of it may have run: here, on a node that answered, or on
    // one that did not answer in time (it may still run it).
    const mayHaveRun = acted || results.some((r) => r.ok) || failed.code === "E_CLUSTER_TIMEOUT" || isUnknownOutcome(failed);
    return spec.mutating && mayHaveRun ? unknownOutcome(failed) : failed;
  }
  const values = [mine.value];
  for (const r of results) if (r.ok) values.push(r.value);
  if (!charged || !budget) return ok(merge(values));
  // Charged as the list it took: the part's own merge (a count of distinct uids costs the uid lists).
  const list = part === name || partSpec.route.via !== "merge" ? merge(values) : partSpec.route.merge(values);
  const r = budget.chargeList(name, ok(list));
  return r.ok ? ok(part === name ? list : merge(values)) : r;
}

/** Local clientIds here; the others on their owner nodes, in one call per node. */
async function sendToClients(body: Body, hub: Hub, local: ApiMethod): Promise<Result<unknown>> {
  const p = new Params(body);
  const listed = p.clientIds("clientId");
  p.data();
  const exclude = p.excludeIds();
  if (p.error) return p.error;
  // sendToAll's exclude is taken out here, so no node is asked about (or reports) an excluded id.
  const ids = without(listed, exclude);
  if (ids.length === 0) return ok({ reached: 0, offline: [] });
  const byNode = new Map<string, string[]>();
  for (const id of ids) {
    const node = nodeOfClientId(id) ?? hub.nodeId;
    const list = byNode.get(node);
    if (list) list.push(id);
    else byNode.set(node, [id]);
  }
  let reached = 0;
  let error: Err | null = null;
  const offline: string[] = [];
  const timedOut: string[] = [];
  const parts = [...byNode];
  const answers = await Promise.all(parts.map(([node, list]) => {
    const sub = { ...body, clientId: list, exclude: undefined };
    return node === hub.nodeId ? local(new Params(sub), hub) : hub.engine.call(node, "sendToClient", sub);
  }));
  for (let i = 0; i < parts.length; i++) {
    const list = parts[i]![1];
    const a = answers[i]!;
    if (a.ok) {
      const v = a.value as { reached: number; offline: string[] };
      reached += v.reached;
      offline.push(...v.offline);
    } else if (a.code === "E_NO_SUCH_CLIENT") offline.push(...list); // that node is gone
    else {
      // Unreachable or no answer: unknown, not offline.
      error ??= a;
      if (a.code === "E_CLUSTER_TIMEOUT") timedOut.push(...list);
    }
  }
  const out: Record<string, unknown> = { reached, offline };
  if (timedOut.length > 0) out.timedOut = timedOut;
  if (error) out.error = { code: error.code, message: error.message };
  return ok(out);
}

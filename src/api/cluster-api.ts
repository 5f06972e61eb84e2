// The API on a cluster member. Pushes go through Redis (hub.route); calls about one clientId run
// on the node that owns it (the clientId names its node); questions about uids, groups and
// totals are asked of every live node and merged. Results say when Redis could not be reached.
import { nodeOfClientId } from "../core/client-id.ts";
import type { Hub } from "../core/hub.ts";
import { type Err, type Result, ok } from "../core/result.ts";
import { TOPIC_ALL, groupTopic, uidTopic } from "../core/topics.ts";
import { MUTATING, isUnknownOutcome, unknownOutcome } from "./guard.ts";
import { LIST_METHODS, type RequestBudget } from "./request-budget.ts";
import { METHODS } from "./methods/index.ts";
import { Params } from "./params.ts";

type Body = Record<string, unknown>;
type Merge = (values: unknown[]) => unknown;

const OWNED = new Set(["bindUid", "unbindUid", "isOnline", "getUidByClientId", "setSession", "updateSession", "getSession", "closeClient"]);
const sum: Merge = (v) => v.reduce((a: number, b) => a + (b as number), 0);
const concat: Merge = (v) => v.flatMap((x) => x as unknown[]);
const union: Merge = (v) => [...new Set(v.flatMap((x) => x as unknown[]))];
const MERGE: Record<string, Merge> = {
  isUidOnline: (v) => v.some(Boolean),
  getClientIdByUid: concat, getClientIdListByGroup: concat,
  getAllClientCount: sum, getClientCountByGroup: sum, ungroup: sum,
  getAllUidList: union, getUidListByGroup: union, getAllGroupIdList: union,
};

/**
 * `budget`: the request's --api-max-list budget. Each node builds its own part of a list (bounded
 * by its own population); the merged list is charged here, so a batch stops asking once spent.
 */
export async function clustered(name: string, body: Body, hub: Hub, budget: RequestBudget | null): Promise<Result<unknown>> {
  const local = () => METHODS[name]!(new Params(body), hub);
  switch (name) {
    case "sendToUid": case "sendToGroup": case "sendToAll": return routePush(name, body, hub);
    case "sendToClient": return sendToClients(body, hub);
    case "getAllUidCount": {
      // A count that costs a full uid list from every node is charged as that list.
      const spent = budget?.refuse("getAllUidList");
      if (spent) return spent;
      const r = await scatterMerge("getAllUidList", body, hub, () => METHODS.getAllUidList!(new Params(body), hub));
      const charged = budget ? budget.chargeList("getAllUidCount", r) : r;
      return charged.ok ? ok((r as { value: unknown[] }).value.length) : charged;
    }
    case "joinGroup": case "leaveGroup":
      return body.clientId !== undefined ? onOwner(name, body, hub, local) : scatterMerge(name, body, hub, local, sum);
  }
  if (OWNED.has(name)) return onOwner(name, body, hub, local);
  if (MERGE[name]) {
    const r = await scatterMerge(name, body, hub, local);
    return budget && LIST_METHODS.has(name) ? budget.chargeList(name, r) : r;
  }
  return local();
}

/** Runs on the node that owns body.clientId (validated locally first). */
async function onOwner(name: string, body: Body, hub: Hub, local: () => Result<unknown>): Promise<Result<unknown>> {
  const p = new Params(body);
  const id = p.clientId();
  if (p.error) return p.error;
  const owner = nodeOfClientId(id);
  if (owner === null || owner === hub.nodeId) return local();
  const r = await hub.cluster!.call(owner, name, body);
  // A node that is gone holds no connection: answer as a single node would for an unknown id.
  if (!r.ok && r.code === "E_NO_SUCH_CLIENT" && GONE_ANSWER.has(name)) return ok(GONE_ANSWER.get(name));
  // The owner got the call and did not answer in time: it may still run it.
  if (!r.ok && r.code === "E_CLUSTER_TIMEOUT" && MUTATING.has(name)) return unknownOutcome(r);
  return r;
}

const GONE_ANSWER = new Map<string, unknown>([["isOnline", false], ["getUidByClientId", null], ["closeClient", false]]);

async function scatterMerge(name: string, body: Body, hub: Hub, local: () => Result<unknown>, merge = MERGE[name]!): Promise<Result<unknown>> {
  // The local part is synchronous, so whether it changed anything is exact.
  const before = hub.effects;
  const mine = local();
  if (!mine.ok) return mine;
  const acted = hub.effects !== before;
  const results = await hub.cluster!.scatter(name, body);
  const failed = results.find((r) => !r.ok);
  if (failed && !failed.ok) {
    // A change is unknown once any part of it may have run: here, on a node that answered, or on
    // one that did not answer in time (it may still run it).
    const mayHaveRun = acted || results.some((r) => r.ok) || failed.code === "E_CLUSTER_TIMEOUT" || isUnknownOutcome(failed);
    return MUTATING.has(name) && mayHaveRun ? unknownOutcome(failed) : failed;
  }
  const values = [mine.value];
  for (const r of results) if (r.ok) values.push(r.value);
  return ok(merge(values));
}

async function routePush(name: string, body: Body, hub: Hub): Promise<Result<unknown>> {
  const p = new Params(body);
  const data = p.data();
  const excludeIds = name === "sendToUid" ? null : p.excludeIds();
  const targets = name === "sendToUid" ? p.uids("uid").map(uidTopic)
    : name === "sendToGroup" ? p.groups("group").map(groupTopic) : [TOPIC_ALL];
  if (p.error) return p.error;
  const kind = name === "sendToUid" ? "uid" : name === "sendToGroup" ? "group" : "all";
  let reached = 0;
  let error: Err | null = null;
  const offline: string[] = [];
  // Distinct streams: routed concurrently (order holds per stream).
  const answers = await Promise.all(targets.map((stream) => hub.route(stream, data, kind, excludeIds, true)));
  for (const [i, r] of answers.entries()) {
    reached += r.reached;
    error ??= r.error;
    if (r.reached === 0 && r.error === null && kind === "uid") offline.push(targets[i]!.slice(4));
  }
  const result: Record<string, unknown> = kind === "uid" ? { reached, offline } : { reached };
  if (error) result.error = { code: error.code, message: error.message };
  return ok(result);
}

/** Local clientIds here; the others on their owner nodes, in one call per node. */
async function sendToClients(body: Body, hub: Hub): Promise<Result<unknown>> {
  const p = new Params(body);
  const ids = p.clientIds("clientId");
  p.data();
  if (p.error) return p.error;
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
  const answers = await Promise.all([...byNode].map(([node, list]) => {
    const sub = { ...body, clientId: list };
    return node === hub.nodeId ? METHODS.sendToClient!(new Params(sub), hub) : hub.cluster!.call(node, "sendToClient", sub);
  }));
  for (const [i, [, list]] of [...byNode].entries()) {
    const a = answers[i]!;
    if (a.ok) {
      const v = a.value as { reached: number; offline: string[] };
      reached += v.reached;
      offline.push(...v.offline);
    } else if (a.code === "E_NO_SUCH_CLIENT") offline.push(...list); // that node is gone
    else error ??= a; // unreachable or no answer: unknown, not offline
  }
  return ok(error ? { reached, offline, error: { code: error.code, message: error.message } } : { reached, offline });
}

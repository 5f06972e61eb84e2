// /admin's questions over the cluster: every node's stats, a uid's connections on every node, a
// clientId on the node that owns it. Other nodes answer through the engine's node calls under
// their own "admin:" names (runAdminCall), kept out of the HTTP API's method table. On one
// node (memory engine) everything is local.
import { METHODS } from "../api/methods/index.ts";
import { RequestBudget } from "../api/request-budget.ts";
import { routed } from "../api/route.ts";
import { nodeOfClientId } from "../core/client-id.ts";
import type { Hub } from "../core/hub.ts";
import { validateUid } from "../core/names.ts";
import { type Err, type Result, err, ok } from "../core/result.ts";
import type { EventRing } from "./events.ts";
import { type ConnInfo, localByClientId, localByUid } from "./lookup.ts";
import { type NodeStats, nodeStats } from "./node-stats.ts";

const STATS = "admin:stats";
const UID = "admin:uid";
const CLIENT = "admin:client";
/** Events asked of each node at most per poll (its ring may hold more). */
export const MAX_EVENTS_PER_NODE = 1000;

export interface ClusterStats {
  /** The node that answered (the page's own). */
  nodeId: string;
  cluster: boolean;
  /** Distinct uids on every node together (null: not counted, see uidsError; each node's count is in nodes[]). */
  uids: number | null;
  uidsError?: string;
  /** This node first. */
  nodes: NodeStats[];
  /** Nodes that did not answer in time, or Redis being unreachable. */
  failures: { code: string; message: string }[];
}

export interface Lookup {
  connections: ConnInfo[];
  /** Connections counted on the nodes that answered (more than listed when capped). */
  count: number;
  failures: { code: string; message: string }[];
}

/** Answers another node's admin call here; null when `method` is not one (the API runs it). */
export function runAdminCall(hub: Hub, ring: EventRing | null, method: string, params: Record<string, unknown>): Promise<Result<unknown>> | null {
  if (!method.startsWith("admin:")) return null;
  switch (method) {
    case STATS: return Promise.resolve(ok(nodeStats(hub, ring, eventCount(params.events, ring))));
    case UID: {
      const uid = validateUid(params.uid);
      return Promise.resolve(uid.ok ? ok(localByUid(hub, uid.value)) : uid);
    }
    case CLIENT: {
      const id = params.clientId;
      return Promise.resolve(typeof id === "string" ? ok(localByClientId(hub, id)) : err("E_BAD_PARAMS", "clientId: must be a string", "clientId"));
    }
    default: return Promise.resolve(err("E_UNKNOWN_METHOD", `unknown admin call ${method}`));
  }
}

/** How many events to send: the ask, bounded by the ring and MAX_EVENTS_PER_NODE. */
export function eventCount(asked: unknown, ring: EventRing | null): number {
  const n = typeof asked === "number" && Number.isInteger(asked) && asked >= 0 ? asked : 50;
  return Math.min(n, ring?.size ?? 0, MAX_EVENTS_PER_NODE);
}

export async function clusterStats(hub: Hub, ring: EventRing | null, events: number): Promise<ClusterStats> {
  const mine = nodeStats(hub, ring, events);
  if (!hub.engine.distributed) return { nodeId: hub.nodeId, cluster: false, uids: mine.uids, nodes: [mine], failures: [] };
  const nodes = [mine];
  const failures: ClusterStats["failures"] = [];
  for (const a of await hub.engine.scatter(STATS, { events })) {
    if (a.ok) nodes.push(a.value as NodeStats);
    else failures.push(failure(a));
  }
  const out: ClusterStats = { nodeId: hub.nodeId, cluster: true, uids: null, nodes, failures };
  // Counting distinct uids moves every node's uid list: only when they fit --api-max-list together.
  const held = nodes.reduce((n, s) => n + s.uids, 0);
  if (held > hub.config.apiMaxList) {
    out.uidsError = `the nodes hold ${held} uids together, more than --api-max-list (${hub.config.apiMaxList}): not counted distinct`;
    return out;
  }
  const uids = await distinctUids(hub);
  if (uids.ok) out.uids = uids.value as number;
  else out.uidsError = `${uids.code}: ${uids.message}`;
  return out;
}

/** The API's getAllUidCount, bounded like an API call (--api-max-list), not counted as one. */
async function distinctUids(hub: Hub): Promise<Result<unknown>> {
  const c = hub.config;
  try {
    return await routed("getAllUidCount", METHODS.getAllUidCount!, {}, hub, new RequestBudget(c.apiMaxList, c.apiMaxFanout));
  } catch (e) {
    return err("E_INTERNAL", String(e).slice(0, 200));
  }
}

export async function lookupUid(hub: Hub, uid: string): Promise<Lookup> {
  const mine = localByUid(hub, uid);
  const out: Lookup = { connections: mine.connections, count: mine.count, failures: [] };
  if (!hub.engine.distributed) return out;
  for (const a of await hub.engine.scatter(UID, { uid })) {
    if (!a.ok) {
      out.failures.push(failure(a));
      continue;
    }
    const part = a.value as { connections: ConnInfo[]; count: number };
    out.connections.push(...part.connections);
    out.count += part.count;
  }
  return out;
}

export async function lookupClient(hub: Hub, clientId: string): Promise<Lookup> {
  const owner = nodeOfClientId(clientId);
  if (owner === null || owner === hub.nodeId || !hub.engine.distributed) {
    const c = localByClientId(hub, clientId);
    return { connections: c ? [c] : [], count: c ? 1 : 0, failures: [] };
  }
  const a = await hub.engine.call(owner, CLIENT, { clientId });
  // A node that left holds nothing.
  if (!a.ok) return { connections: [], count: 0, failures: a.code === "E_NO_SUCH_CLIENT" ? [] : [failure(a)] };
  const c = a.value as ConnInfo | null;
  return { connections: c ? [c] : [], count: c ? 1 : 0, failures: [] };
}

function failure(e: Err): { code: string; message: string } {
  return { code: e.code, message: e.message };
}

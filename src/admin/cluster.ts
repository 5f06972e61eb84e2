// /admin's questions over the cluster: every node's stats, a uid's connections on every node, a
// clientId on the node that owns it. Other nodes answer through the engine's node calls under
// their own "admin:" names (runAdminCall), kept out of the HTTP API's method table. On one
// node (memory engine) everything is local. A node that does not answer is listed in
// `failures` (by id when known) and whatever depends on it is unknown, never a partial sum.
import { METHODS } from "../api/methods/index.ts";
import { Params } from "../api/params.ts";
import { RequestBudget } from "../api/request-budget.ts";
import { ownerCall, routed } from "../api/route.ts";
import { isNodeId } from "../core/client-id.ts";
import type { Hub } from "../core/hub.ts";
import { validateUid } from "../core/names.ts";
import { type Err, type Result, err, ok } from "../core/result.ts";
import type { EventRing } from "./events.ts";
import { type ConnInfo, localByClientId, localByUid } from "./lookup.ts";
import { type NodeStats, nodeStats } from "./node-stats.ts";

const STATS = "admin:stats";
const UID = "admin:uid";
const CLIENT = "admin:client";
/** Events asked of each node at most per poll (a display cap: its ring may hold more). */
export const MAX_EVENTS_PER_NODE = 1000;
/** Events per node when ?events= is not given. */
export const DEFAULT_EVENTS = 50;

export interface Failure {
  code: string;
  message: string;
  /** The node that did not answer; null when not known (Redis unreachable: no node was asked). */
  node: string | null;
}

export interface ClusterStats {
  /** The node that answered (the page's own). */
  nodeId: string;
  cluster: boolean;
  /** Distinct uids on every node together (null: not counted, see uidsError; each node's count is in nodes[]). */
  uids: number | null;
  uidsError?: string;
  /** This node first. */
  nodes: NodeStats[];
  /** Nodes that did not answer in time, or Redis being unreachable: the cluster's sums are then unknown. */
  failures: Failure[];
  /** This node's --cluster-timeout in ms: how long an answer may wait for the other nodes. */
  timeoutMs: number;
}

export interface Lookup {
  connections: ConnInfo[];
  /** Connections counted on the nodes that answered (more than listed when capped; a lower bound when failures is not empty). */
  count: number;
  failures: Failure[];
}

/** Answers another node's admin call here; null when `method` is not one (the API runs it). */
export function runAdminCall(hub: Hub, ring: EventRing | null, method: string, params: Record<string, unknown>): Promise<Result<unknown>> | null {
  if (!method.startsWith("admin:")) return null;
  switch (method) {
    case STATS: {
      const n = eventsOf(params.events);
      return Promise.resolve(n.ok ? ok(nodeStats(hub, ring, eventCount(n.value, ring))) : n);
    }
    case UID: {
      const uid = validateUid(params.uid);
      return Promise.resolve(uid.ok ? ok(localByUid(hub, uid.value)) : uid);
    }
    case CLIENT: {
      const p = new Params(params);
      const id = p.clientId();
      return Promise.resolve(p.error ?? ok(localByClientId(hub, id)));
    }
    default: return Promise.resolve(err("E_UNKNOWN_METHOD", `unknown admin call ${method}`));
  }
}

/** ?events= (or a node call's `events`): an integer 0..MAX_EVENTS_PER_NODE; absent: DEFAULT_EVENTS. */
export function eventsOf(v: unknown): Result<number> {
  if (v === undefined || v === null) return ok(DEFAULT_EVENTS);
  const n = typeof v === "string" && /^\d{1,7}$/.test(v) ? Number(v) : v;
  if (typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= MAX_EVENTS_PER_NODE) return ok(n);
  return err("E_BAD_PARAMS", `events: must be an integer 0..${MAX_EVENTS_PER_NODE}`, "events");
}

/** The events a node sends: the ask, bounded by its own ring. */
export function eventCount(asked: number, ring: EventRing | null): number {
  return Math.min(asked, ring?.size ?? 0);
}

/** `events`: validated (eventsOf); each node caps it by its own --admin-events. */
export async function clusterStats(hub: Hub, ring: EventRing | null, events: number): Promise<ClusterStats> {
  const mine = nodeStats(hub, ring, eventCount(events, ring));
  const base = { nodeId: hub.nodeId, timeoutMs: hub.config.clusterTimeoutMs };
  if (!hub.engine.distributed) return { ...base, cluster: false, uids: mine.uids, nodes: [mine], failures: [] };
  // The whole answer waits at most about one --cluster-timeout, however many questions it asks.
  const deadline = performance.now() + hub.config.clusterTimeoutMs;
  const nodes = [mine];
  const failures: Failure[] = [];
  for (const a of await hub.engine.scatter(STATS, { events })) {
    if (a.ok) nodes.push(a.value as NodeStats);
    else failures.push(failure(a));
  }
  const out: ClusterStats = { ...base, cluster: true, uids: null, nodes, failures };
  if (failures.length > 0) {
    out.uidsError = `not counted: ${failures.length} of the nodes did not answer (${failures[0]!.code})`;
    return out;
  }
  // Counting distinct uids moves every node's uid list: only when they fit --api-max-list together.
  const held = nodes.reduce((n, s) => n + s.uids, 0);
  if (held > hub.config.apiMaxList) {
    out.uidsError = `the nodes hold ${held} uids together, more than --api-max-list (${hub.config.apiMaxList}): not counted distinct`;
    return out;
  }
  const uids = await within(distinctUids(hub), deadline - performance.now());
  if (uids === null) out.uidsError = "not counted: the nodes did not all answer within --cluster-timeout";
  else if (uids.ok) out.uids = uids.value as number;
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

/** `p`'s answer, or null once `ms` have passed (p settles later on its own timeouts). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), Math.max(0, ms))));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
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

/** `clientId`: validated (Params.clientId). */
export async function lookupClient(hub: Hub, clientId: string): Promise<Lookup> {
  const found = (c: ConnInfo | null): Lookup => ({ connections: c ? [c] : [], count: c ? 1 : 0, failures: [] });
  const remote = ownerCall(clientId, CLIENT, { clientId }, hub);
  if (remote === null) return found(localByClientId(hub, clientId));
  const a = await remote;
  // A node that left holds nothing.
  if (!a.ok) return { connections: [], count: 0, failures: a.code === "E_NO_SUCH_CLIENT" ? [] : [failure(a)] };
  return found(a.value as ConnInfo | null);
}

/** The engine names the node in a node call's error ("node 1a2b3c4d did not answer …"); a scatter's entries carry no id. */
function failure(e: Err): Failure {
  const id = /\bnode ([0-9a-f]{8})\b/.exec(e.message)?.[1];
  return { code: e.code, message: e.message, node: id !== undefined && isNodeId(id) ? id : null };
}

// What /admin shows of one connection: who it is, its groups, its session, its transport state.
// Node-local: cluster.ts asks the node that holds it.
import { clientIdOf } from "../core/client-table.ts";
import type { Conn } from "../core/conn-data.ts";
import type { Hub } from "../core/hub.ts";

/** Groups shown per connection at most (a display cap, docs/admin.md: --max-groups-per-connection may allow many). */
const MAX_GROUPS_SHOWN = 200;
/** Connections of one uid shown per node at most (a display cap: --max-connections-per-uid may be 0 = unlimited). */
export const MAX_CONNS_SHOWN = 200;

export interface ConnInfo {
  clientId: string;
  node: string;
  uid: string | null;
  protocol: "pushgate.v1" | "seed";
  loggedIn: boolean;
  groups: string[];
  groupCount: number;
  session: Record<string, unknown> | null;
  ip: string;
  /** Bytes queued for this reader (backpressure). */
  buffered: number;
  /** Token expiry, ms since epoch (0 = none). */
  expiresAt: number;
}

export function connInfo(ws: Conn): ConnInfo {
  const d = ws.data;
  const groups = d.groups ? first(d.groups, MAX_GROUPS_SHOWN) : [];
  return {
    clientId: clientIdOf(d), node: d.hub.nodeId, uid: d.uid, protocol: d.v1 ? "pushgate.v1" : "seed",
    loggedIn: d.loggedIn, groups, groupCount: d.groups?.size ?? 0, session: d.session?.data ?? null,
    ip: ws.remoteAddress, buffered: ws.getBufferedAmount(), expiresAt: d.expiresAt,
  };
}

/** This node's connections of `uid` (at most MAX_CONNS_SHOWN), and how many it holds. */
export function localByUid(hub: Hub, uid: string): { connections: ConnInfo[]; count: number } {
  const count = hub.members.uids.count(uid);
  return { connections: hub.members.uids.firstConns(uid, MAX_CONNS_SHOWN).map(connInfo), count };
}

export function localByClientId(hub: Hub, clientId: string): ConnInfo | null {
  const ws = hub.clients.get(clientId);
  return ws ? connInfo(ws) : null;
}

/** The first `n` of `xs`, without copying the rest. */
function first<T>(xs: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  if (n <= 0) return out;
  for (const x of xs) {
    out.push(x);
    if (out.length === n) break;
  }
  return out;
}

// Gateway::getAllGroup* and the session maps: answers keyed by group or by clientId (JSON
// objects), each node's part built from its own maps, merged per key across nodes
// (methods/index.ts). Every one is charged to --api-max-list by its entries before it is built.
import { clientIdOf } from "../../core/client-table.ts";
import type { Conn } from "../../core/conn-data.ts";
import type { Hub } from "../../core/hub.ts";
import { ok } from "../../core/result.ts";
import type { ApiMethod, Merge } from "./types.ts";

type Lists = Record<string, unknown[]>;
type Counts = Record<string, number>;

/** An object whose keys come from names: "__proto__" must stay a plain key. */
function put(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
  else out[key] = value;
}

/** clientId → session (null when none was set), for `conns`. */
function sessionsOf(conns: Iterable<Conn>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const ws of conns) out[clientIdOf(ws.data)] = ws.data.session?.data ?? null;
  return out;
}

/** Memberships (connection, group) on this node: what a per-group clientId map holds. */
function memberships(hub: Hub): number {
  let n = 0;
  for (const g of hub.members.groups.keys()) n += hub.members.groups.count(g);
  return n;
}

export const getClientSessionsByGroup: ApiMethod = (p, hub) => {
  const group = p.group();
  if (p.error) return p.error;
  return p.listOf(hub.members.groups.count(group)) ?? ok(sessionsOf(hub.members.groups.conns(group)));
};

/** Every connection's session; with `group`, that group's (as getClientSessionsByGroup). */
export const getAllClientSessions: ApiMethod = (p, hub) => {
  if (p.has("group")) return getClientSessionsByGroup(p, hub);
  return p.listOf(hub.clients.size) ?? ok(sessionsOf(hub.clients.values()));
};

export const getAllClientIdList: ApiMethod = (p, hub) =>
  p.listOf(hub.clients.size) ?? ok(hub.clients.values().map((ws) => clientIdOf(ws.data)));

export const getAllGroupClientIdList: ApiMethod = (p, hub) => {
  const refused = p.listOf(memberships(hub));
  if (refused) return refused;
  const out: Lists = {};
  for (const g of hub.members.groups.keys()) put(out, g, hub.members.groups.conns(g).map((ws) => clientIdOf(ws.data)));
  return ok(out);
};

export const getAllGroupClientIdCount: ApiMethod = (p, hub) => {
  const refused = p.listOf(hub.members.groups.size);
  if (refused) return refused;
  const out: Counts = {};
  for (const g of hub.members.groups.keys()) put(out, g, hub.members.groups.count(g));
  return ok(out);
};

export const getAllGroupUidList: ApiMethod = (p, hub) => {
  const refused = p.listOf(hub.members.groupUidPairs);
  if (refused) return refused;
  const out: Lists = {};
  for (const [g, uids] of hub.members.groupUidLists()) put(out, g, [...uids]);
  return ok(out);
};

/** One node: distinct uids per group, O(groups). A cluster merges every node's uid lists. */
export const getAllGroupUidCount: ApiMethod = (p, hub) => {
  const refused = p.listOf(hub.members.groups.size);
  if (refused) return refused;
  const out: Counts = {};
  for (const [g, , size] of hub.members.groupUidLists()) put(out, g, size);
  return ok(out);
};

// Merges of the nodes' answers, key by key.
const each = (values: unknown[], f: (out: Record<string, unknown>, key: string, v: unknown) => void): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const value of values) for (const [k, v] of Object.entries(value as Record<string, unknown>)) f(out, k, v);
  return out;
};
const has = (o: Record<string, unknown>, k: string) => Object.hasOwn(o, k);

/** clientIds are unique across nodes: the union of the maps. */
export const assign: Merge = (values) => each(values, (out, k, v) => put(out, k, v));
export const concatPerKey: Merge = (values) => each(values, (out, k, v) => put(out, k, has(out, k) ? (out[k] as unknown[]).concat(v as unknown[]) : v));
export const sumPerKey: Merge = (values) => each(values, (out, k, v) => put(out, k, has(out, k) ? (out[k] as number) + (v as number) : v));
const unionSets = (values: unknown[]) => {
  const sets = each(values, (out, k, v) => {
    const set = (has(out, k) ? out[k] : new Set()) as Set<unknown>;
    for (const x of v as unknown[]) set.add(x);
    put(out, k, set);
  });
  return sets as Record<string, Set<unknown>>;
};
export const unionPerKey: Merge = (values) => {
  const out: Record<string, unknown> = {};
  for (const [k, set] of Object.entries(unionSets(values))) put(out, k, [...set]);
  return out;
};
export const unionSizePerKey: Merge = (values) => {
  const out: Record<string, unknown> = {};
  for (const [k, set] of Object.entries(unionSets(values))) put(out, k, set.size);
  return out;
};

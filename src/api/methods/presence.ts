// Gateway presence queries. Answered from the hub's maps (lookups, not routing).
import { ok } from "../../core/result.ts";
import type { ApiMethod } from "./types.ts";
import { clientIdOf } from "../../core/client-table.ts";

export const isOnline: ApiMethod = (p, hub) => {
  const id = p.clientId();
  return p.error ?? ok(hub.clients.has(id));
};

export const isUidOnline: ApiMethod = (p, hub) => {
  const uid = p.uid();
  return p.error ?? ok(hub.uids.has(uid));
};

export const getClientIdByUid: ApiMethod = (p, hub) => {
  const uid = p.uid();
  if (p.error) return p.error;
  return p.listOf(hub.uids.count(uid)) ?? ok(hub.uids.conns(uid).map((ws) => clientIdOf(ws.data)));
};

export const getUidByClientId: ApiMethod = (p, hub) => {
  const id = p.clientId();
  return p.error ?? ok(hub.clients.get(id)?.data.uid ?? null);
};

export const getAllClientCount: ApiMethod = (_p, hub) => ok(hub.clients.size);
export const getAllUidCount: ApiMethod = (_p, hub) => ok(hub.uids.size);
// Lists are charged to the request's --api-max-list budget from a count before they are built.
export const getAllUidList: ApiMethod = (p, hub) => p.listOf(hub.uids.size) ?? ok([...hub.uids.keys()]);
export const getAllGroupIdList: ApiMethod = (p, hub) => p.listOf(hub.groups.size) ?? ok([...hub.groups.keys()]);

export const getClientCountByGroup: ApiMethod = (p, hub) => {
  const group = p.group();
  return p.error ?? ok(hub.groups.count(group));
};

export const getClientIdListByGroup: ApiMethod = (p, hub) => {
  const group = p.group();
  if (p.error) return p.error;
  return p.listOf(hub.groups.count(group)) ?? ok(hub.groups.conns(group).map((ws) => clientIdOf(ws.data)));
};

export const getUidListByGroup: ApiMethod = (p, hub) => {
  const group = p.group();
  if (p.error) return p.error;
  // Charged by members, not distinct uids: the walk costs one step per member.
  const refused = p.listOf(hub.groups.count(group));
  if (refused) return refused;
  const uids = new Set<string>();
  for (const ws of hub.groups.conns(group)) if (ws.data.uid !== null) uids.add(ws.data.uid);
  return ok([...uids]);
};

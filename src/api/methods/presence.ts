// Gateway presence queries. Answered from the node's maps, hub.members and hub.clients (lookups, not routing).
import { clientIdOf } from "../../core/client-table.ts";
import type { Hub } from "../../core/hub.ts";
import { validateGroup } from "../../core/names.ts";
import { type Result, err, ok } from "../../core/result.ts";
import type { ApiMethod } from "./types.ts";

export const isOnline: ApiMethod = (p, hub) => {
  const id = p.clientId();
  return p.error ?? ok(hub.clients.has(id));
};

export const isUidOnline: ApiMethod = (p, hub) => {
  const uid = p.uid();
  return p.error ?? ok(hub.members.uids.has(uid));
};

export const getClientIdByUid: ApiMethod = (p, hub) => {
  const uid = p.uid();
  if (p.error) return p.error;
  return p.listOf(hub.members.uids.count(uid)) ?? ok(hub.members.uids.conns(uid).map((ws) => clientIdOf(ws.data)));
};

export const getUidByClientId: ApiMethod = (p, hub) => {
  const id = p.clientId();
  return p.error ?? ok(hub.clients.get(id)?.data.uid ?? null);
};

export const getAllClientCount: ApiMethod = (_p, hub) => ok(hub.clients.size);
export const getAllUidCount: ApiMethod = (_p, hub) => ok(hub.members.uids.size);
// Lists are charged to the request's --api-max-list budget from a count before they are built.
export const getAllUidList: ApiMethod = (p, hub) => p.listOf(hub.members.uids.size) ?? ok([...hub.members.uids.keys()]);
export const getAllGroupIdList: ApiMethod = (p, hub) => p.listOf(hub.members.groups.size) ?? ok([...hub.members.groups.keys()]);

export const getClientCountByGroup: ApiMethod = (p, hub) => {
  const group = p.group();
  return p.error ?? ok(hub.members.groups.count(group));
};

export const getClientIdListByGroup: ApiMethod = (p, hub) => {
  const group = p.group();
  if (p.error) return p.error;
  return p.listOf(hub.members.groups.count(group)) ?? ok(hub.members.groups.conns(group).map((ws) => clientIdOf(ws.data)));
};

export const getUidListByGroup: ApiMethod = (p, hub) => {
  const group = p.group();
  if (p.error) return p.error;
  // Charged by members, not distinct uids: the walk costs one step per member.
  const refused = p.listOf(hub.members.groups.count(group));
  if (refused) return refused;
  const uids = new Set<string>();
  for (const ws of hub.members.groups.conns(group)) if (ws.data.uid !== null) uids.add(ws.data.uid);
  return ok([...uids]);
};

/**
 * On a cluster, a presence group is counted by the engine across every node
 * (no list loaded); other groups merge every node's uid list (api/methods/index.ts).
 */
export function countedUids(body: Record<string, unknown>, hub: Hub): Promise<Result<unknown>> | null {
  const group = typeof body.group === "string" ? validateGroup(body.group) : null;
  if (group === null || !group.ok || !hub.hasPresence(group.value)) return null;
  return hub.engine.groupUidCount(group.value);
}

/** Distinct uids in the group on this node: O(1) (the registry counts them). */
export const getUidCountByGroup: ApiMethod = (p, hub) => {
  const group = p.group();
  return p.error ?? ok(hub.members.uidCountInGroup(group));
};

/**
 * Who is in a group whose --channel-rules rule has presence: one entry per connection, its uid,
 * clientId and public `info` (its session's `info` key, or null). Charged to --api-max-list.
 */
export const getPresence: ApiMethod = (p, hub) => {
  const group = p.group();
  if (p.error) return p.error;
  if (hub.channels?.match(group)?.presence !== true) {
    return err("E_BAD_PARAMS", `group: presence is not enabled for ${group} (a --channel-rules rule with "presence": true)`, "group");
  }
  const refused = p.listOf(hub.members.groups.count(group));
  if (refused) return refused;
  return ok(hub.members.groups.conns(group).map((ws) => ({ uid: ws.data.uid, clientId: clientIdOf(ws.data), info: ws.data.session?.data.info ?? null })));
};

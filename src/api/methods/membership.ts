// Gateway::bindUid / unbindUid / joinGroup / leaveGroup / ungroup.
import type { Conn } from "../../core/conn-data.ts";
import type { Hub } from "../../core/hub.ts";
import { type Result, err, ok } from "../../core/result.ts";
import type { Params } from "../params.ts";
import { groupTopic, uidTopic } from "../../core/topics.ts";
import type { ApiMethod, ApiPush } from "./types.ts";

export function connOf(hub: Hub, clientId: string): Result<Conn> {
  const ws = hub.clients.get(clientId);
  return ws ? ok(ws) : err("E_NO_SUCH_CLIENT", `clientId: no connection ${clientId} on this server`, "clientId");
}

/** Exactly one of `clientId` (one connection) or `uid` (all its connections). */
function targets(p: Params, hub: Hub): Result<Conn[]> {
  if (p.has("clientId") === p.has("uid")) {
    return err("E_BAD_PARAMS", "clientId or uid: give exactly one of them", p.has("uid") ? "uid" : "clientId");
  }
  if (p.has("clientId")) {
    const id = p.clientId();
    if (p.error) return p.error;
    const ws = connOf(hub, id);
    return ws.ok ? ok([ws.value]) : ws;
  }
  const uid = p.uid();
  if (p.error) return p.error;
  return ok(hub.members.uids.conns(uid));
}

/**
 * The answer once pushes from every node reach the connection: on the Redis engine after this
 * node's subscription to the stream is confirmed, so a push sent right after the answer is
 * not missed (as a login waits for it).
 */
function whenHeld<T>(hub: Hub, stream: string, value: T): Result<T> | Promise<Result<T>> {
  const held = hub.engine.hold([stream]);
  if (held === null) return ok(value);
  return held.then(() => {
    hub.engine.release([stream]);
    return ok(value);
  });
}

export const bindUid: ApiPush = (p, hub) => {
  const id = p.clientId();
  const uid = p.uid();
  if (p.error) return p.error;
  const ws = connOf(hub, id);
  if (!ws.ok) return ws;
  const bound = hub.members.bindUid(ws.value, uid);
  return bound.ok ? whenHeld(hub, uidTopic(uid), true) : bound;
};

export const unbindUid: ApiMethod = (p, hub) => {
  const id = p.clientId();
  const uid = p.has("uid") ? p.uid() : null;
  if (p.error) return p.error;
  const ws = connOf(hub, id);
  if (!ws.ok) return ws;
  const current = ws.value.data.uid;
  if (current === null || (uid !== null && uid !== current)) return ok(false);
  hub.members.unbindUid(ws.value);
  return ok(true);
};

export const joinGroup: ApiPush = (p, hub) => {
  const group = p.group();
  if (p.error) return p.error;
  const conns = targets(p, hub);
  if (!conns.ok) return conns;
  // Check every target first: an error answer must leave membership unchanged.
  for (const ws of conns.value) {
    const refused = hub.members.checkJoin(ws, group);
    if (refused) return refused;
  }
  let joined = 0;
  for (const ws of conns.value) if (hub.members.joinGroup(ws, group).ok) joined++;
  return joined > 0 ? whenHeld(hub, groupTopic(group), joined) : ok(joined);
};

export const leaveGroup: ApiMethod = (p, hub) => {
  const group = p.group();
  if (p.error) return p.error;
  const conns = targets(p, hub);
  if (!conns.ok) return conns;
  let left = 0;
  for (const ws of conns.value) {
    if (ws.data.groups?.has(group)) left++;
    hub.members.leaveGroup(ws, group);
  }
  return ok(left);
};

export const ungroup: ApiMethod = (p, hub) => {
  const group = p.group();
  if (p.error) return p.error;
  return ok(hub.members.ungroup(group));
};

// Gateway::sendTo* on this node — each answers { reached } (connections the push reached);
// sendToUid and sendToClient also list the `offline` targets. (Idempotency keys and cluster
// routing wrap these in ../dispatch.ts.)
import { ok } from "../../core/result.ts";
import type { ApiMethod } from "./types.ts";

export const sendToUid: ApiMethod = (p, hub) => {
  const uids = p.uids("uid");
  const data = p.data();
  if (p.error) return p.error;
  let reached = 0;
  const offline: string[] = [];
  for (const uid of uids) {
    const n = hub.sendToUid(uid, data);
    if (n === 0) offline.push(uid);
    reached += n;
  }
  return ok({ reached, offline });
};

export const sendToClient: ApiMethod = (p, hub) => {
  const ids = p.clientIds("clientId");
  const data = p.data();
  if (p.error) return p.error;
  let reached = 0;
  const offline: string[] = [];
  for (const id of ids) {
    const n = hub.sendToClient(id, data);
    if (n === 0) offline.push(id);
    reached += n;
  }
  return ok({ reached, offline });
};

export const sendToGroup: ApiMethod = (p, hub) => {
  const groups = p.groups("group");
  const data = p.data();
  const exclude = p.exclude(hub);
  if (p.error) return p.error;
  let reached = 0;
  for (const g of groups) reached += hub.sendToGroup(g, data, exclude);
  return ok({ reached });
};

export const sendToAll: ApiMethod = (p, hub) => {
  const data = p.data();
  const exclude = p.exclude(hub);
  if (p.error) return p.error;
  return ok({ reached: hub.sendToAll(data, exclude) });
};

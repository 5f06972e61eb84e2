// Gateway::sendTo* — each answers { reached: <connections the push reached> }.
import { ok } from "../../core/result.ts";
import type { ApiMethod } from "./types.ts";

export const sendToUid: ApiMethod = (p, hub) => {
  const uids = p.uids("uid");
  const data = p.data();
  if (p.error) return p.error;
  let reached = 0;
  for (const uid of uids) reached += hub.sendToUid(uid, data);
  return ok({ reached });
};

export const sendToClient: ApiMethod = (p, hub) => {
  const ids = p.clientIds("clientId");
  const data = p.data();
  if (p.error) return p.error;
  let reached = 0;
  for (const id of ids) reached += hub.sendToClient(id, data);
  return ok({ reached });
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

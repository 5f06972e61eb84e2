// The API's method table: names are GatewayWorker's Gateway:: static methods.
import type { ApiMethod } from "./types.ts";
import * as membership from "./membership.ts";
import * as presence from "./presence.ts";
import * as send from "./send.ts";
import * as session from "./session.ts";

export const METHODS: Readonly<Record<string, ApiMethod>> = {
  sendToUid: send.sendToUid,
  sendToClient: send.sendToClient,
  sendToGroup: send.sendToGroup,
  sendToAll: send.sendToAll,
  bindUid: membership.bindUid,
  unbindUid: membership.unbindUid,
  joinGroup: membership.joinGroup,
  leaveGroup: membership.leaveGroup,
  ungroup: membership.ungroup,
  isOnline: presence.isOnline,
  isUidOnline: presence.isUidOnline,
  getClientIdByUid: presence.getClientIdByUid,
  getUidByClientId: presence.getUidByClientId,
  getAllClientCount: presence.getAllClientCount,
  getAllUidCount: presence.getAllUidCount,
  getAllUidList: presence.getAllUidList,
  getClientCountByGroup: presence.getClientCountByGroup,
  getClientIdListByGroup: presence.getClientIdListByGroup,
  getUidListByGroup: presence.getUidListByGroup,
  getAllGroupIdList: presence.getAllGroupIdList,
  setSession: session.setSession,
  updateSession: session.updateSession,
  getSession: session.getSession,
  closeClient: session.closeClient,
};

export type { ApiMethod };

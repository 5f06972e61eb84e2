// The API's method table: names are GatewayWorker's Gateway:: static methods. Each entry is the
// method's node-local part plus how it is routed across nodes (types.ts), as data.
import * as maps from "./group-maps.ts";
import * as membership from "./membership.ts";
import * as presence from "./presence.ts";
import * as send from "./send.ts";
import * as session from "./session.ts";
import { notApplicable } from "./not-applicable.ts";
import type { Merge, MethodSpec } from "./types.ts";

const sum: Merge = (v) => v.reduce((a: number, b) => a + (b as number), 0);
const concat: Merge = (v) => v.flatMap((x) => x as unknown[]);
const union: Merge = (v) => [...new Set(v.flatMap((x) => x as unknown[]))];
const unionSize: Merge = (v) => (union(v) as unknown[]).length;
const any: Merge = (v) => v.some(Boolean);

const push = (run: MethodSpec["run"]): MethodSpec => ({ run, route: { via: "engine" }, mutating: true, send: true });
const owned = (run: MethodSpec["run"], mutating: boolean, gone?: unknown): MethodSpec => ({ run, route: gone === undefined ? { via: "owner" } : { via: "owner", gone }, mutating });
const merged = (run: MethodSpec["run"], merge: Merge, mutating = false): MethodSpec => ({ run, route: { via: "merge", merge }, mutating });
const listed = (run: MethodSpec["run"], merge: Merge): MethodSpec => ({ run, route: { via: "merge", merge }, mutating: false, list: true });

export const METHODS: Readonly<Record<string, MethodSpec>> = {
  sendToUid: push(send.sendToUid),
  sendToClient: { run: send.sendToClient, route: { via: "clients" }, mutating: true, send: true },
  sendToGroup: push(send.sendToGroup),
  // With a clientId list: each on its owner node, as sendToClient.
  sendToAll: { run: send.sendToAll, route: { via: "engine-or-clients" }, mutating: true, send: true },
  bindUid: owned(membership.bindUid, true),
  unbindUid: owned(membership.unbindUid, true),
  joinGroup: { run: membership.joinGroup, route: { via: "owner-or-merge", merge: sum }, mutating: true },
  leaveGroup: { run: membership.leaveGroup, route: { via: "owner-or-merge", merge: sum }, mutating: true },
  ungroup: merged(membership.ungroup, sum, true),
  isOnline: owned(presence.isOnline, false, false),
  isUidOnline: merged(presence.isUidOnline, any),
  getClientIdByUid: listed(presence.getClientIdByUid, concat),
  getUidByClientId: owned(presence.getUidByClientId, false, null),
  getAllClientCount: merged(presence.getAllClientCount, sum),
  getAllClientIdCount: merged(presence.getAllClientCount, sum),
  getAllClientIdList: listed(maps.getAllClientIdList, concat),
  // Counting distinct uids over nodes needs every node's list (charged as that list).
  getAllUidCount: { run: presence.getAllUidCount, route: { via: "merge", merge: unionSize, part: "getAllUidList" }, mutating: false },
  getAllUidList: listed(presence.getAllUidList, union),
  getClientCountByGroup: merged(presence.getClientCountByGroup, sum),
  getClientIdCountByGroup: merged(presence.getClientCountByGroup, sum),
  // One node: O(1). Across nodes: presence groups counted by the engine; others merge every node's list (charged as that list).
  getUidCountByGroup: { run: presence.getUidCountByGroup, route: { via: "merge", merge: unionSize, part: "getUidListByGroup", counted: presence.countedUids }, mutating: false },
  getPresence: listed(presence.getPresence, concat),
  getClientIdListByGroup: listed(presence.getClientIdListByGroup, concat),
  getUidListByGroup: listed(presence.getUidListByGroup, union),
  getAllGroupIdList: listed(presence.getAllGroupIdList, union),
  getAllGroupClientIdList: listed(maps.getAllGroupClientIdList, maps.concatPerKey),
  getAllGroupClientIdCount: listed(maps.getAllGroupClientIdCount, maps.sumPerKey),
  getAllGroupUidList: listed(maps.getAllGroupUidList, maps.unionPerKey),
  // Distinct uids per group over nodes need every node's lists (charged as those lists).
  getAllGroupUidCount: { run: maps.getAllGroupUidCount, route: { via: "merge", merge: maps.unionSizePerKey, part: "getAllGroupUidList" }, mutating: false },
  getClientSessionsByGroup: listed(maps.getClientSessionsByGroup, maps.assign),
  getAllClientSessions: listed(maps.getAllClientSessions, maps.assign),
  // GatewayWorker's deprecated names for the two above.
  getClientInfoByGroup: listed(maps.getClientSessionsByGroup, maps.assign),
  getAllClientInfo: listed(maps.getAllClientSessions, maps.assign),
  setSession: owned(session.setSession, true),
  updateSession: owned(session.updateSession, true),
  getSession: owned(session.getSession, false),
  closeClient: owned(session.closeClient, true, false),
  destroyClient: owned(session.destroyClient, true, false),
  // GatewayWorker's own spelling.
  destoryClient: owned(session.destroyClient, true, false),
  // A business worker's "current client" has no meaning over HTTP.
  sendToCurrentClient: notApplicable("sendToCurrentClient", "sendToClient"),
  closeCurrentClient: notApplicable("closeCurrentClient", "closeClient"),
  destoryCurrentClient: notApplicable("destoryCurrentClient", "destroyClient"),
};

export function methodSpec(name: string): MethodSpec | null {
  return Object.hasOwn(METHODS, name) ? METHODS[name]! : null;
}

export type { ApiMethod, MethodSpec } from "./types.ts";

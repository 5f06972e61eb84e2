// Presence queries, before and after connections close.
import { expect, test } from "bun:test";
import { TestClient, api, startTestServer, waitFor } from "../helpers.ts";
import { type Pg, ok } from "./fixtures.ts";
import { clientIdOf } from "../../src/core/client-table.ts";


async function result(pg: Pg, method: string, params: unknown = {}): Promise<any> {
  const r = await api(pg, method, params);
  expect(r.status).toBe(200);
  return r.body.result;
}

const sorted = (xs: string[]) => [...xs].sort();

test("an empty server answers zeros, empty lists, false and null", async () => {
  await using pg = startTestServer();
  expect(await api(pg, "getAllClientCount")).toEqual(ok(0));
  expect(await api(pg, "getAllUidCount")).toEqual(ok(0));
  expect(await api(pg, "getAllUidList")).toEqual(ok([]));
  expect(await api(pg, "getAllGroupIdList")).toEqual(ok([]));
  expect(await api(pg, "getClientCountByGroup", { group: "g" })).toEqual(ok(0));
  expect(await api(pg, "getClientIdListByGroup", { group: "g" })).toEqual(ok([]));
  expect(await api(pg, "getUidListByGroup", { group: "g" })).toEqual(ok([]));
  expect(await api(pg, "isUidOnline", { uid: "u" })).toEqual(ok(false));
  expect(await api(pg, "getClientIdByUid", { uid: "u" })).toEqual(ok([]));
  expect(await api(pg, "isOnline", { clientId: "ffffffff000000000001" })).toEqual(ok(false));
  expect(await api(pg, "getUidByClientId", { clientId: "ffffffff000000000001" })).toEqual(ok(null));
});

test("queries reflect uids, connections and groups; entries go away when sockets close", async () => {
  await using pg = startTestServer();
  const a1 = await TestClient.login(pg, "alice");
  using a2 = await TestClient.login(pg, "alice");
  using b = await TestClient.login(pg, "bob");
  using pending = await TestClient.connect(pg);
  await waitFor(() => pg.hub.pending.size === 1, 2000, "pending connection");
  const pendingId = clientIdOf([...pg.hub.pending][0]!.data);

  expect(await api(pg, "getAllClientCount")).toEqual(ok(4));
  expect(await api(pg, "getAllUidCount")).toEqual(ok(2));
  expect(sorted(await result(pg, "getAllUidList"))).toEqual(["alice", "bob"]);
  expect(await api(pg, "isUidOnline", { uid: "alice" })).toEqual(ok(true));
  expect(await api(pg, "isUidOnline", { uid: "carol" })).toEqual(ok(false));

  const aliceIds: string[] = await result(pg, "getClientIdByUid", { uid: "alice" });
  const [bobId] = await result(pg, "getClientIdByUid", { uid: "bob" });
  expect(aliceIds).toHaveLength(2);
  expect(new Set([...aliceIds, bobId, pendingId]).size).toBe(4);
  for (const id of aliceIds) {
    expect(await api(pg, "isOnline", { clientId: id })).toEqual(ok(true));
    expect(await api(pg, "getUidByClientId", { clientId: id })).toEqual(ok("alice"));
  }
  expect(await api(pg, "getUidByClientId", { clientId: bobId })).toEqual(ok("bob"));
  expect(await api(pg, "isOnline", { clientId: pendingId })).toEqual(ok(true));
  expect(await api(pg, "getUidByClientId", { clientId: pendingId })).toEqual(ok(null));

  // Which id is which socket: a push to each of alice's ids lands on exactly one of her sockets.
  for (const id of aliceIds) expect(await api(pg, "sendToClient", { clientId: id, data: id })).toEqual(ok({ reached: 1, offline: [] }));
  const got = [await a1.next(), await a2.next()];
  expect(sorted(got)).toEqual(sorted(aliceIds));
  const [a1Id, a2Id] = got as [string, string];

  // Groups: room = a1, b, pending (no uid); lobby = a2.
  expect(await api(pg, "joinGroup", { clientId: a1Id, group: "room" })).toEqual(ok(1));
  expect(await api(pg, "joinGroup", { uid: "bob", group: "room" })).toEqual(ok(1));
  expect(await api(pg, "joinGroup", { clientId: pendingId, group: "room" })).toEqual(ok(1));
  expect(await api(pg, "joinGroup", { clientId: a2Id, group: "lobby" })).toEqual(ok(1));
  expect(await api(pg, "getClientCountByGroup", { group: "room" })).toEqual(ok(3));
  expect(sorted(await result(pg, "getClientIdListByGroup", { group: "room" }))).toEqual(sorted([a1Id, bobId, pendingId]));
  expect(sorted(await result(pg, "getUidListByGroup", { group: "room" }))).toEqual(["alice", "bob"]);
  expect(sorted(await result(pg, "getAllGroupIdList"))).toEqual(["lobby", "room"]);
  // A uid with two members in the group is listed once.
  expect(await api(pg, "joinGroup", { clientId: a2Id, group: "room" })).toEqual(ok(1));
  expect(await api(pg, "getClientCountByGroup", { group: "room" })).toEqual(ok(4));
  expect(sorted(await result(pg, "getUidListByGroup", { group: "room" }))).toEqual(["alice", "bob"]);

  // a1 closes: its id, its uid entry and its group membership go away; alice stays online via a2.
  a1.close();
  await a1.closed;
  await waitFor(async () => (await result(pg, "getAllClientCount")) === 3, 2000, "a1 gone");
  expect(await api(pg, "isOnline", { clientId: a1Id })).toEqual(ok(false));
  expect(await api(pg, "getUidByClientId", { clientId: a1Id })).toEqual(ok(null));
  expect(await api(pg, "getClientIdByUid", { uid: "alice" })).toEqual(ok([a2Id]));
  expect(await api(pg, "getAllUidCount")).toEqual(ok(2));
  expect(sorted(await result(pg, "getClientIdListByGroup", { group: "room" }))).toEqual(sorted([a2Id, bobId, pendingId]));

  // a2 closes: alice is offline, lobby is gone, room lists only bob's uid.
  a2.close();
  await a2.closed;
  await waitFor(async () => (await result(pg, "getAllClientCount")) === 2, 2000, "a2 gone");
  expect(await api(pg, "isUidOnline", { uid: "alice" })).toEqual(ok(false));
  expect(await api(pg, "getClientIdByUid", { uid: "alice" })).toEqual(ok([]));
  expect(await api(pg, "getAllUidCount")).toEqual(ok(1));
  expect(await api(pg, "getAllUidList")).toEqual(ok(["bob"]));
  expect(await api(pg, "getAllGroupIdList")).toEqual(ok(["room"]));
  expect(await api(pg, "getClientCountByGroup", { group: "lobby" })).toEqual(ok(0));
  expect(await api(pg, "getUidListByGroup", { group: "room" })).toEqual(ok(["bob"]));

  // The pending socket closes: room keeps only bob.
  pending.close();
  await pending.closed;
  await waitFor(async () => (await result(pg, "getAllClientCount")) === 1, 2000, "pending gone");
  expect(await api(pg, "getClientIdListByGroup", { group: "room" })).toEqual(ok([bobId]));
  expect(await api(pg, "isOnline", { clientId: pendingId })).toEqual(ok(false));

  b.close();
  await b.closed;
  await waitFor(async () => (await result(pg, "getAllClientCount")) === 0, 2000, "bob gone");
  expect(await api(pg, "getAllUidList")).toEqual(ok([]));
  expect(await api(pg, "getAllGroupIdList")).toEqual(ok([]));
});

test("presence queries validate their parameters", async () => {
  await using pg = startTestServer();
  expect(await api(pg, "isOnline", {})).toEqual({ status: 400, body: { error: { code: "E_BAD_PARAMS", message: "clientId: is required", field: "clientId" } } });
  expect(await api(pg, "getClientIdByUid", { uid: "" })).toEqual({ status: 400, body: { error: { code: "E_INVALID_UID", message: "uid: uid must not be empty", field: "uid" } } });
  expect(await api(pg, "getClientCountByGroup", { group: 7 })).toEqual({ status: 400, body: { error: { code: "E_INVALID_GROUP", message: "group: group must be a string", field: "group" } } });
  expect(await api(pg, "getUidByClientId", { clientId: "x".repeat(65) })).toEqual({ status: 400, body: { error: { code: "E_BAD_PARAMS", message: "clientId: must be a clientId string of 1..64 characters", field: "clientId" } } });
});

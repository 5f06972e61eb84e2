// The rest of Gateway:: on one node: per-group maps, session maps, the clientId list,
// destoryClient, sendToAll to a clientId list, the current-client methods, and their limits.
import { expect, test } from "bun:test";
import { TestClient, api, metrics, metricValue, startTestServer, waitFor } from "../helpers.ts";
import { type Pg, UNKNOWN_ID, expectQuiet, idOf, ok } from "./fixtures.ts";

async function result(pg: Pg, method: string, params: unknown = {}): Promise<any> {
  const r = await api(pg, method, params);
  expect(r).toMatchObject({ status: 200 });
  return r.body.result;
}
const sortedValues = (m: Record<string, string[]>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, [...v].sort()]));

test("an empty server: empty maps and lists, zero counts", async () => {
  await using pg = startTestServer();
  for (const m of ["getAllGroupUidCount", "getAllGroupUidList", "getAllGroupClientIdList", "getAllGroupClientIdCount", "getAllClientSessions", "getAllClientInfo"]) {
    expect(await api(pg, m)).toEqual(ok({}));
  }
  expect(await api(pg, "getClientSessionsByGroup", { group: "g" })).toEqual(ok({}));
  expect(await api(pg, "getAllClientIdList")).toEqual(ok([]));
  expect(await api(pg, "getAllClientIdCount")).toEqual(ok(0));
  expect(await api(pg, "destoryClient", { clientId: UNKNOWN_ID })).toEqual(ok(false));
});

test("group maps count connections and distinct uids; sessions by group and for all", async () => {
  await using pg = startTestServer();
  using a1 = await TestClient.login(pg, "alice");
  using a2 = await TestClient.login(pg, "alice");
  using b = await TestClient.login(pg, "bob");
  using anon = await TestClient.connect(pg);
  await waitFor(() => pg.hub.clients.size === 4, 2000, "4 connections");
  const [x1, x2] = (await result(pg, "getClientIdByUid", { uid: "alice" })) as string[];
  const bob = await idOf(pg, "bob");
  expect(await result(pg, "joinGroup", { uid: "alice", group: "room" })).toBe(2);
  expect(await result(pg, "joinGroup", { clientId: bob, group: "room" })).toBe(1);
  expect(await result(pg, "joinGroup", { clientId: x1, group: "solo" })).toBe(1);
  expect(await result(pg, "joinGroup", { clientId: bob, group: "__proto__" })).toBe(1);
  expect(await result(pg, "setSession", { clientId: x1, session: { name: "Alice" } })).toBe(true);

  expect(await result(pg, "getAllGroupClientIdCount")).toEqual({ room: 3, solo: 1, ["__proto__"]: 1 });
  expect(JSON.stringify(await result(pg, "getAllGroupUidCount"))).toBe(JSON.stringify({ room: 2, solo: 1, ["__proto__"]: 1 }));
  expect(sortedValues(await result(pg, "getAllGroupUidList"))).toEqual({ room: ["alice", "bob"], solo: ["alice"], ["__proto__"]: ["bob"] });
  expect(sortedValues(await result(pg, "getAllGroupClientIdList"))).toEqual({ room: [x1!, x2!, bob].sort(), solo: [x1!], ["__proto__"]: [bob] });

  expect(await result(pg, "getClientSessionsByGroup", { group: "room" })).toEqual({ [x1!]: { name: "Alice" }, [x2!]: null, [bob]: null });
  expect(await result(pg, "getAllClientSessions", { group: "solo" })).toEqual({ [x1!]: { name: "Alice" } });
  const all = await result(pg, "getAllClientSessions");
  expect(Object.keys(all)).toHaveLength(4); // the connection that never logged in too
  expect(all[x1!]).toEqual({ name: "Alice" });
  expect(await result(pg, "getAllClientInfo")).toEqual(all); // GatewayWorker's deprecated name
  expect(await result(pg, "getClientInfoByGroup", { group: "room" })).toEqual(await result(pg, "getClientSessionsByGroup", { group: "room" }));

  const ids = (await result(pg, "getAllClientIdList")) as string[];
  expect(ids).toHaveLength(4);
  expect(ids).toEqual(expect.arrayContaining([x1, x2, bob]));
  expect(await result(pg, "getAllClientIdCount")).toBe(4);

  // The maps follow closes.
  a2.close();
  await waitFor(() => pg.hub.clients.size === 3, 2000, "a close");
  expect(await result(pg, "getAllGroupClientIdCount")).toEqual({ room: 2, solo: 1, ["__proto__"]: 1 });
  expect(await result(pg, "getAllGroupUidCount")).toEqual({ room: 2, solo: 1, ["__proto__"]: 1 });
  void a1; void b; void anon;
});

test("sendToAll with a clientId list reaches only those connections, minus exclude", async () => {
  await using pg = startTestServer();
  using a = await TestClient.login(pg, "a");
  using b = await TestClient.login(pg, "b");
  using c = await TestClient.login(pg, "c");
  const [ia, ib, ic] = [await idOf(pg, "a"), await idOf(pg, "b"), await idOf(pg, "c")];
  expect(await api(pg, "sendToAll", { data: "to a and b", clientId: [ia, ib, UNKNOWN_ID] })).toEqual(ok({ reached: 2, offline: [UNKNOWN_ID] }));
  expect(await a.next()).toBe("to a and b");
  expect(await b.next()).toBe("to a and b");
  await expectQuiet(c);
  expect(await api(pg, "sendToAll", { data: "to c only", clientId: [ia, ic], exclude: [ia] })).toEqual(ok({ reached: 1, offline: [] }));
  expect(await c.next()).toBe("to c only");
  await expectQuiet(a, b);
  // Without the list it is the broadcast.
  expect(await api(pg, "sendToAll", { data: "everyone" })).toEqual(ok({ reached: 3 }));
  for (const x of [a, b, c]) expect(await x.next()).toBe("everyone");
  // A bad list is refused like sendToClient's.
  const bad = await api(pg, "sendToAll", { data: "x", clientId: [] });
  expect(bad.status).toBe(400);
  expect(bad.body.error.field).toBe("clientId");
});

test("destoryClient drops the connection at once; destroyClient is the same", async () => {
  await using pg = startTestServer();
  const victim = await TestClient.login(pg, "victim");
  using other = await TestClient.login(pg, "other");
  const id = await idOf(pg, "victim");
  expect(await api(pg, "destoryClient", { clientId: id })).toEqual(ok(true));
  const closed = await victim.closed;
  expect(closed.code).toBe(1006); // no close frame: dropped
  await waitFor(() => pg.hub.clients.size === 1, 2000, "the registry to forget it");
  expect(await api(pg, "isUidOnline", { uid: "victim" })).toEqual(ok(false));
  expect(await api(pg, "destroyClient", { clientId: id })).toEqual(ok(false));
  const second = await TestClient.login(pg, "victim2");
  expect(await api(pg, "destroyClient", { clientId: await idOf(pg, "victim2") })).toEqual(ok(true));
  expect((await second.closed).code).toBe(1006);
  void other;
});

test("the current-client methods answer E_NOT_APPLICABLE, naming what to call instead", async () => {
  await using pg = startTestServer();
  for (const [m, instead] of [["sendToCurrentClient", "sendToClient"], ["closeCurrentClient", "closeClient"], ["destoryCurrentClient", "destroyClient"]] as const) {
    const r = await api(pg, m, { data: "x" });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("E_NOT_APPLICABLE");
    expect(r.body.error.message).toContain(instead);
  }
  expect(metricValue(await metrics(pg), 'pushgate_errors_total{code="E_NOT_APPLICABLE"}')).toBe(3);
});

test("the maps are bounded by --api-max-list, counted by entries", async () => {
  await using pg = startTestServer({ apiMaxList: 3 });
  using a = await TestClient.login(pg, "a");
  using b = await TestClient.login(pg, "b");
  const [ia, ib] = [await idOf(pg, "a"), await idOf(pg, "b")];
  await result(pg, "joinGroup", { clientId: ia, group: "g1" });
  await result(pg, "joinGroup", { clientId: ib, group: "g1" });
  await result(pg, "joinGroup", { clientId: ia, group: "g2" });
  // 3 memberships, 3 (group, uid) pairs: fit. 2 groups of counts: fit.
  expect(Object.keys(await result(pg, "getAllGroupClientIdList"))).toHaveLength(2);
  expect(Object.keys(await result(pg, "getAllGroupUidList"))).toHaveLength(2);
  await result(pg, "joinGroup", { clientId: ib, group: "g3" });
  for (const m of ["getAllGroupClientIdList", "getAllGroupUidList"]) {
    const r = await api(pg, m);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("E_LIST_TOO_LARGE");
    expect(r.body.error.message).toContain("4 entries");
  }
  expect(Object.keys(await result(pg, "getAllGroupClientIdCount"))).toHaveLength(3);
  // A batch sums them: two maps of 2 entries each pass 3.
  const batch = await api(pg, "batch", { calls: [{ method: "getAllClientIdList" }, { method: "getAllClientSessions" }] });
  expect(batch.status).toBe(200);
  expect(batch.body.result[1].error.code).toBe("E_LIST_TOO_LARGE");
  void a; void b;
});

test("a part run for another node takes the asker's remaining list budget, at most this node's own", async () => {
  const { runForNode } = await import("../../src/api/dispatch.ts");
  const { PART_LIST_BUDGET } = await import("../../src/api/request-budget.ts");
  await using pg = startTestServer({ apiMaxList: 3 });
  using a = await TestClient.login(pg, "a");
  using b = await TestClient.login(pg, "b");
  // The asker has 1 entry left: this node's 2 clientIds are refused before the list is built.
  const refused = await runForNode(pg.hub, "getAllClientIdList", { [PART_LIST_BUDGET]: 1 });
  expect(refused).toMatchObject({ ok: false, code: "E_LIST_TOO_LARGE" });
  expect(await runForNode(pg.hub, "getAllClientIdList", { [PART_LIST_BUDGET]: 2 })).toMatchObject({ ok: true });
  // A budget above this node's --api-max-list is this node's; none given: unbounded as before.
  using c = await TestClient.login(pg, "c");
  using d = await TestClient.login(pg, "d");
  expect(await runForNode(pg.hub, "getAllClientIdList", { [PART_LIST_BUDGET]: 1000 })).toMatchObject({ ok: false, code: "E_LIST_TOO_LARGE" });
  expect(await runForNode(pg.hub, "getAllClientIdList", {})).toMatchObject({ ok: true });
  void a; void b; void c; void d;
});

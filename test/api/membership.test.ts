// bindUid / unbindUid / joinGroup / leaveGroup / ungroup end to end.
import { describe, expect, test } from "bun:test";
import { TestClient, api, startTestServer, waitFor } from "../helpers.ts";
import { UNKNOWN_ID, expectQuiet, idOf, ok } from "./fixtures.ts";
import { clientIdOf } from "../../src/core/client-table.ts";

describe("bindUid", () => {
  test("binds a not-yet-logged-in connection: it then receives sendToUid and sendToAll", async () => {
    await using pg = startTestServer();
    using c = await TestClient.connect(pg);
    await waitFor(() => pg.hub.pending.size === 1, 2000, "pending connection");
    const id = clientIdOf([...pg.hub.pending][0]!.data);
    expect(await api(pg, "sendToUid", { uid: "bound", data: "before" })).toEqual(ok({ reached: 0, offline: ["bound"] }));
    expect(await api(pg, "bindUid", { clientId: id, uid: "bound" })).toEqual(ok(true));
    expect(await api(pg, "getUidByClientId", { clientId: id })).toEqual(ok("bound"));
    expect(await api(pg, "sendToUid", { uid: "bound", data: "after" })).toEqual(ok({ reached: 1, offline: [] }));
    expect(await c.next()).toBe("after");
    expect(await api(pg, "sendToAll", { data: "all" })).toEqual(ok({ reached: 1 }));
    expect(await c.next()).toBe("all");
    await expectQuiet(c);
    expect(c.received).toEqual(["after", "all"]);
  });

  test("rebinding replaces the old uid", async () => {
    await using pg = startTestServer();
    using c = await TestClient.login(pg, "old");
    using other = await TestClient.login(pg, "bystander");
    const id = await idOf(pg, "old");
    expect(await api(pg, "bindUid", { clientId: id, uid: "new" })).toEqual(ok(true));
    expect(await api(pg, "sendToUid", { uid: "old", data: "to-old" })).toEqual(ok({ reached: 0, offline: ["old"] }));
    expect(await api(pg, "sendToUid", { uid: "new", data: "to-new" })).toEqual(ok({ reached: 1, offline: [] }));
    expect(await c.next()).toBe("to-new");
    await expectQuiet(c, other);
    expect(await api(pg, "isUidOnline", { uid: "old" })).toEqual(ok(false));
    expect(await api(pg, "getClientIdByUid", { uid: "new" })).toEqual(ok([id]));
    expect((await api(pg, "getAllUidList")).body.result.sort()).toEqual(["bystander", "new"]);
    // Binding to the uid it already has is a no-op success.
    expect(await api(pg, "bindUid", { clientId: id, uid: "new" })).toEqual(ok(true));
    expect(await api(pg, "getClientIdByUid", { uid: "new" })).toEqual(ok([id]));
  });

  test("unknown clientId → 404 E_NO_SUCH_CLIENT; bad uid → 400 E_INVALID_UID", async () => {
    await using pg = startTestServer();
    using c = await TestClient.login(pg, "x");
    const id = await idOf(pg, "x");
    const r = await api(pg, "bindUid", { clientId: UNKNOWN_ID, uid: "u" });
    expect(r.status).toBe(404);
    expect(r.body.error).toEqual({ code: "E_NO_SUCH_CLIENT", message: `clientId: no connection ${UNKNOWN_ID} on this server`, field: "clientId" });
    const bad = await api(pg, "bindUid", { clientId: id, uid: "a:b" });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: "E_INVALID_UID", field: "uid" });
    const missing = await api(pg, "bindUid", { clientId: id });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toEqual({ code: "E_BAD_PARAMS", message: "uid: is required", field: "uid" });
    expect(await api(pg, "getUidByClientId", { clientId: id })).toEqual(ok("x"));
    await expectQuiet(c);
  });

  test("a uid at its connection limit → 409 E_UID_CONNECTION_LIMIT", async () => {
    await using pg = startTestServer({ maxConnectionsPerUid: 1 });
    using a = await TestClient.login(pg, "full");
    using b = await TestClient.login(pg, "b");
    const idB = await idOf(pg, "b");
    const r = await api(pg, "bindUid", { clientId: idB, uid: "full" });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("E_UID_CONNECTION_LIMIT");
    expect(await api(pg, "getUidByClientId", { clientId: idB })).toEqual(ok("b"));
    await expectQuiet(a, b);
  });
});

describe("unbindUid", () => {
  test("without uid: unbinds and answers true, then false; the socket stays logged in", async () => {
    await using pg = startTestServer();
    using c = await TestClient.login(pg, "u1");
    const id = await idOf(pg, "u1");
    expect(await api(pg, "unbindUid", { clientId: id })).toEqual(ok(true));
    expect(await api(pg, "sendToUid", { uid: "u1", data: "x" })).toEqual(ok({ reached: 0, offline: ["u1"] }));
    expect(await api(pg, "isUidOnline", { uid: "u1" })).toEqual(ok(false));
    expect(await api(pg, "getUidByClientId", { clientId: id })).toEqual(ok(null));
    expect(await api(pg, "isOnline", { clientId: id })).toEqual(ok(true));
    expect(await api(pg, "unbindUid", { clientId: id })).toEqual(ok(false));
    await expectQuiet(c);
    expect(await api(pg, "sendToAll", { data: "still-here" })).toEqual(ok({ reached: 1 }));
    expect(await c.next()).toBe("still-here");
  });

  test("with uid: only unbinds when it matches", async () => {
    await using pg = startTestServer();
    using c = await TestClient.login(pg, "mine");
    const id = await idOf(pg, "mine");
    expect(await api(pg, "unbindUid", { clientId: id, uid: "other" })).toEqual(ok(false));
    expect(await api(pg, "sendToUid", { uid: "mine", data: "still" })).toEqual(ok({ reached: 1, offline: [] }));
    expect(await c.next()).toBe("still");
    expect(await api(pg, "unbindUid", { clientId: id, uid: "mine" })).toEqual(ok(true));
    expect(await api(pg, "sendToUid", { uid: "mine", data: "gone" })).toEqual(ok({ reached: 0, offline: ["mine"] }));
    await expectQuiet(c);
  });

  test("unknown clientId → 404 E_NO_SUCH_CLIENT", async () => {
    await using pg = startTestServer();
    const r = await api(pg, "unbindUid", { clientId: UNKNOWN_ID });
    expect(r.status).toBe(404);
    expect(r.body.error).toMatchObject({ code: "E_NO_SUCH_CLIENT", field: "clientId" });
  });
});

describe("joinGroup / leaveGroup / ungroup", () => {
  test("joinGroup by clientId joins that one connection", async () => {
    await using pg = startTestServer();
    using a = await TestClient.login(pg, "a");
    using b = await TestClient.login(pg, "b");
    const idA = await idOf(pg, "a");
    expect(await api(pg, "joinGroup", { clientId: idA, group: "g" })).toEqual(ok(1));
    expect(await api(pg, "getClientIdListByGroup", { group: "g" })).toEqual(ok([idA]));
    expect(await api(pg, "sendToGroup", { group: "g", data: "hey" })).toEqual(ok({ reached: 1 }));
    expect(await a.next()).toBe("hey");
    await expectQuiet(a, b);
  });

  test("joinGroup by uid joins all of its connections; an offline uid joins none", async () => {
    await using pg = startTestServer();
    using a1 = await TestClient.login(pg, "a");
    using a2 = await TestClient.login(pg, "a");
    using b = await TestClient.login(pg, "b");
    expect(await api(pg, "joinGroup", { uid: "a", group: "g" })).toEqual(ok(2));
    expect(await api(pg, "getClientCountByGroup", { group: "g" })).toEqual(ok(2));
    expect(await api(pg, "sendToGroup", { group: "g", data: "both" })).toEqual(ok({ reached: 2 }));
    expect(await a1.next()).toBe("both");
    expect(await a2.next()).toBe("both");
    await expectQuiet(a1, a2, b);
    expect(await api(pg, "joinGroup", { uid: "nobody", group: "g2" })).toEqual(ok(0));
    expect(await api(pg, "getAllGroupIdList")).toEqual(ok(["g"]));
  });

  test("joinGroup / leaveGroup need exactly one of clientId and uid", async () => {
    await using pg = startTestServer();
    using _a = await TestClient.login(pg, "a");
    const idA = await idOf(pg, "a");
    for (const method of ["joinGroup", "leaveGroup"]) {
      const both = await api(pg, method, { clientId: idA, uid: "a", group: "g" });
      expect(both).toEqual({ status: 400, body: { error: { code: "E_BAD_PARAMS", message: "clientId or uid: give exactly one of them", field: "uid" } } });
      const neither = await api(pg, method, { group: "g" });
      expect(neither).toEqual({ status: 400, body: { error: { code: "E_BAD_PARAMS", message: "clientId or uid: give exactly one of them", field: "clientId" } } });
    }
    const noGroup = await api(pg, "joinGroup", { clientId: idA });
    expect(noGroup).toEqual({ status: 400, body: { error: { code: "E_BAD_PARAMS", message: "group: is required", field: "group" } } });
    const badGroup = await api(pg, "joinGroup", { clientId: idA, group: "x:y" });
    expect(badGroup.status).toBe(400);
    expect(badGroup.body.error).toMatchObject({ code: "E_INVALID_GROUP", field: "group" });
    const unknown = await api(pg, "joinGroup", { clientId: UNKNOWN_ID, group: "g" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("E_NO_SUCH_CLIENT");
    expect(await api(pg, "getAllGroupIdList")).toEqual(ok([]));
  });

  test("leaveGroup by clientId: that connection stops receiving; leaving again counts 0", async () => {
    await using pg = startTestServer();
    using a = await TestClient.login(pg, "a");
    using b = await TestClient.login(pg, "b");
    const idA = await idOf(pg, "a");
    expect(await api(pg, "joinGroup", { uid: "a", group: "g" })).toEqual(ok(1));
    expect(await api(pg, "joinGroup", { uid: "b", group: "g" })).toEqual(ok(1));
    expect(await api(pg, "leaveGroup", { clientId: idA, group: "g" })).toEqual(ok(1));
    expect(await api(pg, "leaveGroup", { clientId: idA, group: "g" })).toEqual(ok(0));
    expect(await api(pg, "sendToGroup", { group: "g", data: "b-only" })).toEqual(ok({ reached: 1 }));
    expect(await b.next()).toBe("b-only");
    await expectQuiet(a, b);
  });

  test("leaveGroup by uid: all its connections leave; the count is of members that left", async () => {
    await using pg = startTestServer();
    using x1 = await TestClient.login(pg, "x");
    using x2 = await TestClient.login(pg, "x");
    using x3 = await TestClient.login(pg, "x");
    using y = await TestClient.login(pg, "y");
    const [id1, id2] = (await api(pg, "getClientIdByUid", { uid: "x" })).body.result;
    expect(await api(pg, "joinGroup", { clientId: id1, group: "g" })).toEqual(ok(1));
    expect(await api(pg, "joinGroup", { clientId: id2, group: "g" })).toEqual(ok(1));
    expect(await api(pg, "joinGroup", { uid: "y", group: "g" })).toEqual(ok(1));
    expect(await api(pg, "leaveGroup", { uid: "x", group: "g" })).toEqual(ok(2));
    expect(await api(pg, "getUidListByGroup", { group: "g" })).toEqual(ok(["y"]));
    expect(await api(pg, "sendToGroup", { group: "g", data: "y-only" })).toEqual(ok({ reached: 1 }));
    expect(await y.next()).toBe("y-only");
    await expectQuiet(x1, x2, x3, y);
  });

  test("ungroup dissolves the group: count of members, then nobody receives", async () => {
    await using pg = startTestServer();
    using a = await TestClient.login(pg, "a");
    using b = await TestClient.login(pg, "b");
    using c = await TestClient.login(pg, "c");
    for (const uid of ["a", "b", "c"]) expect(await api(pg, "joinGroup", { uid, group: "doomed" })).toEqual(ok(1));
    expect(await api(pg, "joinGroup", { uid: "a", group: "kept" })).toEqual(ok(1));
    expect(await api(pg, "ungroup", { group: "doomed" })).toEqual(ok(3));
    expect(await api(pg, "getAllGroupIdList")).toEqual(ok(["kept"]));
    expect(await api(pg, "getClientCountByGroup", { group: "doomed" })).toEqual(ok(0));
    expect(await api(pg, "sendToGroup", { group: "doomed", data: "x" })).toEqual(ok({ reached: 0 }));
    await expectQuiet(a, b, c);
    expect(await api(pg, "ungroup", { group: "doomed" })).toEqual(ok(0));
    expect(await api(pg, "sendToGroup", { group: "kept", data: "k" })).toEqual(ok({ reached: 1 }));
    expect(await a.next()).toBe("k");
    // A dissolved group can be joined again.
    expect(await api(pg, "joinGroup", { uid: "b", group: "doomed" })).toEqual(ok(1));
    expect(await api(pg, "sendToGroup", { group: "doomed", data: "again" })).toEqual(ok({ reached: 1 }));
    expect(await b.next()).toBe("again");
    await expectQuiet(a, b, c);
  });

  test("joining a group twice keeps one membership and one delivery", async () => {
    await using pg = startTestServer();
    using a = await TestClient.login(pg, "a");
    const idA = await idOf(pg, "a");
    expect(await api(pg, "joinGroup", { clientId: idA, group: "g" })).toEqual(ok(1));
    expect((await api(pg, "joinGroup", { clientId: idA, group: "g" })).status).toBe(200);
    expect(await api(pg, "getClientIdListByGroup", { group: "g" })).toEqual(ok([idA]));
    expect(await api(pg, "sendToGroup", { group: "g", data: "once" })).toEqual(ok({ reached: 1 }));
    expect(await a.next()).toBe("once");
    await expectQuiet(a);
    expect(await api(pg, "leaveGroup", { clientId: idA, group: "g" })).toEqual(ok(1));
    expect(await api(pg, "getAllGroupIdList")).toEqual(ok([]));
  });

  test("a joinGroup by uid refused at maxGroupsPerConnection leaves membership unchanged", async () => {
    await using pg = startTestServer({ maxGroupsPerConnection: 1 });
    using x1 = await TestClient.login(pg, "x");
    using x2 = await TestClient.login(pg, "x");
    const [id1, id2] = (await api(pg, "getClientIdByUid", { uid: "x" })).body.result;
    // The second connection is at its limit; the first is not.
    expect(await api(pg, "joinGroup", { clientId: id2, group: "full" })).toEqual(ok(1));
    const r = await api(pg, "joinGroup", { clientId: id2, group: "g2" });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("E_GROUP_LIMIT");
    const byUid = await api(pg, "joinGroup", { uid: "x", group: "g2" });
    expect(byUid.status).toBe(409);
    expect(byUid.body.error.code).toBe("E_GROUP_LIMIT");
    // An error answer must mean nothing happened: the first connection must not be in g2.
    expect(await api(pg, "getClientIdListByGroup", { group: "g2" })).toEqual(ok([]));
    expect(await api(pg, "sendToGroup", { group: "g2", data: "x" })).toEqual(ok({ reached: 0 }));
    await expectQuiet(x1, x2);
    expect(id1).not.toBe(id2);
  });
});

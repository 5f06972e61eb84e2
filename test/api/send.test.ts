// sendToUid / sendToClient / sendToGroup / sendToAll end to end: real server, real sockets.
import { describe, expect, test } from "bun:test";
import { TestClient, api, startTestServer, waitFor } from "../helpers.ts";
import { type Pg, expectQuiet, idOf } from "./fixtures.ts";

async function joinAll(pg: Pg, group: string, uids: string[]): Promise<void> {
  for (const uid of uids) expect(await api(pg, "joinGroup", { uid, group })).toEqual({ status: 200, body: { result: 1 } });
}

describe("sendToUid", () => {
  test("single uid: only that uid's socket receives", async () => {
    await using pg = startTestServer();
    using a = await TestClient.login(pg, "alice");
    using b = await TestClient.login(pg, "bob");
    expect(await api(pg, "sendToUid", { uid: "alice", data: "hello" })).toEqual({ status: 200, body: { result: { reached: 1, offline: [] } } });
    expect(await a.next()).toBe("hello");
    await expectQuiet(a, b);
  });

  test("array of uids: each listed uid receives once, others nothing", async () => {
    await using pg = startTestServer();
    using a = await TestClient.login(pg, "a");
    using b = await TestClient.login(pg, "b");
    using c = await TestClient.login(pg, "c");
    expect(await api(pg, "sendToUid", { uid: ["a", "b"], data: "to-ab" })).toEqual({ status: 200, body: { result: { reached: 2, offline: [] } } });
    expect(await a.next()).toBe("to-ab");
    expect(await b.next()).toBe("to-ab");
    await expectQuiet(a, b, c);
  });

  test("offline uid reaches 0; mixed list counts only the online one", async () => {
    await using pg = startTestServer();
    using a = await TestClient.login(pg, "online");
    expect(await api(pg, "sendToUid", { uid: "ghost", data: "x" })).toEqual({ status: 200, body: { result: { reached: 0, offline: ["ghost"] } } });
    expect(await api(pg, "sendToUid", { uid: ["ghost"], data: "x" })).toEqual({ status: 200, body: { result: { reached: 0, offline: ["ghost"] } } });
    await expectQuiet(a);
    expect(await api(pg, "sendToUid", { uid: ["ghost", "online"], data: "y" })).toEqual({ status: 200, body: { result: { reached: 1, offline: ["ghost"] } } });
    expect(await a.next()).toBe("y");
    await expectQuiet(a);
  });

  test("a string is delivered as-is; object, number, null, boolean and array as JSON text", async () => {
    await using pg = startTestServer();
    using a = await TestClient.login(pg, "fmt");
    const cases: Array<[unknown, string]> = [
      ["plain text", "plain text"],
      ['{"already":"json"}', '{"already":"json"}'],
      ["", ""],
      ["ünï©ødé ✓", "ünï©ødé ✓"],
      [{ type: "msg", n: 1, nested: { ok: true } }, '{"type":"msg","n":1,"nested":{"ok":true}}'],
      [42, "42"],
      [-1.5, "-1.5"],
      [null, "null"],
      [true, "true"],
      [[1, "two", null], '[1,"two",null]'],
    ];
    for (const [data, expected] of cases) {
      expect(await api(pg, "sendToUid", { uid: "fmt", data })).toEqual({ status: 200, body: { result: { reached: 1, offline: [] } } });
      expect(await a.next()).toBe(expected);
    }
    await expectQuiet(a);
  });

  test("every connection of one uid receives exactly once", async () => {
    await using pg = startTestServer();
    using c1 = await TestClient.login(pg, "multi");
    using c2 = await TestClient.login(pg, "multi");
    using c3 = await TestClient.login(pg, "multi");
    using other = await TestClient.login(pg, "other");
    expect(await api(pg, "sendToUid", { uid: "multi", data: "fan" })).toEqual({ status: 200, body: { result: { reached: 3, offline: [] } } });
    for (const c of [c1, c2, c3]) expect(await c.next()).toBe("fan");
    await expectQuiet(c1, c2, c3, other);
  });
});

describe("sendToClient", () => {
  test("single clientId: only that connection, not the uid's other connection", async () => {
    await using pg = startTestServer();
    using a = await TestClient.login(pg, "one");
    const id = await idOf(pg, "one");
    using twin = await TestClient.login(pg, "one");
    using b = await TestClient.login(pg, "two");
    expect(await api(pg, "sendToClient", { clientId: id, data: { hi: 1 } })).toEqual({ status: 200, body: { result: { reached: 1, offline: [] } } });
    expect(await a.next()).toBe('{"hi":1}');
    await expectQuiet(a, twin, b);
  });

  test("array of clientIds reaches each listed connection", async () => {
    await using pg = startTestServer();
    using a = await TestClient.login(pg, "a");
    using b = await TestClient.login(pg, "b");
    using c = await TestClient.login(pg, "c");
    const ids = [await idOf(pg, "a"), await idOf(pg, "b")];
    expect(await api(pg, "sendToClient", { clientId: ids, data: "direct" })).toEqual({ status: 200, body: { result: { reached: 2, offline: [] } } });
    expect(await a.next()).toBe("direct");
    expect(await b.next()).toBe("direct");
    await expectQuiet(a, b, c);
  });

  test("unknown clientId reaches 0 and nobody receives", async () => {
    await using pg = startTestServer();
    using a = await TestClient.login(pg, "a");
    const id = await idOf(pg, "a");
    const unknown = "ffffffff0000000fffff";
    expect(unknown).not.toBe(id);
    expect(await api(pg, "sendToClient", { clientId: unknown, data: "x" })).toEqual({ status: 200, body: { result: { reached: 0, offline: [unknown] } } });
    expect(await api(pg, "sendToClient", { clientId: [unknown, id], data: "y" })).toEqual({ status: 200, body: { result: { reached: 1, offline: [unknown] } } });
    expect(await a.next()).toBe("y");
    await expectQuiet(a);
  });
});

describe("sendToGroup", () => {
  test("single group: members receive, non-members do not", async () => {
    await using pg = startTestServer();
    using a = await TestClient.login(pg, "a");
    using b = await TestClient.login(pg, "b");
    using c = await TestClient.login(pg, "c");
    await joinAll(pg, "g1", ["a", "b"]);
    expect(await api(pg, "sendToGroup", { group: "g1", data: "grp" })).toEqual({ status: 200, body: { result: { reached: 2 } } });
    expect(await a.next()).toBe("grp");
    expect(await b.next()).toBe("grp");
    await expectQuiet(a, b, c);
    expect(await api(pg, "sendToGroup", { group: "empty", data: "none" })).toEqual({ status: 200, body: { result: { reached: 0 } } });
    await expectQuiet(a, b, c);
  });

  test("array of groups reaches the members of each", async () => {
    await using pg = startTestServer();
    using a = await TestClient.login(pg, "a");
    using b = await TestClient.login(pg, "b");
    using c = await TestClient.login(pg, "c");
    await joinAll(pg, "g1", ["a"]);
    await joinAll(pg, "g2", ["b"]);
    await joinAll(pg, "g3", ["c"]);
    expect(await api(pg, "sendToGroup", { group: ["g1", "g2"], data: 7 })).toEqual({ status: 200, body: { result: { reached: 2 } } });
    expect(await a.next()).toBe("7");
    expect(await b.next()).toBe("7");
    await expectQuiet(a, b, c);
  });

  test("exclude: the excluded member gets nothing, stays in the group and gets the next push", async () => {
    await using pg = startTestServer();
    using a = await TestClient.login(pg, "a");
    using b = await TestClient.login(pg, "b");
    using c = await TestClient.login(pg, "c");
    using outsider = await TestClient.login(pg, "d");
    await joinAll(pg, "room", ["a", "b", "c"]);
    const idB = await idOf(pg, "b");
    const idD = await idOf(pg, "d");

    // b is excluded; d is not a member, so excluding it changes nothing.
    expect(await api(pg, "sendToGroup", { group: "room", data: "not-for-b", exclude: [idB, idD] }))
      .toEqual({ status: 200, body: { result: { reached: 2 } } });
    expect(await a.next()).toBe("not-for-b");
    expect(await c.next()).toBe("not-for-b");
    await expectQuiet(a, b, c, outsider);

    const members = await api(pg, "getClientIdListByGroup", { group: "room" });
    expect(members.status).toBe(200);
    expect(members.body.result).toContain(idB);
    expect(members.body.result).toHaveLength(3);

    expect(await api(pg, "sendToGroup", { group: "room", data: "everyone" })).toEqual({ status: 200, body: { result: { reached: 3 } } });
    for (const x of [a, b, c]) expect(await x.next()).toBe("everyone");
    await expectQuiet(a, b, c, outsider);
  });

  test("exclude must be an array of clientIds", async () => {
    await using pg = startTestServer();
    using a = await TestClient.login(pg, "a");
    await joinAll(pg, "g", ["a"]);
    const r = await api(pg, "sendToGroup", { group: "g", data: "x", exclude: "abc" });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: "E_BAD_PARAMS", field: "exclude" });
    const r2 = await api(pg, "sendToGroup", { group: "g", data: "x", exclude: ["ok", 5] });
    expect(r2.status).toBe(400);
    expect(r2.body.error).toMatchObject({ code: "E_BAD_PARAMS", field: "exclude[1]" });
    await expectQuiet(a);
  });
});

describe("sendToAll", () => {
  test("only logged-in sockets receive", async () => {
    await using pg = startTestServer();
    using a = await TestClient.login(pg, "a");
    using b = await TestClient.login(pg, "b");
    using pending = await TestClient.connect(pg);
    await waitFor(() => pg.hub.clients.size === 3, 2000, "3 connections");
    expect(await api(pg, "sendToAll", { data: { all: true } })).toEqual({ status: 200, body: { result: { reached: 2 } } });
    expect(await a.next()).toBe('{"all":true}');
    expect(await b.next()).toBe('{"all":true}');
    await expectQuiet(a, b, pending);
    expect(pending.received).toEqual([]);
  });

  test("exclude skips that connection once; the next broadcast reaches it", async () => {
    await using pg = startTestServer();
    using a = await TestClient.login(pg, "a");
    using b = await TestClient.login(pg, "b");
    const idA = await idOf(pg, "a");
    expect(await api(pg, "sendToAll", { data: "not-a", exclude: [idA] })).toEqual({ status: 200, body: { result: { reached: 1 } } });
    expect(await b.next()).toBe("not-a");
    await expectQuiet(a, b);
    expect(await api(pg, "sendToAll", { data: "both" })).toEqual({ status: 200, body: { result: { reached: 2 } } });
    expect(await a.next()).toBe("both");
    expect(await b.next()).toBe("both");
    await expectQuiet(a, b);
  });
});

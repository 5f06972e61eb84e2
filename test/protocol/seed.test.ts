// The seed conversation (Workerman "send data to a specific client"), word for word.
import { afterAll, describe, expect, test } from "bun:test";
import { TestClient, api, metricValue, metrics, startTestServer } from "../helpers.ts";
import { RawWs } from "../raw-ws.ts";
import { clientIdOf } from "../../src/core/client-table.ts";

const pg = startTestServer();
afterAll(() => pg.shutdown());

describe("seed protocol", () => {
  test("first frame is the uid; reply is exact", async () => {
    using c = await TestClient.connect(pg);
    c.send("42");
    expect(await c.next()).toBe("login success, your uid is 42");
  });

  test("X:payload reaches every connection of uid X, and only them", async () => {
    using a = await TestClient.login(pg, "alice");
    using b1 = await TestClient.login(pg, "bob");
    using b2 = await TestClient.login(pg, "bob");
    using c = await TestClient.login(pg, "carol");
    a.send("bob:hi bob");
    expect(await b1.next()).toBe("hi bob");
    expect(await b2.next()).toBe("hi bob");
    expect(await c.nothingWithin()).toBe(true);
    expect(await a.nothingWithin(50)).toBe(true);
  });

  test("payload keeps its colons (split at the first colon only)", async () => {
    using a = await TestClient.login(pg, "s1");
    using b = await TestClient.login(pg, "s2");
    a.send("s2:time: 12:30:05 :: done:");
    expect(await b.next()).toBe("time: 12:30:05 :: done:");
    a.send("s2:");
    expect(await b.next()).toBe("");
  });

  test("all:payload reaches every logged-in connection, sender included, not pending ones", async () => {
    using a = await TestClient.login(pg, "b1");
    using b = await TestClient.login(pg, "b2");
    using pending = await TestClient.connect(pg);
    a.send("all:hello everyone");
    expect(await a.next()).toBe("hello everyone");
    expect(await b.next()).toBe("hello everyone");
    expect(await pending.nothingWithin()).toBe(true);
  });

  test("a uid may send to itself", async () => {
    using a = await TestClient.login(pg, "self");
    a.send("self:echo");
    expect(await a.next()).toBe("echo");
  });

  test("offline target is dropped silently and counted", async () => {
    using a = await TestClient.login(pg, "lonely");
    const before = metricValue(await metrics(pg), 'pushgate_drops_total{reason="offline"}');
    a.send("nobody-here:msg");
    expect(await a.nothingWithin()).toBe(true);
    expect(metricValue(await metrics(pg), 'pushgate_drops_total{reason="offline"}')).toBe(before + 1);
  });

  test("frames without a target get an E_BAD_FRAME error frame; the socket stays usable", async () => {
    using a = await TestClient.login(pg, "bad1");
    for (const frame of ["no colon here", ":leading colon"]) {
      a.send(frame);
      expect(JSON.parse(await a.next())).toEqual({
        type: "error", code: "E_BAD_FRAME", message: "expected <uid>:<payload> or all:<payload>",
      });
    }
    a.send("bad1:still here");
    expect(await a.next()).toBe("still here");
  });

  test("an invalid target uid gets E_INVALID_UID", async () => {
    using a = await TestClient.login(pg, "bad2");
    a.send("\u0001ctl:x");
    const e = JSON.parse(await a.next());
    expect(e.type).toBe("error");
    expect(e.code).toBe("E_INVALID_UID");
  });

  test("messages from one sender arrive in order", async () => {
    using a = await TestClient.login(pg, "ord-a");
    using b = await TestClient.login(pg, "ord-b");
    for (let i = 0; i < 150; i++) a.send(`ord-b:${i}`);
    for (let i = 0; i < 150; i++) expect(await b.next()).toBe(String(i));
  });

  test("a closed connection leaves presence; the uid's other connection stays", async () => {
    const a = await TestClient.login(pg, "gone");
    using b = await TestClient.login(pg, "gone");
    a.close();
    await a.closed;
    const deadline = performance.now() + 2000;
    let ids: string[] = [];
    while (performance.now() < deadline) {
      ids = (await api(pg, "getClientIdByUid", { uid: "gone" })).body.result;
      if (ids.length === 1) break;
      await Bun.sleep(10);
    }
    expect(ids.length).toBe(1);
    b.close();
    await b.closed;
    await Bun.sleep(20);
    expect((await api(pg, "isUidOnline", { uid: "gone" })).body.result).toBe(false);
  });
});

describe("login", () => {
  const cases: Array<[string, string]> = [
    ["has:colon", "uid must not contain ':'"],
    ["x".repeat(129), "uid is longer than 128 characters"],
    ["tab\there", "uid must not contain control characters"],
    ["", "uid must not be empty"],
  ];
  for (const [uid, reason] of cases) {
    test(`invalid uid ${JSON.stringify(uid.slice(0, 20))} closes 1008 with a reason`, async () => {
      using c = await TestClient.connect(pg);
      c.send(uid);
      expect(await c.closed).toEqual({ code: 1008, reason: `E_INVALID_UID: ${reason}` });
    });
  }

  test("128-character uid is accepted", async () => {
    using c = await TestClient.login(pg, "u".repeat(128));
    expect(c.received.length).toBe(1);
  });

  test("no login within loginTimeout closes 1008", async () => {
    await using short = startTestServer({ loginTimeoutMs: 150 });
    using c = await TestClient.connect(short);
    const t0 = performance.now();
    expect(await c.closed).toEqual({ code: 1008, reason: "E_LOGIN_TIMEOUT: no login within 150 ms" });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(100);
    using ok = await TestClient.login(short, "quick");
    await Bun.sleep(300);
    expect(ok.ws.readyState).toBe(WebSocket.OPEN);
  });

  test("maxConnectionsPerUid: the next login is closed 1008, others unaffected", async () => {
    await using small = startTestServer({ maxConnectionsPerUid: 2 });
    using a = await TestClient.login(small, "capped");
    using b = await TestClient.login(small, "capped");
    using c = await TestClient.connect(small);
    c.send("capped");
    const closed = await c.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toStartWith("E_UID_CONNECTION_LIMIT");
    using d = await TestClient.login(small, "other");
    d.send("capped:still fine");
    expect(await a.next()).toBe("still fine");
    expect(await b.next()).toBe("still fine");
  });
});

describe("allowClientSend", () => {
  test("when off, sends get E_FORBIDDEN and nothing is delivered", async () => {
    await using locked = startTestServer({ allowClientSend: false });
    using a = await TestClient.login(locked, "la");
    using b = await TestClient.login(locked, "lb");
    const before = metricValue(await metrics(locked), 'pushgate_errors_total{code="E_FORBIDDEN"}');
    for (const frame of ["lb:hi", "all:hi"]) {
      a.send(frame);
      const e = JSON.parse(await a.next());
      expect(e.code).toBe("E_FORBIDDEN");
    }
    expect(await b.nothingWithin()).toBe(true);
    expect(metricValue(await metrics(locked), 'pushgate_errors_total{code="E_FORBIDDEN"}')).toBe(before + 2);
    // the backend can still push
    expect((await api(locked, "sendToUid", { uid: "lb", data: "from backend" })).body.result.reached).toBe(1);
    expect(await b.next()).toBe("from backend");
  });
});

describe("wire details", () => {
  test("an empty payload is delivered and not counted as a backpressure drop", async () => {
    using a = await TestClient.login(pg, "empty-a");
    using b = await TestClient.login(pg, "empty-b");
    const before = metricValue(await metrics(pg), 'pushgate_drops_total{reason="backpressure"}');
    a.send("empty-b:");
    expect(await b.next()).toBe("");
    expect((await api(pg, "sendToClient", { clientId: clientIdOf(pg.hub.uids.conns("empty-b")[0]!.data), data: "" })).body.result).toEqual({ reached: 1, offline: [] });
    expect(await b.next()).toBe("");
    expect(metricValue(await metrics(pg), 'pushgate_drops_total{reason="backpressure"}')).toBe(before);
  });

  test("a subprotocol the client offers is not claimed by the seed protocol", async () => {
    const raw = await RawWs.open(pg.port, "/", "Sec-WebSocket-Protocol: some.other.v9\r\n");
    expect(raw.responseHead).not.toContain("some.other.v9");
    raw.sendText("subproto");
    expect((await raw.waitFrame((f) => f.opcode === 1)).payload.toString()).toBe("login success, your uid is subproto");
    raw.end();
  });
});

describe("reserved uid", () => {
  test('"all" cannot log in (it would be unreachable: all:… is broadcast)', async () => {
    using c = await TestClient.connect(pg);
    c.send("all");
    expect(await c.closed).toEqual({ code: 1008, reason: 'E_INVALID_UID: uid "all" is reserved for broadcast' });
    const r = await api(pg, "sendToUid", { uid: "all", data: "x" });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("E_INVALID_UID");
  });
});

// pushgate.v1 end to end: negotiation, welcome, send/reply, push envelopes, errors, abuse.
import { afterAll, describe, expect, test } from "bun:test";
import { TestClient, api, startTestServer } from "../helpers.ts";
import { JsonClient } from "../json-client.ts";

/** Opens a pushgate.v1 socket and authenticates; resolves with the welcome frame. */
async function login(pg: { port: number }, auth: Record<string, unknown>) {
  const c = await JsonClient.connect(pg);
  c.send({ type: "auth", ...auth });
  return { c, welcome: await c.next("welcome") };
}

const pg = startTestServer({ maxBadFrames: 4 });
afterAll(() => pg.shutdown());

describe("pushgate.v1", () => {
  test("the subprotocol is negotiated; welcome names clientId, uid and stream positions", async () => {
    const { c, welcome } = await login(pg, { uid: "w1" });
    using _ = c;
    expect(c.ws.protocol).toBe("pushgate.v1");
    expect(welcome.uid).toBe("w1");
    expect(welcome.clientId).toMatch(/^[0-9a-f]{20}$/);
    expect(welcome.streams.map((s: any) => s.stream)).toEqual(["uid:w1", "all"]);
    for (const s of welcome.streams) {
      expect(typeof s.epoch).toBe("string");
      expect(Number.isInteger(s.offset)).toBe(true);
    }
    expect(welcome.exp).toBeUndefined();
    expect((await api(pg, "getUidByClientId", { clientId: welcome.clientId })).body.result).toBe("w1");
  });

  test("the same push reaches seed sockets raw and JSON sockets in the envelope", async () => {
    const { c: j, welcome } = await login(pg, { uid: "mix" });
    using _ = j;
    using s = await TestClient.login(pg, "mix");
    const before = welcome.streams[0].offset;
    expect((await api(pg, "sendToUid", { uid: "mix", data: { n: 1 } })).body.result).toEqual({ reached: 2, offline: [] });
    expect((await api(pg, "sendToUid", { uid: "mix", data: "plain" })).body.result.reached).toBe(2);
    expect(await s.next()).toBe('{"n":1}');
    expect(await s.next()).toBe("plain");
    const p1 = await j.next("push");
    const p2 = await j.next("push");
    expect(p1).toMatchObject({ stream: "uid:mix", epoch: welcome.streams[0].epoch, offset: before + 1, data: { n: 1 } });
    expect(p2).toMatchObject({ stream: "uid:mix", offset: before + 2, data: "plain" });
    expect(Math.abs(p1.ts - Date.now())).toBeLessThan(5000);
  });

  test("send → reply with delivered; offline → E_OFFLINE; group needs membership; all", async () => {
    const { c: a } = await login(pg, { uid: "sa" });
    const { c: b } = await login(pg, { uid: "sb" });
    using _a = a;
    using _b = b;
    a.send({ type: "send", id: 1, to: "uid:sb", data: { hi: true } });
    expect(await a.next("reply")).toEqual({ type: "reply", id: 1, delivered: 1 });
    expect(await b.next("push")).toMatchObject({ stream: "uid:sb", data: { hi: true } });
    a.send({ type: "send", id: "x2", to: "uid:nobody", data: 1 });
    expect(await a.next("reply")).toMatchObject({ id: "x2", error: { code: "E_OFFLINE" } });
    a.send({ type: "send", id: 3, to: "group:g-json", data: 1 });
    expect(await a.next("reply")).toMatchObject({ id: 3, error: { code: "E_FORBIDDEN" } });
    await api(pg, "joinGroup", { uid: "sa", group: "g-json" });
    a.send({ type: "send", id: 4, to: "group:g-json", data: "grp" });
    expect(await a.next("push")).toMatchObject({ stream: "group:g-json", offset: 1, data: "grp" });
    expect(await a.next("reply")).toEqual({ type: "reply", id: 4, delivered: 1 });
    a.send({ type: "send", id: 5, to: "all", data: "everyone" });
    expect(await a.next("push")).toMatchObject({ stream: "all", data: "everyone" });
    expect((await a.next("reply")).delivered).toBeGreaterThanOrEqual(2);
    expect(await b.next("push")).toMatchObject({ stream: "all", data: "everyone" });
  });

  test("sendToClient pushes carry no stream", async () => {
    const { c, welcome } = await login(pg, { uid: "direct" });
    using _ = c;
    await api(pg, "sendToClient", { clientId: welcome.clientId, data: [1, 2] });
    const p = await c.next("push");
    expect(p.data).toEqual([1, 2]);
    expect(p.stream).toBeUndefined();
    expect(p.offset).toBeUndefined();
  });

  test("ping → pong with the id", async () => {
    using c = await JsonClient.connect(pg);
    c.send({ type: "ping", id: 9 });
    expect(await c.next("pong")).toEqual({ type: "pong", id: 9 });
  });

  test("garbage gets error frames; too many close 1008; the server keeps serving", async () => {
    using c = await JsonClient.connect(pg);
    c.send("not json");
    expect(await c.next("error")).toMatchObject({ code: "E_BAD_FRAME", message: "frame is not valid JSON" });
    c.send("[1,2]");
    expect((await c.next("error")).message).toBe("frame must be a JSON object");
    c.send({ type: "send", id: 1, to: "all", data: 1 });
    expect(await c.next("error")).toMatchObject({ code: "E_BAD_FRAME", message: "the first frame must be auth", id: 1 });
    c.send({ type: 42 });
    expect(await c.closed).toEqual({ code: 1008, reason: "E_BAD_FRAME: too many bad frames" });
    const { c: ok } = await login(pg, { uid: "after-garbage" });
    ok.close();
  });

  test("unknown types and bad send frames after login are errors with the id", async () => {
    const { c } = await login(pg, { uid: "bad-send" });
    using _ = c;
    c.send({ type: "dance", id: "d" });
    expect(await c.next("error")).toMatchObject({ code: "E_BAD_FRAME", id: "d" });
    c.send({ type: "send", id: 2, to: "nowhere", data: 1 });
    expect(await c.next("error")).toMatchObject({ code: "E_BAD_FRAME", message: "to must be uid:<uid>, group:<name> or all", id: 2 });
    c.send({ type: "send", id: 3, to: "uid:x" });
    expect((await c.next("error")).message).toBe("send needs `data`");
  });

  test("auth without a uid closes 1008; a bad recover map closes 1008", async () => {
    using c = await JsonClient.connect(pg);
    c.send({ type: "auth" });
    expect(await c.closed).toEqual({ code: 1008, reason: "E_AUTH_FAILED: auth needs a string `uid`" });
    using d = await JsonClient.connect(pg);
    d.send({ type: "auth", uid: "r", recover: { "uid:r": { epoch: 1, offset: -1 } } });
    const closed = await d.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toStartWith("E_BAD_FRAME: recover[");
  });

  test("allowClientSend off → E_FORBIDDEN reply", async () => {
    await using locked = startTestServer({ allowClientSend: false });
    const { c } = await login(locked, { uid: "l" });
    using _ = c;
    c.send({ type: "send", id: 1, to: "uid:l", data: 1 });
    expect(await c.next("reply")).toMatchObject({ id: 1, error: { code: "E_FORBIDDEN" } });
  });
});

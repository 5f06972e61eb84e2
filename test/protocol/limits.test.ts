// Bounded cost of pushgate.v1 input (issue 9): --max-json-depth before any parse or stringify,
// every `send` answered exactly once even when the server faults, --max-recover-streams.
import { afterAll, describe, expect, test } from "bun:test";
import { TestClient, metricValue, metrics, startTestServer } from "../helpers.ts";
import { JsonClient } from "../json-client.ts";

async function login(pg: { port: number }, uid: string, extra: Record<string, unknown> = {}) {
  const c = await JsonClient.connect(pg);
  c.send({ type: "auth", uid, ...extra });
  await c.next("welcome");
  return c;
}

const nest = (n: number) => "[".repeat(n) + "]".repeat(n);
/** The frame: a send under 64 KiB whose data is ~32,000 nested arrays. */
const deepSend = (id: number | string, to: string, depth = 32_000) => `{"type":"send","id":${JSON.stringify(id)},"to":"${to}","data":${nest(depth)}}`;

describe("--max-json-depth (default 32)", () => {
  const pg = startTestServer({ maxBadFrames: 5 });
  afterAll(() => pg.shutdown());

  test("a 32,000-deep send is refused as E_TOO_DEEP with its id, and the socket and others carry on", async () => {
    using a = await login(pg, "deep-a");
    using b = await login(pg, "deep-b");
    using seedA = await TestClient.login(pg, "deep-seed-a");
    using seedB = await TestClient.login(pg, "deep-seed-b");
    const frame = deepSend(41, "uid:deep-b");
    expect(frame.length).toBeLessThan(64 * 1024);
    a.send(frame);
    expect(await a.next("error")).toEqual({
      type: "error", code: "E_TOO_DEEP", message: "frame nests deeper than 32 levels (--max-json-depth)", id: 41,
    });
    expect(await b.nothingWithin(100)).toBe(true);
    // The same socket still sends; an unrelated seed pair still routes.
    a.send({ type: "send", id: 42, to: "uid:deep-b", data: { ok: 1 } });
    expect(await a.next("reply")).toEqual({ type: "reply", id: 42, delivered: 1 });
    expect(await b.next("push")).toMatchObject({ stream: "uid:deep-b", data: { ok: 1 } });
    seedA.send("deep-seed-b:still here");
    expect(await seedB.next()).toBe("still here");
    const m = await metrics(pg);
    expect(metricValue(m, 'pushgate_limits_exceeded_total{limit="max_json_depth"}')).toBeGreaterThanOrEqual(1);
    expect(metricValue(m, 'pushgate_errors_total{code="E_TOO_DEEP"}')).toBeGreaterThanOrEqual(1);
  });

  test("exactly 32 levels pass; 33 are refused; a string id is carried; the target need not exist", async () => {
    using a = await login(pg, "edge-a");
    using b = await login(pg, "edge-b");
    // The frame object is level 1, so data may nest 31 deep.
    a.send(`{"type":"send","id":1,"to":"uid:edge-b","data":${nest(31)}}`);
    expect(await a.next("reply")).toEqual({ type: "reply", id: 1, delivered: 1 });
    expect((await b.next("push")).data).toEqual(JSON.parse(nest(31)));
    a.send(`{"type":"send","id":"s-2","to":"uid:nobody-at-all","data":${nest(32)}}`);
    expect(await a.next("error")).toMatchObject({ code: "E_TOO_DEEP", id: "s-2" });
    // Deep frames of any type, logged in or not, are refused the same way.
    using fresh = await JsonClient.connect(pg);
    fresh.send(`{"type":"auth","uid":"x","recover":${"{\"a\":".repeat(40)}1${"}".repeat(40)}}`);
    expect(await fresh.next("error")).toMatchObject({ code: "E_TOO_DEEP" });
  });

  test("deep frames count toward --max-bad-frames", async () => {
    using a = await login(pg, "deep-many");
    for (let i = 0; i < 4; i++) {
      a.send(deepSend(i, "uid:deep-many", 100));
      expect(await a.next("error")).toMatchObject({ code: "E_TOO_DEEP", id: i });
    }
    a.send(deepSend(4, "uid:deep-many", 100));
    expect(await a.closedWithin()).toEqual({ code: 1008, reason: "E_BAD_FRAME: too many bad frames" });
  });
});

describe("every send gets exactly one answer, even when the server faults", () => {
  // Raised far past the default, the depth limit no longer protects JSON.stringify: 200,000
  // levels parse but overflow the stack when stringified — a real fault inside the server.
  const pg = startTestServer({ maxJsonDepth: 1_000_000, maxPayload: 1024 * 1024 });
  afterAll(() => pg.shutdown());

  test("a send that throws inside the server is answered E_INTERNAL for its id, once", async () => {
    using a = await login(pg, "fault-a");
    using b = await login(pg, "fault-b");
    a.send(deepSend(7, "uid:fault-b", 200_000));
    expect(await a.next("reply", 10_000)).toEqual({
      type: "reply", id: 7, error: { code: "E_INTERNAL", message: "internal error: the send was not delivered" },
    });
    expect(await a.nothingWithin(200)).toBe(true);
    expect(await b.nothingWithin(50)).toBe(true);
    // The connection is fine afterwards.
    a.send({ type: "send", id: 8, to: "uid:fault-b", data: "after" });
    expect(await a.next("reply")).toEqual({ type: "reply", id: 8, delivered: 1 });
    expect(await b.next("push")).toMatchObject({ data: "after" });
    expect(metricValue(await metrics(pg), 'pushgate_errors_total{code="E_INTERNAL"}')).toBe(1);
  });
});

describe("--max-recover-streams", () => {
  const pg = startTestServer({ maxRecoverStreams: 2 });
  afterAll(() => pg.shutdown());

  test("an auth naming more streams than the limit closes 1008 and is counted", async () => {
    const pos = { epoch: "e", offset: 0 };
    using ok = await login(pg, "rec-ok", { recover: { "uid:rec-ok": pos, all: pos } });
    expect(ok.ws.readyState).toBe(1);
    using c = await JsonClient.connect(pg);
    c.send({ type: "auth", uid: "rec-many", recover: { "uid:rec-many": pos, all: pos, "group:g": pos } });
    expect(await c.closedWithin()).toEqual({ code: 1008, reason: "E_BAD_FRAME: recover names more than 2 streams (--max-recover-streams)" });
    expect(metricValue(await metrics(pg), 'pushgate_limits_exceeded_total{limit="max_recover_streams"}')).toBe(1);
  });
});

describe("--max-recover-messages", () => {
  const pg = startTestServer({ maxRecoverMessages: 3 });
  afterAll(() => pg.shutdown());

  test("a stream whose replay would pass the login's budget replays nothing and says limit; the others recover", async () => {
    const first = await login(pg, "rec-cap");
    const welcome = first.received.find((f) => f.type === "welcome")!;
    const positions = Object.fromEntries(welcome.streams.map((s: any) => [s.stream, { epoch: s.epoch, offset: s.offset }]));
    first.close();
    await first.closed;
    const { api } = await import("../helpers.ts");
    for (let i = 0; i < 5; i++) await api(pg, "sendToUid", { uid: "rec-cap", data: i });
    await api(pg, "sendToAll", { data: "one for all" });
    using again = await JsonClient.connect(pg);
    again.send({ type: "auth", uid: "rec-cap", recover: positions });
    await again.next("welcome");
    expect(await again.next("push")).toMatchObject({ stream: "all", data: "one for all" });
    const rec = await again.next("recovery");
    expect(rec.complete).toBe(false);
    expect(rec.streams).toEqual([
      expect.objectContaining({ stream: "uid:rec-cap", recovered: false, reason: "limit", replayed: 0, offset: positions["uid:rec-cap"].offset + 5 }),
      expect.objectContaining({ stream: "all", recovered: true, replayed: 1 }),
    ]);
    const m = await metrics(pg);
    expect(metricValue(m, 'pushgate_recoveries_total{outcome="limit"}')).toBe(1);
    expect(metricValue(m, 'pushgate_limits_exceeded_total{limit="max_recover_messages"}')).toBe(1);
  });
});

describe("--rate-frame-bytes", () => {
  const pg = startTestServer({ rateLimit: 1, rateBurst: 20, rateFrameBytes: 1024 });
  afterAll(() => pg.shutdown());

  test("a frame costs a token per started 1 KiB, so a burst of large frames stops sooner than one of small ones", async () => {
    using a = await TestClient.login(pg, "big-frames");
    const big = "x".repeat(8 * 1024); // 8 tokens each
    for (let i = 0; i < 3; i++) a.send(`big-frames:${i}${big}`);
    expect((await a.next()).slice(0, 1)).toBe("0");
    expect((await a.next()).slice(0, 1)).toBe("1");
    expect(JSON.parse(await a.next())).toMatchObject({ type: "error", code: "E_RATE_LIMITED" });
    // Small frames still pass on what is left of the bucket (20 - 16 - the login's 1 = 3).
    a.send("big-frames:small");
    expect(await a.next()).toBe("small");
  });
});

// Every inbound limit and bad input: a clear close code or error, a metric, no harm to others.
import { afterAll, describe, expect, test } from "bun:test";
import { TestClient, api, metricValue, metrics, startTestServer, waitFor } from "../helpers.ts";
import { RawWs, encodeFrame } from "../raw-ws.ts";

const pg = startTestServer({ maxPayload: 1024, rateLimit: 50, rateBurst: 20, rateLimitCloseAfter: 30 });
afterAll(() => pg.shutdown());

async function closesWith(code: number): Promise<number> {
  return metricValue(await metrics(pg), `pushgate_closes_total{code="${code}"}`);
}

describe("inbound frames", () => {
  test("a frame over maxPayload closes 1009 and is counted; others unaffected", async () => {
    using other = await TestClient.login(pg, "bystander");
    using big = await TestClient.login(pg, "big");
    const before = await closesWith(1009);
    big.send("bystander:" + "x".repeat(1100));
    expect((await big.closed).code).toBe(1009);
    await waitFor(async () => (await closesWith(1009)) === before + 1, 2000, "1009 counted");
    expect(await other.nothingWithin()).toBe(true);
    using sender = await TestClient.login(pg, "sender");
    sender.send("bystander:" + "y".repeat(900));
    expect(await other.next()).toBe("y".repeat(900));
  });

  test("a binary frame closes 1003 with E_BINARY_UNSUPPORTED", async () => {
    using c = await TestClient.login(pg, "bin");
    c.send(new Uint8Array([1, 2, 3]));
    expect(await c.closed).toEqual({ code: 1003, reason: "E_BINARY_UNSUPPORTED: this protocol takes text frames only" });
  });

  test("invalid UTF-8 in a text frame closes 1007", async () => {
    const raw = await RawWs.open(pg.port);
    raw.write(encodeFrame(0x1, Buffer.from([0x61, 0xff, 0xfe, 0x62])));
    expect((await raw.closeFrame()).code).toBe(1007);
    raw.end();
  });

  test("an unmasked client frame is refused with a protocol close", async () => {
    const raw = await RawWs.open(pg.port);
    raw.write(encodeFrame(0x1, Buffer.from("u1"), false));
    expect((await raw.closeFrame()).code).toBe(1002);
    raw.end();
    await raw.ended;
    expect(raw.texts()).not.toContain("login success, your uid is u1");
  });

  test("truncated frames and abrupt disconnects leave no ghost connection", async () => {
    const before = (await api(pg, "getAllClientCount")).body.result;
    for (let i = 0; i < 5; i++) {
      const raw = await RawWs.open(pg.port);
      raw.sendText(`trunc${i}`);
      await raw.waitFrame((f) => f.opcode === 1);
      const full = encodeFrame(0x1, Buffer.from(`trunc${i}:` + "z".repeat(200)));
      raw.write(full.subarray(0, 20)); // header promises 200+ bytes; 20 arrive
      raw.end();
      await raw.ended;
    }
    await waitFor(async () => (await api(pg, "getAllClientCount")).body.result === before, 2000, "ghosts gone");
    for (let i = 0; i < 5; i++) expect((await api(pg, "isUidOnline", { uid: `trunc${i}` })).body.result).toBe(false);
  });

  test("HTTP garbage on the port gets an error and the server keeps serving", async () => {
    const got = Promise.withResolvers<string>();
    let text = "";
    const s = await Bun.connect({
      hostname: "127.0.0.1", port: pg.port,
      socket: { data: (_s, d) => { text += d.toString(); }, close: () => got.resolve(text), error: () => got.resolve(text) },
    });
    s.write("\x00\x01\x02 NOT HTTP AT ALL\r\n\r\n");
    const answer = await Promise.race([got.promise, Bun.sleep(2000).then(() => text)]);
    s.end();
    expect(answer === "" || answer.startsWith("HTTP/1.1 4")).toBe(true);
    using c = await TestClient.login(pg, "after-garbage");
    expect(c.received).toEqual(["login success, your uid is after-garbage"]);
  });
});

describe("rate limit", () => {
  test("over the bucket: one E_RATE_LIMITED frame, frames dropped, then close 1008", async () => {
    using flood = await TestClient.login(pg, "flood");
    using target = await TestClient.login(pg, "flood-target");
    const dropsBefore = metricValue(await metrics(pg), 'pushgate_drops_total{reason="rate_limited"}');
    for (let i = 0; i < 100; i++) flood.send(`flood-target:${i}`);
    const closed = await flood.closed;
    expect(closed).toEqual({ code: 1008, reason: "E_RATE_LIMITED: too many frames over the rate limit" });
    const errors = flood.received.filter((m) => m.includes("E_RATE_LIMITED"));
    expect(errors.length).toBe(1);
    await Bun.sleep(50);
    // burst of 19 (one token went to login) got through, the rest were dropped
    const delivered = target.received.length - 1;
    expect(delivered).toBeGreaterThanOrEqual(19);
    expect(delivered).toBeLessThan(30);
    const drops = metricValue(await metrics(pg), 'pushgate_drops_total{reason="rate_limited"}') - dropsBefore;
    expect(drops).toBe(30);
  });

  test("a client within the rate is never limited", async () => {
    using steady = await TestClient.login(pg, "steady");
    for (let i = 0; i < 40; i++) {
      steady.send(`steady:${i}`);
      expect(await steady.next()).toBe(String(i));
      await Bun.sleep(25); // 40/s < 50/s
    }
  });
});

describe("connection limits", () => {
  test("maxConnections refuses the upgrade with 503 JSON", async () => {
    await using small = startTestServer({ maxConnections: 2, maxConnectionsPerUid: 2 });
    using a = await TestClient.connect(small);
    using _b = await TestClient.connect(small);
    const res = await fetch(`${small.url}/`, {
      headers: { upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" },
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as any).error.code).toBe("E_TOO_MANY_CONNECTIONS");
    const m = await metrics(small);
    expect(metricValue(m, 'pushgate_upgrades_rejected_total{reason="max_connections"}')).toBe(1);
    a.close();
    await a.closed;
    await waitFor(() => small.hub.clients.size === 1);
    using c = await TestClient.login(small, "room-again");
    expect(c.received.length).toBe(1);
  });
});

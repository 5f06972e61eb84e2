// Connection webhooks against a real receiver (Bun.serve): connection.open at login and
// connection.close with its code, batched, in order, signed with HMAC-SHA256 over
// "<timestamp>.<body>" (verified here with the code docs/hooks.md gives); a receiver answering
// 500 gets the batch again (same event ids) until it accepts; a full queue drops and counts.
import { afterEach, expect, test } from "bun:test";
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Pushgate } from "../../src/server.ts";
import { TestClient, metricValue, metrics, startTestServer } from "../helpers.ts";

const SECRET = "test-webhook-secret-123";
const started: Array<{ shutdown(): Promise<void> } | { stop(force?: boolean): unknown }> = [];
afterEach(async () => {
  for (const s of started.splice(0)) "shutdown" in s ? await s.shutdown() : s.stop(true);
});

/** The verification docs/hooks.md shows (TypeScript): timestamp within 5 min, HMAC compared in constant time. */
function verify(body: string, ts: string | null, sig: string | null, secret: string): boolean {
  if (ts === null || sig === null || Math.abs(Date.now() - Number(ts)) > 300_000) return false;
  const want = Buffer.from(`sha256=${createHmac("sha256", secret).update(`${ts}.${body}`).digest("hex")}`);
  const got = Buffer.from(sig);
  return got.length === want.length && timingSafeEqual(got, want);
}

interface Received { ok: boolean; events: Array<{ id: string; name: string; uid?: string; code?: number; clientId?: string }> }

function receiver(fail = 0) {
  const posts: Received[] = [];
  let failures = fail;
  const server = Bun.serve({
    port: 0, hostname: "127.0.0.1",
    async fetch(req) {
      const body = await req.text();
      const ok = verify(body, req.headers.get("x-pushgate-timestamp"), req.headers.get("x-pushgate-signature"), SECRET);
      posts.push({ ok, events: (JSON.parse(body) as { events: Received["events"] }).events });
      if (failures > 0) { failures--; return new Response("try later", { status: 500 }); }
      return new Response("ok");
    },
  });
  started.push(server);
  return { url: `http://127.0.0.1:${server.port}/events`, posts };
}

function node(url: string, extra: Record<string, unknown> = {}): Pushgate {
  const pg = startTestServer({ webhookUrl: url, webhookSecret: SECRET, webhookBatchMs: 20, webhookEvents: "connection.open,connection.close", ...extra });
  started.push(pg);
  return pg;
}

/** pushgate_webhook_events_total{outcome="sent"} once it reaches `want` (counted after pushgate read the receiver's answer, which comes after the receiver recorded the events), or its value after 2 s. */
async function sentSoon(pg: Pushgate, want: number): Promise<number> {
  const deadline = performance.now() + 2000;
  for (;;) {
    const n = metricValue(await metrics(pg), 'pushgate_webhook_events_total{outcome="sent"}');
    if (n === want || performance.now() > deadline) return n;
    await Bun.sleep(10);
  }
}

const until = async (check: () => boolean, ms = 5000) => {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error("timed out");
    await Bun.sleep(10);
  }
};

test("connection.open and connection.close arrive signed, batched, in order", async () => {
  const r = receiver();
  const pg = node(r.url);
  const a = await TestClient.login(pg, "wa");
  const b = await TestClient.login(pg, "wb");
  a.ws.close(1000);
  await a.closed;
  b.ws.close(4000, "bye");
  await b.closed;
  await until(() => r.posts.flatMap((p) => p.events).length === 4);
  expect(r.posts.every((p) => p.ok)).toBe(true);
  expect(r.posts.length).toBeLessThan(4); // batched
  const events = r.posts.flatMap((p) => p.events);
  expect(events.map((e) => [e.name, e.uid])).toEqual([["connection.open", "wa"], ["connection.open", "wb"], ["connection.close", "wa"], ["connection.close", "wb"]]);
  expect(events[3]!.code).toBe(4000);
  expect(new Set(events.map((e) => e.id)).size).toBe(4);
  expect(await sentSoon(pg, 4)).toBe(4);
  expect(metricValue(await metrics(pg), 'pushgate_hook_duration_seconds_count{kind="webhook"}')).toBeGreaterThanOrEqual(1);
});

test("a receiver that answers 500 gets the same batch again until it accepts it", async () => {
  const r = receiver(2);
  const pg = node(r.url);
  using c = await TestClient.login(pg, "retry");
  await until(() => r.posts.length === 3, 10_000);
  expect(r.posts.map((p) => p.events.map((e) => e.id))).toEqual([r.posts[0]!.events.map((e) => e.id), r.posts[0]!.events.map((e) => e.id), r.posts[0]!.events.map((e) => e.id)]);
  const m = await metrics(pg);
  expect(metricValue(m, 'pushgate_webhook_posts_total{status="500"}')).toBe(2);
  expect(await sentSoon(pg, 1)).toBe(1);
  expect(metricValue(m, "pushgate_webhook_retries_total")).toBe(2);
  c.close();
});

test("past --webhook-queue events are dropped and counted; past --webhook-retry a batch is dropped and counted", async () => {
  const pg = node("http://127.0.0.1:9/events", { webhookQueue: 1, webhookRetryMs: 300 });
  using a = await TestClient.login(pg, "q1");
  using b = await TestClient.login(pg, "q2");
  await Bun.sleep(800);
  const m = await metrics(pg);
  expect(metricValue(m, 'pushgate_webhook_events_total{outcome="dropped_queue_full"}')).toBeGreaterThanOrEqual(1);
  expect(metricValue(m, 'pushgate_webhook_events_total{outcome="dropped_retries_exhausted"}')).toBeGreaterThanOrEqual(1);
  a.close();
  b.close();
});

test("--webhook-url needs a --webhook-secret of at least 16 characters", () => {
  expect(() => startTestServer({ webhookUrl: "http://127.0.0.1:9/" })).toThrow("--webhook-url needs --webhook-secret");
  expect(() => startTestServer({ webhookUrl: "http://127.0.0.1:9/", webhookSecret: "short" })).toThrow("at least 16 characters");
});

test("user.online at a uid's first connection, user.offline after the debounce once its last is gone; a reload is neither", async () => {
  const r = receiver();
  const pg = node(r.url, { webhookEvents: "user.online,user.offline", webhookDebounceMs: 200 });
  const names = () => r.posts.flatMap((p) => p.events).map((e) => `${e.name} ${e.uid}`);
  const a = await TestClient.login(pg, "pres");
  const b = await TestClient.login(pg, "pres");
  await until(() => names().length === 1);
  a.ws.close();
  await a.closed;
  b.ws.close();
  await b.closed;
  // A reload: back within the debounce.
  const c = await TestClient.login(pg, "pres");
  await Bun.sleep(400);
  expect(names()).toEqual(["user.online pres"]);
  c.ws.close();
  await c.closed;
  await until(() => names().length === 2);
  expect(names()).toEqual(["user.online pres", "user.offline pres"]);
  expect(r.posts.every((p) => p.ok)).toBe(true);
});

test("--webhook-events names only known events", () => {
  expect(() => startTestServer({ webhookUrl: "http://127.0.0.1:9/", webhookSecret: SECRET, webhookEvents: "user.online,user.exploded" })).toThrow('unknown event "user.exploded"');
});

test("message.undelivered: a client push to a uid with no connection (seed), with its sender and data; none when it was delivered", async () => {
  const r = receiver();
  const pg = node(r.url, { webhookEvents: "message.undelivered" });
  using here = await TestClient.login(pg, "here");
  using s = await TestClient.login(pg, "from1");
  s.send("gone:plain text");
  s.send("here:hi");
  expect(await here.next()).toBe("hi");
  await until(() => r.posts.flatMap((p) => p.events).length === 1);
  const [e] = r.posts.flatMap((p) => p.events) as unknown as Array<{ name: string; to: string; data: unknown; from: { uid: string; clientId: string } }>;
  expect(e!.name).toBe("message.undelivered");
  expect(e!.to).toBe("gone");
  expect(e!.data).toBe("plain text");
  expect(e!.from.uid).toBe("from1");
  expect(e!.from.clientId).toMatch(/^[0-9a-f]{20}$/);
  // Longer than --webhook-max-data: the event says so instead of carrying it.
  s.send(`gone:${"x".repeat(5000)}`);
  await until(() => r.posts.flatMap((p) => p.events).length === 2);
  const big = r.posts.flatMap((p) => p.events)[1] as unknown as { data: unknown; dataTruncated: boolean; dataBytes: number };
  expect(big).toMatchObject({ data: null, dataTruncated: true, dataBytes: 5000 });
  expect(r.posts.every((p) => p.ok)).toBe(true);
});

test("a stop while a POST is in flight waits for it, then sends the drain's events (bounded)", async () => {
  const events: string[] = [];
  let first = true;
  const server = Bun.serve({
    port: 0, hostname: "127.0.0.1",
    async fetch(req) {
      const body = (await req.json()) as { events: Array<{ name: string }> };
      if (first) {
        first = false;
        await Bun.sleep(400); // the first POST is still in flight when the stop begins
      }
      events.push(...body.events.map((e) => e.name));
      return new Response("ok");
    },
  });
  started.push(server);
  const pg = startTestServer({ webhookUrl: `http://127.0.0.1:${server.port}/`, webhookSecret: SECRET, webhookBatchMs: 10 });
  await TestClient.login(pg, "stopper");
  await Bun.sleep(150);
  await pg.shutdown();
  expect(events).toEqual(["user.online", "connection.open", "connection.close", "user.offline"]);
});

// Cluster edge cases found in review: no duplicates after a reconnect, a stream whose meta key
// was lost keeps working, observers on the bus don't slow counted pushes, concurrent retries
// with one idempotencyKey deliver once, history keys' TTLs are refreshed every ttl/2, not per push.
import { beforeAll, expect, test } from "bun:test";
import { createPushgate, type Pushgate } from "../../src/server.ts";
import { TestClient, api, waitFor } from "../helpers.ts";
import { JsonClient } from "../json-client.ts";
import { inProcessCluster } from "./nodes.ts";
import { type RedisServer, describeRedis } from "../redis-server.ts";

describeRedis("cluster hardening", () => {
  const cluster = inProcessCluster(["a", "b"], { clusterTimeoutMs: 1500 });
  let redis: RedisServer, a: Pushgate, b: Pushgate;
  beforeAll(() => void ({ redis, nodes: [a, b] } = cluster));

  test("after Redis restarts, every push and remote call arrives exactly once", async () => {
    using onB = await TestClient.login(b, "dup-b");
    using onA = await TestClient.login(a, "dup-a");
    for (let round = 0; round < 2; round++) {
      await redis.kill();
      await redis.restart();
      await waitFor(async () => (await api(a, "sendToUid", { uid: "nobody", data: "probe" })).body.result.error === undefined, 10_000, "cluster back");
      await waitFor(async () => (await api(a, "isUidOnline", { uid: "dup-b" })).body.result === true, 10_000, "presence back");
      expect((await api(a, "sendToUid", { uid: "dup-b", data: `uid-${round}` })).body.result).toEqual({ reached: 1, offline: [] });
      expect(await onB.next(3000)).toBe(`uid-${round}`);
      const id = (await api(b, "getClientIdByUid", { uid: "dup-b" })).body.result[0];
      expect((await api(a, "sendToClient", { clientId: id, data: `direct-${round}` })).body.result.reached).toBe(1);
      expect(await onB.next(3000)).toBe(`direct-${round}`);
      expect((await api(a, "sendToAll", { data: `all-${round}` })).body.result.reached).toBe(2);
      expect(await onB.next(3000)).toBe(`all-${round}`);
      expect(await onA.next(3000)).toBe(`all-${round}`);
      expect(await onB.nothingWithin(300)).toBe(true);
      expect(await onA.nothingWithin(50)).toBe(true);
    }
  }, 60_000);

  test("a stream whose meta key was lost starts a new epoch instead of failing", async () => {
    using onB = await TestClient.login(b, "meta-b");
    expect((await api(a, "sendToUid", { uid: "meta-b", data: "one" })).body.result).toEqual({ reached: 1, offline: [] });
    expect(await onB.next()).toBe("one");
    await redis.command("DEL", ["pushgate:m:uid:meta-b"]);
    expect((await api(a, "sendToUid", { uid: "meta-b", data: "two" })).body.result).toEqual({ reached: 1, offline: [] });
    expect(await onB.next()).toBe("two");
  });

  test("a pattern subscriber on the bus does not make counted pushes wait", async () => {
    using onB = await TestClient.login(b, "watched");
    const monitor = new Bun.RedisClient(redis.url);
    await monitor.connect();
    await monitor.send("PSUBSCRIBE", ["pushgate:*"]).catch(() => {});
    try {
      const t0 = performance.now();
      expect((await api(a, "sendToUid", { uid: "watched", data: "x" })).body.result.reached).toBe(1);
      expect(performance.now() - t0).toBeLessThan(1000); // the cluster timeout is 1.5 s
      expect(await onB.next()).toBe("x");
    } finally {
      monitor.close();
    }
  });

  test("concurrent retries with one idempotencyKey deliver once", async () => {
    using onB = await TestClient.login(b, "idem-b");
    const call = { uid: "idem-b", data: "once", idempotencyKey: "k-concurrent" };
    const [r1, r2] = await Promise.all([api(a, "sendToUid", call), api(a, "sendToUid", call)]);
    expect(r1.body).toEqual(r2.body);
    expect(await onB.next()).toBe("once");
    expect(await onB.nothingWithin(300)).toBe(true);
  });

  test("history keys get their TTL refreshed at most every ttl/2, and no message expires before its TTL", async () => {
    // 2 s history TTL: a refresh sets the history key to 4 s and the meta key to 24 s.
    await using short = await createPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", redisUrl: redis.url, historyTtlMs: 2000 });
    const h = "pushgate:h:uid:ttl-u";
    const m = "pushgate:m:uid:ttl-u";
    const pttl = async (k: string) => Number(await redis.command("PTTL", [k]));
    // History is kept for streams a pushgate.v1 reader observed: one logs in (and stays).
    using reader = await JsonClient.connect(short);
    reader.send({ type: "auth", uid: "ttl-u" });
    await reader.next("welcome");
    await api(short, "sendToUid", { uid: "ttl-u", data: "1" });
    const first = await pttl(h);
    expect(first).toBeGreaterThan(3500);
    expect(first).toBeLessThanOrEqual(4000);
    expect(await pttl(m)).toBeGreaterThan(23_000);
    await Bun.sleep(300);
    await api(short, "sendToUid", { uid: "ttl-u", data: "2" }); // within ttl/2: no refresh
    expect(await pttl(h)).toBeLessThan(first - 200);
    await Bun.sleep(900); // now > ttl/2 after the refresh
    await api(short, "sendToUid", { uid: "ttl-u", data: "3" });
    expect(await pttl(h)).toBeGreaterThan(3500);
    // The last message outlives its own TTL in Redis: it is still there 2 s after its push.
    await Bun.sleep(2000);
    expect(Number(await redis.command("XLEN", [h]))).toBe(3);
  }, 20_000);
});

// State is per node instance, never per module: two nodes in one process, each answering an
// idempotencyKey the other is still running, deliver each their own push (the in-flight map
// used to be module-level, so the second joined the first's answer and delivered nothing).
// And a fresh node loads its push script once, however many pushes are in flight before the
// first load returns (it used to send one SCRIPT LOAD per push).
import { beforeAll, expect, test } from "bun:test";
import { type Pushgate, createPushgate } from "../../src/server.ts";
import { TestClient, api } from "../helpers.ts";
import { inProcessCluster } from "./nodes.ts";
import { type RedisServer, describeRedis } from "../redis-server.ts";

describeRedis("per-instance state (two nodes in one process)", () => {
  const cluster = inProcessCluster(["a", "b"]);
  let redis: RedisServer, a: Pushgate, b: Pushgate;
  beforeAll(() => void ({ redis, nodes: [a, b] } = cluster));

  test("the same idempotencyKey in flight on two nodes of one process: each node delivers its own push", async () => {
    using onA = await TestClient.login(a, "pi-a");
    using onB = await TestClient.login(b, "pi-b");
    const [ra, rb] = await Promise.all([
      api(a, "sendToUid", { uid: "pi-a", data: "for a", idempotencyKey: "same-key" }),
      api(b, "sendToUid", { uid: "pi-b", data: "for b", idempotencyKey: "same-key" }),
    ]);
    expect(ra.body).toEqual({ result: { reached: 1, offline: [] } });
    expect(rb.body).toEqual({ result: { reached: 1, offline: [] } });
    expect(await onA.next()).toBe("for a");
    expect(await onB.next()).toBe("for b");
  });

  test("a burst of pushes from a fresh node loads the push script once", async () => {
    const before = Number(/cmdstat_script\|load:calls=(\d+)|cmdstat_script:calls=(\d+)/.exec(String(await redis.command("INFO", ["commandstats"])))?.slice(1).find(Boolean) ?? 0);
    await using fresh = await createPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", redisUrl: redis.url });
    using c = await TestClient.login(fresh, "burst");
    await redis.command("SCRIPT", ["FLUSH"]);
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => api(fresh, "sendToUid", { uid: "burst", data: `m${i}` })));
    for (const r of answers) expect(r.body.result.reached).toBe(1);
    const stats = String(await redis.command("INFO", ["commandstats"]));
    const after = Number(/cmdstat_script\|load:calls=(\d+)|cmdstat_script:calls=(\d+)/.exec(stats)?.slice(1).find(Boolean) ?? 0);
    // One load for the push script after the flush (the SCRIPT FLUSH itself counts once), not one per push.
    expect(after - before).toBeLessThanOrEqual(4);
    const got = new Set<string>();
    for (let i = 0; i < 100; i++) got.add(await c.next());
    expect(got.size).toBe(100);
  });
});

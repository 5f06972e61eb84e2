// Redis dies while a pushgate.v1 login is reading stream positions from it: the login must fall
// back to the node's own history and the node must keep running, not crash on a failed command.
import { beforeAll, expect, test } from "bun:test";
import { JsonClient } from "../json-client.ts";
import { type RedisServer, describeRedis } from "../redis-server.ts";
import { type Node, clusterFixture, subscribed, uidChannel } from "./nodes.ts";

const T = 30_000;

describeRedis("cluster: Redis dies during a login", () => {
  let redis: RedisServer, A: Node;
  let redisPid = 0;
  const cluster = clusterFixture(["A"], [], {
    async redisStarted(r) {
      // The redis-server this file started (RedisServer keeps its process private).
      redisPid = Number(/process_id:(\d+)/.exec(String(await r.command("INFO", ["server"])))?.[1]);
    },
    beforeStop() {
      try {
        if (redisPid && redis?.running) process.kill(redisPid, "SIGCONT");
      } catch {}
    },
  });
  beforeAll(() => void ({ redis, nodes: [A] } = cluster));

  test("Redis crashes while a login's reads are in flight: the login falls back, the node lives", async () => {
    expect(redisPid).toBeGreaterThan(0);
    // Another connection of the uid holds its channel, so the login goes straight to reading Redis.
    await cluster.login(A, "held");
    await subscribed(redis, uidChannel("held"), 1);

    process.kill(redisPid, "SIGSTOP"); // Redis hangs: the login's commands stay in flight …
    const j = cluster.track(await JsonClient.connect(A));
    j.send({ type: "auth", uid: "held" });
    expect(await j.nothingWithin(300)).toBe(true); // (waiting for Redis)
    await redis.kill(); // … and fail when it dies (SIGKILL ends a stopped process too)

    // The login completes from the node's own history.
    const welcome = await j.next("welcome", 5000);
    expect(welcome.uid).toBe("held");
    await Bun.sleep(300);
    expect({ running: A.running, exitCode: A.proc.exitCode, stderr: A.stderr.slice(0, 300) })
      .toEqual({ running: true, exitCode: null, stderr: "" });
    const health = await fetch(`${A.url}/healthz`, { signal: AbortSignal.timeout(2000) });
    expect(health.status).toBe(200);

    await redis.restart();
    await A.logs.nth("redis_reconnected", 1, 10_000);
    // Positions come from Redis again.
    const { welcome: w } = await cluster.jsonLogin(A, "after");
    expect(await redis.command("HGET", ["pushgate:m:uid:after", "e"])).toBe(w.streams[0].epoch);
  }, T);
});

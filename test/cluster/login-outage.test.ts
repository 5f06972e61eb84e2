// Redis dies while a pushgate.v1 login is reading stream positions from it: the login must fall
// back to the node's own history and the node must keep running, not crash on a failed command.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { TestClient } from "../helpers.ts";
import { JsonClient } from "../json-client.ts";
import { RedisServer, describeRedis } from "../redis-server.ts";
import { type Node, killStartedNodes, startNodes, subscribed, uidChannel } from "./nodes.ts";

const T = 30_000;

describeRedis("cluster: Redis dies during a login", () => {
  let redis: RedisServer;
  let A: Node;
  let redisPid = 0;
  const clients: Array<{ close(): void }> = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    // The redis-server this file started (RedisServer keeps its process private).
    redisPid = Number(/process_id:(\d+)/.exec(String(await redis.command("INFO", ["server"])))?.[1]);
    [A] = (await startNodes(redis, ["A"])) as [Node];
  }, T);

  afterAll(async () => {
    for (const c of clients) try { c.close(); } catch {}
    try {
      if (redisPid && redis?.running) process.kill(redisPid, "SIGCONT");
    } catch {}
    await killStartedNodes();
    await redis?.stop();
  }, T);

  test("Redis crashes while a login's reads are in flight: the login falls back, the node lives", async () => {
    expect(redisPid).toBeGreaterThan(0);
    // Another connection of the uid holds its channel, so the login goes straight to reading Redis.
    const resident = await TestClient.login(A, "held");
    clients.push(resident);
    await subscribed(redis, uidChannel("held"), 1);

    process.kill(redisPid, "SIGSTOP"); // Redis hangs: the login's commands stay in flight …
    const j = await JsonClient.connect(A);
    clients.push(j);
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
    const c = await JsonClient.connect(A);
    clients.push(c);
    c.send({ type: "auth", uid: "after" });
    const w = await c.next("welcome", 5000);
    expect(await redis.command("HGET", ["pushgate:m:uid:after", "e"])).toBe(w.streams[0].epoch);
  }, T);
});

// Streams sharded over three real redis-server instances (--redis url0,url1,url2): placement by
// the jump hash, pushes crossing nodes on every shard, recovery of streams on different shards
// in one login, and one shard killed and restarted while the others carry on.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { shardOf } from "../../src/engine/redis/shard-of.ts";
import { TestClient } from "../helpers.ts";
import { JsonClient } from "../json-client.ts";
import { RedisServer, describeRedis } from "../redis-server.ts";
import { Node, killStartedNodes, numsub, uidChannel, until } from "./nodes.ts";

const N = 3;

describeRedis("cluster over 3 Redis shards", () => {
  const shards: RedisServer[] = [];
  let A: Node;
  let B: Node;
  const clients: Array<{ close(): void }> = [];
  const onShard = (stream: string) => shardOf(stream, N);
  /** A uid whose stream lives on shard `k` (u<prefix><i>, the first such i). */
  const uidOn = (k: number, prefix: string) => {
    for (let i = 0; ; i++) if (onShard(`uid:${prefix}${i}`) === k) return `${prefix}${i}`;
  };

  beforeAll(async () => {
    for (let i = 0; i < N; i++) shards.push(await RedisServer.start());
    const urls = shards.map((s) => s.url).join(",");
    [A, B] = await Promise.all([Node.start("A", urls, ["--cluster-timeout", "500ms"]), Node.start("B", urls, ["--cluster-timeout", "500ms"])]);
    // Presence lives on the first shard.
    await until(async () => {
      const live = (await shards[0]!.command("ZRANGE", ["pushgate:nodes", "0", "-1"])) as string[];
      return live.includes(A.nodeId) && live.includes(B.nodeId);
    }, "both nodes in pushgate:nodes on shard 0");
  }, 30_000);

  afterAll(async () => {
    for (const c of clients) try { c.close(); } catch {}
    await killStartedNodes();
    for (const s of shards) await s.stop();
  }, 30_000);

  const login = async (node: Node, uid: string): Promise<TestClient> => {
    const c = await TestClient.login(node, uid);
    clients.push(c);
    return c;
  };

  test("each stream's channel is on its own shard only; pushes cross nodes once on every shard", async () => {
    const uids = Array.from({ length: 30 }, (_, i) => `sp${i}`);
    const on = await Promise.all(uids.map((u) => login(B, u)));
    const perShard = [0, 0, 0];
    for (const u of uids) {
      const k = onShard(`uid:${u}`);
      perShard[k]!++;
      await until(async () => (await numsub(shards[k]!, uidChannel(u))) === 1, `${u} subscribed on shard ${k}`);
      for (let j = 0; j < N; j++) if (j !== k) expect(await numsub(shards[j]!, uidChannel(u))).toBe(0);
    }
    expect(perShard.every((n) => n > 0)).toBe(true);
    for (const [i, u] of uids.entries()) expect(await A.result("sendToUid", { uid: u, data: `m${i}` })).toEqual({ reached: 1, offline: [] });
    for (const [i, c] of on.entries()) {
      expect(await c.next()).toBe(`m${i}`);
      expect(await c.nothingWithin(50)).toBe(true);
    }
  });

  test("one login recovers a uid and `all` that live on different shards", async () => {
    const allShard = onShard("all");
    const uid = uidOn((allShard + 1) % N, "rc");
    const j = await JsonClient.connect(B);
    clients.push(j);
    j.send({ type: "auth", uid });
    const welcome = await j.next("welcome");
    const positions = Object.fromEntries((welcome.streams as Array<{ stream: string; epoch: string; offset: number }>).map((s) => [s.stream, { epoch: s.epoch, offset: s.offset }]));
    j.close();
    await j.closed;
    for (let i = 1; i <= 3; i++) expect((await A.result("sendToUid", { uid, data: `u${i}` })).reached).toBe(0);
    for (let i = 1; i <= 2; i++) await A.result("sendToAll", { data: `a${i}` });
    const back = await JsonClient.connect(A);
    clients.push(back);
    back.send({ type: "auth", uid, recover: positions });
    await back.next("welcome");
    const replayed: string[] = [];
    for (let i = 0; i < 5; i++) replayed.push(String((await back.next("push")).data));
    expect(replayed.sort()).toEqual(["a1", "a2", "u1", "u2", "u3"]);
    const rec = await back.next("recovery");
    expect(rec.complete).toBe(true);
  });

  test("a shard killed: its streams answer E_CLUSTER_UNAVAILABLE (not offline), the others still cross nodes; back after a restart", async () => {
    const dead = 1;
    const onDead = uidOn(dead, "kd");
    const onLive = uidOn(2, "kl");
    const cDead = await login(B, onDead);
    const cLive = await login(B, onLive);
    await until(async () => (await numsub(shards[dead]!, uidChannel(onDead))) === 1, "subscribed on the shard to kill");
    await until(async () => (await numsub(shards[2]!, uidChannel(onLive))) === 1, "subscribed on a live shard");
    await shards[dead]!.kill();
    const r = await until(async () => {
      const x = await A.result("sendToUid", { uid: onDead, data: "lost?" });
      return x.error ? x : undefined;
    }, "the dead shard reported", 5000);
    expect(r.error.code).toBe("E_CLUSTER_UNAVAILABLE");
    expect(r.offline).toEqual([]);
    expect(await cDead.nothingWithin(200)).toBe(true);
    expect(await A.result("sendToUid", { uid: onLive, data: "still" })).toEqual({ reached: 1, offline: [] });
    expect(await cLive.next()).toBe("still");
    // Presence (node calls on shard 0) is unaffected.
    expect(await A.result("isUidOnline", { uid: onDead })).toBe(true);
    await shards[dead]!.restart();
    await until(async () => (await numsub(shards[dead]!, uidChannel(onDead))) === 1, "B resubscribed on the restarted shard", 10_000);
    await until(async () => (await A.result("sendToUid", { uid: onDead, data: "back" })).reached === 1 || undefined, "pushes cross again", 10_000);
    expect(await cDead.next()).toBe("back");
  }, 30_000);
});

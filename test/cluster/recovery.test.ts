// pushgate.v1 recovery across nodes: history lives in Redis, so a client that logged in on one
// node, missed pushes made through another, and comes back on a third gets exactly what it
// missed, then live pushes with the next offset. When Redis loses the history, it is told.
import { beforeAll, expect, test } from "bun:test";
import type { JsonClient, JsonFrame } from "../json-client.ts";
import { type RedisServer, describeRedis } from "../redis-server.ts";
import { Node, clusterFixture, subscribed, uidChannel } from "./nodes.ts";

const T = 30_000;

interface Position { stream: string; epoch: string; offset: number }

describeRedis("cluster recovery (3 nodes)", () => {
  const cluster = clusterFixture(["A", "B", "C"]);
  const { jsonLogin: auth } = cluster;
  let redis: RedisServer, A: Node, B: Node, C: Node;
  beforeAll(() => void ({ redis, nodes: [A, B, C] } = cluster));

  const posOf = (welcome: JsonFrame, stream: string): Position =>
    (welcome.streams as Position[]).find((s) => s.stream === stream)!;

  async function leave(c: JsonClient): Promise<void> {
    c.close();
    await c.closedWithin(3000);
  }

  test("log in on A, miss pushes made through C, recover on B: exactly the missed ones, then live", async () => {
    const first = await auth(A, "r1");
    const uid0 = posOf(first.welcome, "uid:r1");
    const all0 = posOf(first.welcome, "all");
    expect(uid0.offset).toBe(0);
    expect(uid0.epoch).toMatch(/^[0-9a-f]{8}$/);
    // One push while connected, processed by the client.
    expect((await C.result("sendToUid", { uid: "r1", data: "seen" })).reached).toBe(1);
    const seen = await first.c.next("push", 3000);
    expect(seen).toMatchObject({ stream: "uid:r1", epoch: uid0.epoch, offset: 1, data: "seen" });
    await leave(first.c);
    await subscribed(redis, uidChannel("r1"), 0);

    // Away: pushes through C (nobody holds r1 anywhere) and one broadcast through C.
    for (const data of ["m2", { n: 3 }, "m4"]) {
      expect(await C.result("sendToUid", { uid: "r1", data })).toEqual({ reached: 0, offline: ["r1"] });
    }
    await C.result("sendToAll", { data: "to everyone" });

    const back = await auth(B, "r1", {
      "uid:r1": { epoch: uid0.epoch, offset: 1 },
      all: { epoch: all0.epoch, offset: all0.offset },
    });
    expect(posOf(back.welcome, "uid:r1")).toEqual({ stream: "uid:r1", epoch: uid0.epoch, offset: 4 });
    const replayed = [];
    for (let i = 0; i < 4; i++) replayed.push(await back.c.next("push", 3000));
    expect(replayed.map((p) => [p.stream, p.epoch, p.offset, p.data])).toEqual([
      ["uid:r1", uid0.epoch, 2, "m2"],
      ["uid:r1", uid0.epoch, 3, { n: 3 }],
      ["uid:r1", uid0.epoch, 4, "m4"],
      ["all", all0.epoch, all0.offset + 1, "to everyone"],
    ]);
    const recovery = await back.c.next("recovery", 3000);
    expect(recovery).toEqual({
      type: "recovery", complete: true, streams: [
        { stream: "uid:r1", recovered: true, replayed: 3, epoch: uid0.epoch, offset: 4 },
        { stream: "all", recovered: true, replayed: 1, epoch: all0.epoch, offset: all0.offset + 1 },
      ],
    });

    // Live, through A this time: the next offset of the same epoch.
    expect((await A.result("sendToUid", { uid: "r1", data: "live" })).reached).toBe(1);
    expect(await back.c.next("push", 3000)).toMatchObject({ stream: "uid:r1", epoch: uid0.epoch, offset: 5, data: "live" });
    expect(await back.c.nothingWithin(200)).toBe(true);
    await leave(back.c);
  }, T);

  test("a recovery already up to date replays nothing; a position from the future is an epoch break", async () => {
    const first = await auth(C, "r2");
    const p = posOf(first.welcome, "uid:r2");
    await leave(first.c);
    const same = await auth(A, "r2", { "uid:r2": { epoch: p.epoch, offset: p.offset } });
    expect(await same.c.next("recovery", 3000)).toEqual({
      type: "recovery", complete: true,
      streams: [{ stream: "uid:r2", recovered: true, replayed: 0, epoch: p.epoch, offset: p.offset }],
    });
    const ahead = await auth(B, "r2", { "uid:r2": { epoch: p.epoch, offset: p.offset + 5 } });
    expect(await ahead.c.next("recovery", 3000)).toMatchObject({
      complete: false, streams: [{ stream: "uid:r2", recovered: false, reason: "epoch" }],
    });
    await leave(same.c);
    await leave(ahead.c);
  }, T);

  test("history trimmed by the pushing node's --history-size: recovery on another node reports the gap", async () => {
    // The script trims with MAXLEN ~ (whole stream nodes of 100 entries): push well past that.
    const D = await Node.start("D", redis.url, ["--history-size", "2"]);
    const first = await auth(A, "r4");
    const p0 = posOf(first.welcome, "uid:r4");
    await leave(first.c);
    const N = 250;
    for (let i = 1; i <= N; i++) await D.result("sendToUid", { uid: "r4", data: `g${i}` });
    const kept = (await redis.command("XLEN", ["pushgate:h:uid:r4"])) as number;
    console.log(`[recovery] --history-size 2, ${N} pushes: Redis kept ${kept} entries (MAXLEN ~)`);
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(kept).toBeLessThan(N);

    const back = await auth(C, "r4", { "uid:r4": { epoch: p0.epoch, offset: 0 } });
    const replayed = [];
    for (let i = 0; i < kept; i++) replayed.push(await back.c.next("push", 3000));
    expect(replayed.map((p) => p.offset)).toEqual(Array.from({ length: kept }, (_, i) => N - kept + 1 + i));
    expect(replayed.at(-1)).toMatchObject({ data: `g${N}` });
    expect(await back.c.next("recovery", 3000)).toEqual({
      type: "recovery", complete: false,
      streams: [{ stream: "uid:r4", recovered: false, replayed: kept, epoch: p0.epoch, offset: N, reason: "gap" }],
    });
    await leave(back.c);
    await D.kill("SIGTERM");
  }, T);

  test("a login while Redis is down is positioned from the node's own history: recovery says epoch", async () => {
    const first = await auth(A, "r5");
    const p0 = posOf(first.welcome, "uid:r5");
    await leave(first.c);
    const before = [A, B, C].map((n) => n.logs.of("redis_reconnected").length);
    await redis.kill();
    try {
      await B.logs.nth("redis_disconnected", B.logs.of("redis_disconnected").length + 1, 5000);
      const back = await auth(B, "r5", { "uid:r5": { epoch: p0.epoch, offset: 0 } });
      const local = posOf(back.welcome, "uid:r5");
      expect(local.epoch).not.toBe(p0.epoch);
      expect(await back.c.next("recovery", 3000)).toMatchObject({
        complete: false, streams: [{ stream: "uid:r5", recovered: false, replayed: 0, reason: "epoch" }],
      });
      await leave(back.c);
    } finally {
      await redis.restart();
    }
    await Promise.all([A, B, C].map((n, i) => n.logs.nth("redis_reconnected", before[i]! + 1, 10_000)));
  }, T);

  test("after Redis restarts empty, a recovering client is told recovered:false (epoch)", async () => {
    const first = await auth(A, "r3");
    const p0 = posOf(first.welcome, "uid:r3");
    expect((await C.result("sendToUid", { uid: "r3", data: "before" })).reached).toBe(1);
    expect(await first.c.next("push", 3000)).toMatchObject({ offset: 1, data: "before" });
    await leave(first.c);

    const nodes = [A, B, C];
    const before = nodes.map((n) => n.logs.of("redis_reconnected").length);
    await redis.kill();
    await redis.restart();
    await Promise.all(nodes.map((n, i) => n.logs.nth("redis_reconnected", before[i]! + 1, 10_000)));

    const back = await auth(B, "r3", { "uid:r3": { epoch: p0.epoch, offset: 1 } });
    const fresh = posOf(back.welcome, "uid:r3");
    expect(fresh.epoch).not.toBe(p0.epoch);
    expect(fresh.offset).toBe(0);
    // The new epoch is the one Redis now holds (not a node-local fallback).
    expect(await redis.command("HGET", ["pushgate:m:uid:r3", "e"])).toBe(fresh.epoch);
    expect(await back.c.next("recovery", 3000)).toEqual({
      type: "recovery", complete: false,
      streams: [{ stream: "uid:r3", recovered: false, replayed: 0, epoch: fresh.epoch, offset: 0, reason: "epoch" }],
    });
    // Pushes go on in the new epoch, from any node.
    await subscribed(redis, uidChannel("r3"), 1);
    expect((await C.result("sendToUid", { uid: "r3", data: "after" })).reached).toBe(1);
    expect(await back.c.next("push", 3000)).toMatchObject({ stream: "uid:r3", epoch: fresh.epoch, offset: 1, data: "after" });
    await leave(back.c);
  }, T);
});

// History on the Redis engine is kept for observed streams only: a seed-only stream keeps
// nothing in Redis; a stream whose observed mark ran out (no pushgate.v1 reader for longer than
// the mark lives) may have had pushes that were never placed, so a returning client is told
// "epoch" — never "recovered" with pushes silently missing. And an API bindUid / joinGroup
// answers once this node is subscribed, so a push right after it reaches the connection.
import { beforeAll, expect, test } from "bun:test";
import { type RedisServer, describeRedis } from "../redis-server.ts";
import { type Node, type Recover, clusterFixture, until } from "./nodes.ts";

describeRedis("cluster: history of observed streams only", () => {
  // 1 s history TTL: a mark lives 1.5 s after its last refresh.
  const cluster = clusterFixture(["A", "B"], ["--history-ttl", "1s"]);
  let redis: RedisServer, A: Node, B: Node;
  beforeAll(() => void ({ redis, nodes: [A, B] } = cluster));

  test("a push to a stream no pushgate.v1 reader observed is only published: nothing kept in Redis", async () => {
    const c = await cluster.login(B, "seed-only");
    expect(await A.result("sendToUid", { uid: "seed-only", data: "x" })).toEqual({ reached: 1, offline: [] });
    expect(await c.next()).toBe("x");
    expect(await redis.command("EXISTS", ["pushgate:h:uid:seed-only"])).toBe(0);
    expect(await redis.command("EXISTS", ["pushgate:m:uid:seed-only"])).toBe(0);
  });

  test("a reader back after its stream's mark ran out is told epoch, not recovered", async () => {
    const { c, welcome } = await cluster.jsonLogin(B, "returning");
    const pos = (welcome.streams as Array<{ stream: string; epoch: string; offset: number }>).find((s) => s.stream === "uid:returning")!;
    await A.result("sendToUid", { uid: "returning", data: "placed" });
    const first = await c.next("push");
    expect(first.offset).toBe(pos.offset + 1);
    c.close();
    await c.closed;
    // Past the mark's life: this push is only published (nobody observes the stream any more).
    await until(async () => (await redis.command("EXISTS", ["pushgate:v:uid:returning"])) === 0 || undefined, "the mark to run out", 5000, 100);
    await A.result("sendToUid", { uid: "returning", data: "not placed" });
    const recover: Recover = { "uid:returning": { epoch: first.epoch as string, offset: first.offset as number } };
    const back = await cluster.jsonLogin(A, "returning", recover);
    const rec = await back.c.next("recovery");
    const s = (rec.streams as Array<{ stream: string; recovered: boolean; reason?: string }>).find((x) => x.stream === "uid:returning")!;
    expect(s.recovered).toBe(false);
    expect(s.reason).toBe("epoch");
  }, 15_000);

  test("bindUid and joinGroup through the API answer once a push from another node reaches the connection", async () => {
    const c = await cluster.login(B, "before-bind");
    const clientId = (await B.result("getClientIdByUid", { uid: "before-bind" }))[0] as string;
    expect(await A.result("bindUid", { clientId, uid: "after-bind" })).toBe(true);
    expect(await A.result("sendToUid", { uid: "after-bind", data: "right after bind" })).toEqual({ reached: 1, offline: [] });
    expect(await c.next()).toBe("right after bind");
    expect(await A.result("joinGroup", { clientId, group: "g-now" })).toBe(1);
    expect(await A.result("sendToGroup", { group: "g-now", data: "right after join" })).toEqual({ reached: 1 });
    expect(await c.next()).toBe("right after join");
  });
});

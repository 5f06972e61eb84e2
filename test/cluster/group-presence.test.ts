// Group presence across nodes (3 real nodes over a real Redis): a uid's join and leave in a
// presence group are told to its pushgate.v1 members on every node exactly once per
// cluster-wide transition — a second connection of the uid on another node is neither — and a
// SIGKILLed node's members leave once, after the presence TTL.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JsonClient } from "../json-client.ts";
import { describeRedis } from "../redis-server.ts";
import { type Node, clusterFixture, until } from "./nodes.ts";

const dir = mkdtempSync(join(tmpdir(), "pushgate-cluster-presence-"));
const rules = join(dir, "rules.json");
writeFileSync(rules, JSON.stringify({ channels: [
  { match: "chat-*", subscribe: "public", presence: true },
  { match: "big-*", subscribe: "public", presence: true, joinLeave: false },
] }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeRedis("group presence on a cluster", () => {
  const cluster = clusterFixture(["A", "B", "C"], ["--channel-rules", rules]);

  const member = async (n: Node, uid: string, group: string): Promise<JsonClient> => {
    const { c } = await cluster.jsonLogin(n, uid);
    c.send({ type: "subscribe", id: 1, group });
    await c.next("reply", 5000);
    return c;
  };
  const presence = (c: JsonClient) => c.received.filter((f) => f.type === "presence").map((f) => `${f.event} ${f.uid}`);

  test("join once per uid anywhere, leave once when its last connection anywhere is gone", async () => {
    const [A, B] = cluster.nodes;
    const watcher = await member(B, "watch", "chat-1");
    await until(() => presence(watcher).includes("join watch") || undefined, "watcher's own join", 5000);
    const u1 = await member(A, "u", "chat-1");
    await until(() => presence(watcher).includes("join u") || undefined, "u's join, seen on B", 5000);
    const u2 = await member(B, "u", "chat-1");
    // B's holding is written to Redis a turn after its reply: only then is u held on two nodes.
    await until(async () => Number(await cluster.redis.command("HEXISTS", ["pushgate:gu:chat-1:u", B.nodeId])) === 1 || undefined, "u held on B in Redis", 5000);
    u1.close();
    await u1.closedWithin();
    await Bun.sleep(500);
    expect(presence(watcher)).toEqual(["join watch", "join u"]); // still there through u2
    // Counted across the nodes without loading a list: watch and u.
    expect(await A.result("getUidCountByGroup", { group: "chat-1" })).toBe(2);
    u2.close();
    await u2.closedWithin();
    await until(() => presence(watcher).includes("leave u") || undefined, "u's leave", 5000);
    await Bun.sleep(300);
    expect(presence(watcher)).toEqual(["join watch", "join u", "leave u"]);
    expect(await B.result("getUidCountByGroup", { group: "chat-1" })).toBe(1);
    // A member on A sees B's members come and go as well.
    const onA = await member(A, "a-watch", "chat-1");
    const x = await member(B, "x", "chat-1");
    await until(() => presence(onA).includes("join x") || undefined, "x's join seen on A", 5000);
    x.close();
    await until(() => presence(onA).includes("leave x") || undefined, "x's leave seen on A", 5000);
  });

  test("a presence group without join/leave: counted across the nodes (no list loaded), no frames", async () => {
    const [A, B] = cluster.nodes;
    const x1 = await member(A, "bx", "big-1");
    await member(B, "bx", "big-1");
    await member(B, "by", "big-1");
    await until(async () => (await A.result("getUidCountByGroup", { group: "big-1" })) === 2 || undefined, "2 distinct uids", 5000);
    x1.close();
    await x1.closedWithin();
    await Bun.sleep(300);
    expect(await B.result("getUidCountByGroup", { group: "big-1" })).toBe(2); // bx still on B
    expect(presence(x1)).toEqual([]);
    expect((await A.result("getPresence", { group: "big-1" })).map((m: { uid: string }) => m.uid).sort()).toEqual(["bx", "by"]);
  });

  test("a SIGKILLed node's members leave once, within the presence TTL", async () => {
    const [A, , C] = cluster.nodes;
    const watcher = await member(A, "watch2", "chat-2");
    await member(C, "k", "chat-2");
    await until(() => presence(watcher).includes("join k") || undefined, "k's join", 5000);
    await C.kill("SIGKILL");
    await until(() => presence(watcher).includes("leave k") || undefined, "k's leave after its node died", 10_000);
    await Bun.sleep(1500);
    expect(presence(watcher).filter((e) => e.endsWith(" k"))).toEqual(["join k", "leave k"]);
    expect(await A.result("getUidCountByGroup", { group: "chat-2" })).toBe(1);
  }, 20_000);

  test("a graceful stop writes and tells its members' leaves itself (nothing is left for the sweep to heal)", async () => {
    const [A, B] = cluster.nodes;
    // 2,000 pairs: enough that the drain's writes are still in flight when the engine stops.
    const groups = Array.from({ length: 10 }, (_, i) => `chat-g${i}`);
    const watchers = await Promise.all(groups.map((g, i) => member(B, `gw${i}`, g)));
    const uids = Array.from({ length: 200 }, (_, i) => `gs${i}`);
    await Promise.all(uids.map(async (u) => {
      const { c } = await cluster.jsonLogin(A, u);
      for (const [k, g] of groups.entries()) c.send({ type: "subscribe", id: k + 1, group: g });
      // Its own join frames may come between the replies.
      await until(() => c.received.filter((f) => f.type === "reply" && f.result).length === groups.length || undefined, `${u}'s replies`, 10_000);
    }));
    await until(() => watchers.every((w) => uids.every((u) => presence(w).includes(`join ${u}`))) || undefined, "every join", 10_000);
    await A.kill("SIGTERM");
    await until(() => watchers.every((w) => uids.every((u) => presence(w).includes(`leave ${u}`))) || undefined, "every leave", 10_000);
    expect(Number(await cluster.redis.command("SCARD", [`pushgate:gn:${A.nodeId}`]))).toBe(0);
    expect(await cluster.redis.command("EXISTS", [`pushgate:ghealed:${A.nodeId}`])).toBe(0); // not healed: it left by itself
    for (const w of watchers) expect(presence(w).filter((e) => e.startsWith("leave gs"))).toHaveLength(uids.length);
  }, 30_000);
});

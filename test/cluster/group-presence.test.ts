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
writeFileSync(rules, JSON.stringify({ channels: [{ match: "chat-*", subscribe: "public", presence: true }] }));
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
});

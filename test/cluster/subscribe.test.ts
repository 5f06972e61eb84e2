// pushgate.v1 `subscribe` on a cluster: a client subscribed on node B gets a push made through
// node A's API (B holds the group's channel once the reply came), and recovers on node A what the
// group got while it was away.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeRedis } from "../redis-server.ts";
import { clusterFixture } from "./nodes.ts";
import { JsonClient } from "../json-client.ts";

const dir = mkdtempSync(join(tmpdir(), "pushgate-cluster-subscribe-"));
const rules = join(dir, "rules.json");
writeFileSync(rules, JSON.stringify({ channels: [{ match: "room-*", subscribe: "public" }] }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeRedis("subscribe on a cluster", () => {
  const cluster = clusterFixture(["A", "B"], ["--channel-rules", rules]);

  test("subscribed on B, pushed through A; recovered on A after a disconnect", async () => {
    const [A, B] = cluster.nodes;
    const { c } = await cluster.jsonLogin(B, "cs1");
    c.send({ type: "subscribe", id: 1, group: "room-c" });
    const r = await c.next("reply", 5000);
    expect(r).toMatchObject({ id: 1, result: { group: "room-c", stream: "group:room-c" } });
    expect((await A.api("sendToGroup", { group: "room-c", data: "one" })).body.result.reached).toBe(1);
    const p1 = await c.next("push", 5000);
    expect(p1).toMatchObject({ stream: "group:room-c", data: "one" });
    c.close();
    await c.closedWithin();
    await A.api("sendToGroup", { group: "room-c", data: "two" });
    const d = cluster.track(await JsonClient.connect(A));
    d.send({ type: "auth", uid: "cs1" });
    await d.next("welcome", 5000);
    d.send({ type: "subscribe", id: 2, group: "room-c", recover: { epoch: p1.epoch, offset: p1.offset } });
    expect(await d.next("reply", 5000)).toMatchObject({ id: 2, result: { offset: (p1.offset as number) + 1 } });
    expect((await d.next("push", 5000)).data).toBe("two");
    expect(await d.next("recovery", 5000)).toMatchObject({ complete: true });
  });
});

// A send whose cluster-wide outcome is unknown (a node holding the uid did not confirm in time:
// E_CLUSTER_TIMEOUT in result.error) is remembered under its idempotencyKey, so a retry with the
// key cannot deliver it a second time once the stalled node wakes up.
import { beforeAll, expect, test } from "bun:test";
import { type Node, clusterFixture, subscribed, uidChannel, until } from "../cluster/nodes.ts";
import { type RedisServer, describeRedis } from "../redis-server.ts";

describeRedis("chaos: idempotency keys and unknown outcomes", () => {
  const cluster = clusterFixture(["A", "B"], ["--cluster-timeout", "500ms"], { beforeStop: () => { try { cluster.nodes[1]!.thaw(); } catch {} } });
  let redis: RedisServer, A: Node, B: Node;
  beforeAll(() => void ({ redis, nodes: [A, B] } = cluster));

  test("the same key twice while the receiving node hangs delivers once after it wakes", async () => {
    const c = await cluster.login(B, "dup");
    await subscribed(redis, uidChannel("dup"));
    B.freeze();
    const body = { uid: "dup", data: "once", idempotencyKey: "key-1" };
    const first = await A.api("sendToUid", body);
    expect(first.status).toBe(200);
    expect(first.body.result).toMatchObject({ reached: 0, offline: [], error: { code: "E_CLUSTER_TIMEOUT" } });
    const retry = await A.api("sendToUid", body);
    expect(retry.body).toEqual(first.body);
    B.thaw();
    await until(() => c.received.includes("once"), "the push to arrive after the thaw", 5000);
    await Bun.sleep(300);
    expect(c.received.filter((m) => m === "once")).toHaveLength(1);
  }, 30_000);
});

// Chaos: Redis refuses node B's resubscribe after its subscriber connection was dropped, then
// allows it again. B must keep trying while refused (not sit with no subscriptions) and be
// reachable again soon after — a push from node A to a uid on B arrives again.
//
// How the refusal is made (real Redis 7, no mocks): an ACL on the default user that allows the
// node, presence and "all" channels but not uid channels. Redis itself then disconnects B's
// subscriber (it holds a channel no longer allowed; A's holds none of them and stays), and B's
// reconnect SUBSCRIBEs its channels in one command, which Redis refuses whole (NOPERM).
// Seen on Bun 1.4.5: a refused SUBSCRIBE on a client that had subscriptions makes Bun drop the
// connection (onclose) and leave the promise pending, so B does not log redis_resubscribe_failed
// here; what retries is onclose → retryLater → onconnect → resubscribe. Redis's ACL LOG counts
// each refused attempt.
import { beforeAll, expect, test } from "bun:test";
import type { TestClient } from "../helpers.ts";
import { type RedisServer, describeRedis } from "../redis-server.ts";
import { type Node, clusterFixture, numsub, subscribed, uidChannel, until } from "../cluster/nodes.ts";

const T = 30_000;
const UID = "u";

/** The refusal: every channel a node holds of itself, none of a uid's. */
const DENY_UID_CHANNELS = ["default", "resetchannels", "&pushgate:n:*", "&pushgate:presence", "&pushgate:c:all"];
const ALLOW_ALL = ["default", "allchannels"];

/** How often Redis refused a SUBSCRIBE (not a script's PUBLISH) of `channel`, from ACL LOG. */
async function refusedSubscribes(redis: RedisServer, channel: string): Promise<number> {
  const log = (await redis.command("ACL", ["LOG"])) as Array<Record<string, unknown>>;
  return log
    .filter((e) => e.reason === "channel" && e.context === "toplevel" && e.object === channel)
    .reduce((n, e) => n + Number(e.count), 0);
}

describeRedis("chaos: Redis refuses a node's resubscribe, then allows it", () => {
  const cluster = clusterFixture(["A", "B"], ["--cluster-timeout", "500ms"]);
  let redis: RedisServer, A: Node, B: Node;
  beforeAll(() => void ({ redis, nodes: [A, B] } = cluster));

  /** A push from A to UID: what the API answered, and whether `c` got it (within `ms`). */
  async function pushAndSee(c: TestClient, data: string, ms: number): Promise<{ answer: any; arrived: boolean }> {
    const answer = await A.result("sendToUid", { uid: UID, data });
    const arrived = await until(() => c.received.includes(data), `${data} at ${UID}`, ms, 10).then(() => true, () => false);
    return { answer, arrived };
  }

  test("B retries while refused and is reachable again within seconds of the refusal ending", async () => {
    const c = await cluster.login(B, UID);
    await subscribed(redis, uidChannel(UID), 1);
    expect(await pushAndSee(c, "before", 3000)).toEqual({ answer: { reached: 1, offline: [] }, arrived: true });
    const bNodeChannel = `pushgate:n:${B.nodeId}`;
    expect(await numsub(redis, bNodeChannel)).toBe(1);

    // --- The refusal. Redis drops B's subscriber itself; each reconnect's SUBSCRIBE is refused.
    const disconnected = B.logs.nth("redis_disconnected", 1, 5000); // (listening before the action)
    expect(await redis.command("ACL", ["SETUSER", ...DENY_UID_CHANNELS])).toBe("OK");
    try {
      await disconnected;
      // Kept trying: at least two refused resubscribes (a retry, not one attempt and silence).
      await until(async () => (await refusedSubscribes(redis, uidChannel(UID))) >= 2, "B's resubscribe refused twice", 8000, 100);
      // Meanwhile B holds nothing on Redis: neither its uid's channel nor its own.
      expect(await numsub(redis, uidChannel(UID))).toBe(0);
      expect(await numsub(redis, bNodeChannel)).toBe(0);
      // A push meanwhile is not answered as delivered (Redis refuses its PUBLISH too).
      const during = await pushAndSee(c, "during", 300);
      expect(during.answer.reached === 1 && during.answer.error === undefined).toBe(false);
      expect(B.logs.of("redis_reconnected")).toHaveLength(0);
    } finally {
      expect(await redis.command("ACL", ["SETUSER", ...ALLOW_ALL])).toBe("OK");
    }
    const allowedAt = performance.now();

    // --- Allowed again: B's next attempt succeeds (~1 s retry period) and it is reachable again.
    const reconnected = await B.logs.nth("redis_reconnected", 1, 5000);
    expect(reconnected.streams).toBe(1);
    await subscribed(redis, uidChannel(UID), 1, 2000);
    expect(await numsub(redis, bNodeChannel)).toBe(1);
    const after = await pushAndSee(c, "after", 3000);
    const healedMs = performance.now() - allowedAt;
    const refusals = await refusedSubscribes(redis, uidChannel(UID));
    const failedLogs = B.logs.of("redis_resubscribe_failed").length;
    console.log(`[resubscribe-retry] refused resubscribes: ${refusals}; redis_resubscribe_failed lines: ${failedLogs}; reachable again ${healedMs.toFixed(0)} ms after the refusal ended`);
    expect(after).toEqual({ answer: { reached: 1, offline: [] }, arrived: true });
    // Exactly once each: no duplicate listener after the retries, and the refused push never came.
    await Bun.sleep(200);
    expect(["before", "during", "after"].map((m) => c.received.filter((x) => x === m).length)).toEqual([1, 0, 1]);
    expect(B.logs.of("redis_reconnected")).toHaveLength(1); // one success, not repeated
    // The seed client never noticed: B stayed up, its connection open.
    expect(B.running).toBe(true);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  }, T);
});

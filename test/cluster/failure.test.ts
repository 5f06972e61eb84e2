// A node that dies without cleanup (SIGKILL), and one that hangs with its sockets open (SIGSTOP):
// presence heals within --presence-ttl, and queries asked meanwhile answer within
// --cluster-timeout instead of hanging.
import { beforeAll, expect, test } from "bun:test";
import type { TestClient } from "../helpers.ts";
import { type RedisServer, describeRedis } from "../redis-server.ts";
import { Node, clusterFixture, numsub, subscribed, uidChannel, until } from "./nodes.ts";

const T = 30_000;
const PRESENCE_TTL = 2000;
const CLUSTER_TIMEOUT = 1000;

describeRedis("cluster node failure", () => {
  const cluster = clusterFixture(["A", "B", "C"], ["--cluster-timeout", `${CLUSTER_TIMEOUT}ms`]);
  let redis: RedisServer, A: Node, B: Node, C: Node;
  beforeAll(() => void ({ redis, nodes: [A, B, C] } = cluster));

  async function login(node: Node, uid: string): Promise<TestClient> {
    const c = await cluster.login(node, uid);
    await subscribed(redis, uidChannel(uid), 1);
    return c;
  }

  /** Runs a call on A and measures it. */
  async function timed<T>(method: string, params: unknown = {}): Promise<{ value: T; ms: number }> {
    const t0 = performance.now();
    const value = (await A.result(method, params, 10_000)) as T;
    return { value, ms: performance.now() - t0 };
  }

  test("SIGKILLed node: its uid goes offline and the client count drops within the presence TTL", async () => {
    await login(A, "a1");
    await login(B, "b1");
    const c1 = await login(C, "c1");
    expect(await A.result("isUidOnline", { uid: "c1" })).toBe(true);
    expect(await A.result("getAllClientCount")).toBe(3);

    const t0 = performance.now();
    await C.kill("SIGKILL");
    expect((await c1.closed).code).toBe(1006);

    const slowest = { ms: 0 };
    const offlineAt = await until(async () => {
      const q = await timed<boolean>("isUidOnline", { uid: "c1" });
      slowest.ms = Math.max(slowest.ms, q.ms);
      return q.value === false ? performance.now() - t0 : undefined;
    }, "isUidOnline(c1) on A to be false", PRESENCE_TTL + 2000, 50);
    const count = await until(async () => {
      const q = await timed<number>("getAllClientCount");
      slowest.ms = Math.max(slowest.ms, q.ms);
      return q.value === 2 ? performance.now() - t0 : undefined;
    }, "getAllClientCount on A to drop to 2", PRESENCE_TTL + 2000, 50);
    console.log(`[failure] after SIGKILL: isUidOnline false after ${offlineAt.toFixed(0)} ms, count 2 after ${count.toFixed(0)} ms, slowest query ${slowest.ms.toFixed(0)} ms`);
    expect(offlineAt).toBeLessThan(PRESENCE_TTL + 1000);
    expect(slowest.ms).toBeLessThan(CLUSTER_TIMEOUT + 500);

    // The dead node held c1's channel: Redis dropped its subscriptions with its connections.
    expect(await numsub(redis, uidChannel("c1"))).toBe(0);
    // A push to it is plainly offline (no error: Redis is up), answered at once.
    const t1 = performance.now();
    expect(await A.result("sendToUid", { uid: "c1", data: "anyone?" })).toEqual({ reached: 0, offline: ["c1"] });
    expect(performance.now() - t1).toBeLessThan(CLUSTER_TIMEOUT);
    expect(await B.result("getAllUidList")).toEqual(expect.arrayContaining(["a1", "b1"]));
    expect(((await B.result("getAllUidList")) as string[]).includes("c1")).toBe(false);
    // Calls about the dead node's clientIds answer at once too.
    const deadId = C.nodeId + "000000000001";
    const t2 = performance.now();
    expect(await A.result("sendToClient", { clientId: deadId, data: "x" })).toEqual({ reached: 0, offline: [deadId] });
    const session = await A.api("getSession", { clientId: deadId });
    expect(session.status).toBe(404);
    expect(session.body.error.code).toBe("E_NO_SUCH_CLIENT");
    expect(performance.now() - t2).toBeLessThan(CLUSTER_TIMEOUT);

    // Two TTLs after its last heartbeat the dead node is dropped from pushgate:nodes.
    await until(async () => (await redis.command("ZSCORE", ["pushgate:nodes", C.nodeId])) === null || undefined,
      "the dead node to leave pushgate:nodes", 2 * PRESENCE_TTL + 2000, 100);
  }, T);

  test("SIGSTOPped node (sockets open, no answers): queries are bounded by --cluster-timeout, then skip it", async () => {
    const D = await Node.start("D", redis.url, ["--cluster-timeout", `${CLUSTER_TIMEOUT}ms`]);
    const d1 = await login(D, "d1");
    await until(async () => (await A.result("isUidOnline", { uid: "d1" })) === true, "d1 online as seen from A", 5000);

    D.freeze();
    const t0 = performance.now();
    try {
      // D is still in pushgate:nodes and still subscribed, but answers nothing: not waited for
      // forever, and its part is unknown (504), not an answer that leaves it out.
      const q0 = performance.now();
      const during = await A.api("getAllClientCount", {}, 10_000);
      const duringMs = performance.now() - q0;
      expect(duringMs).toBeGreaterThanOrEqual(CLUSTER_TIMEOUT - 100);
      expect(duringMs).toBeLessThan(CLUSTER_TIMEOUT + 1000);
      expect({ status: during.status, code: during.body.error?.code }).toEqual({ status: 504, code: "E_CLUSTER_TIMEOUT" });
      // Redis handed the push to D, which did not count it: unknown, not offline (D delivers it once thawed).
      const push = performance.now();
      expect(await A.result("sendToUid", { uid: "d1", data: "frozen" })).toMatchObject({ reached: 0, offline: [], error: { code: "E_CLUSTER_TIMEOUT" } });
      const pushMs = performance.now() - push;
      expect(pushMs).toBeLessThan(CLUSTER_TIMEOUT + 1000);

      // Once its heartbeat is older than the TTL, queries skip D without waiting.
      const skipped = await until(async () => {
        const q = await timed<boolean>("isUidOnline", { uid: "d1" });
        return q.ms < CLUSTER_TIMEOUT / 2 ? performance.now() - t0 : undefined;
      }, "queries to stop waiting for D", PRESENCE_TTL + 3000, 50);
      console.log(`[failure] SIGSTOP: query during window ${duringMs.toFixed(0)} ms, push ${pushMs.toFixed(0)} ms, queries skip D after ${skipped.toFixed(0)} ms`);
      expect(skipped).toBeLessThan(PRESENCE_TTL + CLUSTER_TIMEOUT + 1000);
    } finally {
      D.thaw();
    }
    // Thawed, D heartbeats again and rejoins; the push made while frozen was still delivered by Redis.
    expect(await d1.next(3000)).toBe("frozen");
    await until(async () => (await A.result("isUidOnline", { uid: "d1" })) === true, "d1 online again", 5000);
    await D.kill("SIGKILL");
  }, T);

  test("SIGTERM: a node that stops cleanly leaves pushgate:nodes at once", async () => {
    const E = await Node.start("E", redis.url, ["--cluster-timeout", `${CLUSTER_TIMEOUT}ms`, "--drain-timeout", "1s"]);
    const e1 = await login(E, "e1");
    await until(async () => (await A.result("isUidOnline", { uid: "e1" })) === true, "e1 online as seen from A", 5000);
    expect(await redis.command("ZSCORE", ["pushgate:nodes", E.nodeId])).not.toBeNull();
    await E.kill("SIGTERM");
    expect(E.proc.exitCode).toBe(0);
    expect((await e1.closed).code).toBe(1001);
    expect(await redis.command("ZSCORE", ["pushgate:nodes", E.nodeId])).toBeNull();
    expect(await A.result("isUidOnline", { uid: "e1" })).toBe(false);
  }, T);
});

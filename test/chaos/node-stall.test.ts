// Chaos: the node holding a uid stalls (SIGSTOP: sockets open, nothing answered). Pushes through
// the other node must say "unknown" for that uid — listed in `timedOut`, never in `offline` — and
// presence must answer 504, never `false`. After SIGCONT the stalled node delivers every push
// exactly once, and a retry with the same idempotencyKey delivers nothing more.
import { beforeAll, expect, test } from "bun:test";
import type { TestClient } from "../helpers.ts";
import { type Node, clusterFixture, subscribed, uidChannel, until } from "../cluster/nodes.ts";
import { type RedisServer, describeRedis } from "../redis-server.ts";

const CLUSTER_TIMEOUT = 500;
/** Well past the whole stall, so B stays a live member and presence must ask it (not skip it). */
const PRESENCE_TTL = "10s";

interface Answer { status: number; body: any }

describeRedis("chaos: a node stalls (SIGSTOP) while holding the target uid", () => {
  const cluster = clusterFixture(["A", "B"], ["--cluster-timeout", `${CLUSTER_TIMEOUT}ms`, "--presence-ttl", PRESENCE_TTL], {
    beforeStop: () => { try { cluster.nodes[1]!.thaw(); } catch {} }, // a test that failed mid-stall
  });
  let redis: RedisServer, A: Node, B: Node;
  beforeAll(() => void ({ redis, nodes: [A, B] } = cluster));

  const sends = [
    { uid: ["rcv", "nobody"], data: "m1", idempotencyKey: "stall-1" },
    { uid: "rcv", data: "m2", idempotencyKey: "stall-2" },
    { uid: "rcv", data: "m3", idempotencyKey: "stall-3" },
    { uid: "rcv", data: "m4", idempotencyKey: "stall-4" },
  ];
  let rcv: TestClient;
  const answers: Answer[] = [];
  let online: Answer | undefined;

  /** A call that never hangs the test: a fetch error becomes status -1 with its text. */
  const call = (method: string, params: unknown): Promise<Answer> =>
    A.api(method, params, 10_000).catch((e) => ({ status: -1, body: String(e) }));

  test("while B is stopped: rcv is timedOut (never offline), and isUidOnline answers 504", async () => {
    rcv = await cluster.login(B, "rcv");
    await subscribed(redis, uidChannel("rcv"));
    B.freeze();
    try {
      for (const s of sends) answers.push(await call("sendToUid", s));
      online = await call("isUidOnline", { uid: "rcv" });
    } finally {
      B.thaw();
    }
    answers.forEach((a, i) => console.log(`[node-stall] send ${i + 1}: ${a.status} ${JSON.stringify(a.body)}`));
    console.log(`[node-stall] isUidOnline rcv: ${online.status} ${JSON.stringify(online.body)}`);

    // One summary per send, compared at once, so a failure shows every answer's shape.
    const seen = answers.map((a) => {
      const r = a.body?.result ?? {};
      return {
        status: a.status,
        rcvOffline: Array.isArray(r.offline) && r.offline.includes("rcv"),
        rcvTimedOut: Array.isArray(r.timedOut) && r.timedOut.includes("rcv"),
        code: r.error?.code,
      };
    });
    const want = { status: 200, rcvOffline: false, rcvTimedOut: true, code: "E_CLUSTER_TIMEOUT" };
    // Presence: B's part is unknown, so no definite answer (never `false`): 504 E_CLUSTER_TIMEOUT.
    const presence = { status: online.status, code: online.body?.error?.code, result: online.body?.result };
    expect({ sends: seen, presence }).toEqual({
      sends: sends.map(() => want),
      presence: { status: 504, code: "E_CLUSTER_TIMEOUT", result: undefined },
    });
    // "nobody" is connected nowhere: offline may name it or not (either is accepted), at most once.
    const offline: unknown[] = answers[0]!.body.result.offline;
    expect(offline.filter((u) => u === "nobody").length).toBeLessThanOrEqual(1);
  }, 30_000);

  test("after SIGCONT: the receiver gets each push exactly once", async () => {
    expect(answers).toHaveLength(sends.length); // the stall test ran its sends
    const all = () => sends.every((s) => rcv.received.includes(s.data));
    await until(all, "all 4 pushes after the thaw", 5000).catch(() => {});
    await Bun.sleep(300); // a late duplicate would show up here
    console.log(`[node-stall] rcv received after thaw: ${JSON.stringify(rcv.received)}`);
    expect(sends.map((s) => rcv.received.filter((m) => m === s.data).length)).toEqual([1, 1, 1, 1]);
  }, 30_000);

  test("a retry with the same idempotencyKey through A delivers nothing new", async () => {
    expect(answers).toHaveLength(sends.length);
    await until(() => sends.every((s) => rcv.received.includes(s.data)), "the first deliveries", 5000).catch(() => {});
    const before = [...rcv.received];
    const retry = await call("sendToUid", sends[1]);
    console.log(`[node-stall] retry of stall-2: ${retry.status} ${JSON.stringify(retry.body)}`);
    expect(retry.status).toBeGreaterThanOrEqual(200);
    expect(retry.status).toBeLessThan(300);
    await Bun.sleep(CLUSTER_TIMEOUT + 300); // B is awake now: a new delivery would arrive in this window
    expect(rcv.received).toEqual(before);
    expect(rcv.received.filter((m) => m === "m2")).toHaveLength(1);
  }, 30_000);
});

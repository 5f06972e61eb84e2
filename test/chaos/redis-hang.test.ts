// Chaos: Redis hangs (SIGSTOP: its sockets stay open, nothing is answered) under a 2-node cluster.
// While it hangs every API call and every login answers within --cluster-timeout (+ a margin for a
// shared machine) with an explicit outcome — never a hang, never an untrue definite answer (a uid
// that is on the other node is never "offline", a push Redis may still run is never "not reached").
// After SIGCONT what Redis had queued runs once, and cross-node delivery and presence come back.
import { beforeAll, expect, test } from "bun:test";
import { TestClient, metricValue } from "../helpers.ts";
import { JsonClient, type JsonFrame } from "../json-client.ts";
import { type RedisServer, describeRedis } from "../redis-server.ts";
import { type Node, clusterFixture, subscribed, uidChannel, until } from "../cluster/nodes.ts";

const T = 30_000;
const CLUSTER_TIMEOUT = 500;
/** An answer during the hang: one --cluster-timeout, plus scheduling slack on a shared 2-core box. */
const BOUND = CLUSTER_TIMEOUT + 1000;
/** Outcomes that say "unknown" or "not reached": what a call may answer while Redis hangs. */
const EXPLICIT = ["E_CLUSTER_TIMEOUT", "E_CLUSTER_UNAVAILABLE"];

/** What one call answered, and how long it took (status -1: no answer within its own 10 s bound). */
interface Probe { name: string; ms: number; status: number; body: any }

const pushes = (c: JsonClient) => c.received.filter((f) => f.type === "push");
const count = <T>(list: readonly T[], v: T) => list.filter((x) => x === v).length;

describeRedis("chaos: Redis hangs (SIGSTOP) under a 2-node cluster", () => {
  const cluster = clusterFixture(["A", "B"], ["--cluster-timeout", `${CLUSTER_TIMEOUT}ms`], {
    beforeStop: () => cluster.redis.resume(), // (a test that failed mid-hang)
  });
  let redis: RedisServer, A: Node, B: Node;
  beforeAll(() => void ({ redis, nodes: [A, B] } = cluster));

  /** Runs `fn`, timed; a rejection (no frame within its bound, a fetch timeout) is recorded. */
  async function timed(name: string, fn: () => Promise<{ status: number; body: any }>): Promise<Probe> {
    const t0 = performance.now();
    try {
      return { name, ...(await fn()), ms: performance.now() - t0 };
    } catch (e) {
      return { name, ms: performance.now() - t0, status: -1, body: String(e) };
    }
  }

  const call = (name: string, node: Node, method: string, params: unknown) =>
    timed(name, () => node.api(method, params, 10_000));

  /** A pushgate.v1 login: its welcome (and, recovering, its recovery frame). */
  const jsonLogin = (name: string, node: Node, uid: string, recover?: Record<string, { epoch: string; offset: number }>) =>
    timed(name, async () => {
      const c = cluster.track(await JsonClient.connect(node));
      c.send(recover ? { type: "auth", uid, recover } : { type: "auth", uid });
      const frames: JsonFrame[] = [await c.next(undefined, 10_000)];
      if (recover) frames.push(await c.next(undefined, 10_000));
      return { status: 0, body: frames };
    });

  /** A seed login: the time to its reply (a push that reaches it first is skipped). */
  const seedLogin = (name: string, node: Node, uid: string) =>
    timed(name, async () => {
      const c = cluster.track(await TestClient.connect(node));
      c.send(uid);
      while ((await c.next(10_000)) !== `login success, your uid is ${uid}`);
      return { status: 0, body: null };
    });

  /** A pushgate.v1 send: the time to the reply carrying its id. */
  const jsonSend = (name: string, c: JsonClient, id: number, to: string, data: string) =>
    timed(name, async () => {
      const seen = c.received.length;
      c.send({ type: "send", id, to, data });
      const f = await until(() => c.received.slice(seen).find((f) => (f.type === "reply" || f.type === "error") && f.id === id), `reply ${id}`, 10_000, 10);
      return { status: 0, body: f };
    });

  /** Every probe answered within BOUND, and explicitly (its own check). */
  function expectBoundedAndExplicit(probes: Probe[], explicit: (p: Probe) => boolean): void {
    for (const p of probes) console.log(`[redis-hang]   ${p.name}: ${p.ms.toFixed(0)} ms ${p.status} ${JSON.stringify(p.body).slice(0, 160)}`);
    const slow = probes.filter((p) => p.status === -1 || p.ms >= BOUND).map((p) => `${p.name} (${p.ms.toFixed(0)} ms)`);
    expect(slow).toEqual([]);
    const vague = probes.filter((p) => !explicit(p)).map((p) => `${p.name}: ${p.status} ${JSON.stringify(p.body)}`);
    expect(vague).toEqual([]);
  }

  /** What each kind of call must answer while Redis hangs. */
  function explicitOutcome(p: Probe): boolean {
    const b = p.body;
    if (p.name.startsWith("push ")) {
      // 200 with the reason the push is not known to have reached everyone, and no uid called
      // offline: every target uid is connected (on A or on B).
      return p.status === 200 && EXPLICIT.includes(b?.result?.error?.code) && (b.result.offline ?? []).length === 0;
    }
    if (p.name.startsWith("ask ")) return [503, 504].includes(p.status) && EXPLICIT.includes(b?.error?.code);
    if (p.name.startsWith("login ")) {
      const [welcome, recovery] = b as JsonFrame[];
      return welcome?.type === "welcome" && (recovery === undefined || recovery.type === "recovery");
    }
    if (p.name.startsWith("seed login")) return p.status === 0;
    if (p.name.startsWith("v1 send")) return b?.type === "reply" && EXPLICIT.includes(b.error?.code);
    return false;
  }

  test("every API call and login during the hang is bounded and explicit; SIGCONT heals", async () => {
    // a1 (seed) and ja (pushgate.v1) on A; b1 (seed, in group g) and jb (pushgate.v1) on B.
    const a1 = await cluster.login(A, "a1");
    const b1 = await cluster.login(B, "b1");
    const { c: ja, welcome: jaWelcome } = await cluster.jsonLogin(A, "ja");
    const { c: jb, welcome: jbWelcome } = await cluster.jsonLogin(B, "jb");
    for (const uid of ["a1", "b1", "ja", "jb"]) await subscribed(redis, uidChannel(uid), 1);
    expect(await A.result("joinGroup", { uid: "b1", group: "g" })).toBe(1);
    const [b1Id] = (await A.result("getClientIdByUid", { uid: "b1" })) as string[];
    const [jbId] = (await A.result("getClientIdByUid", { uid: "jb" })) as string[];
    expect([b1Id!.slice(0, 8), jbId!.slice(0, 8)]).toEqual([B.nodeId, B.nodeId]);
    expect(await A.result("sendToUid", { uid: "jb", data: "before" })).toEqual({ reached: 1, offline: [] });
    expect((await jb.next("push")).data).toBe("before");
    const jbEpoch = jbWelcome.streams.find((s: any) => s.stream === "uid:jb").epoch as string;

    redis.pause();
    try {
      // --- 1. Sent while Redis hangs, before any node noticed: each waits one --cluster-timeout,
      // then answers "unknown" (E_CLUSTER_TIMEOUT) — Redis has the commands and may run them —
      // or, once the node has noticed, "not reached" (E_CLUSTER_UNAVAILABLE: not sent at all).
      const t0 = performance.now();
      const first = await Promise.all([
        call("push sendToUid local", A, "sendToUid", { uid: "a1", data: "hang-local" }),
        call("push sendToUid remote", A, "sendToUid", { uid: "jb", data: "hang-remote" }),
        call("push sendToUid local+remote", A, "sendToUid", { uid: ["a1", "b1"], data: "hang-both" }),
        call("push sendToGroup", A, "sendToGroup", { group: "g", data: "hang-group" }),
        call("push sendToAll", A, "sendToAll", { data: "hang-all" }),
        call("push sendToClient remote id", A, "sendToClient", { clientId: b1Id, data: "hang-direct" }),
        call("ask isUidOnline remote", A, "isUidOnline", { uid: "jb" }),
        call("ask getAllUidList", A, "getAllUidList", {}),
        call("ask getAllClientCount on B", B, "getAllClientCount", {}),
        call("ask getClientIdByUid remote", A, "getClientIdByUid", { uid: "b1" }),
        call("ask getUidListByGroup", A, "getUidListByGroup", { group: "g" }),
        call("ask joinGroup by uid", A, "joinGroup", { uid: "b1", group: "g2" }),
        call("ask isOnline remote id", A, "isOnline", { clientId: jbId }),
        call("ask getSession remote id", A, "getSession", { clientId: b1Id }),
        jsonLogin("login pushgate.v1 on A", A, "jnew"),
        jsonLogin("login pushgate.v1 on B", B, "jnew-b"),
        jsonLogin("login pushgate.v1 recovering on A", A, "ja", { "uid:ja": jaWelcome.streams[0] }),
        seedLogin("seed login on A", A, "sa"),
        jsonSend("v1 send to a remote uid", ja, 7, "uid:jb", "hang-send"),
      ]);
      console.log(`[redis-hang] 1. ${first.length} calls and logins in flight at SIGSTOP: all answered within ${(performance.now() - t0).toFixed(0)} ms`);
      expectBoundedAndExplicit(first, explicitOutcome);
      // A push Redis holds is unknown, never "not reached": it may still run.
      const local = first.find((p) => p.name === "push sendToUid local")!;
      expect(local.body.result).toMatchObject({ reached: 0, error: { code: "E_CLUSTER_TIMEOUT" } });

      // --- 2. Noticed: nothing more is sent to the hung Redis. Calls answer at once, pushes are
      // delivered on their own node only and say so, logins use the node's own history.
      await A.logs.nth("redis_not_answering", 1, 5000);
      await B.logs.nth("redis_not_answering", 1, 5000);
      expect(metricValue(await A.metrics(), "pushgate_redis_connected")).toBe(0);
      const t1 = performance.now();
      const second = await Promise.all([
        call("push sendToUid local", A, "sendToUid", { uid: "a1", data: "noticed-local" }),
        call("push sendToUid remote", A, "sendToUid", { uid: "jb", data: "noticed-remote" }),
        call("push sendToAll on B", B, "sendToAll", { data: "noticed-all-b" }),
        call("ask isUidOnline remote", A, "isUidOnline", { uid: "jb" }),
        call("ask getClientIdByUid remote", A, "getClientIdByUid", { uid: "jb" }),
        call("ask setSession remote id", A, "setSession", { clientId: jbId, session: { k: 1 } }),
        jsonLogin("login pushgate.v1 recovering on B", B, "jb", { "uid:jb": { epoch: jbEpoch, offset: 1 } }),
        seedLogin("seed login on B", B, "sb"),
        jsonSend("v1 send to a remote uid", ja, 8, "uid:jb", "noticed-send"),
      ]);
      console.log(`[redis-hang] 2. after the nodes noticed: ${second.length} calls and logins answered within ${(performance.now() - t1).toFixed(0)} ms`);
      expectBoundedAndExplicit(second, explicitOutcome);
      for (const p of second.filter((p) => p.name.startsWith("push ") || p.name.startsWith("ask "))) {
        const e = p.body.result?.error ?? p.body.error;
        expect({ name: p.name, code: e.code }).toEqual({ name: p.name, code: "E_CLUSTER_UNAVAILABLE" });
      }
      // Delivered on this node, now, and reported.
      expect(second[0]!.body.result.reached).toBe(1);
      await until(() => a1.received.includes("noticed-local"), "a1 to get noticed-local", 3000);
      const [, recovery] = second.find((p) => p.name === "login pushgate.v1 recovering on B")!.body as JsonFrame[];
      expect(recovery).toMatchObject({ complete: false, streams: [{ stream: "uid:jb", recovered: false }] });
    } finally {
      redis.resume();
    }

    // --- 3. SIGCONT: Redis runs what it had queued (once), and the nodes pick up by themselves.
    const t2 = performance.now();
    await A.logs.nth("redis_answering", 1, 10_000);
    await B.logs.nth("redis_answering", 1, 10_000);
    await until(async () => {
      const r = await A.result("sendToUid", { uid: "jb", data: "probe" });
      return r.reached === 2 && r.error === undefined; // jb and its reconnect of phase 2
    }, "a push from A to reach jb's two connections again", 10_000, 100);
    const deliveryMs = performance.now() - t2;
    // Presence is whole again, logins made during the hang included.
    await until(async () => (await A.result("isUidOnline", { uid: "jnew-b" })) === true, "jnew-b online as seen from A", 5000);
    expect([...(await A.result("getAllUidList")) as string[]].sort()).toEqual(["a1", "b1", "ja", "jb", "jnew", "jnew-b", "sa", "sb"]);
    expect(await B.result("sendToUid", { uid: ["sa", "jnew"], data: "to A's late logins" })).toEqual({ reached: 2, offline: [] });
    expect(await A.result("sendToUid", { uid: "sb", data: "to B's late login" })).toEqual({ reached: 1, offline: [] });
    console.log(`[redis-hang] 3. SIGCONT: cross-node delivery back after ${deliveryMs.toFixed(0)} ms`);

    // What Redis held ran once: the unknown pushes of phase 1 arrived, each exactly once (no
    // local copy was made of them), and the call A timed out on ran on B after all.
    await until(() => b1.received.includes("hang-direct") && b1.received.includes("hang-group"), "b1 to get the queued pushes", 5000);
    expect(["hang-local", "hang-both", "hang-all", "noticed-local"].map((m) => count(a1.received, m))).toEqual([1, 1, 1, 1]);
    expect(["hang-both", "hang-group", "hang-all", "hang-direct", "noticed-all-b"].map((m) => count(b1.received, m))).toEqual([1, 1, 1, 1, 1]);
    const jbData = pushes(jb).map((f) => f.data);
    expect(["hang-remote", "hang-send", "hang-all", "noticed-all-b"].map((m) => count(jbData, m))).toEqual([1, 1, 1, 1]);
    // What was answered "not reached" (phase 2) was not sent: it never arrives late.
    await Bun.sleep(200);
    expect(jbData.includes("noticed-remote") || jbData.includes("noticed-send")).toBe(false);
    expect(count(a1.received, "noticed-local")).toBe(1); // the local fallback is not sent again later
    // jb's stream stayed in Redis's epoch, in offset order, with nothing in between from elsewhere.
    const own = pushes(jb).filter((f) => f.stream === "uid:jb");
    expect(own.every((f) => f.epoch === jbEpoch)).toBe(true);
    expect(own.map((f) => f.offset)).toEqual(own.map((_, i) => i + 1));
    // The calls answered 503 had no effect: nothing was sent for them.
    expect(await A.result("getSession", { clientId: jbId })).toBeNull();
    expect(await A.result("getUidListByGroup", { group: "g2" })).toEqual([]);
  }, T);
});

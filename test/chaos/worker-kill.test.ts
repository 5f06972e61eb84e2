// Chaos: `--workers 3` (one supervisor, real processes, real Redis) under a steady API publish
// stream; one worker holding pushgate.v1 clients is SIGKILLed. The supervisor restarts it, its
// clients (the SDK, reconnecting) land on any worker and recover from Redis history: every push
// the API accepted during the whole run arrives at every client of its stream exactly once and in
// order — with history on, complete recovery, no gap.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cleanEnv, killIfOurs } from "../helpers.ts";
import { RedisServer, describeRedis } from "../redis-server.ts";
import { Logs, until } from "../cluster/nodes.ts";
import { TEST_SECRET, nowSeconds, signHS256 } from "../jwt-sign.ts";
import { Ledger, Receiver, audit, complete } from "./ledger.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;
const T = 30_000;
const PACE_MS = 10; // between API calls: a modest, bounded rate (one call in flight at a time)
const MIN_PER_WORKER = 2; // clients on each worker before the kill

describeRedis("chaos: a --workers 3 worker SIGKILLed under load", () => {
  let redis: RedisServer;
  let sup: ReturnType<typeof Bun.spawn> | null = null;
  const workerPids = new Set<number>();
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
  }, T);

  afterAll(async () => {
    for (const r of receivers) r.close();
    // Only what this file started: the supervisor, and the worker PIDs it logged.
    sup?.kill("SIGKILL");
    for (const pid of workerPids) killIfOurs(pid, MAIN); // never a reused PID
    await redis?.stop();
  }, T);

  test("the worker is restarted; its clients reconnect elsewhere and recover every accepted push", async () => {
    sup = Bun.spawn(["bun", MAIN, "--workers", "3", "--port", "0", "--host", "127.0.0.1", "--redis", redis.url,
      "--auth", "jwt", "--jwt-secret", TEST_SECRET, "--presence-ttl", "2s", "--cluster-timeout", "1s", "--drain-timeout", "1s"], {
      env: cleanEnv(), stdout: "pipe", stderr: "pipe",
    });
    const logs = new Logs(sup.stdout as ReadableStream<Uint8Array>);
    const hello = await logs.nth("supervisor_started", 1, 10_000);
    const pids = hello.pids as number[];
    for (const pid of pids) workerPids.add(pid);
    await logs.nth("listening", 3, 15_000);
    const port = hello.port as number;
    const base = `http://127.0.0.1:${port}`;

    // Clients until every worker holds MIN_PER_WORKER (the kernel picks the worker per
    // connection); each is in a group (from its token, so it is rejoined on every reconnect).
    const perNode = new Map<string, number>();
    // (Up to 60 tries: the kernel spreads connections over the workers unevenly.)
    for (let i = 0; i < 60 && (perNode.size < 3 || [...perNode.values()].some((n) => n < MIN_PER_WORKER)); i++) {
      const uid = `u${i}`;
      const group = `g${i % 2}`;
      const token = await signHS256({ sub: uid, groups: [group], exp: nowSeconds() + 3600 }, TEST_SECRET);
      const r = new Receiver(uid, [`uid:${uid}`, `group:${group}`, "all"], {
        // (Backoff with full jitter: a reconnect 0–1 s after the loss, so pushes are missed meanwhile.)
        url: `ws://127.0.0.1:${port}/`, token, reconnect: { minDelayMs: 1000, maxDelayMs: 2000 }, connectTimeoutMs: 5000,
      });
      receivers.push(r);
      await r.client.connect();
      perNode.set(r.node, (perNode.get(r.node) ?? 0) + 1);
    }
    expect(perNode.size).toBe(3);
    expect(Math.min(...perNode.values())).toBeGreaterThanOrEqual(MIN_PER_WORKER);
    const streams = [...new Set(receivers.flatMap((r) => r.streams))];

    // The publish stream: one API call at a time (so each stream's order is the API's), round
    // robin over every stream; `urgent` streams go first.
    const ledger = new Ledger();
    const urgent: string[] = [];
    let publishing = true;
    const publisher = (async () => {
      for (let i = 0; publishing; i++) {
        await ledger.push(base, urgent.shift() ?? streams[i % streams.length]!);
        await Bun.sleep(PACE_MS);
      }
    })();

    await Bun.sleep(1000);
    const victim = pids[0]!;
    process.kill(victim, "SIGKILL");
    // As soon as its clients notice, one push to each of their own streams: to be recovered.
    const lost = await until(() => { const l = receivers.filter((r) => r.disconnects > 0); return l.length > 0 && l; }, "a client to lose its worker", 5000, 5);
    urgent.push(...lost.map((r) => r.streams[0]!));
    const exited = await logs.nth("worker_exited", 1, 5000);
    expect(exited).toMatchObject({ pid: victim, signal: "SIGKILL", code: null });
    const restarted = await logs.nth("worker_restarted", 1, 5000);
    workerPids.add(restarted.pid as number);
    await logs.nth("listening", 4, 15_000);
    // The clients that were on it are the ones that lost their connection.
    const moved = await until(() => {
      const lost = receivers.filter((r) => r.disconnects > 0);
      return lost.length > 0 && lost.every((r) => r.client.state === "connected") && lost;
    }, "the killed worker's clients to be connected again", 10_000);
    const killedNode = moved[0]!.nodes[0]!;
    expect(moved.every((r) => r.nodes[0] === killedNode)).toBe(true);
    expect(moved).toHaveLength(perNode.get(killedNode)!);
    await Bun.sleep(1000); // pushes keep flowing to the reconnected clients
    publishing = false;
    await publisher;

    const mustArrive = (s: { outcome: string }) => s.outcome === "accepted";
    await until(() => complete(ledger, receivers, mustArrive), "every accepted push at every client of its stream", 10_000, 50)
      .catch(() => {}); // (the audit below says what is missing)
    const result = audit(ledger, receivers, mustArrive);
    const tally = ledger.tally();
    const delivered = receivers.reduce((a, r) => a + [...r.got.values()].reduce((b, l) => b + l.length, 0), 0);
    console.log(`[worker-kill] ${receivers.length} clients on 3 workers (${[...perNode.values()].join("/")}), ${moved.length} on the killed one, now on ${moved.map((r) => r.node === killedNode ? "?" : r.node).join(",")}`);
    const replayed = moved.map((r) => r.recoveries.at(-1)?.streams.reduce((a, s) => a + s.replayed, 0) ?? 0);
    console.log(`[worker-kill] pushes ${JSON.stringify(tally)}, ${delivered} deliveries, ${result.lostReported} not required; recoveries ${moved.map((r) => r.recoveries.map((f) => `${f.complete}/${f.streams.reduce((a, s) => a + s.replayed, 0)} replayed`).join(" ")).join(", ")}`);
    expect(result.missing).toEqual([]);
    expect(result.disorder).toEqual([]);
    expect(result.phantom).toEqual([]);
    expect(receivers.flatMap((r) => r.gaps)).toEqual([]);
    // Every moved client recovered completely, on a live worker.
    for (const r of moved) {
      expect(r.nodes.length).toBeGreaterThanOrEqual(2);
      expect(r.node).not.toBe(killedNode);
      expect(r.recoveries.at(-1)?.complete).toBe(true);
    }
    expect(replayed.reduce((a, b) => a + b, 0)).toBeGreaterThan(0); // recovery was exercised, not just reconnects
    expect(tally.accepted).toBeGreaterThan(50);
    // Redis was up all along: nothing refused. A push in flight as the worker died may have been
    // handed to it and never counted: that one is reported unknown (E_CLUSTER_TIMEOUT), truthfully.
    expect(tally.refused).toBe(0);
    const reported = [...ledger.sent.values()].flat().filter((e) => e.outcome === "reported");
    expect(reported.map((e) => e.result?.error?.code)).toEqual(reported.map(() => "E_CLUSTER_TIMEOUT"));
    expect(reported.length).toBeLessThanOrEqual(3);
  }, T);
});

// The cluster scenario's orchestration (called by run.ts): its own redis-server (--redis-shards N:
// N of them, the engine's shards), two pushgate nodes A and B joined through it, and two controls:
// one pushgate node without Redis, and two bare relay nodes (control-relay-server.ts) over a
// redis-server of their own, so each Redis's CPU counts one target only. Each round runs
// cluster-load-client.ts once against each (senders on A, receivers on B; on the single node
// both), rotating which goes first; pushgate's clients speak --protocol, the relay's always seed.
// Every process it starts is stopped by its pid at the end, also on error; on SIGINT run.ts stops them all.
import { runLoadProcess } from "../lib/load-results.ts";
import type { Params } from "../lib/params.ts";
import { type Child, Interrupted } from "../lib/processes.ts";
import { type ClusterName, type RoundResult, type SummaryRow, clusterMetrics, notes, summarize } from "../report/report.ts";
import { REDIS_BIN, type RedisUnderTest, startRedis, stopChild } from "../lib/redis.ts";
import type { ClusterLoadConfig, ClusterPhaseResult } from "./cluster-phases.ts";
import { HOST, type ServerUnderTest, startPushgate, startRelay } from "../lib/servers.ts";

/** What the three columns mean in the cluster rows. */
export const CLUSTER_NAMES: Record<ClusterName, string> = { pushgate: "cluster A+B", control: "single node", relay: "relay A+B" };
/** Round r runs them in this order rotated by r - 1, so none always goes first. */
const ORDER: readonly ClusterName[] = ["control", "relay", "pushgate"];

export interface ClusterOutcome {
  /** Why the scenario did not run (no redis-server), else null. */
  skipped: string | null;
  /** A failure that ended the scenario early (the rounds so far are kept), else null. */
  error: string | null;
  /** The pushgate cluster's Redis (its first shard with --redis-shards N). */
  redis: { version: string | null; port: number; pid: number } | null;
  /** Every shard of the pushgate cluster's engine tier, in the nodes' --redis order. */
  redisShards: { version: string | null; port: number; pid: number }[];
  /** The relay control's own redis-server. */
  relayRedis: { version: string | null; port: number; pid: number } | null;
  nodes: Record<string, { port: number; pid: number }>;
  /** The load of one round against the cluster (the single node gets the same, on one port). */
  config: ClusterLoadConfig | null;
  rounds: RoundResult[];
  summary: SummaryRow[];
  notes: string[];
}

/** `redis`: the target's Redis servers (the cluster's shards, the relay's one, none for the single node). */
interface Target { name: ClusterName; senderPort: number; receiverPort: number; servers: Child[]; redis: RedisUnderTest[] }

function loadConfig(p: Params, t: Target, warmup: boolean): ClusterLoadConfig {
  const clients = warmup ? Math.min(p.clients, 100) : p.clients;
  const senders = Math.max(1, Math.floor(clients / 2));
  return {
    host: HOST, senderPort: t.senderPort, receiverPort: t.receiverPort,
    serverPids: t.servers.map((c) => c.proc.pid), redisUrls: t.redis.map((x) => x.url),
    // The relay speaks only the seed protocol.
    protocol: t.name === "relay" ? "seed" : p.protocol,
    senders, receivers: Math.max(1, clients - senders), sources: p.sources,
    connectConcurrency: 64,
    connectTimeoutMs: Math.min(120_000, 10_000 + clients * 5),
    subscribeTimeoutMs: 10_000,
    targeted: warmup ? { ...p.cluster.targeted, seconds: 0.5, drainMs: 1000 } : p.cluster.targeted,
    throughput: warmup ? { ...p.cluster.throughput, messages: Math.min(p.cluster.throughput.messages, 1000) } : p.cluster.throughput,
  };
}

/** Every bound inside the load client, plus a margin: past this it is killed. */
function hardTimeoutMs(c: ClusterLoadConfig): number {
  // 5_000: the RSS samples around the logins (~2.2 s).
  return c.connectTimeoutMs + c.subscribeTimeoutMs + 5_000 + c.targeted.seconds * 1500 + c.targeted.drainMs + c.throughput.timeoutMs + 15_000;
}

function runLoad(root: string, c: ClusterLoadConfig, label: string): Promise<{ results: ClusterPhaseResult[]; error: string | null }> {
  return runLoadProcess<ClusterPhaseResult>(root, `cluster load client (${label})`, "bench/clients/cluster-load-client.ts", c, hardTimeoutMs(c), "load client");
}

function checkAlive(t: Target): string | null {
  for (const c of [...t.servers, ...t.redis.map((x) => x.child)]) {
    const p = c.proc;
    if (p.exitCode !== null || p.signalCode !== null) return `${c.name} exited (${p.exitCode ?? p.signalCode}): ${c.tail().trim().slice(-500)}`;
  }
  return null;
}

/** A command absent from one phase's delta ran 0 times there: say so, so medians count it (both Redis targets). */
function fillRedisZeros(rounds: readonly RoundResult[]): void {
  const phases = rounds.flatMap((r) => [...(r.results.pushgate ?? []), ...(r.results.relay ?? [])]).filter((x) => typeof x.redisCalls === "string");
  const keys = new Set(phases.flatMap((x) => Object.keys(x).filter((k) => k.startsWith("redis."))));
  for (const x of phases) for (const k of keys) x[k] ??= 0;
}

export async function runCluster(p: Params, root: string): Promise<ClusterOutcome> {
  const out: ClusterOutcome = {
    skipped: null, error: null, redis: null, redisShards: [], relayRedis: null, nodes: {}, config: null, rounds: [], summary: [], notes: [],
  };
  if (!REDIS_BIN) {
    out.skipped = "redis-server is not on PATH (apt-get install redis-server)";
    console.log(`cluster scenario skipped: ${out.skipped}`);
    return out;
  }
  const started: Child[] = [];
  try {
    const n = p.cluster.redisShards;
    // Each one pushed as soon as it is up, so a failure to start another still stops it.
    const startTracked = async (label: string) => {
      const x = await startRedis(root, label);
      started.push(x.child);
      return x;
    };
    const [relayRedis, shards] = await Promise.all([
      startTracked("redis-server (relay)"),
      Promise.all(Array.from({ length: n }, (_, i) => startTracked(n === 1 ? "redis-server" : `redis-server (shard ${i})`))),
    ]);
    const redis = shards[0]!;
    const info = (x: RedisUnderTest) => ({ version: x.version, port: x.port, pid: x.child.proc.pid });
    out.redis = info(redis);
    out.redisShards = shards.map(info);
    out.relayRedis = info(relayRedis);
    const redisArg = shards.map((x) => x.url).join(",");
    const track = async (s: Promise<ServerUnderTest>, key: string) => {
      const srv = await s;
      started.push(srv.child);
      out.nodes[key] = { port: srv.port, pid: srv.child.proc.pid };
      return srv;
    };
    const [a, b, single, ra, rb] = await Promise.all([
      track(startPushgate(root, ["--redis", redisArg], "pushgate node A"), "A"),
      track(startPushgate(root, ["--redis", redisArg], "pushgate node B"), "B"),
      track(startPushgate(root, [], "pushgate single node"), "single"),
      track(startRelay(root, relayRedis.url, "relay node A"), "relayA"),
      track(startRelay(root, relayRedis.url, "relay node B"), "relayB"),
    ]);
    console.log(`cluster: redis ${redis.version ?? "?"} ${shards.map((x) => `:${x.port} (pid ${x.child.proc.pid})`).join(", ")}` +
      `${n > 1 ? ` (${n} shards)` : ""}${p.protocol === "json" ? ", pushgate's clients on pushgate.v1" : ""}, node A :${a.port} (pid ${a.child.proc.pid}), ` +
      `node B :${b.port} (pid ${b.child.proc.pid}), single node :${single.port} (pid ${single.child.proc.pid}); ` +
      `relay redis :${relayRedis.port} (pid ${relayRedis.child.proc.pid}), relay A :${ra.port} (pid ${ra.child.proc.pid}), relay B :${rb.port} (pid ${rb.child.proc.pid})`);
    const targets: Record<ClusterName, Target> = {
      pushgate: { name: "pushgate", senderPort: a.port, receiverPort: b.port, servers: [a.child, b.child], redis: shards },
      control: { name: "control", senderPort: single.port, receiverPort: single.port, servers: [single.child], redis: [] },
      relay: { name: "relay", senderPort: ra.port, receiverPort: rb.port, servers: [ra.child, rb.child], redis: [relayRedis] },
    };
    out.config = loadConfig(p, targets.pushgate, false);

    console.log("cluster warm-up (results discarded)");
    for (const name of ORDER) {
      await runLoad(root, loadConfig(p, targets[name], true), `${CLUSTER_NAMES[name]} warm-up`);
      const dead = checkAlive(targets[name]);
      if (dead) throw new Error(dead);
    }
    for (let r = 1; r <= p.rounds; r++) {
      const order = ORDER.map((_, i) => ORDER[(i + r - 1) % ORDER.length]!);
      const round: RoundResult = {
        round: r, order, results: { pushgate: [], control: [], relay: [] }, errors: { pushgate: null, control: null, relay: null },
      };
      for (const name of order) {
        console.log(`cluster round ${r}/${p.rounds}: ${CLUSTER_NAMES[name]}`);
        const res = await runLoad(root, loadConfig(p, targets[name], false), CLUSTER_NAMES[name]);
        round.results[name] = res.results;
        round.errors[name] = checkAlive(targets[name]) ?? res.error;
      }
      out.rounds.push(round);
      const dead = checkAlive(targets.pushgate) ?? checkAlive(targets.control) ?? checkAlive(targets.relay);
      if (dead) throw new Error(dead);
    }
  } catch (e) {
    if (e instanceof Interrupted) throw e;
    out.error = (e as Error).message;
  } finally {
    // Nodes first, so they do not spend the shutdown reconnecting to a stopped Redis.
    await Promise.all(started.filter((c) => !c.name.startsWith("redis-server")).map(stopChild));
    await Promise.all(started.map(stopChild));
  }
  fillRedisZeros(out.rounds);
  out.summary = summarize(out.rounds, clusterMetrics(out.rounds));
  out.notes = [...setupNotes(p), ...notes(out.rounds, "cluster ", CLUSTER_NAMES)];
  if (out.error) out.notes.unshift(`cluster scenario stopped early: ${out.error}`);
  return out;
}

/** What differs from the default set-up, so a reader of the table knows what the columns ran. */
function setupNotes(p: Params): string[] {
  const out: string[] = [];
  if (p.protocol === "json") {
    out.push("cluster: pushgate's clients (cluster A+B and the single node) speak pushgate.v1 (auth/welcome, send with a reply, " +
      "push envelopes; every push to a receiver is placed in history, as v1 readers observe their streams); the relay stays on seed");
  }
  if (p.cluster.redisShards > 1) {
    out.push(`cluster: pushgate's engine tier is ${p.cluster.redisShards} redis-servers (--redis with ${p.cluster.redisShards} URLs on both nodes; ` +
      "redisCpuUsPerMsg is their sum, redisCpuUsPerMsg.shard<i> each one's); the relay keeps one Redis");
  }
  return out;
}

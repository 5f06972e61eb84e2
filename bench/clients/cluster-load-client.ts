// The cluster scenario's load generator, run by cluster.ts as its own process:
//   bun bench/clients/cluster-load-client.ts '<ClusterLoadConfig JSON>'
// Logs senders in on one node and receivers on another (or both on the single-node control),
// seed or pushgate.v1 (cfg.protocol), waits until Redis routes every receiver's uid (on the shard
// that holds its stream; the servers' CPU and RSS around that setup are its cost per login),
// then runs the cross-node targeted and throughput phases. Around each
// phase it reads every shard's Redis INFO counters (commandstats, stats, cpu). Prints
// `RESULT <json>` per phase on stdout (progress on stderr) and exits.
import { RedisClient } from "bun";
import { markerKey, streamChannel } from "../../src/engine/redis/keys.ts";
import { shardOf } from "../../src/engine/redis/shard-of.ts";
import { uidTopic } from "../../src/core/topics.ts";
import { printResult, readConfig } from "./load-process.ts";
import { closePool, loginClient, loginEach } from "../lib/client-pool.ts";
import { type RedisCounters, counterDelta, readCounters } from "../lib/redis.ts";
import {
  type ClusterLoadConfig, type ClusterPhaseResult, cpuOf, rssOf, runCrossTargeted, runCrossThroughput, setupCost,
} from "../scenarios/cluster-phases.ts";
import type { WsConn } from "../lib/ws-client.ts";

const cfg = readConfig<ClusterLoadConfig>("bench/clients/cluster-load-client.ts", "ClusterLoadConfig", "cluster.ts");
const progress = (msg: string) => process.stderr.write(`  [cluster load ${cfg.senderPort}->${cfg.receiverPort}] ${msg}\n`);

const report = (r: ClusterPhaseResult, conns: readonly WsConn[]): void => printResult(r, conns);

/** Opens and logs in one client per uid on `port` (bounded concurrency, one deadline). */
async function openClients(port: number, uids: readonly string[], deadlineAt: number): Promise<{ conns: WsConn[]; errors: string[] }> {
  const run = await loginEach(uids.length, cfg.connectConcurrency, deadlineAt,
    (i) => loginClient(uids[i]!, { host: cfg.host, port, localAddress: `127.0.0.${1 + (i % cfg.sources)}`, json: cfg.protocol === "json" }, 5000));
  if (run.attempted < uids.length) run.errors.add(`connect deadline passed after ${run.attempted} of ${uids.length}`);
  return { conns: run.conns, errors: [...run.errors] };
}

/** The receivers' streams grouped by the shard that holds them (the nodes' own placement, shard-of.ts). */
function byShard(streams: readonly string[], shards: number): string[][] {
  const out = Array.from({ length: shards }, () => [] as string[]);
  for (const s of streams) out[shardOf(s, shards)]!.push(s);
  return out;
}

/**
 * Polls PUBSUB NUMSUB on each stream's shard until every stream's channel has a subscriber;
 * returns the ms waited, or null at the deadline. (A channel subscribed on another shard than
 * its stream's would never see the stream's pushes, so it does not count.)
 */
async function waitSubscribed(shards: readonly RedisClient[], streams: readonly string[], timeoutMs: number): Promise<number | null> {
  const t0 = performance.now();
  let pending = byShard(streams, shards.length);
  while (pending.some((x) => x.length > 0)) {
    pending = await Promise.all(pending.map(async (mine, i) => {
      const still: string[] = [];
      for (let k = 0; k < mine.length; k += 500) {
        const chunk = mine.slice(k, k + 500);
        const r = (await shards[i]!.send("PUBSUB", ["NUMSUB", ...chunk.map(streamChannel)])) as Array<string | number>;
        chunk.forEach((s, j) => { if (Number(r[2 * j + 1]) < 1) still.push(s); });
      }
      return still;
    }));
    if (pending.every((x) => x.length === 0)) break;
    if (performance.now() - t0 > timeoutMs) return null;
    await Bun.sleep(10);
  }
  return performance.now() - t0;
}

/** How many of the streams are marked observed (a pushgate.v1 reader holds them: pushes go to history), on their shards. */
async function countMarked(shards: readonly RedisClient[], streams: readonly string[]): Promise<number> {
  let n = 0;
  const groups = byShard(streams, shards.length);
  for (let i = 0; i < groups.length; i++) {
    for (let k = 0; k < groups[i]!.length; k += 500) {
      n += Number(await shards[i]!.send("EXISTS", groups[i]!.slice(k, k + 500).map(markerKey)));
    }
  }
  return n;
}

/**
 * Redis commands per message of one phase, flat for the report (null without Redis): calls and
 * CPU summed over the shards, and with several shards each one's CPU and calls per message too
 * (`redisCpuUsPerMsg.shard<i>`, `redisCmdsPerMsg.shard<i>`).
 */
function redisFields(before: (RedisCounters | null)[] | null, after: (RedisCounters | null)[] | null, sent: number): Record<string, number | string | null> {
  const nul = { redisCmdsPerMsg: null, redisTotalCommandsPerMsg: null, redisCpuUsPerMsg: null };
  if (!before || !after || sent === 0 || before.some((x) => !x) || after.some((x) => !x)) return nul;
  const calls: Record<string, number> = {};
  let totalCommands = 0;
  let cpuMs = 0;
  const perShard: Record<string, number> = {};
  before.forEach((b, i) => {
    const d = counterDelta(b!, after[i]!);
    const own = d.calls.info ?? 0; // this client's INFO reads
    delete d.calls.info;
    for (const [cmd, n] of Object.entries(d.calls)) calls[cmd] = (calls[cmd] ?? 0) + n;
    totalCommands += d.totalCommands - own;
    cpuMs += d.cpuMs;
    if (before.length > 1) {
      perShard[`redisCpuUsPerMsg.shard${i}`] = (d.cpuMs * 1000) / sent;
      perShard[`redisCmdsPerMsg.shard${i}`] = Object.values(d.calls).reduce((a, x) => a + x, 0) / sent;
    }
  });
  const out: Record<string, number | string | null> = {
    redisCalls: JSON.stringify(calls),
    redisCmdsPerMsg: Object.values(calls).reduce((a, b) => a + b, 0) / sent,
    redisTotalCommandsPerMsg: totalCommands / sent,
    redisCpuUsPerMsg: (cpuMs * 1000) / sent,
    ...perShard,
  };
  for (const [cmd, n] of Object.entries(calls)) out[`redis.${cmd}`] = n / sent;
  return out;
}

// Before any connect: the servers' RSS (least of 5 samples, ~1 s) and CPU, as capacity.ts reads them.
const rss0 = await rssOf(cfg.serverPids, 5);
const cpu0 = cpuOf(cfg.serverPids);
const t0 = performance.now();
const deadlineAt = t0 + cfg.connectTimeoutMs;
const senderUids = Array.from({ length: cfg.senders }, (_, i) => `u${i}`);
const receiverUids = Array.from({ length: cfg.receivers }, (_, i) => `u${cfg.senders + i}`);
const [s, r] = await Promise.all([openClients(cfg.senderPort, senderUids, deadlineAt), openClients(cfg.receiverPort, receiverUids, deadlineAt)]);
const loginMs = performance.now() - t0;
const all = [...s.conns, ...r.conns];
const redis = cfg.redisUrls.map((url) => new RedisClient(url, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: 2000 }));
const receiverStreams = r.conns.map((c) => uidTopic(c.uid));
let subscribeWaitMs: number | null = null;
let observedMarks: number | null = null;
let setupError: string | null = [...s.errors, ...r.errors].join("; ") || null;
if (redis.length > 0) {
  try {
    await Promise.all(redis.map((c) => c.connect()));
    subscribeWaitMs = await waitSubscribed(redis, receiverStreams, cfg.subscribeTimeoutMs);
    if (subscribeWaitMs === null) setupError = `${setupError ? setupError + "; " : ""}receiver channels not all subscribed in Redis within ${cfg.subscribeTimeoutMs} ms`;
    // v1 logins mark their streams observed (login.lua), so every push to them is placed in history.
    if (cfg.protocol === "json") observedMarks = await countMarked(redis, receiverStreams);
  } catch (e) {
    setupError = `${setupError ? setupError + "; " : ""}redis: ${(e as Error).message}`;
  }
}
// Up to here, so the cluster's subscriptions made after a seed login's reply count as login work too.
const cpu1 = cpuOf(cfg.serverPids);
await Bun.sleep(200); // let the servers settle
const rss1 = await rssOf(cfg.serverPids, 6);
progress(`${s.conns.length}/${cfg.senders} senders, ${r.conns.length}/${cfg.receivers} receivers in ${Math.round(loginMs)} ms` +
  (subscribeWaitMs !== null ? `, receiver channels subscribed ${Math.round(subscribeWaitMs)} ms later` : "") +
  (observedMarks !== null ? `, ${observedMarks}/${r.conns.length} receiver streams marked observed` : "") +
  (setupError ? `; errors: ${setupError}` : ""));
report({
  phase: "cluster-setup", requested: cfg.senders + cfg.receivers, loggedIn: all.length,
  senders: s.conns.length, receivers: r.conns.length, loginMs,
  loginsPerSec: all.length / (loginMs / 1000), subscribeWaitMs, redisShards: redis.length, observedMarks, errors: setupError,
  ...setupCost(cpu0, cpu1, rss0, rss1, all.length),
}, all);

/** Every shard's counters (null without Redis); a shard that cannot be read is null. */
const counters = async (): Promise<(RedisCounters | null)[] | null> =>
  redis.length === 0 ? null : Promise.all(redis.map((c) => (c.connected ? readCounters(c).catch(() => null) : null)));

if (s.conns.length > 0 && r.conns.length > 0 && (subscribeWaitMs !== null || redis.length === 0)) {
  let before = await counters();
  const t = await runCrossTargeted(s.conns, r.conns, cfg.targeted, cfg.serverPids);
  Object.assign(t, redisFields(before, await counters(), Number(t.sent)));
  progress(`targeted: ${t.delivered}/${t.sent} delivered, p99 ${Number(t.latencyP99Ms).toFixed(2)} ms` + (t.timedOut ? ` (${t.timedOut})` : ""));
  report(t, all);
  await Bun.sleep(300); // stragglers must not land in the next phase
  before = await counters();
  const h = await runCrossThroughput(s.conns, r.conns, cfg.throughput, cfg.serverPids);
  Object.assign(h, redisFields(before, await counters(), Number(h.sent)));
  progress(`throughput: ${h.delivered}/${h.sent} delivered, ${Math.round(Number(h.pushesPerSec))} pushes/s` + (h.timedOut ? ` (${h.timedOut})` : ""));
  report(h, all);
} else {
  progress("no senders, no receivers or receivers not routable; phases skipped");
}
for (const c of redis) c.close();
await closePool(all, 2000);
process.exit(0);

// The cluster scenario's load generator, run by cluster.ts as its own process:
//   bun bench/clients/cluster-load-client.ts '<ClusterLoadConfig JSON>'
// Logs senders in on one node and receivers on another (or both on the single-node control),
// waits until Redis routes every receiver's uid, then runs the cross-node targeted and throughput
// phases. Around each phase it reads Redis INFO counters (commandstats, stats, cpu). Prints
// `RESULT <json>` per phase on stdout (progress on stderr) and exits.
import { RedisClient } from "bun";
import { streamChannel } from "../../src/engine/redis/keys.ts";
import { uidTopic } from "../../src/core/topics.ts";
import { printResult, readConfig } from "./load-process.ts";
import { closePool, loginClient, loginEach } from "../lib/client-pool.ts";
import { type RedisCounters, counterDelta, readCounters } from "../lib/redis.ts";
import {
  type ClusterLoadConfig, type ClusterPhaseResult, runCrossTargeted, runCrossThroughput,
} from "../scenarios/cluster-phases.ts";
import type { WsConn } from "../lib/ws-client.ts";

const cfg = readConfig<ClusterLoadConfig>("bench/clients/cluster-load-client.ts", "ClusterLoadConfig", "cluster.ts");
const progress = (msg: string) => process.stderr.write(`  [cluster load ${cfg.senderPort}->${cfg.receiverPort}] ${msg}\n`);

const report = (r: ClusterPhaseResult, conns: readonly WsConn[]): void => printResult(r, conns);

/** Opens and logs in one client per uid on `port` (bounded concurrency, one deadline). */
async function openClients(port: number, uids: readonly string[], deadlineAt: number): Promise<{ conns: WsConn[]; errors: string[] }> {
  const run = await loginEach(uids.length, cfg.connectConcurrency, deadlineAt,
    (i) => loginClient(uids[i]!, { host: cfg.host, port, localAddress: `127.0.0.${1 + (i % cfg.sources)}` }, 5000));
  if (run.attempted < uids.length) run.errors.add(`connect deadline passed after ${run.attempted} of ${uids.length}`);
  return { conns: run.conns, errors: [...run.errors] };
}

/** Polls PUBSUB NUMSUB until every channel has a subscriber; returns the ms waited, or null at the deadline. */
async function waitSubscribed(redis: RedisClient, channels: readonly string[], timeoutMs: number): Promise<number | null> {
  const t0 = performance.now();
  let pending = [...channels];
  while (pending.length > 0) {
    const still: string[] = [];
    for (let i = 0; i < pending.length; i += 500) {
      const chunk = pending.slice(i, i + 500);
      const r = (await redis.send("PUBSUB", ["NUMSUB", ...chunk])) as Array<string | number>;
      for (let k = 0; k + 1 < r.length; k += 2) if (Number(r[k + 1]) < 1) still.push(String(r[k]));
    }
    pending = still;
    if (pending.length === 0) break;
    if (performance.now() - t0 > timeoutMs) return null;
    await Bun.sleep(10);
  }
  return performance.now() - t0;
}

/** Redis commands per message of one phase, flat for the report (null without Redis). */
function redisFields(before: RedisCounters | null, after: RedisCounters | null, sent: number): Record<string, number | string | null> {
  if (!before || !after || sent === 0) return { redisCmdsPerMsg: null, redisTotalCommandsPerMsg: null, redisCpuUsPerMsg: null };
  const d = counterDelta(before, after);
  const own = d.calls.info ?? 0; // this client's INFO reads
  delete d.calls.info;
  const calls = Object.values(d.calls).reduce((a, b) => a + b, 0);
  const out: Record<string, number | string | null> = {
    redisCalls: JSON.stringify(d.calls),
    redisCmdsPerMsg: calls / sent,
    redisTotalCommandsPerMsg: (d.totalCommands - own) / sent,
    redisCpuUsPerMsg: (d.cpuMs * 1000) / sent,
  };
  for (const [cmd, n] of Object.entries(d.calls)) out[`redis.${cmd}`] = n / sent;
  return out;
}

const t0 = performance.now();
const deadlineAt = t0 + cfg.connectTimeoutMs;
const senderUids = Array.from({ length: cfg.senders }, (_, i) => `u${i}`);
const receiverUids = Array.from({ length: cfg.receivers }, (_, i) => `u${cfg.senders + i}`);
const [s, r] = await Promise.all([openClients(cfg.senderPort, senderUids, deadlineAt), openClients(cfg.receiverPort, receiverUids, deadlineAt)]);
const loginMs = performance.now() - t0;
const all = [...s.conns, ...r.conns];
const redis = cfg.redisUrl ? new RedisClient(cfg.redisUrl, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: 2000 }) : null;
let subscribeWaitMs: number | null = null;
let setupError: string | null = [...s.errors, ...r.errors].join("; ") || null;
if (redis) {
  try {
    await redis.connect();
    subscribeWaitMs = await waitSubscribed(redis, r.conns.map((c) => streamChannel(uidTopic(c.uid))), cfg.subscribeTimeoutMs);
    if (subscribeWaitMs === null) setupError = `${setupError ? setupError + "; " : ""}receiver channels not all subscribed in Redis within ${cfg.subscribeTimeoutMs} ms`;
  } catch (e) {
    setupError = `${setupError ? setupError + "; " : ""}redis: ${(e as Error).message}`;
  }
}
await Bun.sleep(200); // let the servers settle
progress(`${s.conns.length}/${cfg.senders} senders, ${r.conns.length}/${cfg.receivers} receivers in ${Math.round(loginMs)} ms` +
  (subscribeWaitMs !== null ? `, receiver channels subscribed ${Math.round(subscribeWaitMs)} ms later` : "") +
  (setupError ? `; errors: ${setupError}` : ""));
report({
  phase: "cluster-setup", requested: cfg.senders + cfg.receivers, loggedIn: all.length,
  senders: s.conns.length, receivers: r.conns.length, loginMs,
  loginsPerSec: all.length / (loginMs / 1000), subscribeWaitMs, errors: setupError,
}, all);

const counters = async (): Promise<RedisCounters | null> => (redis?.connected ? readCounters(redis).catch(() => null) : null);

if (s.conns.length > 0 && r.conns.length > 0 && (subscribeWaitMs !== null || !redis)) {
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
redis?.close();
await closePool(all, 2000);
process.exit(0);

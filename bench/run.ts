// `bun run bench [standalone|cluster ...] [--quick] [--clients N] [--rounds N]`: starts pushgate
// and the bare Bun.serve control, drives each with the same load from a separate client process,
// then (cluster.ts) two pushgate nodes over Redis vs one node and a bare Bun + Redis relay; prints one table and saves
// bench/results/latest.json (+ runs/<timestamp>.json) and one SVG chart per scenario group (report/svg.ts). See bench/README.md.
import os from "node:os";
import { join, relative } from "node:path";
import type { ApiLoadConfig } from "./clients/api-client.ts";
import { runCapacity } from "./scenarios/capacity.ts";
import { CLUSTER_NAMES, type ClusterOutcome, runCluster } from "./scenarios/cluster.ts";
import { type Params, USAGE, parseParams } from "./lib/params.ts";
import { type ScaleOutcome, runScale } from "./scenarios/scale.ts";
import { runSoak } from "./scenarios/soak.ts";
import { runAdversarialScenario } from "./scenarios/adversarial.ts";
import { runHooksScenario } from "./scenarios/hooks.ts";
import { runPresenceScenario } from "./scenarios/presence.ts";
import { runLoadProcess } from "./lib/load-results.ts";
import { Interrupted, stopAll } from "./lib/processes.ts";
import {
  API_METRICS, CAPACITY_METRICS, SCALE_METRICS, type CapacityName, type RoundResult, type ServerName, type SummaryRow, machineInfo, notes, renderTable, save, summarize,
} from "./report/report.ts";
import { stopChild } from "./lib/redis.ts";
import { writeCharts } from "./report/svg.ts";
import { HOST, type ServerUnderTest, startControl, startPushgate } from "./lib/servers.ts";
import type { LoadConfig, PhaseResult } from "./lib/types.ts";

const ROOT = join(import.meta.dir, "..");

function loadConfig(p: Params, s: ServerUnderTest, warmup: boolean): LoadConfig {
  return {
    host: HOST, port: s.port, serverPid: s.child.proc.pid, sources: p.sources,
    clients: warmup ? Math.min(p.clients, 100) : p.clients,
    connectConcurrency: 64,
    connectTimeoutMs: Math.min(120_000, 10_000 + p.clients * 5),
    broadcast: warmup ? { ...p.broadcast, messages: Math.min(p.broadcast.messages, 200) } : p.broadcast,
    targeted: warmup ? { ...p.targeted, seconds: 0.5, drainMs: 500 } : p.targeted,
    // The controls speak only the seed protocol.
    protocol: s.name === "pushgate" ? p.protocol : "seed",
  };
}

/** Every bound inside the load client, plus a margin: past this it is killed. */
function hardTimeoutMs(c: LoadConfig): number {
  return c.connectTimeoutMs + c.broadcast.timeoutMs + 30_000 + c.targeted.seconds * 1500 + c.targeted.drainMs + 15_000; // 30 s: the quiet wait after broadcast
}

function runLoad(c: LoadConfig, label: string): Promise<{ results: PhaseResult[]; error: string | null }> {
  return runLoadProcess<PhaseResult>(ROOT, `load client (${label})`, "bench/clients/load-client.ts", c, hardTimeoutMs(c), "load client");
}

function checkAlive(s: ServerUnderTest): string | null {
  const p = s.child.proc;
  return p.exitCode === null && p.signalCode === null
    ? null : `${s.name} server exited (${p.exitCode ?? p.signalCode}): ${s.child.tail().trim().slice(-500)}`;
}

const SERVER_ORDER: readonly ServerName[] = ["control", "map", "pushgate"];

/** The servers' order in round r (1-based) rotates, so none always goes first. */
export function rotate<T>(xs: readonly T[], k: number): T[] {
  const n = k % xs.length;
  return [...xs.slice(n), ...xs.slice(0, n)];
}

/** pushgate vs the bare control: setup, broadcast, targeted. */
async function standalone(p: Params): Promise<RoundResult[]> {
  const [pushgate, control, map] = await Promise.all([startPushgate(ROOT), startControl(ROOT), startControl(ROOT, "map")]);
  const servers: Record<ServerName, ServerUnderTest> = { pushgate, control, map };
  console.log(`servers: pushgate :${pushgate.port} (pid ${pushgate.child.proc.pid}), control :${control.port} (pid ${control.child.proc.pid}), ` +
    `map :${map.port} (pid ${map.child.proc.pid})`);

  console.log("warm-up (results discarded)");
  for (const s of [control, map, pushgate]) await runLoad(loadConfig(p, s, true), `${s.name} warm-up`);

  const rounds: RoundResult[] = [];
  for (let r = 1; r <= p.rounds; r++) {
    const order = rotate(SERVER_ORDER, r - 1);
    const round: RoundResult = { round: r, order, results: {}, errors: {} };
    for (const name of order) {
      const s = servers[name];
      console.log(`round ${r}/${p.rounds}: ${name}`);
      const out = await runLoad(loadConfig(p, s, false), name);
      round.results[name] = out.results;
      round.errors[name] = checkAlive(s) ?? out.error;
    }
    rounds.push(round);
  }
  // Idle servers must not share the machine with the cluster scenario.
  await Promise.all([pushgate.child, control.child, map.child].map(stopChild));
  return rounds;
}

/**
 * HTTP pushes: pushgate's API vs the bare control answering the same request shapes with a bare
 * JSON parse and publish (control-seed-server.ts). Fresh servers, order alternating per round.
 */
async function api(p: Params): Promise<RoundResult[]> {
  const [pushgate, control] = await Promise.all([startPushgate(ROOT), startControl(ROOT)]);
  const servers: Partial<Record<ServerName, ServerUnderTest>> = { pushgate, control };
  console.log(`api: pushgate :${pushgate.port} (pid ${pushgate.child.proc.pid}), control :${control.port} (pid ${control.child.proc.pid}), ${p.api.receivers} receivers`);
  const rounds: RoundResult[] = [];
  try {
    const cfg = (s: ServerUnderTest, warmup: boolean): ApiLoadConfig => ({
      host: HOST, port: s.port, serverPid: s.child.proc.pid, sources: p.sources, connectTimeoutMs: 30_000,
      api: warmup ? { ...p.api, single: { ...p.api.single, seconds: 0.3 }, batch: { ...p.api.batch, seconds: 0.3 } } : p.api,
    });
    const run = (c: ApiLoadConfig, label: string) => {
      const limit = c.connectTimeoutMs + (c.api.single.seconds * 1.5 + c.api.batch.seconds) * 1000 + c.api.single.drainMs * 2 + c.api.batch.drainMs + 15_000;
      return runLoadProcess<PhaseResult>(ROOT, `api client (${label})`, "bench/clients/api-client.ts", c, limit, "api client");
    };
    console.log("api warm-up (results discarded)");
    for (const s of [control, pushgate]) await run(cfg(s, true), `${s.name} warm-up`);
    for (let r = 1; r <= p.capacity.rounds; r++) {
      const order: ServerName[] = r % 2 === 1 ? ["control", "pushgate"] : ["pushgate", "control"];
      const round: RoundResult = { round: r, order, results: {}, errors: {} };
      for (const name of order) {
        const s = servers[name]!;
        console.log(`api round ${r}/${p.capacity.rounds}: ${name}`);
        const out = await run(cfg(s, false), `${name} round ${r}`);
        round.results[name] = out.results;
        round.errors[name] = checkAlive(s) ?? out.error;
      }
      rounds.push(round);
    }
  } finally {
    await Promise.all([stopChild(pushgate.child), stopChild(control.child)]);
  }
  return rounds;
}

async function main(p: Params): Promise<void> {
  // The soak runs alone (params.ts) and saves its own latest-soak.json, leaving latest.json to the comparisons.
  if (p.scenarios.includes("soak")) return runSoak(p, ROOT);
  // So does the adversarial scenario (latest-adversarial.json; its rows are not comparison rows).
  if (p.scenarios.includes("adversarial")) return runAdversarialScenario(p, ROOT);
  // And the hooks scenario (latest-hooks.json; its controls differ per row, see scenarios/hooks.ts).
  if (p.scenarios.includes("hooks")) return runHooksScenario(p, ROOT);
  // And the presence scenario (latest-presence.json; subscribes vs joinGroup, presence frames vs group pushes).
  if (p.scenarios.includes("presence")) return runPresenceScenario(p, ROOT);
  const startedAt = new Date();
  const machine = machineInfo(ROOT);
  const c = p.cluster;
  console.log(`pushgate bench: ${p.scenarios.join(" + ")}; ${p.clients} clients, ${p.rounds} round(s)` +
    (p.scenarios.includes("standalone") ? `, broadcast ${p.broadcast.messages} msgs, targeted ${p.targeted.rate}/s for ${p.targeted.seconds} s` +
      (p.protocol === "json" ? ", pushgate's clients on pushgate.v1 (the controls' on seed)" : "") : "") +
    (p.scenarios.includes("capacity") ? `, capacity ${p.capacity.clients} idle clients x ${p.capacity.rounds}` +
      (p.capacity.cluster ? " (+ two pushgates over Redis)" : "") : "") +
    (p.scenarios.includes("scale") ? `, scale ${p.scale.clients} clients on --workers 6` : "") +
    (p.scenarios.includes("cluster") ? `, cluster targeted ${c.targeted.rate}/s for ${c.targeted.seconds} s + ${c.throughput.messages} msgs throughput` +
      (p.protocol === "json" ? " (pushgate on pushgate.v1, the relay on seed)" : "") + (c.redisShards > 1 ? `, ${c.redisShards} Redis shards` : "") : "") +
    `; nproc ${machine.nproc}, load ${(machine.loadAvg as number[]).map((x) => x.toFixed(2)).join(" ")}`);
  const rounds = p.scenarios.includes("standalone") ? await standalone(p) : [];
  const capacityOrder: readonly CapacityName[] = p.capacity.cluster ? [...SERVER_ORDER, "cluster"] : SERVER_ORDER;
  const capacity = p.scenarios.includes("capacity") ? await runCapacity(p, ROOT, (r) => rotate(capacityOrder, r - 1)) : [];
  const apiRounds = p.scenarios.includes("api") ? await api(p) : [];
  const cluster: ClusterOutcome | null = p.scenarios.includes("cluster") ? await runCluster(p, ROOT) : null;
  const scale: ScaleOutcome | null = p.scenarios.includes("scale") ? await runScale(p, ROOT) : null;

  const summary: SummaryRow[] = [
    ...(rounds.length ? summarize(rounds) : []),
    ...(capacity.length ? summarize(capacity, CAPACITY_METRICS) : []),
    ...(apiRounds.length ? summarize(apiRounds, API_METRICS) : []),
    ...(cluster?.summary ?? []),
    ...(scale && !scale.skipped ? summarize(scale.rounds, SCALE_METRICS) : []),
  ];
  const noteLines = [...notes(rounds), ...notes(capacity, "capacity "), ...notes(apiRounds, "api "), ...(cluster?.notes ?? [])];
  if (cluster?.skipped) noteLines.push(`cluster scenario skipped: ${cluster.skipped}`);
  if (scale) noteLines.push(...(scale.skipped ? [`scale scenario skipped: ${scale.skipped}`] : [...scale.notes, ...notes(scale.rounds, "scale ")]));
  if (summary.length) console.log("\n" + renderTable(summary));
  if (summary.length) console.log("\ncontrol = bare Bun.serve topic pub/sub, map = user-land Map uid → sockets with send loops (the seed's design); " +
    "ratios are against control. api-* rows: control = the bare control answering the same POSTs (JSON parse, publish, JSON answer)." +
    "\nratio = pushgate / control; better=higher wants ratio >= 1, better=lower wants ratio <= 1," +
    " better=zero wants 0 in both columns. Medians over rounds (worst value for correctness counters).");
  if (capacity.some((r) => r.results.cluster || r.errors.cluster)) {
    console.log("capacity cluster column: a fresh redis-server and two pushgates with --redis (what --workers 2 runs), half the clients on each; " +
      "CPU and RSS are the two processes' sums (Redis excluded); cluster/pushgate is the issue's --workers 2 vs one process target " +
      "(loginsPerSec >= 0.9, serverRssPerConnKiB <= 1.15).");
  }
  if (cluster?.summary.length) {
    console.log(`cluster-* rows: control = ${CLUSTER_NAMES.control} (one pushgate, no Redis, senders and receivers on it), ` +
      `relay = ${CLUSTER_NAMES.relay} (two bare Bun.serve nodes relaying every push as one PUBLISH over their own Redis: the runtime's floor for this topology), ` +
      `pushgate = ${CLUSTER_NAMES.pushgate} (two pushgate nodes over Redis, senders on A, receivers on B); ` +
      "cluster-redis rows: Redis calls per message in the targeted phase (commandstats, scripts' inner calls included).");
  }
  if (noteLines.length) console.log("\nnotes:\n" + noteLines.map((n) => "  - " + n).join("\n"));
  const finishedAt = new Date();
  const file = save(join(ROOT, "bench", "results"), startedAt, {
    startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    machine: { ...machine, loadAvgEnd: os.loadavg() },
    params: p, summary, notes: noteLines, rounds, capacity, api: apiRounds,
    cluster: cluster && { ...cluster, summary: undefined },
    scale,
  });
  console.log(`\nsaved ${file} and bench/results/latest.json (${((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(1)} s)`);
  try {
    const charts = writeCharts(file);
    if (charts.length) console.log(`charts: ${charts.map((f) => relative(ROOT, f)).join(", ")}`);
  } catch (e) {
    console.error(`charts not written (the JSON is saved; retry with bun bench/report/svg.ts ${relative(ROOT, file)}): ${(e as Error).message}`);
  }
}

const parsed = parseParams(Bun.argv.slice(2));
if (typeof parsed === "string") {
  if (parsed) console.error(`${parsed}\n${USAGE}`);
  else console.log(USAGE);
  process.exit(parsed ? 2 : 0);
}
const onSignal = (signal: string) => {
  console.error(`\n${signal}: stopping the servers and load client`);
  stopAll().finally(() => process.exit(130));
};
process.on("SIGINT", () => onSignal("SIGINT"));
process.on("SIGTERM", () => onSignal("SIGTERM"));
try {
  await main(parsed);
} catch (e) {
  if (!(e instanceof Interrupted)) {
    console.error(`bench failed: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
  }
} finally {
  await stopAll();
}

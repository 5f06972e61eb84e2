// Turns per-round phase results into the summary table (median over rounds; worst value for
// correctness counters) and writes bench/results/latest.json (plus a timestamped copy in the
// git-ignored bench/results/runs/).
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import { basename, dirname, join } from "node:path";
import { fmt, median, table } from "../lib/stats.ts";

/** A phase's flat metrics: the standalone load client's PhaseResult or a cluster phase. */
export type AnyPhaseResult = { phase: string } & Record<string, number | string | null>;

/** control = bare Bun topic pub/sub, map = user-land Map uid → sockets (the seed's design). */
export type ServerName = "pushgate" | "control" | "map";
/** The columns of the cluster rows (control = the single node, relay = bare Bun + Redis, pushgate = the cluster). */
export type ClusterName = "pushgate" | "control" | "relay";
/** The capacity scenario's columns: with --capacity-cluster also `cluster` (two pushgate processes over one Redis). */
export type CapacityName = ServerName | "cluster";
/** Every column a summary row can have. */
export type ColumnName = ServerName | "relay" | "cluster";
export const SERVERS: readonly ColumnName[] = ["pushgate", "control", "map", "relay", "cluster"];

export interface RoundResult {
  round: number;
  order: ColumnName[];
  /** Servers absent from a scenario (map in the cluster rows, relay outside them, both controls in api) have no entry. */
  results: Partial<Record<ColumnName, AnyPhaseResult[]>>;
  errors: Partial<Record<ColumnName, string | null>>;
}

type Better = "higher" | "lower" | "zero" | "info";
/** `label`: the scenario column when it differs from the phase the value comes from. */
export interface MetricDef { phase: string; key: string; better: Better; agg: "median" | "max" | "min"; label?: string }

const m = (phase: MetricDef["phase"], key: string, better: Better, agg: MetricDef["agg"] = "median", label?: string): MetricDef =>
  ({ phase, key, better, agg, label });

/** [key, better, agg]; agg defaults to max for correctness counters (better=zero), else median. */
type Row = [key: string, better: Better, agg?: MetricDef["agg"]];

/** One phase's rows, in order. */
const rows = (phase: string, specs: readonly Row[], label?: string): MetricDef[] =>
  specs.map(([key, better, agg]) => m(phase, key, better, agg ?? (better === "zero" ? "max" : "median"), label));

/** Counters every delivery phase reports (worst round). */
const ROUTING: readonly Row[] = [["loss", "zero"], ["misrouted", "zero"], ["duplicates", "zero"]];

/** A fixed-rate targeted phase (standalone and cluster). */
const TARGETED: readonly Row[] = [
  ["sent", "info"], ["delivered", "info"], ...ROUTING,
  ["latencyP50Ms", "lower"], ["latencyP99Ms", "lower"], ["latencyMaxMs", "lower"],
  ["serverCpuUsPerMsg", "lower"], ["clientCpuUtil", "info"],
];

/** The tail both api phases share. */
const API_TAIL: readonly Row[] = [
  ["httpErrors", "zero"], ...ROUTING, ["clientsComplete", "info", "min"],
];
const API_COST: readonly Row[] = [
  ["requestP50Ms", "lower"], ["requestP99Ms", "lower"], ["serverCpuUsPerPush", "lower"], ["clientCpuUtil", "info"],
];

const METRICS: readonly MetricDef[] = [
  ...rows("setup", [["loggedIn", "info", "min"], ["loginsPerSec", "higher"], ["serverRssPerConnKiB", "lower"]]),
  ...rows("broadcast", [
    ["deliveriesPerSec", "higher"], ["fanoutP50Ms", "lower"], ["fanoutP99Ms", "lower"], ["fanoutMaxMs", "lower"],
    ["receiversComplete", "info", "min"], ["duplicates", "zero"], ["outOfOrder", "zero"], ["missing", "zero"],
    ["serverCpuNsPerDelivery", "lower"], ["clientCpuUtil", "info"],
  ]),
  ...rows("targeted", TARGETED),
];

export interface SummaryRow {
  scenario: string; metric: string; better: Better;
  /** relay: the cluster rows' bare Bun + Redis relay; cluster: the capacity rows' two pushgates over Redis (null elsewhere). */
  control: number | null; map: number | null; relay: number | null; pushgate: number | null; cluster: number | null;
  /** pushgate / control, map / control, relay / control, pushgate / relay, cluster / control and cluster / pushgate. */
  ratio: number | null; mapRatio: number | null; relayRatio: number | null; pushgateRelayRatio: number | null;
  clusterRatio: number | null; clusterPushgateRatio: number | null;
  /** Every round's value, in round order, to judge the spread behind the aggregate. */
  controlRounds: number[]; mapRounds: number[]; relayRounds: number[]; pushgateRounds: number[]; clusterRounds: number[];
}

function values(rounds: readonly RoundResult[], s: ColumnName, d: MetricDef): number[] {
  const out: number[] = [];
  for (const r of rounds) {
    const v = r.results[s]?.find((p) => p.phase === d.phase)?.[d.key];
    if (typeof v === "number" && Number.isFinite(v)) out.push(v);
  }
  return out;
}

function aggregate(xs: number[], agg: MetricDef["agg"]): number | null {
  if (xs.length === 0) return null;
  if (agg === "max") return Math.max(...xs);
  if (agg === "min") return Math.min(...xs);
  return median(xs);
}

export const CAPACITY_METRICS: readonly MetricDef[] = rows("capacity", [
  ["loggedIn", "info", "min"], ["failed", "zero"], ["closedWhileIdle", "zero"], ["loginsPerSec", "higher"],
  ["serverCpuUtilConnect", "info"], ["serverCpuUsPerLogin", "lower"], ["serverRssBeforeMiB", "info"], ["serverRssPerConnKiB", "lower"],
]);

/** pushgate only: the controls have no HTTP API. */
export const API_METRICS: readonly MetricDef[] = [
  ...rows("api-single", [["requests", "info"], ["skipped", "zero"], ...API_TAIL, ["pushesPerSec", "higher"], ...API_COST]),
  ...rows("api-batch", [["requests", "info"], ["sent", "info"], ...API_TAIL, ["uidPushesPerSec", "higher"], ...API_COST]),
];

/** pushgate only: --workers 6 over Redis, N clients, reachability over the HTTP API. */
export const SCALE_METRICS: readonly MetricDef[] = [
  ...rows("scale", [
    ["requested", "info"], ["loggedIn", "info", "min"], ["failed", "zero"], ["processes", "info"], ["connectMs", "info"],
    ["loginsPerSec", "higher"], ["serverCpuUtilConnect", "info"], ["serverCpuUsPerLogin", "lower"], ["redisCpuUsPerLogin", "info"],
    ["clientCpuUtilConnect", "info"], ["clientCpuUsPerLogin", "info"], ["serverRssBeforeMiB", "info"], ["serverRssAfterMiB", "info"],
    ["serverRssPerConnKiB", "lower"], ["workerRssMinMiB", "info"], ["workerRssMaxMiB", "info"], ["workerConnsMin", "info"],
    ["workerConnsMax", "info"], ["redisRssGrowthMiB", "info"],
  ]),
  ...rows("scale-uid", [
    ["sent", "info"], ["subscribeWaitMs", "info"], ["httpErrors", "zero"], ["reached", "info"], ["delivered", "info"],
    ["missing", "zero"], ["misrouted", "zero"], ["duplicates", "zero"], ["requestsPerSec", "info"], ["lastDeliveryMs", "info"],
  ]),
  ...rows("scale-all", [
    ["expected", "info"], ["httpErrors", "zero"], ["reached", "info"], ["delivered", "info"], ["missing", "zero"],
    ["duplicates", "zero"], ["fanoutMs", "info"], ["closedWhileIdle", "zero"],
  ]),
];

/**
 * The cluster rows. With --redis-shards N a `redisCpuUsPerMsg.shard<i>` row per shard follows the
 * total; with --protocol json the v1 checks (replyErrors: a send refused; unplaced: a push not
 * in history) follow the routing counters. Then one `redis.<command>` calls-per-message row for
 * every command seen in phase (a) (cluster or relay).
 */
export function clusterMetrics(rounds: readonly RoundResult[]): MetricDef[] {
  const phases = rounds.flatMap((r) => [r.results.pushgate, r.results.control, r.results.relay].flatMap((x) => x ?? []));
  const has = (key: string) => phases.some((p) => typeof p[key] === "number");
  const shardKeys = [...new Set(phases.flatMap((p) => Object.keys(p).filter((k) => k.startsWith("redisCpuUsPerMsg.shard"))))]
    .sort((a, b) => Number(a.slice(22)) - Number(b.slice(22)));
  const shardRows: Row[] = shardKeys.map((k) => [k, "info"]);
  const v1Rows: Row[] = ["replyErrors", "unplaced"].filter(has).map((k) => [k, "zero"]);
  const cmds = new Map<string, number>();
  for (const r of rounds) {
    for (const t of [r.results.pushgate, r.results.relay].map((x) => x?.find((p) => p.phase === "cluster-targeted"))) {
      for (const [k, v] of Object.entries(t ?? {})) if (k.startsWith("redis.") && typeof v === "number") cmds.set(k, Math.max(cmds.get(k) ?? 0, v));
    }
  }
  const perCommand = [...cmds].sort((a, b) => b[1] - a[1]).map(([k]) => m("cluster-targeted", k, "info", "median", "cluster-redis"));
  return [
    ...rows("cluster-setup", [
      ["loggedIn", "info", "min"], ["loginsPerSec", "higher"], ["serverCpuUsPerLogin", "lower"], ["serverRssPerConnKiB", "lower"],
      ["subscribeWaitMs", "info"],
    ]),
    ...rows("cluster-targeted", [...TARGETED.slice(0, 5), ...v1Rows, ...TARGETED.slice(5)]),
    ...rows("cluster-throughput", [
      ["pushesPerSec", "higher"], ["latencyP50Ms", "lower"], ["latencyP99Ms", "lower"], ...ROUTING, ...v1Rows,
      ["serverCpuUsPerMsg", "lower"], ["redisCpuUsPerMsg", "info"], ...shardRows, ["redisCmdsPerMsg", "info"], ["clientCpuUtil", "info"],
    ]),
    ...rows("cluster-targeted", [["redisCmdsPerMsg", "info"], ["redisTotalCommandsPerMsg", "info"], ["redisCpuUsPerMsg", "info"], ...shardRows], "cluster-redis"),
    ...perCommand,
  ];
}

export function summarize(rounds: readonly RoundResult[], metrics: readonly MetricDef[] = METRICS): SummaryRow[] {
  return metrics.map((d) => {
    const pushgateRounds = values(rounds, "pushgate", d);
    const controlRounds = values(rounds, "control", d);
    const mapRounds = values(rounds, "map", d);
    const relayRounds = values(rounds, "relay", d);
    const clusterRounds = values(rounds, "cluster", d);
    const pushgate = aggregate(pushgateRounds, d.agg);
    const control = aggregate(controlRounds, d.agg);
    const map = aggregate(mapRounds, d.agg);
    const relay = aggregate(relayRounds, d.agg);
    const cluster = aggregate(clusterRounds, d.agg);
    const ratio = (x: number | null, to: number | null) => (x !== null && to !== null && to !== 0 ? x / to : null);
    return {
      scenario: d.label ?? d.phase, metric: d.key, better: d.better, control, map, relay, pushgate, cluster,
      ratio: ratio(pushgate, control), mapRatio: ratio(map, control), relayRatio: ratio(relay, control),
      pushgateRelayRatio: ratio(pushgate, relay), clusterRatio: ratio(cluster, control), clusterPushgateRatio: ratio(cluster, pushgate),
      controlRounds, mapRounds, relayRounds, pushgateRounds, clusterRounds,
    };
  });
}

/**
 * The map columns appear only when some row has a map value (not in a cluster-only run), the relay
 * ones only with cluster rows, the cluster ones only with --capacity-cluster.
 */
export function renderTable(rows: readonly SummaryRow[]): string {
  const r2 = (x: number | null) => (x === null ? "-" : x.toFixed(2));
  const hasMap = rows.some((r) => r.map !== null);
  const hasRelay = rows.some((r) => r.relay !== null);
  // `!= null`: rows built before the cluster column have no `cluster` field.
  const hasCluster = rows.some((r) => r.cluster != null);
  type Col = [header: string, cell: (r: SummaryRow) => string];
  const cols: Col[] = [
    ["control", (r) => fmt(r.control)],
    ...(hasMap ? [["map", (r) => fmt(r.map)] satisfies Col] : []),
    ...(hasRelay ? [["relay", (r) => fmt(r.relay)] satisfies Col] : []),
    ["pushgate", (r) => fmt(r.pushgate)],
    ...(hasCluster ? [["cluster", (r) => fmt(r.cluster)] satisfies Col] : []),
    ["pushgate/control", (r) => r2(r.ratio)],
    ...(hasMap ? [["map/control", (r) => r2(r.mapRatio)] satisfies Col] : []),
    ...(hasRelay ? [["relay/control", (r) => r2(r.relayRatio)], ["pushgate/relay", (r) => r2(r.pushgateRelayRatio)]] satisfies Col[] : []),
    ...(hasCluster ? [["cluster/control", (r) => r2(r.clusterRatio)], ["cluster/pushgate", (r) => r2(r.clusterPushgateRatio)]] satisfies Col[] : []),
  ];
  const body = rows.map((r) => [r.scenario, r.metric, r.better, ...cols.map(([, f]) => f(r))]);
  return table(["scenario", "metric", "better", ...cols.map(([h]) => h)], body, new Set(cols.map((_, i) => i + 3)));
}

/** Timeouts, failed logins, closed sockets and client errors, one line each. */
export function notes(rounds: readonly RoundResult[], prefix = "", names: Partial<Record<ColumnName, string>> = {}): string[] {
  const out: string[] = [];
  for (const r of rounds) {
    for (const s of SERVERS) {
      const at = `${prefix}round ${r.round} ${names[s] ?? s}`;
      if (r.errors[s]) out.push(`${at}: ${r.errors[s]}`);
      for (const p of r.results[s] ?? []) {
        if (p.timedOut) out.push(`${at} ${p.phase}: ${p.timedOut} (partial results)`);
        if ((p.phase === "capacity" || p.phase.startsWith("api-")) && p.errors) out.push(`${at} ${p.phase}: ${p.errors}`);
        if (p.phase === "setup" && p.errors) out.push(`${at} setup: ${p.failed} clients failed: ${p.errors}`);
        if (p.phase === "cluster-setup" && p.errors) out.push(`${at} setup: ${p.loggedIn} of ${p.requested} clients logged in: ${p.errors}`);
        if (typeof p.connsClosed === "number" && p.connsClosed > 0) out.push(`${at} ${p.phase}: ${p.connsClosed} client sockets closed by the end of the phase`);
        if (typeof p.unexpectedFrames === "number" && p.unexpectedFrames > 0) out.push(`${at} ${p.phase}: ${p.unexpectedFrames} unexpected frames`);
        if (typeof p.malformed === "number" && p.malformed > 0) out.push(`${at} ${p.phase}: ${p.malformed} malformed payloads`);
        if (typeof p.replyErrors === "number" && p.replyErrors > 0) out.push(`${at} ${p.phase}: ${p.replyErrors} pushgate.v1 sends answered with an error`);
        if (typeof p.unplaced === "number" && p.unplaced > 0) out.push(`${at} ${p.phase}: ${p.unplaced} pushes without a history position (not placed)`);
        if (typeof p.clientCpuUtil === "number" && p.clientCpuUtil > 0.85) out.push(`${at} ${p.phase}: load client at ${Math.round(p.clientCpuUtil * 100)}% of a core — the generator may be the limit`);
      }
    }
  }
  return out;
}

export function machineInfo(root: string): Record<string, unknown> {
  const git = (args: string[]) => {
    const r = Bun.spawnSync(["git", ...args], { cwd: root, stdout: "pipe", stderr: "ignore" });
    return r.exitCode === 0 ? r.stdout.toString().trim() : null;
  };
  return {
    nproc: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? null,
    totalMemBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAvg: os.loadavg(),
    bun: Bun.version,
    bunRevision: Bun.revision,
    gitCommit: git(["rev-parse", "HEAD"]),
    gitDirty: (git(["status", "--porcelain", "--", "src"]) ?? "") !== "",
  };
}

/**
 * The folder inside bench/results that keeps a timestamped copy of every run. Git ignores it: only
 * the latest*.json and latest-*.svg files are committed, the copies are for comparing runs locally.
 */
export const RUNS_DIR = "runs";

/**
 * Writes the report as latest.json (latest-<kind>.json) in dir and as
 * runs/<ISO timestamp>.json (runs/<kind>-<ISO timestamp>.json), each via a .tmp rename.
 * Returns the timestamped copy.
 */
export function save(dir: string, startedAt: Date, report: unknown, kind?: "adversarial" | "soak" | "hooks" | "presence"): string {
  mkdirSync(join(dir, RUNS_DIR), { recursive: true });
  const text = JSON.stringify(report, null, 2) + "\n";
  const stamp = startedAt.toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-");
  const file = join(dir, RUNS_DIR, kind ? `${kind}-${stamp}.json` : `${stamp}.json`);
  for (const target of [file, join(dir, kind ? `latest-${kind}.json` : "latest.json")]) {
    writeFileSync(target + ".tmp", text);
    renameSync(target + ".tmp", target);
  }
  return file;
}

/** The results folder a saved JSON belongs to: the parent of runs/ for a timestamped copy, else its own folder. */
export function resultsDirOf(file: string): string {
  const dir = dirname(file);
  return basename(dir) === RUNS_DIR ? dirname(dir) : dir;
}

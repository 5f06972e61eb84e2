// Turns per-round phase results into the summary table (median over rounds; worst value for
// correctness counters) and writes bench/results/<timestamp>.json and latest.json.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fmt, median, table } from "./stats.ts";
import type { PhaseResult } from "./types.ts";

export type ServerName = "pushgate" | "control";
export const SERVERS: readonly ServerName[] = ["pushgate", "control"];

export interface RoundResult {
  round: number;
  order: ServerName[];
  results: Record<ServerName, PhaseResult[]>;
  errors: Record<ServerName, string | null>;
}

type Better = "higher" | "lower" | "zero" | "info";
interface MetricDef { phase: PhaseResult["phase"]; key: string; better: Better; agg: "median" | "max" | "min" }

const m = (phase: MetricDef["phase"], key: string, better: Better, agg: MetricDef["agg"] = "median"): MetricDef =>
  ({ phase, key, better, agg });

const METRICS: readonly MetricDef[] = [
  m("setup", "loggedIn", "info", "min"),
  m("setup", "loginsPerSec", "higher"),
  m("setup", "serverRssPerConnKiB", "lower"),
  m("broadcast", "deliveriesPerSec", "higher"),
  m("broadcast", "fanoutP50Ms", "lower"),
  m("broadcast", "fanoutP99Ms", "lower"),
  m("broadcast", "fanoutMaxMs", "lower"),
  m("broadcast", "receiversComplete", "info", "min"),
  m("broadcast", "duplicates", "zero", "max"),
  m("broadcast", "outOfOrder", "zero", "max"),
  m("broadcast", "missing", "zero", "max"),
  m("broadcast", "serverCpuNsPerDelivery", "lower"),
  m("broadcast", "clientCpuUtil", "info"),
  m("targeted", "sent", "info"),
  m("targeted", "delivered", "info"),
  m("targeted", "loss", "zero", "max"),
  m("targeted", "misrouted", "zero", "max"),
  m("targeted", "duplicates", "zero", "max"),
  m("targeted", "latencyP50Ms", "lower"),
  m("targeted", "latencyP99Ms", "lower"),
  m("targeted", "latencyMaxMs", "lower"),
  m("targeted", "serverCpuUsPerMsg", "lower"),
  m("targeted", "clientCpuUtil", "info"),
];

export interface SummaryRow {
  scenario: string; metric: string; better: Better;
  control: number | null; pushgate: number | null; ratio: number | null;
  /** Every round's value, in round order, to judge the spread behind the aggregate. */
  controlRounds: number[]; pushgateRounds: number[];
}

function values(rounds: readonly RoundResult[], s: ServerName, d: MetricDef): number[] {
  const out: number[] = [];
  for (const r of rounds) {
    const v = r.results[s].find((p) => p.phase === d.phase)?.[d.key];
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

export function summarize(rounds: readonly RoundResult[]): SummaryRow[] {
  return METRICS.map((d) => {
    const pushgateRounds = values(rounds, "pushgate", d);
    const controlRounds = values(rounds, "control", d);
    const pushgate = aggregate(pushgateRounds, d.agg);
    const control = aggregate(controlRounds, d.agg);
    const ratio = pushgate !== null && control !== null && control !== 0 ? pushgate / control : null;
    return { scenario: d.phase, metric: d.key, better: d.better, control, pushgate, ratio, controlRounds, pushgateRounds };
  });
}

export function renderTable(rows: readonly SummaryRow[]): string {
  const body = rows.map((r) => [r.scenario, r.metric, r.better, fmt(r.control), fmt(r.pushgate), r.ratio === null ? "-" : r.ratio.toFixed(2)]);
  return table(["scenario", "metric", "better", "control", "pushgate", "pushgate/control"], body, new Set([3, 4, 5]));
}

/** Timeouts, failed logins, closed sockets and client errors, one line each. */
export function notes(rounds: readonly RoundResult[]): string[] {
  const out: string[] = [];
  for (const r of rounds) {
    for (const s of SERVERS) {
      const at = `round ${r.round} ${s}`;
      if (r.errors[s]) out.push(`${at}: ${r.errors[s]}`);
      for (const p of r.results[s]) {
        if (p.timedOut) out.push(`${at} ${p.phase}: ${p.timedOut} (partial results)`);
        if (p.phase === "setup" && p.errors) out.push(`${at} setup: ${p.failed} clients failed: ${p.errors}`);
        if (typeof p.connsClosed === "number" && p.connsClosed > 0) out.push(`${at} ${p.phase}: ${p.connsClosed} client sockets closed by the end of the phase`);
        if (typeof p.unexpectedFrames === "number" && p.unexpectedFrames > 0) out.push(`${at} ${p.phase}: ${p.unexpectedFrames} unexpected frames`);
        if (typeof p.malformed === "number" && p.malformed > 0) out.push(`${at} ${p.phase}: ${p.malformed} malformed payloads`);
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

/** Writes the report as <ISO timestamp>.json and latest.json (each via a .tmp rename). */
export function save(dir: string, startedAt: Date, report: unknown): string {
  mkdirSync(dir, { recursive: true });
  const text = JSON.stringify(report, null, 2) + "\n";
  const stamp = startedAt.toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-");
  const file = join(dir, `${stamp}.json`);
  for (const target of [file, join(dir, "latest.json")]) {
    writeFileSync(target + ".tmp", text);
    renameSync(target + ".tmp", target);
  }
  return file;
}

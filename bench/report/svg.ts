// SVG charts of a saved bench result, one per scenario group (broadcast, targeted, capacity, api,
// cluster, scale): horizontal grouped bars of the key metrics, each normalised to the control of
// the same run (1.0 line marked), absolute values as labels. Plain strings, no packages, no
// external fonts or scripts. run.ts calls writeCharts() after saving the JSON;
// `bun bench/report/svg.ts <results.json>` regenerates the charts of a saved run. See bench/README.md.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { type SummaryRow, resultsDirOf } from "./report.ts";
import { fmt } from "../lib/stats.ts";

/** cluster: the capacity chart's two pushgates over Redis (--capacity-cluster). */
type Server = "control" | "map" | "relay" | "pushgate" | "cluster";
const ALL_SERVERS: readonly Server[] = ["control", "map", "relay", "pushgate", "cluster"];

/** The parts of a results JSON the charts read (everything else is ignored). */
export interface SavedResults {
  startedAt: string;
  machine?: Record<string, unknown>;
  params?: { scenarios?: string[]; quick?: boolean; clients?: number; rounds?: number;
    capacity?: { clients?: number; rounds?: number; cluster?: boolean }; api?: { receivers?: number; single?: { rate?: number } };
    targeted?: { rate?: number; seconds?: number }; scale?: { clients?: number };
    protocol?: string; cluster?: { redisShards?: number } };
  summary: SummaryRow[];
  notes?: string[];
}

interface Group {
  name: string;
  /** Summary `scenario` values that belong to this chart, in display order. */
  phases: string[];
  /** The key metrics as `phase.metric`, in display order. Other higher/lower rows are appended. */
  key: string[];
}

export const GROUPS: readonly Group[] = [
  {
    name: "broadcast", phases: ["setup", "broadcast"],
    key: ["setup.loginsPerSec", "setup.serverRssPerConnKiB", "broadcast.deliveriesPerSec", "broadcast.serverCpuNsPerDelivery",
      "broadcast.fanoutP50Ms", "broadcast.fanoutP99Ms", "broadcast.fanoutMaxMs", "broadcast.clientCpuUtil"],
  },
  {
    name: "targeted", phases: ["targeted"],
    key: ["targeted.latencyP50Ms", "targeted.latencyP99Ms", "targeted.latencyMaxMs", "targeted.serverCpuUsPerMsg", "targeted.clientCpuUtil"],
  },
  {
    name: "capacity", phases: ["capacity"],
    key: ["capacity.loginsPerSec", "capacity.serverCpuUsPerLogin", "capacity.serverRssPerConnKiB", "capacity.serverRssBeforeMiB",
      "capacity.serverCpuUtilConnect"],
  },
  {
    name: "api", phases: ["api-single", "api-batch"],
    key: ["api-single.pushesPerSec", "api-single.requestP50Ms", "api-single.requestP99Ms", "api-single.serverCpuUsPerPush",
      "api-single.clientCpuUtil", "api-batch.uidPushesPerSec", "api-batch.requestP50Ms", "api-batch.requestP99Ms",
      "api-batch.serverCpuUsPerPush", "api-batch.clientCpuUtil"],
  },
  {
    name: "cluster", phases: ["cluster-setup", "cluster-targeted", "cluster-throughput", "cluster-redis"],
    key: ["cluster-setup.loginsPerSec", "cluster-setup.serverCpuUsPerLogin", "cluster-setup.serverRssPerConnKiB",
      "cluster-setup.subscribeWaitMs", "cluster-targeted.latencyP50Ms", "cluster-targeted.latencyP99Ms",
      "cluster-targeted.latencyMaxMs", "cluster-targeted.serverCpuUsPerMsg", "cluster-throughput.pushesPerSec",
      "cluster-throughput.latencyP50Ms", "cluster-throughput.latencyP99Ms", "cluster-throughput.serverCpuUsPerMsg",
      "cluster-throughput.redisCpuUsPerMsg", "cluster-redis.redisCmdsPerMsg", "cluster-redis.redisCpuUsPerMsg"],
  },
  {
    name: "scale", phases: ["scale", "scale-uid", "scale-all"],
    key: ["scale.loginsPerSec", "scale.serverCpuUsPerLogin", "scale.redisCpuUsPerLogin", "scale.clientCpuUtilConnect",
      "scale.serverRssPerConnKiB", "scale.serverRssAfterMiB", "scale.workerRssMinMiB", "scale.workerRssMaxMiB",
      "scale.workerConnsMin", "scale.workerConnsMax", "scale-uid.requestsPerSec", "scale-uid.lastDeliveryMs", "scale-all.fanoutMs"],
  },
];

/** Escapes text for SVG element content and attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** The unit a metric's name implies, for the value labels. */
function unit(metric: string): string {
  if (/PerSec$/.test(metric)) return "/s";
  if (/Ms$/.test(metric)) return "ms";
  if (/KiB$/.test(metric)) return "KiB";
  if (/MiB$/.test(metric)) return "MiB";
  if (/CpuNs/.test(metric)) return "ns";
  if (/CpuUs/.test(metric)) return "µs";
  if (/CpuUtil/.test(metric)) return "cores";
  return "";
}

const label = (v: number | null, metric: string) => (v === null ? "–" : `${fmt(v)}${unit(metric) ? " " + unit(metric) : ""}`);

const COLORS: Record<Server, string> = { control: "#8c8c8c", map: "#e0a030", relay: "#3a9a6a", pushgate: "#2f6fd0", cluster: "#7b4fb8" };
const FONT = "font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\"";
const W = 800;
const LABEL_X = 16;
const BAR_X = 236;
const BAR_W = 340;
const VALUE_X = BAR_X + BAR_W + 12;
const BAR_H = 13;
const BAR_GAP = 3;
const NOISE = 0.15;

function serverNames(group: string): Record<Server, string> {
  return group === "cluster"
    ? { control: "single node", map: "map", relay: "relay A+B (bare Bun + Redis)", pushgate: "cluster A+B", cluster: "cluster" }
    : { control: "control (bare Bun)", map: "map (seed design)", relay: "relay", pushgate: "pushgate", cluster: "2 pushgates + Redis" };
}

/** The rows of one chart: the key metrics, then any other higher/lower row of the group's phases. */
function chartRows(g: Group, summary: readonly SummaryRow[]): SummaryRow[] {
  const mine = summary.filter((r) => g.phases.includes(r.scenario));
  const byKey = new Map(mine.map((r) => [`${r.scenario}.${r.metric}`, r]));
  const picked = g.key.map((k) => byKey.get(k)).filter((r): r is SummaryRow => r !== undefined);
  const extra = mine.filter((r) => (r.better === "higher" || r.better === "lower") && !picked.includes(r));
  const all = [...picked, ...extra];
  return g.phases.flatMap((ph) => all.filter((r) => r.scenario === ph));
}

function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, " UTC");
}

function subtitle(g: Group, r: SavedResults): string {
  const p = r.params ?? {};
  const q = p.quick ? " · --quick" : "";
  switch (g.name) {
    case "capacity": return `${fmt(p.capacity?.clients ?? null)} idle clients per fresh server${p.capacity?.cluster ? " (2 pushgates + Redis: half on each, CPU/RSS summed)" : ""} · medians of ${p.capacity?.rounds ?? "?"} round(s)${q}`;
    case "api": return `HTTP API (control: bare Bun.serve, same POSTs) · ${fmt(p.api?.receivers ?? null)} receivers · single at ${fmt(p.api?.single?.rate ?? null)} req/s · medians of ${p.capacity?.rounds ?? "?"} round(s)${q}`;
    case "targeted": return `${fmt(p.clients ?? null)} clients · ${fmt(p.targeted?.rate ?? null)} msgs/s for ${p.targeted?.seconds ?? "?"} s · medians of ${p.rounds ?? "?"} round(s)${q}`;
    case "scale": return `pushgate --workers 6 + Redis · ${fmt(p.scale?.clients ?? null)} clients · one round${q}`;
    case "cluster": {
      const shards = p.cluster?.redisShards ?? 1;
      const extra = (p.protocol === "json" ? " · pushgate on pushgate.v1" : "") + (shards > 1 ? ` · ${shards} Redis shards` : "");
      return `two pushgate nodes over Redis vs one node and a bare relay over Redis · ${fmt(p.clients ?? null)} clients · medians of ${p.rounds ?? "?"} round(s)${extra}${q}`;
    }
    default: return `${fmt(p.clients ?? null)} clients · medians of ${p.rounds ?? "?"} round(s)${q}`;
  }
}

/** A nice axis maximum for the ratio bars: at least 1.5, at most 3 (longer bars are cut and marked). */
function axisMax(ratios: number[]): number {
  const top = Math.max(1.25, ...ratios.filter((x) => Number.isFinite(x)));
  return Math.min(3, Math.max(1.5, Math.ceil((top * 1.05) / 0.5) * 0.5));
}

function ratioColor(better: SummaryRow["better"], ratio: number): string {
  if (better === "higher") return ratio < 1 - NOISE ? "#c0392b" : ratio > 1 + NOISE ? "#1e8449" : "#333";
  if (better === "lower") return ratio > 1 + NOISE ? "#c0392b" : ratio < 1 - NOISE ? "#1e8449" : "#333";
  return "#555";
}

const BETTER_TEXT: Record<SummaryRow["better"], string> = {
  higher: "higher is better", lower: "lower is better", zero: "must be 0", info: "context",
};

/** Notes of the run that mention one of the group's phases (timeouts, a load client at its CPU limit). */
function groupNotes(g: Group, notes: readonly string[]): string[] {
  const re = new RegExp(`(^|[ (])(${g.phases.map((p) => p.replace(/[-]/g, "\\-")).join("|")})[:) ]|^${g.name} `);
  return notes.filter((n) => re.test(n));
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n - 1) + "…";
}

/** One chart as an SVG document, or null when the results hold no row of the group. */
export function renderChart(g: Group, r: SavedResults): string | null {
  const rows = chartRows(g, r.summary);
  const correctness = r.summary.filter((x) => g.phases.includes(x.scenario) && x.better === "zero");
  if (rows.length === 0 && correctness.length === 0) return null;
  const groupRows = r.summary.filter((x) => g.phases.includes(x.scenario));
  // `!= null`: results saved before the relay column have no `relay` field.
  const servers = ALL_SERVERS.filter((s) => groupRows.some((x) => x[s] != null));
  const names = serverNames(g.name);
  const hasControl = servers.includes("control");
  const ratioOf = (x: SummaryRow, s: Server): number | null => {
    const v = x[s];
    return v !== null && x.control !== null && x.control !== 0 ? v / x.control : null;
  };
  const barred = (x: SummaryRow) => hasControl && x.control !== null && x.control !== 0;
  const ratios = rows.filter(barred).flatMap((x) => servers.map((s) => ratioOf(x, s) ?? 1));
  const maxR = axisMax(ratios);
  const xOf = (ratio: number) => BAR_X + (Math.min(ratio, maxR) / maxR) * BAR_W;

  const out: string[] = [];
  const text = (x: number, y: number, s: string, attrs = "") => out.push(`<text x="${x}" y="${y}" ${attrs}>${esc(s)}</text>`);
  let y = 30;
  const m = r.machine ?? {};
  text(LABEL_X, y, `pushgate bench · ${g.name}`, `font-size="19" font-weight="bold"`);
  y += 22;
  const commit = typeof m.gitCommit === "string" ? ` · commit ${m.gitCommit.slice(0, 7)}${m.gitDirty ? " (src dirty)" : ""}` : "";
  text(LABEL_X, y, `${when(r.startedAt)} · nproc ${m.nproc ?? "?"} · bun ${m.bun ?? "?"}${m.cpuModel ? ` · ${m.cpuModel}` : ""}${commit}`,
    `font-size="13" fill="#333"`);
  y += 18;
  text(LABEL_X, y, subtitle(g, r), `font-size="13" fill="#555"`);
  y += 24;

  // Legend.
  let lx = LABEL_X;
  for (const s of servers) {
    out.push(`<rect x="${lx}" y="${y - 11}" width="13" height="13" fill="${COLORS[s]}"/>`);
    text(lx + 19, y, names[s], `font-size="13"`);
    lx += 19 + names[s].length * 7.6 + 22;
  }
  y += 12;
  if (hasControl) {
    text(LABEL_X, y + 14, `bars: value / ${names.control} of the same run (red dashed line: 1.0 = ${names.control}); labels: value (ratio)`,
      `font-size="12" fill="#555"`);
    y += 22;
  } else {
    text(LABEL_X, y + 14, `${names.pushgate} only: no control in this scenario, so absolute values and no ratio bars`, `font-size="12" fill="#555"`);
    y += 22;
  }

  // Axis (ticks every 0.5; the 1.0 line is drawn after the rows, over the bars).
  if (hasControl) {
    y += 26;
    for (let t = 0; t <= maxR + 1e-9; t += 0.5) {
      const x = xOf(t);
      const one = Math.abs(t - 1) < 1e-9;
      text(x, y - 6, t.toFixed(1), `font-size="11" text-anchor="middle" ${one ? 'fill="#c0392b" font-weight="bold"' : 'fill="#666"'}`);
    }
    text(VALUE_X, y - 6, "value (ratio)", `font-size="11" fill="#666"`);
  } else {
    y += 6;
  }
  const gridTop = y;
  const body: string[] = [];

  for (const phase of g.phases) {
    const prs = rows.filter((x) => x.scenario === phase);
    if (prs.length === 0) continue;
    y += 8;
    body.push(`<rect x="${LABEL_X - 6}" y="${y}" width="${W - 2 * LABEL_X + 12}" height="20" fill="#eef2f7"/>`);
    body.push(`<text x="${LABEL_X}" y="${y + 15}" font-size="13" font-weight="bold">${esc(phase)}</text>`);
    y += 26;
    for (const x of prs) {
      const shown = servers.filter((s) => x[s] !== null || barred(x));
      const h = Math.max(34, shown.length * (BAR_H + BAR_GAP) - BAR_GAP + 8);
      body.push(`<text x="${LABEL_X}" y="${y + 13}" font-size="13">${esc(x.metric)}</text>`);
      body.push(`<text x="${LABEL_X}" y="${y + 28}" font-size="11" fill="#777">${esc(BETTER_TEXT[x.better])}</text>`);
      if (!barred(x) && hasControl) {
        body.push(`<text x="${BAR_X + 4}" y="${y + 13}" font-size="11" fill="#888" font-style="italic">no ${esc(names.control)} value: absolute only</text>`);
      }
      shown.forEach((s, i) => {
        const by = y + i * (BAR_H + BAR_GAP);
        const v = x[s];
        const ratio = ratioOf(x, s);
        if (barred(x) && ratio !== null) {
          const x1 = xOf(ratio);
          body.push(`<rect x="${BAR_X}" y="${by}" width="${(x1 - BAR_X).toFixed(1)}" height="${BAR_H}" fill="${COLORS[s]}"/>`);
          if (ratio > maxR) {
            // Cut bar: a white gap and an arrow head mark that it goes on.
            body.push(`<path d="M${x1 - 22} ${by - 1} h5 l-5 ${BAR_H + 2} h-5 z" fill="#fff"/>`);
            body.push(`<path d="M${x1} ${by} l7 ${BAR_H / 2} l-7 ${BAR_H / 2} z" fill="${COLORS[s]}"/>`);
          }
        }
        const ratioText = s !== "control" && ratio !== null ? `(×${ratio.toFixed(2)})` : "";
        const y0 = shown.length === 1 && !barred(x) ? y + 13 : by + BAR_H - 2;
        body.push(`<text x="${hasControl ? VALUE_X : BAR_X}" y="${y0}" font-size="12"><tspan fill="#222">${esc(label(v, x.metric))}</tspan>` +
          (ratioText ? `<tspan dx="5" fill="${ratio !== null ? ratioColor(x.better, ratio) : "#333"}">${esc(ratioText)}</tspan>` : "") +
          (!barred(x) && hasControl ? `<tspan dx="5" fill="#888">${esc(names[s])}</tspan>` : "") + `</text>`);
      });
      y += h + 6;
      body.push(`<line x1="${LABEL_X}" y1="${y - 3}" x2="${W - LABEL_X}" y2="${y - 3}" stroke="#e4e4e4"/>`);
    }
  }
  const gridBottom = y;
  if (hasControl && rows.some(barred)) {
    for (let t = 0.5; t <= maxR + 1e-9; t += 0.5) {
      if (Math.abs(t - 1) < 1e-9) continue;
      out.push(`<line x1="${xOf(t)}" y1="${gridTop}" x2="${xOf(t)}" y2="${gridBottom}" stroke="#ddd" stroke-dasharray="2 3"/>`);
    }
    out.push(`<line x1="${BAR_X}" y1="${gridTop}" x2="${BAR_X}" y2="${gridBottom}" stroke="#999"/>`);
  }
  out.push(...body);
  if (hasControl && rows.some(barred)) {
    out.push(`<line x1="${xOf(1)}" y1="${gridTop - 2}" x2="${xOf(1)}" y2="${gridBottom}" stroke="#c0392b" stroke-width="1.5" stroke-dasharray="5 3"/>`);
  }

  // Correctness counters and the run's notes about these phases.
  y += 10;
  if (correctness.length) {
    const bad = correctness.filter((x) => servers.some((s) => (x[s] ?? 0) !== 0));
    if (bad.length === 0) {
      text(LABEL_X, y, `correctness: all ${correctness.length} counters are 0 in every column (${[...new Set(correctness.map((x) => x.metric))].join(", ")})`,
        `font-size="12" fill="#1e8449"`);
      y += 18;
    } else {
      text(LABEL_X, y, `correctness: ${bad.length} of ${correctness.length} counters are NOT 0:`, `font-size="12" fill="#c0392b" font-weight="bold"`);
      y += 17;
      for (const x of bad.slice(0, 8)) {
        text(LABEL_X + 12, y, truncate(`${x.scenario} ${x.metric}: ` + servers.map((s) => `${names[s]} ${fmt(x[s])}`).join(", "), 110),
          `font-size="12" fill="#c0392b"`);
        y += 16;
      }
    }
  }
  const notes = groupNotes(g, r.notes ?? []);
  if (notes.length) {
    text(LABEL_X, y, `notes (${notes.length}):`, `font-size="12" fill="#555"`);
    y += 16;
    for (const n of notes.slice(0, 6)) {
      text(LABEL_X + 12, y, truncate(n, 118), `font-size="11" fill="#555"`);
      y += 15;
    }
    if (notes.length > 6) {
      text(LABEL_X + 12, y, `… and ${notes.length - 6} more in the JSON`, `font-size="11" fill="#555"`);
      y += 15;
    }
  }
  text(LABEL_X, y + 8, hasControl ? "ratios within about ±15% are noise on this kind of machine; compare only within one run"
    : "absolute numbers say more about the machine than about pushgate; compare runs on the same machine only", `font-size="11" fill="#888"`);
  const height = Math.ceil(y + 22);

  return `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" ` +
    `data-started-at="${esc(r.startedAt)}" role="img" aria-label="${esc(`pushgate bench ${g.name}, ${when(r.startedAt)}`)}">\n` +
    `<title>${esc(`pushgate bench · ${g.name} · ${when(r.startedAt)}`)}</title>\n` +
    `<rect width="100%" height="100%" fill="#fff"/>\n<g ${FONT}>\n${out.join("\n")}\n</g>\n</svg>\n`;
}

/** <timestamp> as in report.ts save(): from the file name when it is one, else from startedAt. */
function stampOf(file: string, r: SavedResults): string {
  const base = basename(file, ".json");
  if (/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/.test(base)) return base;
  return new Date(r.startedAt).toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-");
}

function writeAtomic(target: string, text: string): void {
  writeFileSync(target + ".tmp", text);
  renameSync(target + ".tmp", target);
}

/**
 * For every group the results file holds: <timestamp>-<group>.svg next to it (not next to a
 * latest*.json: that folder keeps latest files only), and latest-<group>.svg in its results folder
 * (report.ts resultsDirOf) unless that file already shows a newer run. Returns the paths written.
 */
export function writeCharts(resultsFile: string): string[] {
  const r = JSON.parse(readFileSync(resultsFile, "utf8")) as SavedResults;
  if (!Array.isArray(r.summary)) throw new Error(`${resultsFile}: no summary rows`);
  const dir = dirname(resultsFile);
  const latestDir = resultsDirOf(resultsFile);
  const stamped = !basename(resultsFile).startsWith("latest");
  const stamp = stampOf(resultsFile, r);
  const written: string[] = [];
  for (const g of GROUPS) {
    const svg = renderChart(g, r);
    if (svg === null) continue;
    if (stamped) {
      const file = join(dir, `${stamp}-${g.name}.svg`);
      writeAtomic(file, svg);
      written.push(file);
    }
    const latest = join(latestDir, `latest-${g.name}.svg`);
    const shown = existsSync(latest) ? /data-started-at="([^"]*)"/.exec(readFileSync(latest, "utf8"))?.[1] : undefined;
    if (shown === undefined || Date.parse(shown) <= Date.parse(r.startedAt) || Number.isNaN(Date.parse(shown))) {
      writeAtomic(latest, svg);
      written.push(latest);
    }
  }
  return written;
}

if (import.meta.main) {
  const files = Bun.argv.slice(2);
  if (files.length === 0 || files.some((f) => f === "-h" || f === "--help")) {
    console.log("usage: bun bench/report/svg.ts <results.json> [more.json ...]   (writes <timestamp>-<group>.svg next to it, latest-<group>.svg in bench/results)");
    process.exit(files.length === 0 ? 2 : 0);
  }
  for (const f of files) {
    const written = writeCharts(f);
    console.log(written.length ? written.join("\n") : `${f}: no scenario group to chart`);
  }
}

// The soak's SVG curve: process memory (RSS, mimalloc in use), the JS heap (as sampled and after
// full GCs) and server state (connections, uids, history streams, fds) over time, the warm-up shaded, the RSS fit
// over the judged span dashed, and the verdict. Plain SVG strings like svg.ts (no packages,
// generic fonts, all text escaped). Written as latest-soak.svg and, next to the run's copy in runs/,
// soak-<timestamp>.svg; `bun bench/report/soak-svg.ts <soak JSON>` redraws one.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { SoakSample } from "../scenarios/soak.ts";
import type { Check, Flatness } from "./soak-verdict.ts";
import { resultsDirOf } from "./report.ts";
import { esc } from "./svg.ts";

/** The parts of a soak JSON the chart reads. */
export interface SoakReport {
  startedAt: string;
  machine?: Record<string, unknown>;
  git?: { commit: string | null; status: string[] };
  params: { minutes: number };
  verdict: { ok: boolean; warmupMin: number; loadMin: number; rss: Flatness | null; checks: Check[] };
  samples: SoakSample[];
}

const W = 800;
const PAD_L = 64;
const PAD_R = 150;
const PANEL_H = 180;
const FONT = "font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\"";

interface Series { label: string; color: string; values: (number | null)[]; dots?: boolean; dash?: string }

/** The smallest 1, 2, 2.5 or 5 × 10^k at or above v (axis steps). */
function niceStep(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p * (1 + 1e-9)) return m * p;
  return 10 * p;
}

function panel(out: string[], top: number, title: string, xs: number[], series: Series[], x0: number, x1: number, r: SoakReport, fit: boolean): void {
  const left = PAD_L;
  const right = W - PAD_R;
  const bottom = top + PANEL_H;
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const yMax = 4 * niceStep((Math.max(1, ...all) * 1.05) / 4); // four gridlines at round values
  const X = (x: number) => left + ((x - x0) / (x1 - x0 || 1)) * (right - left);
  const Y = (y: number) => bottom - (y / yMax) * PANEL_H;
  out.push(`<text x="${left}" y="${top - 8}" font-size="13" font-weight="bold">${esc(title)}</text>`);
  // Warm-up (not judged) and the end of the load.
  out.push(`<rect x="${X(0)}" y="${top}" width="${Math.max(0, X(r.verdict.warmupMin) - X(0))}" height="${PANEL_H}" fill="#f1f1f1"/>`);
  out.push(`<line x1="${X(r.verdict.loadMin)}" y1="${top}" x2="${X(r.verdict.loadMin)}" y2="${bottom}" stroke="#999" stroke-dasharray="2,3"/>`);
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    out.push(`<line x1="${left}" y1="${Y(v)}" x2="${right}" y2="${Y(v)}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${left - 6}" y="${Y(v) + 4}" font-size="11" text-anchor="end" fill="#555">${esc(v >= 100 ? v.toFixed(0) : v.toFixed(1))}</text>`);
  }
  out.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${PANEL_H}" fill="none" stroke="#bbb"/>`);
  const step = niceStep((x1 - x0) / 6);
  for (let x = Math.ceil(x0 / step) * step; x <= x1 + 1e-9; x += step) {
    out.push(`<text x="${X(x)}" y="${bottom + 14}" font-size="11" text-anchor="middle" fill="#555">${esc(x.toFixed(step < 1 ? 1 : 0))}</text>`);
  }
  out.push(`<text x="${right}" y="${bottom + 28}" font-size="11" text-anchor="end" fill="#555">minutes since the load started</text>`);
  series.forEach((s, i) => {
    const pts = xs.map((x, j) => [x, s.values[j]] as const).filter((p): p is readonly [number, number] => p[1] !== null && Number.isFinite(p[1]));
    if (pts.length) {
      out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.6"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""} points="${pts.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(" ")}"/>`);
      if (s.dots) for (const [x, y] of pts) out.push(`<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="2.2" fill="${s.color}"/>`);
    }
    const ly = top + 14 + i * 18;
    out.push(`<line x1="${right + 10}" y1="${ly - 4}" x2="${right + 28}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`);
    out.push(`<text x="${right + 33}" y="${ly}" font-size="11">${esc(s.label)}</text>`);
  });
  const f = r.verdict.rss;
  if (fit && f) {
    // The RSS fit over the judged span: intercept is not saved, so it is anchored at the span's median.
    const mid = (r.verdict.warmupMin + r.verdict.loadMin) / 2;
    const ya = f.medianValue + f.slopePerMin * (r.verdict.warmupMin - mid);
    const yb = f.medianValue + f.slopePerMin * (r.verdict.loadMin - mid);
    out.push(`<line x1="${X(r.verdict.warmupMin)}" y1="${Y(ya)}" x2="${X(r.verdict.loadMin)}" y2="${Y(yb)}" stroke="#c0392b" stroke-width="1.5" stroke-dasharray="6,4"/>`);
    const ly = top + 14 + series.length * 18;
    out.push(`<line x1="${right + 10}" y1="${ly - 4}" x2="${right + 28}" y2="${ly - 4}" stroke="#c0392b" stroke-width="1.5" stroke-dasharray="6,4"/>`);
    out.push(`<text x="${right + 33}" y="${ly}" font-size="11">RSS trend (judged)</text>`);
  }
}

export function renderSoakChart(r: SoakReport): string {
  const xs = r.samples.map((s) => s.t / 60);
  const x0 = Math.min(0, ...xs);
  const x1 = Math.max(...xs, r.verdict.loadMin);
  const failed = r.verdict.checks.filter((c) => !c.ok);
  const out: string[] = [];
  const m = r.machine ?? {};
  out.push(`<text x="16" y="28" font-size="19" font-weight="bold">${esc(`pushgate bench · soak ${r.params.minutes} min · ${r.verdict.ok ? "PASS" : "FAIL"}`)}</text>`);
  out.push(`<text x="16" y="48" font-size="12" fill="#333">${esc(`${r.startedAt.replace("T", " ").replace(/\.\d+Z$/, " UTC")} · nproc ${m.nproc ?? "?"} · bun ${m.bun ?? "?"} · commit ${(r.git?.commit ?? "?").slice(0, 7)}${r.git?.status.length ? ` (+${r.git.status.length} changed paths)` : ""}`)}</text>`);
  const f = r.verdict.rss;
  out.push(`<text x="16" y="66" font-size="12" fill="#555">${esc(f ? `RSS after warm-up: ${f.first.toFixed(1)} → ${f.last.toFixed(1)} MiB, fitted growth ${f.growth.toFixed(2)} MiB (limit ${f.limit.toFixed(1)}); grey = warm-up, dotted = end of load` : "RSS: too few samples")}</text>`);
  let top = 100;
  panel(out, top, "process memory (MiB)", xs, [
    { label: "RSS", color: "#2f6fd0", values: r.samples.map((s) => s.rssMiB) },
    { label: "mimalloc in use", color: "#e0a030", values: r.samples.map((s) => s.mallocMiB) },
  ], x0, x1, r, true);
  top += PANEL_H + 64;
  panel(out, top, "JS heap (MiB)", xs, [
    { label: "as sampled", color: "#8fcf8f", values: r.samples.map((s) => s.heapMiB) },
    { label: "after full GC", color: "#1e8449", values: r.samples.map((s) => s.liveHeapMiB), dots: true },
  ], x0, x1, r, false);
  top += PANEL_H + 64;
  panel(out, top, "server state", xs, [
    { label: "connections", color: "#555", values: r.samples.map((s) => s.conns) },
    { label: "uids online", color: "#8e44ad", values: r.samples.map((s) => s.uids) },
    { label: "history streams", color: "#c0392b", values: r.samples.map((s) => s.historyStreams) },
    { label: "open fds", color: "#2f6fd0", values: r.samples.map((s) => s.fds), dash: "4,3" },
  ], x0, x1, r, false);
  top += PANEL_H + 52;
  const lines = failed.length ? failed.slice(0, 8).map((c) => `FAIL ${c.name}: ${c.detail}`) : [`all ${r.verdict.checks.length} checks passed`];
  lines.forEach((l, i) => out.push(`<text x="16" y="${top + i * 16}" font-size="11" fill="${failed.length ? "#c0392b" : "#1e8449"}">${esc(l.length > 130 ? l.slice(0, 129) + "…" : l)}</text>`));
  const h = top + lines.length * 16 + 12;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" ${FONT} data-started-at="${esc(r.startedAt)}">\n` +
    `<rect width="${W}" height="${h}" fill="#fff"/>\n${out.join("\n")}\n</svg>\n`;
}

/** The run start a chart was drawn for (its data-started-at), or null. */
function chartStartedAt(file: string): string | null {
  if (!existsSync(file)) return null;
  return /data-started-at="([^"]*)"/.exec(readFileSync(file, "utf8"))?.[1] ?? null;
}

/**
 * Writes soak-<timestamp>.svg next to the JSON (none for latest-soak.json), and latest-soak.svg in
 * its results folder (report.ts resultsDirOf) unless that shows a newer run; returns the paths.
 */
export function writeSoakChart(jsonFile: string, report?: SoakReport): string[] {
  const r = report ?? (JSON.parse(readFileSync(jsonFile, "utf8")) as SoakReport);
  const svg = renderSoakChart(r);
  const dir = dirname(jsonFile);
  const latest = join(resultsDirOf(jsonFile), "latest-soak.svg");
  const shown = chartStartedAt(latest);
  const targets = basename(jsonFile) === "latest-soak.json" ? [] : [join(dir, basename(jsonFile).replace(/\.json$/, "") + ".svg")];
  if (shown === null || shown <= r.startedAt) targets.push(latest);
  for (const t of targets) {
    writeFileSync(t + ".tmp", svg);
    renameSync(t + ".tmp", t);
  }
  return targets;
}

if (import.meta.main) {
  const file = Bun.argv[2];
  if (!file) {
    console.error("usage: bun bench/report/soak-svg.ts bench/results/latest-soak.json (or runs/soak-….json)");
    process.exit(2);
  }
  console.log(writeSoakChart(file).join("\n"));
}

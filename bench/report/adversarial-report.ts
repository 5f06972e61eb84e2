// The adversarial scenario's numbers: round-trip statistics of the healthy client's samples in a
// time window, one row per input class (its worst window), and the printed table.
import { fmt, table } from "../lib/stats.ts";

/** The healthy client's samples: send time (epoch ms) and round trip (ms; -1 = lost). */
export interface Samples { send: Float64Array; rtt: Float64Array }

export interface RttStats { n: number; lost: number; p50: number; p99: number; max: number }

/** The stall budget the issue sets for one frame or request. */
export const STALL_LIMIT_MS = 20;

function firstAtOrAfter(xs: Float64Array, t: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Samples sent in [from, to]; with `overlap`, also those sent earlier and still waiting at
 * `from` (a ping sent just before an input and held up by it belongs to that input).
 */
export function rttStats(s: Samples, from: number, to: number, overlap: boolean): RttStats {
  const lookBack = overlap ? 2000 : 0; // no round trip in a window is meant to exceed this before it starts
  const start = firstAtOrAfter(s.send, from - lookBack);
  const end = firstAtOrAfter(s.send, to + 1e-9);
  const xs: number[] = [];
  let lost = 0;
  for (let i = start; i < end; i++) {
    const at = s.send[i]!;
    const r = s.rtt[i]!;
    if (r < 0 || Number.isNaN(r)) {
      if (at >= from) lost++;
      continue;
    }
    if (at < from && at + r < from) continue;
    xs.push(r);
  }
  xs.sort((a, b) => a - b);
  const pick = (p: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(p * xs.length) - 1))]! : NaN);
  return { n: xs.length, lost, p50: pick(0.5), p99: pick(0.99), max: xs.length ? xs[xs.length - 1]! : NaN };
}

export interface PhaseResult {
  label: string;
  sent: number;
  /** Several inputs in flight together (see Phase.atOnce). */
  atOnce: boolean;
  answers: Record<string, number>;
  /** The slowest answer the attacker saw (from its send). */
  maxAnswerMs: number;
  from: number;
  to: number;
  ws: RttStats;
  http: RttStats;
  /** Server CPU in the window, minus the baseline rate (the probe's own load). */
  cpuMs: number | null;
  error?: string;
}

export interface InputResult { name: string; phases: PhaseResult[]; error?: string }

export interface ClassResult {
  name: string;
  server: "uid" | "jwt";
  what: string;
  baseline: { from: number; to: number; ws: RttStats; http: RttStats; cpuMsPerSec: number | null };
  inputs: InputResult[];
  row: Row;
}

export interface Row {
  class: string;
  sent: number;
  answer: string;
  /** Over the phases that send one input at a time (the rule is per frame or request). */
  worstMs: number;
  p99Ms: number;
  baseP50Ms: number;
  baseP99Ms: number;
  stallMs: number;
  /** Worst stall over the phases with several inputs in flight at once. */
  stallAtOnceMs: number;
  httpWorstMs: number;
  cpuMs: number | null;
  /** On the one-at-a-time stall; a class with only at-once phases is judged on those ("(at once)"). */
  verdict: string;
  /** The input and phase of the worst round trip, one at a time and at once. */
  worstInput: string;
  worstAtOnce: string;
  lost: number;
}

/** The distinct answers of a class, most frequent first: `error E_TOO_DEEP ×9, close 1008 … ×1`. */
export function answerSummary(answers: Record<string, number>, max = 3): string {
  const all = Object.entries(answers).sort((a, b) => b[1] - a[1]);
  const shown = all.slice(0, max).map(([k, n]) => `${k} ×${n}`);
  return shown.join(", ") + (all.length > max ? `, +${all.length - max} more` : "");
}

/** The largest finite value, NaN when there is none (Math.max(...xs, NaN) is always NaN). */
function maxOf(xs: readonly number[]): number {
  let m = NaN;
  for (const x of xs) if (!Number.isNaN(x) && !(x <= m)) m = x;
  return m;
}

export function classRow(c: Omit<ClassResult, "row">): Row {
  const phases = c.inputs.flatMap((i) => i.phases.map((p) => ({ input: i.name, p })));
  const answers: Record<string, number> = {};
  for (const { p } of phases) for (const [k, n] of Object.entries(p.answers)) answers[k] = (answers[k] ?? 0) + n;
  for (const i of c.inputs) if (i.error) answers[`setup error: ${i.error.slice(0, 60)}`] = 1;
  const worstOf = (xs: typeof phases) => {
    let w: (typeof phases)[number] | undefined;
    for (const x of xs) if (!Number.isNaN(x.p.ws.max) && (!w || x.p.ws.max > w.p.ws.max)) w = x;
    return w;
  };
  const single = phases.filter(({ p }) => !p.atOnce);
  const several = phases.filter(({ p }) => p.atOnce);
  const w1 = worstOf(single);
  const wN = worstOf(several);
  const base = c.baseline.ws.p50;
  const stallMs = (w1?.p.ws.max ?? NaN) - base;
  const stallAtOnceMs = (wN?.p.ws.max ?? NaN) - base;
  const judged = Number.isNaN(stallMs) ? stallAtOnceMs : stallMs;
  const cpu = phases.map(({ p }) => p.cpuMs).filter((x): x is number => x !== null);
  const where = (w: (typeof phases)[number] | undefined) => (w ? `${w.input} (${w.p.label})` : "-");
  return {
    class: c.name,
    sent: phases.reduce((n, { p }) => n + p.sent, 0),
    answer: answerSummary(answers),
    worstMs: w1?.p.ws.max ?? NaN,
    p99Ms: maxOf(single.map(({ p }) => p.ws.p99)),
    baseP50Ms: base,
    baseP99Ms: c.baseline.ws.p99,
    stallMs,
    stallAtOnceMs,
    httpWorstMs: maxOf(phases.map(({ p }) => p.http.max)),
    cpuMs: cpu.length ? cpu.reduce((a, b) => a + b, 0) : null,
    verdict: (Number.isNaN(judged) ? "no data" : judged <= STALL_LIMIT_MS ? "ok" : "STALL") + (Number.isNaN(stallMs) && !Number.isNaN(judged) ? " (at once)" : ""),
    worstInput: where(w1),
    worstAtOnce: where(wN),
    lost: phases.reduce((n, { p }) => n + p.ws.lost, 0),
  };
}

const ms = (x: number | null) => (x === null || Number.isNaN(x) ? "-" : x < 10 ? x.toFixed(2) : fmt(Math.round(x * 10) / 10));

export function renderRows(rows: readonly Row[]): string {
  const body = rows.map((r) => [
    r.class, String(r.sent), r.answer, ms(r.worstMs), ms(r.p99Ms), ms(r.baseP99Ms), ms(r.stallMs), ms(r.stallAtOnceMs), ms(r.httpWorstMs),
    r.cpuMs === null ? "-" : String(Math.round(r.cpuMs)), r.verdict + (r.lost ? ` (${r.lost} lost)` : ""),
  ]);
  return table(
    ["class", "inputs", "answer", "worst ms", "p99 ms", "base p99 ms", "worst stall ms", "stall at once ms", "http worst ms", "server cpu ms", `≤ ${STALL_LIMIT_MS} ms`],
    body, new Set([1, 3, 4, 5, 6, 7, 8, 9]),
  );
}

/** The worst input of each class, one at a time and at once (the table cannot hold them). */
export function renderWorstInputs(rows: readonly Row[]): string {
  return rows.map((r) => `  ${r.class}: ${r.worstInput}; at once: ${r.worstAtOnce}`).join("\n");
}

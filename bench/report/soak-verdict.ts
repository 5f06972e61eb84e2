// The soak's judgement, as pure functions over its samples and final reports: a least-squares
// line through each memory curve after warm-up (growth = slope × that span), a check that the
// curve does not keep rising third over third, plus the presence and delivery checks; and the
// text curve (sparklines) printed at the end.

export interface Check { name: string; ok: boolean; detail: string; /** Informational: shown, never fails the run. */ warn?: boolean }

export interface Fit { slopePerMin: number; intercept: number; points: number }

/** Least-squares line y = intercept + slope·x over the given points (x in minutes). */
export function fitLine(xs: readonly number[], ys: readonly number[]): Fit | null {
  const n = xs.length;
  if (n < 3) return null;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slopePerMin: slope, intercept: my - slope * mx, points: n };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Flatness {
  /** The fitted growth over the judged span (slope × span), in the curve's unit. */
  growth: number;
  limit: number;
  slopePerMin: number;
  first: number;
  last: number;
  medianValue: number;
  /** Medians of the judged span's three thirds (rising in all three and by more than half the limit = "keeps growing"). */
  thirds: [number, number, number] | null;
  points: number;
}

/**
 * Flatness of one curve over the points with x ≥ fromMin: growth = slope × span must stay within
 * max(relLimit × median, absLimit), and the thirds' medians must not rise steadily.
 */
export function flatness(xs: readonly number[], ys: readonly number[], fromMin: number, relLimit: number, absLimit: number): Flatness | null {
  const px: number[] = [];
  const py: number[] = [];
  xs.forEach((x, i) => { if (x >= fromMin && Number.isFinite(ys[i]!)) { px.push(x); py.push(ys[i]!); } });
  const fit = fitLine(px, py);
  if (!fit) return null;
  const span = px[px.length - 1]! - px[0]!;
  const med = median(py);
  const k = Math.floor(py.length / 3);
  const thirds: [number, number, number] | null = k >= 2
    ? [median(py.slice(0, k)), median(py.slice(k, 2 * k)), median(py.slice(2 * k))] : null;
  return {
    growth: fit.slopePerMin * span, limit: Math.max(relLimit * med, absLimit), slopePerMin: fit.slopePerMin,
    first: py[0]!, last: py[py.length - 1]!, medianValue: med, thirds, points: py.length,
  };
}

/** A check from a Flatness (null = too few points: a warning, not a failure). */
export function flatCheck(name: string, f: Flatness | null, unit: string): Check {
  if (!f) return { name, ok: true, warn: true, detail: "too few samples after warm-up to judge" };
  const r = (x: number) => x.toFixed(2);
  const rising = f.thirds !== null && f.thirds[0] < f.thirds[1] && f.thirds[1] < f.thirds[2] && f.thirds[2] - f.thirds[0] > f.limit / 2;
  const ok = f.growth <= f.limit && !rising;
  return {
    name, ok,
    detail: `fitted growth ${r(f.growth)} ${unit} after warm-up (limit ${r(f.limit)}; slope ${r(f.slopePerMin)} ${unit}/min over ${f.points} samples), ` +
      `first ${r(f.first)} last ${r(f.last)} median ${r(f.medianValue)}` +
      (f.thirds ? `; thirds ${f.thirds.map(r).join(" → ")}${rising ? " (keeps rising)" : ""}` : ""),
  };
}

export function eq(name: string, got: unknown, want: unknown): Check {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  return { name, ok: g === w, detail: g === w ? `${g}` : `got ${g.slice(0, 200)}, want ${w.slice(0, 200)}` };
}

export function zero(name: string, v: number | undefined | null, warn = false): Check {
  const ok = v === 0;
  return { name, ok: warn ? true : ok, warn: warn && !ok ? true : undefined, detail: String(v ?? "missing") };
}

const BARS = "▁▂▃▄▅▆▇█";

/** The values as a sparkline of at most width characters (each the mean of its bucket); min and max alongside. */
export function sparkline(values: readonly (number | null)[], width = 60): string {
  const vs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (vs.length === 0) return "(no data)";
  const n = Math.min(width, vs.length);
  const buckets = Array.from({ length: n }, (_, i) => {
    const part = vs.slice(Math.floor((i * vs.length) / n), Math.max(Math.floor(((i + 1) * vs.length) / n), Math.floor((i * vs.length) / n) + 1));
    return part.reduce((a, b) => a + b, 0) / part.length;
  });
  const lo = Math.min(...buckets);
  const hi = Math.max(...buckets);
  return buckets.map((b) => BARS[hi === lo ? 3 : Math.min(7, Math.floor(((b - lo) / (hi - lo)) * 8))]).join("");
}

/** Object types whose count grew most between two heap censuses (full-GC lines). */
export function typeGrowth(before: Record<string, number> | undefined, after: Record<string, number> | undefined, top = 12): { type: string; before: number; after: number; delta: number }[] {
  if (!before || !after) return [];
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].map((type) => ({ type, before: before[type] ?? 0, after: after[type] ?? 0, delta: (after[type] ?? 0) - (before[type] ?? 0) }))
    .filter((x) => x.delta !== 0).sort((a, b) => b.delta - a.delta).slice(0, top);
}

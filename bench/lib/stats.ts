// Small numeric helpers: nearest-rank percentiles, median, number formatting, a text table.

/** Nearest-rank percentiles (p in 0..100) of the first n values; NaN when n is 0. */
export function percentiles(values: Float64Array, n: number, ps: readonly number[]): number[] {
  if (n === 0) return ps.map(() => NaN);
  const sorted = values.slice(0, n).sort();
  return ps.map((p) => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!);
}

export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Rounds to 3 significant digits (integers keep every digit); "-" for null/NaN. */
export function fmt(v: number | string | null | undefined): string {
  if (typeof v === "string") return v;
  if (v === null || v === undefined || Number.isNaN(v)) return "-";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (Number.isInteger(v) || Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
  return Number(v.toPrecision(3)).toString();
}

/** A plain-text table; columns listed in `right` are right-aligned. */
export function table(headers: readonly string[], rows: readonly string[][], right: ReadonlySet<number>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

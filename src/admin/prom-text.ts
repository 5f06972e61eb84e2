// Reads the node's own /metrics text (Prometheus exposition format) back into numbers, so the
// dashboard shows exactly what a scraper sees, labelled series included, without reaching
// into the metric objects' internals.

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Samples by metric name (`pushgate_drops_total`, `pushgate_api_duration_seconds_bucket`, …). */
export function parseMetrics(text: string): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const s = sampleOf(line);
    if (s === null) continue;
    const list = out.get(s.name);
    if (list) list.push(s.sample);
    else out.set(s.name, [s.sample]);
  }
  return out;
}

function sampleOf(line: string): { name: string; sample: Sample } | null {
  const brace = line.indexOf("{");
  const space = line.indexOf(" ");
  if (space === -1) return null;
  if (brace === -1 || brace > space) {
    const value = Number(line.slice(space + 1).trim().split(" ")[0]);
    return Number.isNaN(value) ? null : { name: line.slice(0, space), sample: { labels: {}, value } };
  }
  const close = line.lastIndexOf("}");
  if (close < brace) return null;
  const value = Number(line.slice(close + 1).trim().split(" ")[0]);
  if (Number.isNaN(value)) return null;
  return { name: line.slice(0, brace), sample: { labels: labelsOf(line.slice(brace + 1, close)), value } };
}

/** `a="x",b="y\"z"` → { a: "x", b: 'y"z' } (the format's three escapes). */
function labelsOf(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const m of text.matchAll(re)) {
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
  }
  return labels;
}

/** The series of one labelled counter as { labelValue: count }. */
export function byLabel(metrics: Map<string, Sample[]>, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of metrics.get(name) ?? []) {
    const key = s.labels[label] ?? "";
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

/** The sum of every series of `name` (one unlabelled sample: its value). */
export function total(metrics: Map<string, Sample[]>, name: string): number {
  let n = 0;
  for (const s of metrics.get(name) ?? []) n += s.value;
  return n;
}

/** A histogram summed over its label sets: cumulative counts per upper bound, sum and count. */
export function histogram(metrics: Map<string, Sample[]>, name: string): { buckets: [number, number][]; sum: number; count: number } {
  const le = new Map<number, number>();
  for (const s of metrics.get(`${name}_bucket`) ?? []) {
    const bound = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
    if (!Number.isNaN(bound)) le.set(bound, (le.get(bound) ?? 0) + s.value);
  }
  const buckets = [...le].filter(([b]) => b !== Infinity).sort((a, b) => a[0] - b[0]);
  return { buckets, sum: total(metrics, `${name}_sum`), count: total(metrics, `${name}_count`) };
}

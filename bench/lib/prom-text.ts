// Reading pushgate's /metrics (Prometheus text format) from outside: one sample's value, or every
// sample of a metric by one label. Used by the hooks scenario for the webhook queue and its events' fates.

/** GET <base>/metrics as text (1 s limit). */
export async function fetchMetrics(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(1000) });
  return res.text();
}

/** The value of `name` with exactly these labels (none: the bare sample), or 0 when absent (a counter not yet incremented). */
export function sample(text: string, name: string, labels = ""): number {
  const key = labels ? `${name}{${labels}} ` : `${name} `;
  for (const line of text.split("\n")) if (line.startsWith(key)) return Number(line.slice(key.length));
  return 0;
}

/** Every sample of `name` keyed by the value of `label` (e.g. outcome → count). */
export function byLabel(text: string, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  const re = new RegExp(`^${name}\\{[^}]*\\b${label}="([^"]*)"[^}]*\\} (\\S+)$`, "gm");
  for (const m of text.matchAll(re)) out[m[1]!] = Number(m[2]);
  return out;
}

/** after − before per key (keys of either side; absent = 0). */
export function deltas(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) out[k] = (after[k] ?? 0) - (before[k] ?? 0);
  return out;
}

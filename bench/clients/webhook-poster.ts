// The hooks scenario's webhook control, run by scenarios/hooks.ts:
//   bun bench/clients/webhook-poster.ts '<PosterConfig JSON>'
// A bare client that POSTs `events` events to the receiver in pre-built batches of `batch`, one
// POST in flight at a time (as pushgate sends them), with fetch (as pushgate does). The bodies have
// pushgate's shape (connection.open / connection.close events, same fields and sizes) and its
// headers, with a dummy signature; they are built and encoded before the clock starts, so what is
// left is the receiver's ceiling at that batch size. Prints `RESULT <json>` (phase "poster") and exits.
import { printResult, readConfig } from "./load-process.ts";
import { selfCpuMs } from "../lib/proc-stats.ts";

export interface PosterConfig {
  url: string;
  events: number;
  batch: number;
  /** Per-POST limit (ms), as --hook-timeout bounds pushgate's. */
  timeoutMs: number;
}

/** The k-th event as pushgate would queue it (hooks/webhooks.ts): opens and closes alternate. */
function event(k: number, now: number): Record<string, unknown> {
  const clientId = `3594478b${(k >> 1).toString(16).padStart(12, "0")}`;
  const base = { id: `3594478b-${(k + 1).toString(36)}`, name: k % 2 ? "connection.close" : "connection.open", time_ms: now, clientId, uid: `w${k >> 1}` };
  return k % 2 ? { ...base, code: 1006, reason: "", session: null } : base;
}

if (import.meta.main) {
  const cfg = readConfig<PosterConfig>("bench/clients/webhook-poster.ts", "PosterConfig", "scenarios/hooks.ts");
  const now = Date.now();
  const bodies: Uint8Array[] = [];
  for (let k = 0; k < cfg.events; k += cfg.batch) {
    const events = [];
    for (let j = k; j < Math.min(cfg.events, k + cfg.batch); j++) events.push(event(j, now));
    bodies.push(new TextEncoder().encode(JSON.stringify({ time_ms: now, events })));
  }
  const headers = {
    "content-type": "application/json", "x-pushgate-timestamp": String(now), "x-pushgate-signature": `sha256=${"0".repeat(64)}`,
  };
  let httpErrors = 0;
  const errors = new Set<string>();
  const cpu0 = selfCpuMs();
  const t0 = performance.now();
  for (const body of bodies) {
    try {
      const res = await fetch(cfg.url, { method: "POST", headers, body, signal: AbortSignal.timeout(cfg.timeoutMs) });
      await res.arrayBuffer();
      if (!res.ok) { httpErrors++; if (errors.size < 5) errors.add(`HTTP ${res.status}`); }
    } catch (e) {
      httpErrors++;
      if (errors.size < 5) errors.add((e as Error).message);
    }
  }
  const wallMs = performance.now() - t0;
  printResult({
    phase: "poster", events: cfg.events, batch: cfg.batch, posts: bodies.length, httpErrors, wallMs,
    clientCpuUtil: (selfCpuMs() - cpu0) / wallMs, errors: [...errors].join("; ") || null,
  });
  process.exit(0);
}

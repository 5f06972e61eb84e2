// The hooks scenario's webhook event generator, run by scenarios/hooks.ts:
//   bun bench/clients/webhook-churn.ts '<ChurnConfig JSON>'
// Makes connection.open + connection.close events on pushgate: in waves of `wave` sockets it logs
// each one in (seed, uid w<n>, over 127.0.0.1..127.0.0.<sources>, `concurrency` at a time), then
// resets them all (no close handshake, no TIME_WAIT: see WsConn.reset). Before a wave it reads
// pushgate's webhook queue (/metrics) and waits while that wave's 2 events per socket would take
// it past `queueLimit`, so the generator never overflows --webhook-queue by itself; a poller
// keeps the largest queue it saw. Prints `RESULT <json>` (phase "churn") and exits.
import { printResult, readConfig } from "./load-process.ts";
import { loginClient, loginEach } from "../lib/client-pool.ts";
import { fetchMetrics, sample } from "../lib/prom-text.ts";
import { selfCpuMs } from "../lib/proc-stats.ts";
import { settlesWithin } from "../lib/timeout.ts";

export interface ChurnConfig {
  host: string;
  port: number;
  sources: number;
  sockets: number;
  wave: number;
  concurrency: number;
  /** Whole run deadline (ms); each login also has 5 s. */
  timeoutMs: number;
  /** Events the queue may hold; a wave waits until queue + 2 × wave fits. */
  queueLimit: number;
  /** Uids w<firstUid>.. (distinct over a scenario's runs). */
  firstUid: number;
}

if (import.meta.main) {
  const cfg = readConfig<ChurnConfig>("bench/clients/webhook-churn.ts", "ChurnConfig", "scenarios/hooks.ts");
  const base = `http://${cfg.host}:${cfg.port}`;
  const queue = async () => sample(await fetchMetrics(base), "pushgate_webhook_queue");
  let maxQueue = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      try { maxQueue = Math.max(maxQueue, await queue()); } catch { /* a slow answer: the next poll */ }
      await Bun.sleep(20);
    }
  })();
  const deadline = performance.now() + cfg.timeoutMs;
  const errors = new Set<string>();
  let loggedIn = 0, failed = 0, waves = 0, pacedMs = 0, next = 0;
  const cpu0 = selfCpuMs();
  const startedAtMs = Date.now();
  while (next < cfg.sockets && performance.now() < deadline) {
    const n = Math.min(cfg.wave, cfg.sockets - next);
    const p0 = performance.now();
    for (;;) {
      const q = await queue().catch(() => 0);
      maxQueue = Math.max(maxQueue, q);
      if (q + 2 * n <= cfg.queueLimit || performance.now() > deadline) break;
      await Bun.sleep(5);
    }
    pacedMs += performance.now() - p0;
    const first = cfg.firstUid + next;
    const run = await loginEach(n, cfg.concurrency, deadline, (i) => loginClient(
      `w${first + i}`, { host: cfg.host, port: cfg.port, localAddress: `127.0.0.${1 + ((first + i) % cfg.sources)}` }, 5000,
    ));
    for (const e of run.errors) if (errors.size < 5) errors.add(e);
    loggedIn += run.conns.length;
    failed += run.failed;
    for (const c of run.conns) c.reset();
    await settlesWithin(Promise.all(run.conns.map((c) => c.closed)), 2000);
    next += n;
    waves++;
  }
  const finishedAtMs = Date.now();
  polling = false;
  await poller;
  if (next < cfg.sockets) errors.add(`deadline of ${cfg.timeoutMs} ms passed after ${next} sockets`);
  printResult({
    phase: "churn", requested: cfg.sockets, loggedIn, failed: failed + cfg.sockets - next, waves, startedAtMs, finishedAtMs,
    maxQueue, pacedMs, clientCpuUtil: (selfCpuMs() - cpu0) / Math.max(1, finishedAtMs - startedAtMs),
    errors: [...errors].join("; ") || null,
  });
  process.exit(0);
}

// The load generator, run by run.ts as its own process (its CPU is not the server's):
//   bun bench/clients/load-client.ts '<LoadConfig JSON>'
// Logs N clients in, runs the broadcast then the targeted scenario, prints `RESULT <json>` per
// phase on stdout (progress on stderr) and exits.
import { printResult, readConfig } from "./load-process.ts";
import { closePool, openPool } from "../lib/client-pool.ts";
import { procRssKiB } from "../lib/proc-stats.ts";
import { runBroadcast } from "../scenarios/broadcast-phase.ts";
import { runTargeted } from "../scenarios/targeted-phase.ts";
import type { LoadConfig, PhaseResult } from "../lib/types.ts";
import type { WsConn } from "../lib/ws-client.ts";

const cfg = readConfig<LoadConfig>("bench/clients/load-client.ts", "LoadConfig", "run.ts");
const progress = (msg: string) => process.stderr.write(`  [load ${cfg.port}] ${msg}\n`);

const report = (r: PhaseResult, conns: readonly WsConn[]): void => printResult(r, conns);

const rssBefore = procRssKiB(cfg.serverPid);
const pool = await openPool({
  host: cfg.host, port: cfg.port, clients: cfg.clients, sources: cfg.sources,
  concurrency: cfg.connectConcurrency, timeoutMs: cfg.connectTimeoutMs, opTimeoutMs: 5000, json: cfg.protocol === "json",
});
await Bun.sleep(200); // let the server settle before reading its RSS
const rssAfter = procRssKiB(cfg.serverPid);
const conns = pool.conns;
progress(`${conns.length}/${cfg.clients} logged in in ${Math.round(pool.wallMs)} ms` +
  (pool.errors.length ? `; errors: ${pool.errors.join("; ")}` : ""));
report({
  phase: "setup", requested: cfg.clients, loggedIn: conns.length, failed: pool.failed,
  errors: pool.errors.join("; ") || null, wallMs: pool.wallMs,
  loginsPerSec: conns.length / (pool.wallMs / 1000),
  serverRssBeforeKiB: rssBefore, serverRssAfterKiB: rssAfter,
  serverRssPerConnKiB: rssBefore === null || rssAfter === null || conns.length === 0
    ? null : (rssAfter - rssBefore) / conns.length,
}, conns);

if (conns.length >= 2) {
  const b = await runBroadcast(conns, cfg.broadcast, cfg.serverPid);
  progress(`broadcast: ${b.delivered}/${b.expected} deliveries in ${Math.round(Number(b.wallMs))} ms` +
    (b.timedOut ? ` (${b.timedOut})` : ""));
  report(b, conns);
  // Stragglers of a timed-out broadcast must not land in the next phase (the map control can be
  // many seconds behind at 10,000 receivers): wait until the sockets have been quiet for 300 ms.
  await quiet(conns, 300, 30_000);
  // The broadcast left millions of dead frames in this process's heap: collect them now, not
  // during the latency measurement (the server is not touched).
  Bun.gc(true);
  const t = await runTargeted(conns, cfg.targeted, cfg.serverPid);
  progress(`targeted: ${t.delivered}/${t.sent} delivered` + (t.timedOut ? ` (${t.timedOut})` : ""));
  report(t, conns);
} else {
  progress("fewer than 2 clients logged in; scenarios skipped");
}
await closePool(conns, 2000);
process.exit(0);

/** Resolves once no frame arrived for quietMs (or after maxMs). */
async function quiet(cs: readonly WsConn[], quietMs: number, maxMs: number): Promise<void> {
  let last = Bun.nanoseconds();
  for (const c of cs) c.handler = () => { last = Bun.nanoseconds(); };
  const end = last + maxMs * 1e6;
  while (Bun.nanoseconds() - last < quietMs * 1e6 && Bun.nanoseconds() < end) await Bun.sleep(50);
}

// One load process of the capacity scenario, run by capacity.ts (several when N is large):
//   bun bench/capacity-client.ts '<CapacityClientConfig JSON>'
// Waits until startAt (epoch ms, shared by all processes), logs in uids u<firstUid>.. and prints
// `RESULT <json>` (count, first/last epoch ms). Then holds the idle sockets until SIGUSR1 (sent
// by the orchestrator to this pid once it has read the server's RSS) or holdMaxMs, closes and exits.
import { closePool, openPool } from "./client-pool.ts";
import { RESULT_PREFIX } from "./types.ts";

export interface CapacityClientConfig {
  host: string;
  port: number;
  firstUid: number;
  clients: number;
  sources: number;
  concurrency: number;
  /** Epoch ms at which every process starts connecting. */
  startAt: number;
  connectTimeoutMs: number;
  /** Longest hold after the logins if no SIGUSR1 comes (0 = close at once). */
  holdMaxMs: number;
}

if (import.meta.main) {
  const cfg = JSON.parse(Bun.argv[2] ?? "null") as CapacityClientConfig | null;
  if (!cfg) {
    console.error("usage: bun bench/capacity-client.ts '<CapacityClientConfig JSON>' (capacity.ts builds it)");
    process.exit(2);
  }
  const release = Promise.withResolvers<void>();
  process.on("SIGUSR1", () => release.resolve());
  const wait = cfg.startAt - Date.now();
  if (wait > 0) await Bun.sleep(wait);
  const startedAtMs = Date.now();
  const pool = await openPool({
    host: cfg.host, port: cfg.port, clients: cfg.clients, firstUid: cfg.firstUid, sources: cfg.sources,
    concurrency: cfg.concurrency, timeoutMs: cfg.connectTimeoutMs, opTimeoutMs: 5000,
  });
  const finishedAtMs = Date.now();
  process.stdout.write(RESULT_PREFIX + JSON.stringify({
    phase: "capacity-client", requested: cfg.clients, loggedIn: pool.conns.length, failed: pool.failed,
    errors: pool.errors.join("; ") || null, startedAtMs, finishedAtMs,
  }) + "\n");
  if (cfg.holdMaxMs > 0) {
    const timer = setTimeout(() => release.resolve(), cfg.holdMaxMs);
    await release.promise;
    clearTimeout(timer);
  }
  const closedWhileIdle = pool.conns.filter((c) => !c.open).length;
  process.stdout.write(RESULT_PREFIX + JSON.stringify({ phase: "capacity-hold", closedWhileIdle }) + "\n");
  await closePool(pool.conns, 3000);
  process.exit(0);
}

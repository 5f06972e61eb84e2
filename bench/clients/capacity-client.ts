// One load process of the capacity scenario, run by capacity.ts (several when N is large):
//   bun bench/clients/capacity-client.ts '<CapacityClientConfig JSON>'
// Waits until startAt (epoch ms, shared by all processes), logs in uids u<firstUid>.. and prints
// `RESULT <json>` (count, first/last epoch ms). Then holds the idle sockets until SIGUSR1 (sent
// by the orchestrator to this pid once it has read the server's RSS) or holdMaxMs, closes and exits.
import { type HeldClientsConfig, holdUntilReleased, printResult, readConfig, releaseOnSignal, sleepUntil } from "./load-process.ts";
import { closePool, openPool } from "../lib/client-pool.ts";

export interface CapacityClientConfig extends HeldClientsConfig {
  host: string;
  sources: number;
}

if (import.meta.main) {
  const cfg = readConfig<CapacityClientConfig>("bench/clients/capacity-client.ts", "CapacityClientConfig", "capacity.ts");
  const release = releaseOnSignal();
  await sleepUntil(cfg.startAt);
  const startedAtMs = Date.now();
  const pool = await openPool({
    host: cfg.host, port: cfg.port, clients: cfg.clients, firstUid: cfg.firstUid, sources: cfg.sources,
    concurrency: cfg.concurrency, timeoutMs: cfg.connectTimeoutMs, opTimeoutMs: 5000,
  });
  const finishedAtMs = Date.now();
  printResult({
    phase: "capacity-client", requested: cfg.clients, loggedIn: pool.conns.length, failed: pool.failed,
    errors: pool.errors.join("; ") || null, startedAtMs, finishedAtMs,
  });
  await holdUntilReleased(release, cfg.holdMaxMs);
  const closedWhileIdle = pool.conns.filter((c) => !c.open).length;
  printResult({ phase: "capacity-hold", closedWhileIdle });
  await closePool(pool.conns, 3000);
  process.exit(0);
}

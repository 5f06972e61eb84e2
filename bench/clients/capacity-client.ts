// One load process of the capacity scenario, run by capacity.ts (several when N is large):
//   bun bench/clients/capacity-client.ts '<CapacityClientConfig JSON>'
// Waits until startAt (epoch ms, shared by all processes), logs in uids u<firstUid>.. and prints
// `RESULT <json>` (count, first/last epoch ms). Then holds the idle sockets until SIGUSR1 (sent
// by the orchestrator to this pid once it has read the server's RSS) or holdMaxMs, closes and exits.
// With `ports` (the cluster column: several server processes), uid u<k> connects to
// ports[k % ports.length], so every process splits its clients evenly over the servers.
import { type HeldClientsConfig, holdUntilReleased, printResult, readConfig, releaseOnSignal, sleepUntil } from "./load-process.ts";
import { type Pool, closePool, loginClient, loginEach, openPool } from "../lib/client-pool.ts";

export interface CapacityClientConfig extends HeldClientsConfig {
  host: string;
  sources: number;
  /** More than one: round-robin over these by uid index (`port` is then ignored). */
  ports?: number[];
}

/** openPool with one port per uid (round-robin over `ports`). */
async function openSplitPool(cfg: CapacityClientConfig, ports: readonly number[]): Promise<Pool> {
  const t0 = performance.now();
  const run = await loginEach(cfg.clients, cfg.concurrency, t0 + cfg.connectTimeoutMs, (i) => {
    const k = cfg.firstUid + i;
    return loginClient(`u${k}`, { host: cfg.host, port: ports[k % ports.length]!, localAddress: `127.0.0.${1 + (i % cfg.sources)}` }, 5000);
  });
  if (run.attempted < cfg.clients) run.errors.add(`pool deadline of ${cfg.connectTimeoutMs} ms passed`);
  return { conns: run.conns, failed: run.failed, errors: [...run.errors], wallMs: performance.now() - t0 };
}

if (import.meta.main) {
  const cfg = readConfig<CapacityClientConfig>("bench/clients/capacity-client.ts", "CapacityClientConfig", "capacity.ts");
  const release = releaseOnSignal();
  const ports = cfg.ports && cfg.ports.length > 1 ? cfg.ports : null;
  await sleepUntil(cfg.startAt);
  const startedAtMs = Date.now();
  const pool = ports ? await openSplitPool(cfg, ports) : await openPool({
    host: cfg.host, port: cfg.port, clients: cfg.clients, firstUid: cfg.firstUid, sources: cfg.sources,
    concurrency: cfg.concurrency, timeoutMs: cfg.connectTimeoutMs, opTimeoutMs: 5000,
  });
  const finishedAtMs = Date.now();
  // Logged in per server, in `ports` order (a check that the split is even).
  const perPort = ports?.map((_, j) => pool.conns.filter((c) => Number(c.uid.slice(1)) % ports.length === j).length);
  printResult({
    phase: "capacity-client", requested: cfg.clients, loggedIn: pool.conns.length, failed: pool.failed,
    errors: pool.errors.join("; ") || null, startedAtMs, finishedAtMs, ...(perPort ? { loggedInPerPort: perPort } : {}),
  });
  await holdUntilReleased(release, cfg.holdMaxMs);
  const closedWhileIdle = pool.conns.filter((c) => !c.open).length;
  printResult({ phase: "capacity-hold", closedWhileIdle });
  await closePool(pool.conns, 3000);
  process.exit(0);
}

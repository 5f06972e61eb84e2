// The capacity scenario (called by run.ts): N logged-in idle connections against a fresh server
// of each kind (control, map, pushgate), one server at a time. Several capacity-client.ts
// processes (at most CLIENTS_PER_PROCESS sockets each) start connecting at one shared instant.
// Reported per server: connect+login rate, server CPU during the connect phase, and server RSS
// per connection: (min of a few RSS samples over ~1 s after the logins) − (min over ~1 s before),
// divided by the clients logged in. The server's GC cannot be forced from outside, so the minimum
// is the least GC-noisy sample we can take.
// With --capacity-cluster, a `cluster` column too: a fresh redis-server and two fresh pushgates
// with --redis (the processes --workers 2 runs), the clients round-robin over both; its CPU and
// RSS are the two processes' sums (Redis's CPU is kept in the JSON, not in the rows).
import type { CapacityClientConfig } from "../clients/capacity-client.ts";
import type { Params } from "../lib/params.ts";
import { type Child, Interrupted, spawnChild, waitExit } from "../lib/processes.ts";
import { distinctErrors, firstResults, lastResult, splitClients } from "../lib/load-results.ts";
import { minRssKiB, procCpuMs } from "../lib/proc-stats.ts";
import type { AnyPhaseResult, CapacityName, RoundResult } from "../report/report.ts";
import { startRedis, stopChild } from "../lib/redis.ts";
import { HOST, type ServerUnderTest, startPushgate, startServer } from "../lib/servers.ts";

/** Below RLIMIT_NOFILE (20,000) with a wide margin. */
export const CLIENTS_PER_PROCESS = 5000;
const WARMUP_CLIENTS = 200;

interface ClientReport {
  loggedIn: number; failed: number; errors: string | null; startedAtMs: number; finishedAtMs: number;
  /** Only with several ports: logged in per server, in port order. */
  loggedInPerPort?: number[];
}

/** What one column measures: the server processes (one, or two for the cluster) and their ports. */
interface Target {
  name: CapacityName;
  ports: number[];
  pids: number[];
  /** The cluster's redis-server (its CPU goes into the JSON only). */
  redisPid: number | null;
}

/**
 * Starts the column's fresh servers; each child is pushed to `started` as soon as it is up (so the
 * caller stops it even if another one failed to start).
 */
async function startTarget(root: string, name: CapacityName, started: Child[]): Promise<Target> {
  if (name !== "cluster") {
    const s = await startServer(root, name);
    started.push(s.child);
    return { name, ports: [s.port], pids: [s.child.proc.pid], redisPid: null };
  }
  const redis = await startRedis(root, "redis-server (capacity cluster)");
  started.push(redis.child);
  // allSettled: a node that comes up after the other one failed is still stopped.
  const nodes = await Promise.allSettled(["A", "B"].map((k) => startPushgate(root, ["--redis", redis.url], `pushgate capacity node ${k}`)));
  for (const n of nodes) if (n.status === "fulfilled") started.push(n.value.child);
  const bad = nodes.find((n) => n.status === "rejected");
  if (bad) throw bad.reason;
  const up = nodes.map((n) => (n as PromiseFulfilledResult<ServerUnderTest>).value);
  return { name, ports: up.map((s) => s.port), pids: up.map((s) => s.child.proc.pid), redisPid: redis.child.proc.pid };
}

function spawnClients(root: string, t: Target, p: Params, n: number, startAt: number, holdMaxMs: number): Child[] {
  return splitClients(n, CLIENTS_PER_PROCESS).map(({ firstUid, clients }, k) => {
    const cfg: CapacityClientConfig = {
      host: HOST, port: t.ports[0]!, ...(t.ports.length > 1 ? { ports: t.ports } : {}), firstUid, clients,
      sources: p.sources, concurrency: 64, startAt, connectTimeoutMs: p.capacity.connectTimeoutMs, holdMaxMs,
    };
    return spawnChild(`capacity client ${k} (${t.name})`, [process.execPath, "bench/clients/capacity-client.ts", JSON.stringify(cfg)], root, true);
  });
}

/** Summed user+system CPU ms of the pids, or null if one could not be read. */
function cpuMs(pids: readonly number[]): number | null {
  const xs = pids.map(procCpuMs);
  return xs.some((x) => x === null) ? null : xs.reduce((a: number, x) => a + x!, 0);
}

/** Each pid's minimum RSS over the same sampling window, summed (KiB), or null if one could not be read. */
async function rssKiB(pids: readonly number[], n: number, everyMs: number): Promise<number | null> {
  const xs = await Promise.all(pids.map((pid) => minRssKiB(pid, n, everyMs)));
  return xs.some((x) => x === null) ? null : xs.reduce((a: number, x) => a + x!, 0);
}

/** One measurement against fresh servers; they are stopped afterwards (also on error). */
async function measure(root: string, p: Params, name: CapacityName): Promise<{ result: AnyPhaseResult; error: string | null }> {
  const started: Child[] = [];
  const clients: Child[] = [];
  try {
    const t = await startTarget(root, name, started);
    // Warm-up: JIT and first allocations should not count as per-connection memory.
    const warm = spawnClients(root, t, { ...p }, Math.min(WARMUP_CLIENTS, p.capacity.clients), Date.now(), 0);
    await Promise.all(warm.map((c) => waitExit(c, p.capacity.connectTimeoutMs + 10_000)));
    await Bun.sleep(300);
    const rssBefore = await rssKiB(t.pids, 5, 200);

    const N = p.capacity.clients;
    const startAt = Date.now() + 1000; // every client process is up by then
    const holdMaxMs = p.capacity.connectTimeoutMs + 30_000;
    clients.push(...spawnClients(root, t, p, N, startAt, holdMaxMs));
    await Bun.sleep(Math.max(0, startAt - Date.now()));
    const cpu0 = cpuMs(t.pids);
    const redisCpu0 = procCpuMs(t.redisPid);
    const t0 = performance.now();
    const limit = p.capacity.connectTimeoutMs + 10_000;
    const lines = await firstResults(clients, limit);
    const cpu1 = cpuMs(t.pids);
    const redisCpu1 = procCpuMs(t.redisPid);
    const wallMs = performance.now() - t0;
    const reports = clients.map((c) => lastResult(c, "capacity-client") as ClientReport | null);
    const failedProcs = lines.filter((x) => x.status === "rejected").length;
    const ok = reports.filter((r): r is ClientReport => r !== null);
    const loggedIn = ok.reduce((a, r) => a + r.loggedIn, 0);
    const failed = N - loggedIn;
    const connectMs = ok.length ? Math.max(...ok.map((r) => r.finishedAtMs)) - startAt : NaN;

    await Bun.sleep(500); // settle
    const rssAfter = await rssKiB(t.pids, 6, 200);
    for (const c of clients) c.proc.kill("SIGUSR1");
    await Promise.all(clients.map((c) => waitExit(c, 10_000)));
    const closedWhileIdle = clients.reduce((a, c) => a + Number(lastResult(c, "capacity-hold")?.closedWhileIdle ?? 0), 0);
    const serverCpuMs = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
    const errors = distinctErrors(ok) || null;
    const cluster: Record<string, number | string | null> = {};
    if (t.pids.length > 1) {
      const perPort = t.ports.map((_, j) => ok.reduce((a, r) => a + (r.loggedInPerPort?.[j] ?? 0), 0));
      const redisCpuMs = redisCpu0 === null || redisCpu1 === null ? null : redisCpu1 - redisCpu0;
      cluster.servers = t.pids.length;
      cluster.loggedInPerServer = perPort.join("+");
      cluster.redisCpuMs = redisCpuMs;
      cluster.redisCpuUsPerLogin = redisCpuMs === null || loggedIn === 0 ? null : (redisCpuMs * 1000) / loggedIn;
    }
    return {
      result: {
        phase: "capacity", requested: N, processes: clients.length, loggedIn, failed, errors, connectMs,
        loginsPerSec: loggedIn / (connectMs / 1000),
        serverCpuMs, serverCpuUtilConnect: serverCpuMs === null ? null : serverCpuMs / wallMs,
        serverCpuUsPerLogin: serverCpuMs === null || loggedIn === 0 ? null : (serverCpuMs * 1000) / loggedIn,
        serverRssBeforeMiB: rssBefore === null ? null : rssBefore / 1024,
        serverRssAfterMiB: rssAfter === null ? null : rssAfter / 1024,
        serverRssPerConnKiB: rssBefore === null || rssAfter === null || loggedIn === 0 ? null : (rssAfter - rssBefore) / loggedIn,
        closedWhileIdle, ...cluster,
      },
      error: failedProcs ? `${failedProcs} capacity client process(es) gave no result` : null,
    };
  } finally {
    await Promise.all(clients.map((c) => waitExit(c, 1)));
    // started[0] is the cluster's Redis (or the one server): the pushgates stop before their Redis.
    const [first, ...rest] = started;
    await Promise.all(rest.map(stopChild));
    if (first) await stopChild(first);
  }
}

/** One fresh server (or cluster) per round and kind; the order rotates between rounds. */
export async function runCapacity(p: Params, root: string, order: (r: number) => CapacityName[]): Promise<RoundResult[]> {
  const rounds: RoundResult[] = [];
  for (let r = 1; r <= p.capacity.rounds; r++) {
    const names = order(r);
    const round: RoundResult = { round: r, order: names, results: {}, errors: {} };
    for (const name of names) {
      console.log(`capacity round ${r}/${p.capacity.rounds}: ${name}, ${p.capacity.clients} idle clients` +
        (name === "cluster" ? " over two pushgates + Redis" : ""));
      try {
        const { result: res, error } = await measure(root, p, name);
        round.results[name] = [res];
        round.errors[name] = error;
        console.log(`  ${name}: ${res.loggedIn}/${res.requested} in ${Math.round(Number(res.connectMs))} ms, ` +
          `${Number(res.serverRssPerConnKiB).toFixed(1)} KiB RSS/conn` +
          (name === "cluster" ? ` (per server ${res.loggedInPerServer}; Redis ${Number(res.redisCpuUsPerLogin).toFixed(1)} µs CPU/login)` : ""));
      } catch (e) {
        if (e instanceof Interrupted) throw e;
        round.errors[name] = (e as Error).message;
      }
    }
    rounds.push(round);
  }
  return rounds;
}

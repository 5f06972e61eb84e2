// The capacity scenario (called by run.ts): N logged-in idle connections against a fresh server
// of each kind (control, map, pushgate), one server at a time. Several capacity-client.ts
// processes (at most CLIENTS_PER_PROCESS sockets each) start connecting at one shared instant.
// Reported per server: connect+login rate, server CPU during the connect phase, and server RSS
// per connection: (min of a few RSS samples over ~1 s after the logins) − (min over ~1 s before),
// divided by the clients logged in. The server's GC cannot be forced from outside, so the minimum
// is the least GC-noisy sample we can take.
import type { CapacityClientConfig } from "../clients/capacity-client.ts";
import type { Params } from "../lib/params.ts";
import { type Child, Interrupted, spawnChild, waitExit } from "../lib/processes.ts";
import { distinctErrors, firstResults, lastResult, splitClients } from "../lib/load-results.ts";
import { minRssKiB, procCpuMs } from "../lib/proc-stats.ts";
import type { AnyPhaseResult, RoundResult, ServerName } from "../report/report.ts";
import { stopChild } from "../lib/redis.ts";
import { HOST, type ServerUnderTest, startServer } from "../lib/servers.ts";

/** Below RLIMIT_NOFILE (20,000) with a wide margin. */
export const CLIENTS_PER_PROCESS = 5000;
const WARMUP_CLIENTS = 200;

interface ClientReport { loggedIn: number; failed: number; errors: string | null; startedAtMs: number; finishedAtMs: number }

function spawnClients(root: string, s: ServerUnderTest, p: Params, n: number, startAt: number, holdMaxMs: number): Child[] {
  return splitClients(n, CLIENTS_PER_PROCESS).map(({ firstUid, clients }, k) => {
    const cfg: CapacityClientConfig = {
      host: HOST, port: s.port, firstUid, clients,
      sources: p.sources, concurrency: 64, startAt, connectTimeoutMs: p.capacity.connectTimeoutMs, holdMaxMs,
    };
    return spawnChild(`capacity client ${k} (${s.name})`, [process.execPath, "bench/clients/capacity-client.ts", JSON.stringify(cfg)], root, true);
  });
}

/** One measurement against a fresh server; the server is stopped afterwards. */
async function measure(root: string, p: Params, name: ServerName): Promise<{ result: AnyPhaseResult; error: string | null }> {
  const s = await startServer(root, name);
  const pid = s.child.proc.pid;
  const clients: Child[] = [];
  try {
    // Warm-up: JIT and first allocations should not count as per-connection memory.
    const warm = spawnClients(root, s, { ...p }, Math.min(WARMUP_CLIENTS, p.capacity.clients), Date.now(), 0);
    await Promise.all(warm.map((c) => waitExit(c, p.capacity.connectTimeoutMs + 10_000)));
    await Bun.sleep(300);
    const rssBefore = await minRssKiB(pid, 5, 200);

    const N = p.capacity.clients;
    const startAt = Date.now() + 1000; // every client process is up by then
    const holdMaxMs = p.capacity.connectTimeoutMs + 30_000;
    clients.push(...spawnClients(root, s, p, N, startAt, holdMaxMs));
    await Bun.sleep(Math.max(0, startAt - Date.now()));
    const cpu0 = procCpuMs(pid);
    const t0 = performance.now();
    const limit = p.capacity.connectTimeoutMs + 10_000;
    const lines = await firstResults(clients, limit);
    const cpu1 = procCpuMs(pid);
    const wallMs = performance.now() - t0;
    const reports = clients.map((c) => lastResult(c, "capacity-client") as ClientReport | null);
    const failedProcs = lines.filter((x) => x.status === "rejected").length;
    const ok = reports.filter((r): r is ClientReport => r !== null);
    const loggedIn = ok.reduce((a, r) => a + r.loggedIn, 0);
    const failed = N - loggedIn;
    const connectMs = ok.length ? Math.max(...ok.map((r) => r.finishedAtMs)) - startAt : NaN;

    await Bun.sleep(500); // settle
    const rssAfter = await minRssKiB(pid, 6, 200);
    for (const c of clients) c.proc.kill("SIGUSR1");
    await Promise.all(clients.map((c) => waitExit(c, 10_000)));
    const closedWhileIdle = clients.reduce((a, c) => a + Number(lastResult(c, "capacity-hold")?.closedWhileIdle ?? 0), 0);
    const serverCpuMs = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
    const errors = distinctErrors(ok) || null;
    return {
      result: {
        phase: "capacity", requested: N, processes: clients.length, loggedIn, failed, errors, connectMs,
        loginsPerSec: loggedIn / (connectMs / 1000),
        serverCpuMs, serverCpuUtilConnect: serverCpuMs === null ? null : serverCpuMs / wallMs,
        serverCpuUsPerLogin: serverCpuMs === null || loggedIn === 0 ? null : (serverCpuMs * 1000) / loggedIn,
        serverRssBeforeMiB: rssBefore === null ? null : rssBefore / 1024,
        serverRssAfterMiB: rssAfter === null ? null : rssAfter / 1024,
        serverRssPerConnKiB: rssBefore === null || rssAfter === null || loggedIn === 0 ? null : (rssAfter - rssBefore) / loggedIn,
        closedWhileIdle,
      },
      error: failedProcs ? `${failedProcs} capacity client process(es) gave no result` : null,
    };
  } finally {
    await Promise.all(clients.map((c) => waitExit(c, 1)));
    await stopChild(s.child);
  }
}

/** One fresh server per round and kind; the order rotates between rounds. */
export async function runCapacity(p: Params, root: string, order: (r: number) => ServerName[]): Promise<RoundResult[]> {
  const rounds: RoundResult[] = [];
  for (let r = 1; r <= p.capacity.rounds; r++) {
    const names = order(r);
    const round: RoundResult = { round: r, order: names, results: {}, errors: {} };
    for (const name of names) {
      console.log(`capacity round ${r}/${p.capacity.rounds}: ${name}, ${p.capacity.clients} idle clients`);
      try {
        const { result: res, error } = await measure(root, p, name);
        round.results[name] = [res];
        round.errors[name] = error;
        console.log(`  ${name}: ${res.loggedIn}/${res.requested} in ${Math.round(Number(res.connectMs))} ms, ` +
          `${Number(res.serverRssPerConnKiB).toFixed(1)} KiB RSS/conn`);
      } catch (e) {
        if (e instanceof Interrupted) throw e;
        round.errors[name] = (e as Error).message;
      }
    }
    rounds.push(round);
  }
  return rounds;
}

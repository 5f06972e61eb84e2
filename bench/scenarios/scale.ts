// The scale scenario (called by run.ts, only when asked: `bun run bench scale`): its own
// redis-server, one pushgate supervisor with --workers 6 on 0.0.0.0 (the workers share the port
// with reusePort), and N logged-in seed clients (distinct uids) from several scale-client.ts
// processes (at most 19,000 sockets each). Reported: connect+login rate, total and per-worker RSS
// (/proc/<pid>/status of every worker: the supervisor's children, found by their ppid) → RSS per
// connection, server and load-client CPU. Then reachability through the HTTP API on the shared
// port: sendToUid to 1,000 random uids (each must arrive at its uid's socket exactly once), and one
// sendToAll that must reach all N sockets. Everything it starts is stopped by pid at the end.
import { RedisClient } from "bun";
import { readFileSync, readdirSync } from "node:fs";
import { streamChannel } from "../../src/engine/redis/keys.ts";
import { uidTopic } from "../../src/core/topics.ts";
import type { Params } from "../lib/params.ts";
import { type Child, Interrupted, spawnChild, waitExit } from "../lib/processes.ts";
import { distinctErrors, firstResults, lastResult, splitClients } from "../lib/load-results.ts";
import { minRssKiB, procCpuMs, procRssKiB } from "../lib/proc-stats.ts";
import type { AnyPhaseResult, RoundResult } from "../report/report.ts";
import { type RedisUnderTest, REDIS_BIN, startRedis, stopChild } from "../lib/redis.ts";
import type { ScaleClientConfig } from "../clients/scale-client.ts";
import { settlesWithin } from "../lib/timeout.ts";

export const SCALE_WORKERS = 6;
/** RLIMIT_NOFILE is 20,000 per process: keep a margin for the runtime's own fds. */
export const SCALE_CLIENTS_PER_PROCESS = 19_000;
const ADDRESSES = 8;
const TARGETED = 1000;
const ALL_WAIT_MS = 60_000;
const UID_WAIT_MS = 20_000;
const READY_MS = 30_000;

export interface ScaleOutcome {
  skipped: string | null;
  error: string | null;
  redis: { version: string | null; port: number; pid: number } | null;
  supervisor: { port: number; pid: number } | null;
  workers: { pid: number; rssBeforeKiB: number | null; rssAfterKiB: number | null; fdsBefore: number | null; fdsAfter: number | null; cpuConnectMs: number | null }[];
  clients: Record<string, unknown>[];
  rounds: RoundResult[];
  notes: string[];
}

function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** Children of `ppid` whose command line runs src/main.ts (the supervisor's workers). */
function workerPids(ppid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "latin1");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent === ppid && readFileSync(`/proc/${d}/cmdline`, "latin1").includes("src/main.ts")) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out.sort((a, b) => a - b);
}

function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").includes("src/main.ts");
  } catch {
    return false;
  }
}

function fdCount(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

interface Progress { targetedUids: string[]; misrouted: number; uidDuplicates: number; allReceived: number; allDuplicates: number; unexpected: number; lastUidAtMs: number; lastAllAtMs: number }

function progress(clients: readonly Child[]): Progress {
  const sum: Progress = { targetedUids: [], misrouted: 0, uidDuplicates: 0, allReceived: 0, allDuplicates: 0, unexpected: 0, lastUidAtMs: 0, lastAllAtMs: 0 };
  for (const c of clients) {
    const p = lastResult(c, "scale-progress") as Progress | null;
    if (!p) continue;
    sum.targetedUids.push(...p.targetedUids);
    for (const k of ["misrouted", "uidDuplicates", "allReceived", "allDuplicates", "unexpected"] as const) sum[k] += p[k];
    sum.lastUidAtMs = Math.max(sum.lastUidAtMs, p.lastUidAtMs);
    sum.lastAllAtMs = Math.max(sum.lastAllAtMs, p.lastAllAtMs);
  }
  return sum;
}

async function waitUntil(pred: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > deadline) return false;
    await Bun.sleep(100);
  }
  return true;
}

/** Polls PUBSUB NUMSUB until each channel has at least `min` subscribers; ms waited or null. */
async function waitSubscribed(redis: RedisClient, channels: readonly string[], min: number, timeoutMs: number): Promise<number | null> {
  const t0 = performance.now();
  let pending = [...channels];
  while (pending.length > 0) {
    const still: string[] = [];
    for (let i = 0; i < pending.length; i += 500) {
      const r = (await redis.send("PUBSUB", ["NUMSUB", ...pending.slice(i, i + 500)])) as Array<string | number>;
      for (let k = 0; k + 1 < r.length; k += 2) if (Number(r[k + 1]) < min) still.push(String(r[k]));
    }
    pending = still;
    if (pending.length === 0) break;
    if (performance.now() - t0 > timeoutMs) return null;
    await Bun.sleep(50);
  }
  return performance.now() - t0;
}

async function post(base: string, method: string, body: unknown): Promise<{ ok: boolean; reached: number }> {
  try {
    const res = await fetch(base + method, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000),
    });
    const json = (await res.json().catch(() => null)) as { result?: { reached?: unknown } } | null;
    const reached = json?.result?.reached;
    return { ok: res.ok, reached: typeof reached === "number" ? reached : 0 };
  } catch {
    return { ok: false, reached: 0 };
  }
}

/** Supervisor SIGTERM (it stops its workers); SIGKILL to it and to any worker still alive after the grace. */
async function stopSupervisor(sup: Child, workers: readonly number[]): Promise<string[]> {
  const out: string[] = [];
  const p = sup.proc;
  if (p.exitCode === null && p.signalCode === null) {
    p.kill("SIGTERM");
    if (!(await settlesWithin(p.exited, 10_000))) {
      p.kill("SIGKILL");
      await settlesWithin(p.exited, 2000);
      out.push("supervisor did not stop within 10 s of SIGTERM: SIGKILL");
    }
  }
  for (const pid of workers) {
    if (!alive(pid)) continue;
    try {
      process.kill(pid, "SIGKILL");
      out.push(`worker ${pid} still alive after the supervisor stopped: SIGKILL`);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

export async function runScale(p: Params, root: string): Promise<ScaleOutcome> {
  const out: ScaleOutcome = { skipped: null, error: null, redis: null, supervisor: null, workers: [], clients: [], rounds: [], notes: [] };
  if (!REDIS_BIN) {
    out.skipped = "redis-server is not on PATH (apt-get install redis-server)";
    console.log(`scale scenario skipped: ${out.skipped}`);
    return out;
  }
  const N = p.scale.clients;
  const res: AnyPhaseResult = { phase: "scale", requested: N };
  const uidRes: AnyPhaseResult = { phase: "scale-uid" };
  const allRes: AnyPhaseResult = { phase: "scale-all" };
  let redis: RedisUnderTest | null = null;
  let sup: Child | null = null;
  let pids: number[] = [];
  const clients: Child[] = [];
  let rc: RedisClient | null = null;
  try {
    redis = await startRedis(root);
    out.redis = { version: redis.version, port: redis.port, pid: redis.child.proc.pid };
    const port = freePort();
    sup = spawnChild("pushgate supervisor", [
      process.execPath, "src/main.ts", "--workers", String(SCALE_WORKERS), "--redis", redis.url, "--host", "0.0.0.0",
      "--port", String(port), "--rate-limit", "0", "--max-connections-per-uid", "0", "--log-level", "warn",
    ], root, true);
    out.supervisor = { port, pid: sup.proc.pid };
    rc = new RedisClient(redis.url, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: 2000 });
    await rc.connect();
    // Ready: all workers are children and every one has subscribed the `all` channel in Redis.
    const t0 = performance.now();
    const ready = await waitUntil(() => (pids = workerPids(sup!.proc.pid)).length === SCALE_WORKERS, READY_MS) &&
      (await waitSubscribed(rc, [streamChannel("all")], SCALE_WORKERS, READY_MS)) !== null;
    if (!ready) throw new Error(`pushgate workers not ready within ${READY_MS} ms (${pids.length} worker pids): ${sup.tail().trim().slice(-500)}`);
    const h = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
    if (!h?.ok) throw new Error(`healthz on :${port} failed`);
    console.log(`scale: redis ${redis.version ?? "?"} :${redis.port} (pid ${redis.child.proc.pid}), pushgate supervisor :${port} (pid ${sup.proc.pid}), ` +
      `workers ${pids.join(", ")} ready in ${Math.round(performance.now() - t0)} ms`);
    await Bun.sleep(1000);
    const before = await Promise.all(pids.map((pid) => minRssKiB(pid, 5, 200)));
    const fdsBefore = pids.map(fdCount);
    const redisRss0 = procRssKiB(redis.child.proc.pid);

    // Connect + login.
    const split = splitClients(N, SCALE_CLIENTS_PER_PROCESS);
    const procs = split.length;
    const startAt = Date.now() + 1500;
    const holdMaxMs = p.scale.connectTimeoutMs + UID_WAIT_MS + ALL_WAIT_MS + 120_000;
    split.forEach(({ firstUid, clients: n }, k) => {
      const cfg: ScaleClientConfig = {
        port, firstUid, clients: n, addresses: ADDRESSES,
        concurrency: 64, startAt, connectTimeoutMs: p.scale.connectTimeoutMs, opTimeoutMs: 10_000, holdMaxMs,
      };
      clients.push(spawnChild(`scale client ${k}`, [process.execPath, "bench/clients/scale-client.ts", JSON.stringify(cfg)], root, true));
    });
    console.log(`scale: ${N} clients from ${procs} load processes (pids ${clients.map((c) => c.proc.pid).join(", ")})`);
    await Bun.sleep(Math.max(0, startAt - Date.now()));
    const cpu0 = pids.map(procCpuMs);
    const redisCpu0 = procCpuMs(redis.child.proc.pid);
    const tc = performance.now();
    const logins = await firstResults(clients, p.scale.connectTimeoutMs + 15_000);
    const wallMs = performance.now() - tc;
    const cpu1 = pids.map(procCpuMs);
    const redisCpu1 = procCpuMs(redis.child.proc.pid);
    const reports = clients.map((c) => lastResult(c, "scale-client"));
    const ok = reports.filter((r): r is Record<string, unknown> => r !== null);
    out.clients = ok.map((r) => ({ ...r, failedUids: undefined }));
    const loggedIn = ok.reduce((a, r) => a + Number(r.loggedIn), 0);
    const failedUids = new Set(ok.flatMap((r) => r.failedUids as string[]));
    const connectMs = ok.length ? Math.max(...ok.map((r) => Number(r.finishedAtMs))) - startAt : NaN;
    const clientCpuMs = ok.reduce((a, r) => a + Number(r.clientCpuMs), 0);
    const serverCpuMs = cpu0.every((x) => x !== null) && cpu1.every((x) => x !== null)
      ? cpu1.reduce((a, x, i) => a + x! - cpu0[i]!, 0) : null;
    const noResult = logins.filter((x) => x.status === "rejected").length;
    if (noResult) out.notes.push(`scale: ${noResult} load process(es) gave no login result`);
    const errors = distinctErrors(ok);
    if (errors) out.notes.push(`scale setup: ${N - loggedIn} clients failed: ${errors}`);
    console.log(`scale: ${loggedIn}/${N} logged in in ${Math.round(connectMs)} ms`);

    await Bun.sleep(1000); // settle
    const after = await Promise.all(pids.map((pid) => minRssKiB(pid, 6, 200)));
    const fdsAfter = pids.map(fdCount);
    out.workers = pids.map((pid, i) => ({
      pid, rssBeforeKiB: before[i]!, rssAfterKiB: after[i]!, fdsBefore: fdsBefore[i]!, fdsAfter: fdsAfter[i]!,
      cpuConnectMs: cpu0[i] === null || cpu1[i] === null ? null : cpu1[i]! - cpu0[i]!,
    }));
    const sumKiB = (xs: (number | null)[]) => (xs.every((x) => x !== null) ? xs.reduce((a, x) => a + x!, 0) : null);
    const rssBefore = sumKiB(before), rssAfter = sumKiB(after);
    const conns = out.workers.map((w) => (w.fdsAfter ?? 0) - (w.fdsBefore ?? 0));
    const perWorkerRss = after.filter((x): x is number => x !== null);
    const redisRss1 = procRssKiB(redis.child.proc.pid);
    Object.assign(res, {
      processes: procs, loggedIn, failed: N - loggedIn, connectMs,
      loginsPerSec: loggedIn / (connectMs / 1000),
      serverCpuUtilConnect: serverCpuMs === null ? null : serverCpuMs / wallMs,
      serverCpuUsPerLogin: serverCpuMs === null || !loggedIn ? null : (serverCpuMs * 1000) / loggedIn,
      redisCpuUsPerLogin: redisCpu0 === null || redisCpu1 === null || !loggedIn ? null : ((redisCpu1 - redisCpu0) * 1000) / loggedIn,
      clientCpuUtilConnect: clientCpuMs / connectMs,
      clientCpuUsPerLogin: loggedIn ? (clientCpuMs * 1000) / loggedIn : null,
      serverRssBeforeMiB: rssBefore === null ? null : rssBefore / 1024,
      serverRssAfterMiB: rssAfter === null ? null : rssAfter / 1024,
      serverRssPerConnKiB: rssBefore === null || rssAfter === null || !loggedIn ? null : (rssAfter - rssBefore) / loggedIn,
      workerRssMinMiB: perWorkerRss.length ? Math.min(...perWorkerRss) / 1024 : null,
      workerRssMaxMiB: perWorkerRss.length ? Math.max(...perWorkerRss) / 1024 : null,
      workerConnsMin: Math.min(...conns),
      workerConnsMax: Math.max(...conns),
      redisRssGrowthMiB: redisRss0 === null || redisRss1 === null ? null : (redisRss1 - redisRss0) / 1024,
    });
    for (const w of out.workers) {
      console.log(`  worker ${w.pid}: RSS ${((w.rssBeforeKiB ?? NaN) / 1024).toFixed(1)} → ${((w.rssAfterKiB ?? NaN) / 1024).toFixed(1)} MiB, ` +
        `~${(w.fdsAfter ?? 0) - (w.fdsBefore ?? 0)} sockets (fds), ${w.cpuConnectMs} ms CPU during connect`);
    }
    if (!loggedIn) throw new Error("no client logged in");
    const deadWorker = pids.find((pid) => !alive(pid));
    if (deadWorker) throw new Error(`worker ${deadWorker} exited during the connect phase: ${sup.tail().trim().slice(-500)}`);

    // (1) sendToUid to 1,000 random logged-in uids through the HTTP API on the shared port.
    const base = `http://127.0.0.1:${port}/api/`;
    const pool: number[] = [];
    for (let i = 0; i < N; i++) if (!failedUids.has(`u${i}`)) pool.push(i);
    for (let i = pool.length - 1; i > 0; i--) { const j = Math.floor(Math.random() * (i + 1)); [pool[i], pool[j]] = [pool[j]!, pool[i]!]; }
    const targets = pool.slice(0, Math.min(TARGETED, pool.length)).map((i) => `u${i}`);
    const subscribeWaitMs = await waitSubscribed(rc, targets.map((u) => streamChannel(uidTopic(u))), 1, UID_WAIT_MS);
    if (subscribeWaitMs === null) out.notes.push(`scale-uid: not every target's channel subscribed in Redis within ${UID_WAIT_MS} ms`);
    let httpErrors = 0, reached = 0, nextT = 0;
    const tu = performance.now();
    const tuEpoch = Date.now();
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (nextT < targets.length) {
        const k = nextT++;
        const r = await post(base, "sendToUid", { uid: targets[k], data: `su:${k}|${targets[k]}` });
        if (!r.ok) httpErrors++;
        reached += r.reached;
      }
    }));
    const requestsMs = performance.now() - tu;
    await waitUntil(() => progress(clients).targetedUids.length >= targets.length, UID_WAIT_MS);
    await Bun.sleep(500); // late duplicates
    const pu = progress(clients);
    const want = new Set(targets);
    const got = new Map<string, number>();
    for (const u of pu.targetedUids) got.set(u, (got.get(u) ?? 0) + 1);
    Object.assign(uidRes, {
      sent: targets.length, subscribeWaitMs, httpErrors, reached,
      delivered: [...want].filter((u) => got.get(u) === 1).length,
      missing: [...want].filter((u) => !got.has(u)).length,
      duplicates: pu.uidDuplicates + [...got.values()].reduce((a, n) => a + n - 1, 0),
      misrouted: pu.misrouted + [...got.keys()].filter((u) => !want.has(u)).length,
      requestsPerSec: targets.length / (requestsMs / 1000),
      lastDeliveryMs: pu.lastUidAtMs ? pu.lastUidAtMs - tuEpoch : null,
    });
    console.log(`scale-uid: ${uidRes.delivered}/${targets.length} delivered exactly once, missing ${uidRes.missing}, ` +
      `misrouted ${uidRes.misrouted}, duplicates ${uidRes.duplicates}, http errors ${httpErrors}`);

    // (2) one sendToAll that must reach every logged-in socket.
    const ta = Date.now();
    const r = await post(base, "sendToAll", { data: "sa:0" });
    const reachedAll = await waitUntil(() => progress(clients).allReceived >= loggedIn, ALL_WAIT_MS);
    await Bun.sleep(500);
    const pa = progress(clients);
    Object.assign(allRes, {
      expected: loggedIn, httpErrors: r.ok ? 0 : 1, reached: r.reached,
      delivered: pa.allReceived, missing: loggedIn - pa.allReceived, duplicates: pa.allDuplicates,
      fanoutMs: pa.lastAllAtMs ? pa.lastAllAtMs - ta : null, unexpectedFrames: pa.unexpected,
      timedOut: reachedAll ? null : `sendToAll not at every client within ${ALL_WAIT_MS} ms`,
    });
    console.log(`scale-all: ${pa.allReceived}/${loggedIn} in ${allRes.fanoutMs} ms, duplicates ${pa.allDuplicates}`);

    for (const c of clients) c.proc.kill("SIGUSR1");
    await Promise.all(clients.map((c) => waitExit(c, 20_000)));
    allRes.closedWhileIdle = clients.reduce((a, c) => a + Number(lastResult(c, "scale-hold")?.closedWhileIdle ?? 0), 0);
    const cpuTotal = clients.reduce((a, c) => a + Number(lastResult(c, "scale-hold")?.clientCpuMsTotal ?? 0), 0);
    allRes.clientCpuMsTotal = cpuTotal;
  } catch (e) {
    if (e instanceof Interrupted) throw e;
    out.error = (e as Error).message;
    out.notes.unshift(`scale scenario stopped early: ${out.error}`);
  } finally {
    rc?.close();
    await Promise.all(clients.map((c) => waitExit(c, 1)));
    if (sup) out.notes.push(...(await stopSupervisor(sup, pids)));
    if (redis) await stopChild(redis.child);
  }
  out.rounds = [{ round: 1, order: ["pushgate"], results: { pushgate: [res, uidRes, allRes] }, errors: { pushgate: null } }]; // out.error is already the first note
  return out;
}

// `bun run bench hooks` (alone): what the backend hooks cost, each against a control measured in
// the same run, the order of the pair rotating over rounds (docs/hooks.md, bench/README.md):
//   hooks-rpc      pushgate.v1 `rpc` frames through pushgate to the backend at a fixed rate, vs the
//                  same calls POSTed straight to the backend with pushgate's HTTP client (control),
//                  and vs the same frames through a bare Bun relay (controls/rpc-relay.ts), the
//                  three rotating (clients/rpc-client.ts)
//   hooks-login    N logins with --auth hook (the backend answers the uid) vs uid mode
//                  (clients/capacity-client.ts against two pushgates)
//   hooks-webhook-b<B>  webhook events at --webhook-batch-max B (hooks-webhooks.ts)
// The backend and the receiver are Bun.serve processes of their own; every load runs in its own
// process. Prints a table and the targets; saves bench/results/latest-hooks.json
// (+ runs/hooks-<timestamp>.json).
import os from "node:os";
import { join } from "node:path";
import type { CapacityClientConfig } from "../clients/capacity-client.ts";
import type { RpcClientConfig } from "../clients/rpc-client.ts";
import { firstResults, lastResult, runLoadProcess, splitClients } from "../lib/load-results.ts";
import type { Params } from "../lib/params.ts";
import { type Child, Interrupted, spawnChild, waitExit } from "../lib/processes.ts";
import { procCpuMs } from "../lib/proc-stats.ts";
import { fetchMetrics, sample } from "../lib/prom-text.ts";
import { stopChild } from "../lib/redis.ts";
import { HOST } from "../lib/servers.ts";
import { type HookTarget, HOOKS_LEGEND, hookTargets, hooksMetrics, renderTargets, targetsMarkdown } from "../report/hooks-report.ts";
import { type AnyPhaseResult, machineInfo, renderTable, save, summarize } from "../report/report.ts";
import { type Name, PAIR, type PartRounds, RPC_TRIO, type RpcName, checkAlive, mergeRounds, orderOf, phaseNotes, rpcOrderOf, startHookPushgate, startListener } from "./hooks-servers.ts";
import { runWebhookPart } from "./hooks-webhooks.ts";


const LOGINS_PER_PROCESS = 5000;

/** The backend process (controls/hook-backend.ts): its base URL, pid and child. */
interface Backend { url: string; pid: number; child: Child }

function rpcConfig(p: Params, mode: RpcClientConfig["mode"], port: number, backendUrl: string, pids: { server: number | null; backend: number }, warmup: boolean): RpcClientConfig {
  const o = p.hooks.rpc;
  return {
    mode, host: HOST, port, backendUrl, sources: p.sources, conns: o.conns, rate: o.rate,
    seconds: warmup ? 0.5 : o.seconds, drainMs: o.drainMs, maxInFlight: o.maxInFlight, connectTimeoutMs: 10_000,
    serverPid: pids.server, backendPid: pids.backend,
  };
}

/** pushgate's pushgate_hook_duration_seconds{kind} (its own view of the backend's answers): sum, count, cumulative buckets by `le`. */
async function hookDuration(base: string, kind: string): Promise<{ sum: number; count: number; buckets: Record<string, number> }> {
  const t = await fetchMetrics(base);
  const buckets: Record<string, number> = {};
  for (const m of t.matchAll(new RegExp(`^pushgate_hook_duration_seconds_bucket\\{kind="${kind}",le="([^"]+)"\\} (\\S+)$`, "gm"))) buckets[m[1]!] = Number(m[2]);
  return { sum: sample(t, "pushgate_hook_duration_seconds_sum", `kind="${kind}"`), count: sample(t, "pushgate_hook_duration_seconds_count", `kind="${kind}"`), buckets };
}

/** The upper bound (ms) of the histogram bucket holding the p-th percentile of the requests between two readings, or null. */
function bucketBoundMs(h0: Awaited<ReturnType<typeof hookDuration>>, h1: Awaited<ReturnType<typeof hookDuration>>, p: number): number | null {
  const n = h1.count - h0.count;
  if (n <= 0) return null;
  const les = Object.keys(h1.buckets).filter((le) => le !== "+Inf").sort((a, b) => Number(a) - Number(b));
  const le = les.find((x) => h1.buckets[x]! - (h0.buckets[x] ?? 0) >= (p / 100) * n);
  return le === undefined ? Infinity : Number(le) * 1000;
}

const RPC_LABEL: Record<RpcName, string> = { control: "direct to the backend", relay: "through the bare Bun relay", pushgate: "through pushgate" };

/** One rpc run's figures on one line (per round, so the spread behind the medians shows). */
function rpcLine(res: AnyPhaseResult): string {
  const f = (k: string, d = 2) => (typeof res[k] === "number" ? (res[k] as number).toFixed(d) : "-");
  return `  rtt p50/p99 ${f("rttP50Ms")}/${f("rttP99Ms")} ms, net p50/p99 ${f("netP50Ms")}/${f("netP99Ms")} ms, ` +
    `server CPU ${f("serverCpuUsPerRpc", 1)} µs/rpc, backend ${f("backendCpuUsPerRpc", 1)} µs/rpc; sent ${res.sent}, lost ${res.lost}, errors ${res.rpcErrors}, skipped ${res.skipped}`;
}

/**
 * rpc through pushgate (uid login, --hook-url) vs the same calls straight to the backend
 * (control) vs the same frames through a bare Bun relay to the same backend (relay: the floor of
 * pushgate's topology); the three rotate over rounds.
 */
async function rpcPart(p: Params, root: string, backend: Backend, started: Child[]): Promise<PartRounds> {
  const hookUrl = `${backend.url}/hook`;
  // One after the other: a failed start must not leave the other one running outside `started`.
  const pg = await startHookPushgate(root, "pushgate (rpc, --hook-url)", ["--hook-url", hookUrl], started);
  const relay = await startListener(root, "rpc relay", "bench/controls/rpc-relay.ts", started, ["--backend", hookUrl]);
  const base = `http://${HOST}:${pg.port}`;
  console.log(`hooks-rpc: pushgate :${pg.port} (pid ${pg.child.proc.pid}), relay :${relay.port} (pid ${relay.child.proc.pid}), both to ${hookUrl}; ` +
    `${p.hooks.rpc.rate} rpc/s for ${p.hooks.rpc.seconds} s over ${p.hooks.rpc.conns} connections`);
  // The relay speaks pushgate.v1 as far as the client needs: the client's pushgate mode drives it unchanged.
  const target: Record<RpcName, { mode: RpcClientConfig["mode"]; port: number; pid: number | null }> = {
    control: { mode: "direct", port: pg.port, pid: null },
    relay: { mode: "pushgate", port: relay.port, pid: relay.child.proc.pid },
    pushgate: { mode: "pushgate", port: pg.port, pid: pg.child.proc.pid },
  };
  const run = async (name: RpcName, warmup: boolean) => {
    const t = target[name];
    const cfg = rpcConfig(p, t.mode, t.port, hookUrl, { server: t.pid, backend: backend.pid }, warmup);
    const limit = cfg.connectTimeoutMs + cfg.seconds * 1500 + cfg.drainMs + 15_000;
    const h0 = name === "pushgate" ? await hookDuration(base, "rpc") : null;
    const out = await runLoadProcess<AnyPhaseResult>(root, `rpc client (${name}${warmup ? " warm-up" : ""})`, "bench/clients/rpc-client.ts", cfg, limit, "rpc client");
    const res = out.results.find((x) => x.phase === "rpc");
    if (res && h0) {
      const h1 = await hookDuration(base, "rpc");
      res.pushgateHookMeanMs = h1.count > h0.count ? ((h1.sum - h0.sum) * 1000) / (h1.count - h0.count) : null;
      res.pushgateHookP99LeMs = bucketBoundMs(h0, h1, 99);
    }
    const error = checkAlive([pg.child, relay.child, backend.child]) ?? out.error ?? (res ? null : "rpc client gave no result");
    return { res: res ? { ...res, phase: "hooks-rpc", participant: name } : undefined, error };
  };
  console.log("hooks-rpc warm-up (results discarded)");
  for (const name of RPC_TRIO) await run(name, true);
  const rounds: PartRounds = [];
  for (let r = 1; r <= p.rounds; r++) {
    const order = rpcOrderOf(r);
    const round: PartRounds[number] = { round: r, order, results: {}, errors: {} };
    for (const [i, name] of order.entries()) {
      console.log(`hooks-rpc round ${r}/${p.rounds}: ${RPC_LABEL[name]}`);
      const { res, error } = await run(name, false);
      // Where it ran in the round: the rotation is this part's own, not the merged rounds' pair order.
      if (res) round.results[name] = { ...res, position: i + 1 };
      round.errors[name] = error;
      if (res) console.log(rpcLine(res));
    }
    rounds.push(round);
  }
  await Promise.all([stopChild(pg.child), stopChild(relay.child)]);
  return rounds;
}

interface LoginReport { loggedIn: number; failed: number; errors: string | null; finishedAtMs: number }

/** N logins from capacity-client processes starting at one instant; held until all reported, then released. */
async function measureLogins(root: string, p: Params, port: number, serverPid: number, backendPid: number | null, n: number, label: string): Promise<{ res: AnyPhaseResult; error: string | null }> {
  const timeoutMs = Math.min(120_000, 10_000 + n * 5);
  const startAt = Date.now() + 800; // every client process is up by then
  const clients = splitClients(n, LOGINS_PER_PROCESS).map(({ firstUid, clients: count }, k) => {
    const cfg: CapacityClientConfig = {
      host: HOST, port, firstUid, clients: count, sources: p.sources, concurrency: 64, startAt, connectTimeoutMs: timeoutMs, holdMaxMs: timeoutMs + 30_000,
    };
    return spawnChild(`login client ${k} (${label})`, [process.execPath, "bench/clients/capacity-client.ts", JSON.stringify(cfg)], root, true);
  });
  try {
    await Bun.sleep(Math.max(0, startAt - Date.now()));
    const cpu0 = procCpuMs(serverPid), be0 = procCpuMs(backendPid);
    const t0 = performance.now();
    const lines = await firstResults(clients, timeoutMs + 10_000);
    const cpu1 = procCpuMs(serverPid), be1 = procCpuMs(backendPid);
    const wallMs = performance.now() - t0;
    const reports = clients.map((c) => lastResult(c, "capacity-client") as LoginReport | null).filter((x): x is LoginReport => x !== null);
    for (const c of clients) c.proc.kill("SIGUSR1");
    await Promise.all(clients.map((c) => waitExit(c, 10_000)));
    const loggedIn = reports.reduce((a, r) => a + r.loggedIn, 0);
    const connectMs = reports.length ? Math.max(...reports.map((r) => r.finishedAtMs)) - startAt : NaN;
    const per = (a: number | null, b: number | null) => (a === null || b === null || loggedIn === 0 ? null : ((b - a) * 1000) / loggedIn);
    const errors = [...new Set(reports.map((r) => r.errors).filter((e): e is string => !!e))].join("; ") || null;
    return {
      res: {
        phase: "hooks-login", requested: n, processes: clients.length, loggedIn, failed: n - loggedIn, connectMs,
        loginsPerSec: loggedIn / (connectMs / 1000), serverCpuUsPerLogin: per(cpu0, cpu1), backendCpuUsPerLogin: per(be0, be1),
        serverCpuUtilConnect: cpu0 === null || cpu1 === null ? null : (cpu1 - cpu0) / wallMs, errors,
      },
      error: lines.some((x) => x.status === "rejected") ? "a login client process gave no result" : null,
    };
  } finally {
    await Promise.all(clients.map((c) => waitExit(c, 1)));
  }
}

/** --auth hook (the backend answers {uid}) vs uid mode: the same logins against two pushgates. */
async function loginPart(p: Params, root: string, backend: Backend, started: Child[]): Promise<PartRounds> {
  const [hook, uid] = await Promise.all([
    startHookPushgate(root, "pushgate (--auth hook)", ["--auth", "hook", "--hook-url", `${backend.url}/hook`], started),
    startHookPushgate(root, "pushgate (uid mode)", [], started),
  ]);
  console.log(`hooks-login: --auth hook :${hook.port} (pid ${hook.child.proc.pid}), uid mode :${uid.port} (pid ${uid.child.proc.pid}); ${p.hooks.logins} logins each`);
  const target = (name: Name) => (name === "pushgate" ? hook : uid);
  const run = async (name: Name, n: number, label: string) => {
    const s = target(name);
    const out = await measureLogins(root, p, s.port, s.child.proc.pid, name === "pushgate" ? backend.pid : null, n, label);
    await Bun.sleep(300); // the resets' closes settle before the next measurement
    return { res: out.res, error: checkAlive([hook.child, uid.child, backend.child]) ?? out.error };
  };
  console.log("hooks-login warm-up (results discarded)");
  for (const name of PAIR) await run(name, Math.min(300, p.hooks.logins), `${name} warm-up`);
  const rounds: PartRounds = [];
  for (let r = 1; r <= p.rounds; r++) {
    const order = orderOf(r);
    const round: PartRounds[number] = { round: r, order, results: {}, errors: {} };
    for (const name of order) {
      console.log(`hooks-login round ${r}/${p.rounds}: ${name === "pushgate" ? "--auth hook" : "uid mode"}`);
      const { res, error } = await run(name, p.hooks.logins, `${name} round ${r}`);
      round.results[name] = res;
      round.errors[name] = error;
      console.log(`  ${res.loggedIn}/${res.requested} in ${Math.round(Number(res.connectMs))} ms (${Math.round(Number(res.loginsPerSec))}/s)`);
    }
    rounds.push(round);
  }
  await Promise.all([stopChild(hook.child), stopChild(uid.child)]);
  return rounds;
}

/**
 * The parts' rounds as report.ts rounds (round r of every part together). `order` is the pair's
 * (login and webhook parts); the rpc part's own rotation is in each hooks-rpc result's `position`.
 */
export async function runHooksScenario(p: Params, root: string): Promise<void> {
  const startedAt = new Date();
  const machine = machineInfo(root);
  const h = p.hooks;
  console.log(`pushgate bench: hooks; ${p.rounds} round(s), rpc ${h.rpc.rate}/s for ${h.rpc.seconds} s, ${h.logins} logins, ` +
    `webhooks: live ${h.webhook.liveSockets} sockets, backlog ${h.webhook.backlogEvents} events, batch max ${h.webhook.batches.join(" and ")}; ` +
    `nproc ${machine.nproc}, load ${(machine.loadAvg as number[]).map((x) => x.toFixed(2)).join(" ")}`);
  const started: Child[] = [];
  const parts: PartRounds[] = [];
  const extraNotes: string[] = [];
  let error: string | null = null;
  try {
    const be = await startListener(root, "hook backend", "bench/controls/hook-backend.ts", started);
    const backend: Backend = { url: be.url, pid: be.child.proc.pid, child: be.child };
    console.log(`backend: ${be.url} (pid ${backend.pid})`);
    parts.push(await rpcPart(p, root, backend, started));
    parts.push(await loginPart(p, root, backend, started));
    const wh = await runWebhookPart(p, root, started);
    parts.push(...wh.parts);
    extraNotes.push(...wh.notes);
  } catch (e) {
    if (e instanceof Interrupted) throw e;
    error = (e as Error).message;
  } finally {
    await Promise.all(started.map(stopChild));
  }
  const rounds = mergeRounds(parts, p.rounds, RPC_TRIO);
  const summary = summarize(rounds, hooksMetrics(h.webhook.batches));
  const targets: HookTarget[] = hookTargets(summary, h.webhook.batches, h.rpc.rate);
  const noteLines = [...(error ? [`hooks scenario stopped early: ${error}`] : []), ...extraNotes, ...phaseNotes(rounds, RPC_TRIO)];
  console.log("\n" + renderTable(summary));
  console.log("\n" + HOOKS_LEGEND);
  console.log("\ntargets:\n" + renderTargets(targets));
  console.log("\nas Markdown (docs/performance.md):\n\n" + targetsMarkdown(targets));
  if (noteLines.length) console.log("\nnotes:\n" + noteLines.map((n) => "  - " + n).join("\n"));
  const finishedAt = new Date();
  const file = save(join(root, "bench", "results"), startedAt, {
    scenario: "hooks", startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(), machine: { ...machine, loadAvgEnd: os.loadavg() },
    params: { rounds: p.rounds, quick: p.quick, sources: p.sources, hooks: p.hooks }, summary, targets, targetsMarkdown: targetsMarkdown(targets), notes: noteLines, rounds, error,
  }, "hooks");
  console.log(`\nsaved ${file} and bench/results/latest-hooks.json (${((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(1)} s)`);
  if (error) process.exitCode = 1;
}

// The soak scenario (`bun run bench soak --minutes N`, called by run.ts): one pushgate server
// (soak-server.ts: src/main.ts plus heap lines) under N minutes of connect/login/join/close churn
// (two soak-churn.ts processes), a steady HTTP publish stream and pushgate.v1 verifiers
// (soak-verify.ts). Every few seconds it samples the server's RSS, CPU and fds (/proc), its heap
// (the HEAP lines) and /metrics, and prints one row. At the end: the presence truth (only the
// verifiers remain, then nobody), a cool-down, and the verdict (memory flat after warm-up,
// presence right, nothing missed). Saves bench/results/latest-soak.json (+ runs/soak-<timestamp>.json)
// and an SVG curve (soak-svg.ts). See bench/README.md.
import { join, relative } from "node:path";
import type { Params } from "../lib/params.ts";
import { type Child, Interrupted, spawnChild, waitExit } from "../lib/processes.ts";
import { lastResult } from "../lib/load-results.ts";
import { procCpuMs, procRssKiB } from "../lib/proc-stats.ts";
import { machineInfo, save } from "../report/report.ts";
import { stopChild } from "../lib/redis.ts";
import { HOST } from "../lib/servers.ts";
import {
  type ChurnConfig, STAT_PREFIX, VERIFIER_GROUP_PREFIX, VERIFIER_UID_PREFIX, type VerifyConfig,
} from "./soak-config.ts";
import { HEAP_PREFIX, type HeapLine } from "./soak-server.ts";
import { type Presence, presence, procFds, scrape } from "./soak-probe.ts";
import { type Check, eq, flatCheck, flatness, sparkline, typeGrowth, zero } from "../report/soak-verdict.ts";
import { writeSoakChart } from "../report/soak-svg.ts";
import { fmt, table } from "../lib/stats.ts";

/**
 * Flags beyond the defaults, and why: the history TTL and idempotency window of 60 s (default
 * 5 min) let the per-uid streams and keys that churn creates expire many times within a run, so
 * a run of a few minutes reaches its plateau; everything else (rate limit, per-uid limit, login
 * timeout, history size and bytes) stays at its default, which the churn stays within.
 */
export const SOAK_SERVER_FLAGS = ["--log-level", "warn", "--history-ttl", "60s", "--idempotency-window", "60s"] as const;
const HISTORY_TTL_MS = 60_000;
const LOGIN_TIMEOUT_MS = 10_000; // pushgate's default --login-timeout
const CHURN_PROCS = 2;
const VERIFIER_GROUPS = 4;

export interface SoakSample {
  /** Seconds since the load started (negative: baseline; after the load: the ends and the cool-down). */
  t: number;
  phase: "baseline" | "load" | "end" | "cool";
  rssMiB: number | null;
  /** JS heap as sampled (not forced), and after a full GC on the census lines. */
  heapMiB: number | null;
  liveHeapMiB: number | null;
  mallocMiB: number | null;
  objects: number | null;
  fds: number | null;
  /** Server CPU since the previous sample, in cores. */
  cpu: number | null;
  conns: number | null;
  loggedIn: number | null;
  uids: number | null;
  groups: number | null;
  historyStreams: number | null;
  historyMessages: number | null;
  historyMiB: number | null;
  logins: number | null;
  churnActive: number;
  churnStarted: number;
  verifierPushes: number;
  published: number;
  /** Verifier problems so far (duplicates, out of order, skipped offsets, not recovered, unexpected closes) + churn misrouted. */
  problems: number;
}

const MiB = 1024 * 1024;

function freePort(): number {
  const l = Bun.listen({ hostname: HOST, port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** Last line with `prefix` among child.lines, parsed (scans from the end). */
function lastLine<T>(child: Child, prefix: string, pred: (l: string) => boolean = () => true): T | null {
  for (let i = child.lines.length - 1; i >= 0; i--) {
    const l = child.lines[i]!;
    if (l.startsWith(prefix) && pred(l)) return JSON.parse(l.slice(prefix.length)) as T;
  }
  return null;
}

function git(root: string, args: string[]): string | null {
  const r = Bun.spawnSync(["git", ...args], { cwd: root, stdout: "pipe", stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : null;
}

async function startServer(root: string, sampleMs: number, gcEveryMs: number): Promise<{ child: Child; port: number; args: string[] }> {
  const port = freePort();
  const extra = process.env.PUSHGATE_BENCH_ARGS ? process.env.PUSHGATE_BENCH_ARGS.split(" ") : [];
  const args = ["--port", String(port), "--host", HOST, ...SOAK_SERVER_FLAGS, ...extra];
  const child = spawnChild("pushgate (soak)", [process.execPath, "bench/scenarios/soak-server.ts", String(sampleMs), String(gcEveryMs), ...args], root);
  const deadline = performance.now() + 10_000;
  for (;;) {
    if (child.proc.exitCode !== null) throw new Error(`pushgate exited at start: ${child.tail().trim()}`);
    try {
      const res = await fetch(`http://${HOST}:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return { child, port, args };
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`pushgate not ready within 10 s: ${child.tail().trim()}`);
    await Bun.sleep(50);
  }
}

/** Asks the server for a census (SIGUSR2 → a full-GC HEAP line) and waits for it. */
async function census(server: Child): Promise<HeapLine | null> {
  const before = server.lines.length;
  server.proc.kill("SIGUSR2");
  try {
    const line = await server.waitLine((l) => l.startsWith(HEAP_PREFIX) && l.includes('"full":true') && server.lines.indexOf(l, before) >= before, 10_000);
    return JSON.parse(line.slice(HEAP_PREFIX.length)) as HeapLine;
  } catch {
    return null;
  }
}

interface ChurnStat { active: number; started: number; misrouted: number; loggedIn: number }
interface VerifyStat {
  pushes: number; published: number; duplicates: number; outOfOrder: number; skippedNow: number; recoveryMismatch: number;
  notRecovered: Record<string, number>; unexpectedCloses: Record<string, number>; loginFailures: number; epochChanges: number;
}

/** soak-verify.ts's RESULT line. */
interface VerifyResult {
  verifiers: number; steady: number; reconnecting: number; pushes: number; duplicates: number; outOfOrder: number;
  epochChanges: number; duplicatePayloads: number; reconnects: number; recoveries: number; recoveredStreams: number;
  replayed: number; replayedSeen: number; recoveryMismatch: number; loginFailures: number; unexpectedFrames: number; joinFailures: number;
  published: number; publishRequests: number; publishRetries: number; publishFailed: number; publishSkipped: number;
  missing: number; verifiersIncomplete: number; expectedDeliveries: number; skippedOffsets: number; ambiguous: number;
  notRecovered: Record<string, number>; unexpectedCloses: Record<string, number>; closeModes: Record<string, number>;
  httpErrors: Record<string, number>;
  truth: { connections: number; uids: string[]; groups: string[] };
}

const sum = (o: Record<string, number> | undefined) => Object.values(o ?? {}).reduce((a, b) => a + b, 0);

class Sampler {
  readonly samples: SoakSample[] = [];
  private lastCpu: { ms: number; at: number } | null = null;
  private lastFullT = 0;

  constructor(private readonly server: { child: Child; port: number }, private readonly churn: Child[], private readonly verify: () => Child | null) {}

  async take(t: number, phase: SoakSample["phase"]): Promise<SoakSample> {
    const pid = this.server.child.proc.pid;
    const rss = procRssKiB(pid);
    const cpuMs = procCpuMs(pid);
    const now = performance.now();
    // Over less than 0.5 s the 10 ms ticks say little: no value, and the interval carries on.
    const span = this.lastCpu ? now - this.lastCpu.at : 0;
    const cpu = cpuMs !== null && this.lastCpu && span >= 500 ? (cpuMs - this.lastCpu.ms) / span : null;
    if (cpuMs !== null && (!this.lastCpu || span >= 500)) this.lastCpu = { ms: cpuMs, at: now };
    const m = await scrape(HOST, this.server.port);
    const heap = lastLine<HeapLine>(this.server.child, HEAP_PREFIX);
    // A census (full-GC line) not seen by an earlier sample is this sample's live heap.
    const full = lastLine<HeapLine>(this.server.child, HEAP_PREFIX, (l) => l.includes('"full":true'));
    const live = full && full.t !== this.lastFullT ? full.heapBytes / MiB : null;
    if (full) this.lastFullT = full.t;
    // An exited churn process holds nobody, whatever its last STAT line said.
    const cs = this.churn.map((c) => {
      const st = lastLine<ChurnStat>(c, STAT_PREFIX);
      return st && c.proc.exitCode !== null ? { ...st, active: 0 } : st;
    }).filter((x): x is ChurnStat => x !== null);
    const v = this.verify();
    const vs = v ? lastLine<VerifyStat>(v, STAT_PREFIX) : null;
    const g = (name: string) => m?.sums[name] ?? null;
    const s: SoakSample = {
      t: Math.round(t * 10) / 10, phase,
      rssMiB: rss === null ? null : rss / 1024,
      heapMiB: heap ? heap.heapBytes / MiB : null,
      liveHeapMiB: live,
      mallocMiB: heap?.mallocBytes ? heap.mallocBytes / MiB : null,
      objects: heap ? heap.objects : null,
      fds: procFds(pid), cpu,
      conns: g("pushgate_connections"), loggedIn: g("pushgate_logged_in_connections"), uids: g("pushgate_uids_online"),
      groups: g("pushgate_groups"), historyStreams: g("pushgate_history_streams"), historyMessages: g("pushgate_history_messages"),
      historyMiB: g("pushgate_history_bytes") === null ? null : g("pushgate_history_bytes")! / MiB,
      logins: g("pushgate_logins_total"),
      churnActive: cs.reduce((a, c) => a + c.active, 0), churnStarted: cs.reduce((a, c) => a + c.started, 0),
      verifierPushes: vs?.pushes ?? 0, published: vs?.published ?? 0,
      problems: (vs ? vs.duplicates + vs.outOfOrder + vs.skippedNow + vs.recoveryMismatch + sum(vs.notRecovered) + sum(vs.unexpectedCloses) + vs.loginFailures + vs.epochChanges : 0) +
        cs.reduce((a, c) => a + c.misrouted, 0),
    };
    this.samples.push(s);
    return s;
  }
}

const HEADER = ["t(s)", "phase", "rss", "heap", "live", "malloc", "fds", "cpu", "conns", "in", "uids", "grp", "h.str", "h.msg", "churn", "started", "v.push", "pub", "prob"];

function row(s: SoakSample): string[] {
  const f1 = (x: number | null) => (x === null ? "-" : x.toFixed(1));
  return [String(s.t), s.phase, f1(s.rssMiB), f1(s.heapMiB), f1(s.liveHeapMiB), f1(s.mallocMiB), fmt(s.fds), s.cpu === null ? "-" : s.cpu.toFixed(2),
    fmt(s.conns), fmt(s.loggedIn), fmt(s.uids), fmt(s.groups), fmt(s.historyStreams), fmt(s.historyMessages),
    fmt(s.churnActive), fmt(s.churnStarted), fmt(s.verifierPushes), fmt(s.published), fmt(s.problems)];
}

const WIDTHS = [6, 8, 6, 6, 6, 6, 5, 4, 6, 6, 6, 4, 6, 7, 5, 8, 8, 7, 4];
const line = (cells: string[]) => cells.map((c, i) => (i === 1 ? c.padEnd(WIDTHS[i]!) : c.padStart(WIDTHS[i]!))).join(" ");

/** Polls presence until pred holds or ms pass; the last answer. */
async function settlePresence(port: number, pred: (p: Presence) => boolean, ms: number): Promise<{ p: Presence | null; waitedMs: number; error: string | null }> {
  const t0 = performance.now();
  let last: Presence | null = null;
  let error: string | null = null;
  while (performance.now() - t0 < ms) {
    try {
      last = await presence(HOST, port);
      error = null;
      if (pred(last)) break;
    } catch (e) {
      error = (e as Error).message;
    }
    await Bun.sleep(250);
  }
  return { p: last, waitedMs: Math.round(performance.now() - t0), error };
}

function presenceChecks(label: string, p: Presence | null, want: { connections: number; uids: string[]; groups: string[] }): Check[] {
  if (!p) return [{ name: `${label}: presence answered`, ok: false, detail: "no presence answer" }];
  return [
    eq(`${label}: getAllClientCount`, p.clientCount, want.connections),
    eq(`${label}: getAllUidCount`, p.uidCount, want.uids.length),
    eq(`${label}: getAllUidList`, p.uids, want.uids),
    eq(`${label}: getAllGroupIdList`, p.groups, want.groups),
    eq(`${label}: pushgate_connections`, p.gauges.connections, want.connections),
    eq(`${label}: pushgate_logged_in_connections`, p.gauges.loggedIn, want.connections),
    eq(`${label}: pushgate_uids_online`, p.gauges.uidsOnline, want.uids.length),
    eq(`${label}: pushgate_groups`, p.gauges.groups, want.groups.length),
  ];
}

export async function runSoak(p: Params, root: string): Promise<void> {
  const startedAt = new Date();
  const machine = machineInfo(root);
  const gitState = { commit: git(root, ["rev-parse", "HEAD"]), status: (git(root, ["status", "--short"]) ?? "").split("\n").filter(Boolean).slice(0, 40) };
  const loadMs = Math.round(p.soak.minutes * 60_000);
  const sampleMs = Math.max(1000, Math.min(5000, Math.round(loadMs / 36)));
  const gcEveryMs = Math.max(sampleMs, Math.min(30_000, Math.round(loadMs / 20)));
  const cooldownMs = p.soak.minutes >= 2 ? HISTORY_TTL_MS + 25_000 : 10_000;
  const server = await startServer(root, sampleMs, gcEveryMs);
  const pid = server.child.proc.pid;
  console.log(`soak: ${p.soak.minutes} min of churn + publish + verifiers against pushgate :${server.port} (pid ${pid}), ` +
    `sample every ${sampleMs / 1000} s, full-GC census every ${gcEveryMs / 1000} s, cool-down ${cooldownMs / 1000} s`);
  console.log(`  server: bun bench/scenarios/soak-server.ts ${sampleMs} ${gcEveryMs} ${server.args.join(" ")}  (src/main.ts with these flags, plus HEAP lines)`);
  console.log(`  git ${gitState.commit ?? "?"}${gitState.status.length ? ` with ${gitState.status.length} changed path(s): ${gitState.status.slice(0, 8).join(", ")}${gitState.status.length > 8 ? ", …" : ""}` : " (clean)"}`);

  const verifierUids = Array.from({ length: 24 }, (_, i) => `${VERIFIER_UID_PREFIX}${i}`);
  const verifierGroups = Array.from({ length: VERIFIER_GROUPS }, (_, i) => `${VERIFIER_GROUP_PREFIX}${i}`);
  const vcfg: VerifyConfig = {
    host: HOST, port: server.port, sources: p.sources, steady: 12, reconnecting: 12, groups: verifierGroups,
    reconnectEveryMs: [Math.max(3000, Math.min(20_000, Math.round(loadMs / 12))), Math.max(6000, Math.min(40_000, Math.round(loadMs / 6)))],
    offlineMs: [200, 3000],
    publish: { uidPerSec: 20, groupPerSec: 10, allPerSec: 2, batchPerSec: 1, batchSize: 5 },
    churnUidPool: 2000, churnGroupPool: 100, drainMs: 5000, maxMs: loadMs + 120_000, statEveryMs: Math.min(sampleMs, 5000),
  };
  const ccfg = (proc: number): ChurnConfig => ({
    host: HOST, port: server.port, proc, sources: p.sources, concurrency: 400, connectsPerSec: 100, lifeMs: [500, 8000],
    uidPool: vcfg.churnUidPool, groupPool: vcfg.churnGroupPool, verifierUids, verifierGroups,
    loginTimeoutMs: LOGIN_TIMEOUT_MS, maxMs: loadMs + 60_000, statEveryMs: vcfg.statEveryMs,
  });

  const churn: Child[] = [];
  let verify: Child | null = null;
  const sampler = new Sampler(server, churn, () => verify);
  const notes: string[] = [];
  const checks: Check[] = [];
  const censuses: Record<string, HeapLine | null> = {};
  let churnResults: Record<string, unknown>[] = [];
  let verifyResult: Record<string, unknown> | null = null;
  const presenceAt: Record<string, unknown> = {};
  let fdsBaseline: number | null = null;
  let serverExit: number | string | null = null;
  let earlyExit: string | null = null;
  /** Mean CPU (cores) of each process over the load. */
  let loadCpu: { server: number; verify: number; churn: number[] } | null = null;
  const print = (s: SoakSample) => console.log(line(row(s)));
  try {
    await Bun.sleep(1000);
    censuses.baseline = await census(server.child);
    fdsBaseline = procFds(pid);
    console.log(line(HEADER));
    print(await sampler.take(-1, "baseline"));

    verify = spawnChild("soak verify", [process.execPath, "bench/clients/soak-verify.ts", JSON.stringify(vcfg)], root, true);
    await verify.waitLine((l) => l.startsWith("READY "), 60_000);
    for (let k = 0; k < CHURN_PROCS; k++) churn.push(spawnChild(`soak churn ${k}`, [process.execPath, "bench/clients/soak-churn.ts", JSON.stringify(ccfg(k))], root, true));

    const t0 = performance.now();
    const loadStartEpoch = Date.now();
    const cpuOf = () => [server.child, verify!, ...churn].map((c) => procCpuMs(c.proc.pid) ?? NaN);
    const cpuStart = cpuOf();
    let next = t0 + sampleMs;
    while (next <= t0 + loadMs) {
      await Bun.sleep(Math.max(0, next - performance.now()));
      next += sampleMs;
      const dead = [server.child, verify, ...churn].find((c) => c.proc.exitCode !== null || c.proc.signalCode !== null);
      if (dead) {
        earlyExit = `${dead.name} exited early (${dead.proc.exitCode ?? dead.proc.signalCode}): ${dead.tail().trim().slice(-400)}`;
        notes.push(earlyExit);
        break;
      }
      print(await sampler.take((performance.now() - t0) / 1000, "load"));
    }
    const loadEnd = (performance.now() - t0) / 1000;
    const cpuEnd = cpuOf();
    const cores = (i: number) => (cpuEnd[i]! - cpuStart[i]!) / (loadEnd * 1000);
    loadCpu = { server: cores(0), verify: cores(1), churn: churn.map((_, k) => cores(2 + k)) };

    // 1. Churn ends: every live churn client closes its planned way, the processes exit.
    for (const c of churn) c.proc.kill("SIGUSR1");
    await Promise.all(churn.map((c) => waitExit(c, 30_000)));
    churnResults = churn.map((c) => lastResult(c, "soak-churn")).filter((x): x is Record<string, unknown> => x !== null);
    if (churnResults.length < churn.length) notes.push(`${churn.length - churnResults.length} churn process(es) gave no result`);
    // 2. Verifiers stop reconnecting, the publisher stops; they drain and report (and keep their sockets open).
    verify.proc.kill("SIGUSR1");
    try {
      await verify.waitLine((l) => l.includes('"phase":"soak-verify"'), 60_000);
      verifyResult = lastResult(verify, "soak-verify");
    } catch (e) {
      notes.push(`verifier process: ${(e as Error).message.slice(0, 400)}`);
    }
    const truth = (verifyResult as VerifyResult | null)?.truth ?? null;
    // 3. Presence must be back to the truth: only the verifiers.
    if (truth) {
      const r = await settlePresence(server.port, (x) => x.clientCount === truth.connections && x.gauges.connections === truth.connections, 20_000);
      presenceAt.verifiersOnly = { ...r, truth };
      checks.push(...presenceChecks("verifiers only", r.p, truth));
      if (r.error) notes.push(`presence: ${r.error}`);
    } else checks.push({ name: "verifiers only: truth reported", ok: false, detail: "the verifier process gave no result" });
    censuses.endOfLoad = await census(server.child);
    print(await sampler.take((performance.now() - t0) / 1000, "end"));
    // 4. The verifiers close: nobody is left.
    verify.proc.kill("SIGUSR2");
    await waitExit(verify, 15_000);
    {
      const r = await settlePresence(server.port, (x) => x.clientCount === 0 && x.gauges.connections === 0 && x.gauges.groups === 0, 15_000);
      presenceAt.empty = r;
      checks.push(...presenceChecks("empty", r.p, { connections: 0, uids: [], groups: [] }));
    }
    // 5. Cool-down: history and idempotency keys expire (TTL 60 s, sweep every 10 s).
    const coolEnd = performance.now() + cooldownMs;
    while (performance.now() + sampleMs <= coolEnd) {
      await Bun.sleep(sampleMs);
      print(await sampler.take((performance.now() - t0) / 1000, "cool"));
    }
    censuses.afterCooldown = await census(server.child);
    const last = await sampler.take((performance.now() - t0) / 1000, "cool");
    print(last);
    await stopChild(server.child);
    serverExit = server.child.proc.exitCode ?? server.child.proc.signalCode;
    checks.push(eq("server exits 0 on SIGTERM (drain)", serverExit, 0));

    // The verdict.
    const load = sampler.samples.filter((s) => s.phase === "load");
    const xs = load.map((s) => s.t / 60);
    const warm = loadEnd / 60 / 2;
    const flat = (key: keyof SoakSample, rel: number, abs: number) => flatness(xs, load.map((s) => (s[key] as number | null) ?? NaN), warm, rel, abs);
    const rssFlat = flat("rssMiB", 0.05, 8);
    const liveFlat = flat("liveHeapMiB", 0.05, 4);
    const mallocFlat = flat("mallocMiB", 0.05, 8);
    checks.unshift(
      flatCheck("RSS flat after warm-up", rssFlat, "MiB"),
      flatCheck("live JS heap (after full GC) flat after warm-up", liveFlat, "MiB"),
      flatCheck("mimalloc bytes in use flat after warm-up", mallocFlat, "MiB"),
      info(flatCheck("history messages flat after warm-up (info)", flat("historyMessages", 0.1, 500), "msgs")),
    );
    const fdsEnd = last.fds;
    // The margin: this process's own keep-alive HTTP sockets (/metrics, the parallel presence calls) until the server's idle close.
    const coolFds = sampler.samples.filter((x) => x.phase === "cool" && x.fds !== null).map((x) => x.fds!);
    checks.push({ name: "server fds back to the baseline after all clients left", ok: fdsEnd !== null && fdsBaseline !== null && fdsEnd <= fdsBaseline + 6, detail: `baseline ${fdsBaseline}, end ${fdsEnd}, lowest in the cool-down ${coolFds.length ? Math.min(...coolFds) : "-"} (margin 6: the soak's own HTTP sockets)` });
    if (cooldownMs > HISTORY_TTL_MS) checks.push(eq("history streams after the cool-down (TTL passed, nobody subscribed)", last.historyStreams, 0));
    const v = verifyResult as VerifyResult | null;
    if (v) {
      checks.push(
        zero("verifiers: missing publisher pushes", v.missing), zero("verifiers: duplicates (offset)", v.duplicates),
        zero("verifiers: duplicate payloads", v.duplicatePayloads), zero("verifiers: out of order", v.outOfOrder),
        zero("verifiers: skipped offsets (gaps)", v.skippedOffsets), zero("verifiers: epoch changes", v.epochChanges),
        zero("verifiers: streams not recovered", sum(v.notRecovered)), zero("verifiers: recovery position mismatches", v.recoveryMismatch),
        zero("verifiers: login failures", v.loginFailures), zero("verifiers: unexpected closes", sum(v.unexpectedCloses)),
        zero("publisher: HTTP errors", sum(v.httpErrors)), zero("publisher: pushes with unknown outcome", v.ambiguous, true),
        { name: "verifiers: reconnected and recovered", ok: v.reconnects > 0 && v.recoveries === v.reconnects, detail: `${v.reconnects} reconnects, ${v.recoveries} recovery frames, ${v.recoveredStreams} streams recovered` },
        { name: "verifiers: replays arrived as reported", ok: v.replayed > 0 && v.replayedSeen === v.replayed, detail: `${v.replayed} replayed (recovery frames), ${v.replayedSeen} pushes seen between welcome and recovery` },
        zero("verifiers: joinGroup failures", v.joinFailures), zero("verifiers: unexpected frames", v.unexpectedFrames),
        { name: "verifiers: deliveries checked", ok: v.expectedDeliveries > 0, detail: `${v.expectedDeliveries} publisher pushes owed to verifiers, ${v.pushes} pushes received` },
      );
    } else checks.push({ name: "verifiers reported", ok: false, detail: "no result" });
    const ch = (k: string) => churnResults.reduce((a, r) => a + Number(r[k] ?? 0), 0);
    checks.push(
      { name: "every process ran to the end of the load", ok: earlyExit === null, detail: earlyExit ?? `${(loadEnd / 60).toFixed(2)} min` },
      eq("churn processes reported", churnResults.length, CHURN_PROCS),
      zero("churn: misrouted pushes", ch("misrouted")),
      zero("churn: never-logged-in sockets the server did not close (login timeout)", ch("loginTimeoutNotClosed")),
      zero("churn: closeClient without its 1000 close", ch("serverCloseMissing")),
      zero("churn: pushgate.v1 sends without a reply", ch("repliesMissing")),
      { name: "churn: login failures (info)", ok: true, warn: ch("loginFailed") + ch("connectFailed") > 0 || undefined, detail: `${ch("loginFailed")} login, ${ch("connectFailed")} connect failures of ${ch("started")} started` },
    );
    const ok = checks.every((c) => c.ok);

    // The curve and the summary.
    const all = sampler.samples;
    console.log(`\nsoak curve (${load.length} samples over ${(loadEnd / 60).toFixed(1)} min of load; warm-up = first half):`);
    for (const [label, key] of [["rss MiB", "rssMiB"], ["heap MiB", "heapMiB"], ["live heap", "liveHeapMiB"], ["malloc MiB", "mallocMiB"], ["conns", "conns"], ["hist msgs", "historyMessages"], ["fds", "fds"]] as const) {
      const vals = all.map((s) => s[key] as number | null);
      const got = vals.filter((x): x is number => x !== null);
      console.log(`  ${label.padEnd(10)} ${sparkline(vals)}  ${got.length ? `${fmt(Math.min(...got))}..${fmt(Math.max(...got))}` : ""}`);
    }
    const growth = typeGrowth(censuses.baseline?.types, censuses.afterCooldown?.types, 10);
    const growthLoad = typeGrowth(firstCensusAfter(server.child, loadStartEpoch + (loadEnd * 1000) / 2)?.types, censuses.endOfLoad?.types, 10);
    if (growthLoad.length) console.log(`\nobject types, first census after warm-up → end of load (largest growth): ${growthLoad.slice(0, 8).map((g) => `${g.type} ${g.delta > 0 ? "+" : ""}${g.delta}`).join(", ")}`);
    if (growth.length) console.log(`object types, baseline → after cool-down: ${growth.slice(0, 8).map((g) => `${g.type} ${g.delta > 0 ? "+" : ""}${g.delta}`).join(", ")}`);
    const mem = (h: HeapLine | null | undefined) => (h ? `${(h.heapBytes / MiB).toFixed(1)} MiB heap, ${h.objects} objects` : "-");
    console.log(`censuses: baseline ${mem(censuses.baseline)}; end of load ${mem(censuses.endOfLoad)}; after cool-down ${mem(censuses.afterCooldown)}`);
    console.log(`churn: ${ch("started")} clients started, ${ch("loggedIn")} logged in, ended ${JSON.stringify(mergeCounts(churnResults, "ended"))}, ` +
      `${ch("joins")} joins, ${ch("sessions")} sessions, ${ch("seedSends") + ch("jsonSends")} sends (${ch("replies")} replies), ${ch("pushes")} pushes received` +
      `; unexpected closes ${JSON.stringify(mergeCounts(churnResults, "unexpectedClose"))}; api errors ${JSON.stringify(mergeCounts(churnResults, "apiErrors"))}`);
    if (v) console.log(`verifiers: ${v.verifiers} (${v.steady} steady, ${v.reconnecting} reconnecting), ${v.pushes} pushes, ${v.expectedDeliveries} owed publisher pushes, missing ${v.missing}, ` +
      `duplicates ${v.duplicates}, out of order ${v.outOfOrder}, skipped ${v.skippedOffsets}; ${v.reconnects} reconnects (${JSON.stringify(v.closeModes)}), ${v.recoveredStreams} streams recovered, ${v.replayed} replayed; ` +
      `publisher ${v.published} pushes in ${v.publishRequests} requests (${v.publishRetries} retries, ${v.publishFailed} failed, ${v.publishSkipped} skipped)`);
    if (loadCpu) console.log(`cpu over the load (cores): server ${loadCpu.server.toFixed(2)}, verifier+publisher ${loadCpu.verify.toFixed(2)}, churn ${loadCpu.churn.map((x) => x.toFixed(2)).join(" + ")}`);
    console.log("\n" + table(["check", "ok", "detail"], checks.map((c) => [c.name, c.ok ? (c.warn ? "warn" : "ok") : "FAIL", c.detail]), new Set()));
    const serverLog = server.child.lines.filter((l) => !l.startsWith(HEAP_PREFIX) && l.trim() !== "");
    if (serverLog.length) notes.push(`server log (${serverLog.length} lines at --log-level warn): ${serverLog.slice(0, 3).join(" | ").slice(0, 600)}`);
    if (notes.length) console.log("\nnotes:\n" + notes.map((n) => "  - " + n).join("\n"));
    console.log(`\nsoak verdict: ${ok ? "PASS" : "FAIL"} (${checks.filter((c) => !c.ok).length} failed check(s))`);
    if (!ok) process.exitCode = 1;

    const finishedAt = new Date();
    const report = {
      kind: "soak", startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(), machine, git: gitState,
      params: { minutes: p.soak.minutes, sampleMs, gcEveryMs, cooldownMs, serverArgs: server.args, churn: ccfg(0), churnProcs: CHURN_PROCS, verify: vcfg },
      verdict: { ok, warmupMin: warm, loadMin: loadEnd / 60, rss: rssFlat, liveHeap: liveFlat, malloc: mallocFlat, checks },
      samples: all, censuses: stripTypes(censuses), objectTypeGrowth: { warmupToEndOfLoad: growthLoad, baselineToAfterCooldown: growth },
      presence: presenceAt, loadCpu, churn: churnResults, verify: verifyResult, serverExit, notes, serverLog: serverLog.slice(0, 50),
    };
    const file = save(join(root, "bench", "results"), startedAt, report, "soak");
    console.log(`\nsaved ${relative(root, file)} and bench/results/latest-soak.json`);
    try {
      const svgs = writeSoakChart(file, report);
      console.log(`chart: ${svgs.map((f) => relative(root, f)).join(", ")}`);
    } catch (e) {
      console.error(`chart not written: ${(e as Error).message}`);
    }
  } catch (e) {
    if (e instanceof Interrupted) throw e;
    console.error(`soak failed: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
  } finally {
    await Promise.all([...churn, ...(verify ? [verify] : [])].map((c) => waitExit(c, 1)));
    await stopChild(server.child);
  }
}

/** The first full HEAP line at or after epoch ms `at` (the census after warm-up). */
function firstCensusAfter(server: Child, at: number): HeapLine | null {
  for (const l of server.lines) {
    if (!l.startsWith(HEAP_PREFIX) || !l.includes('"full":true')) continue;
    const h = JSON.parse(l.slice(HEAP_PREFIX.length)) as HeapLine;
    if (h.t >= at) return h;
  }
  return null;
}

/** A check shown but never failing the run. */
function info(c: Check): Check {
  return { ...c, ok: true, warn: c.warn || !c.ok || undefined };
}

function mergeCounts(rs: readonly Record<string, unknown>[], key: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rs) for (const [k, v] of Object.entries((r[key] as Record<string, number> | undefined) ?? {})) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** The censuses without their full type tables (the growth lists keep what matters). */
function stripTypes(c: Record<string, HeapLine | null>): Record<string, Omit<HeapLine, "types"> | null> {
  return Object.fromEntries(Object.entries(c).map(([k, h]) => [k, h ? { ...h, types: undefined } : null]));
}

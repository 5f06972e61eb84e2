// `bun run bench adversarial`: the worst inputs buildable under pushgate's default limits, class
// by class (adversarial-classes.ts), while a healthy client in its own process
// (adversarial-probe.ts) measures round trips every millisecond. Per class: a quiet baseline
// window, then each input's phases (sequential, then a few at once), each followed by a settle
// window. Printed: the worst stall per class; saved: every window. See bench/README.md.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { type AttackClass, CLASSES, JWT_SECRET, setWorld } from "./adversarial-classes.ts";
import {
  type ClassResult, type InputResult, type PhaseResult, type Row, type Samples, classRow, renderRows, renderWorstInputs, rttStats,
} from "../report/adversarial-report.ts";
import { paddedToken } from "./adversarial-inputs.ts";
import { Ctx, World } from "./adversarial-world.ts";
import type { ProbeConfig } from "../clients/adversarial-probe.ts";
import { childResults } from "../lib/load-results.ts";
import type { Params } from "../lib/params.ts";
import { procCpuMs } from "../lib/proc-stats.ts";
import { type Child, spawnChild, waitExit } from "../lib/processes.ts";
import { stopChild } from "../lib/redis.ts";
import { machineInfo, save } from "../report/report.ts";
import { HOST } from "../lib/servers.ts";

const BASELINE_MS = 1000;
const SETTLE_MS = 300;
const SETUP_LIMIT_MS = 60_000;
const PHASE_LIMIT_MS = 60_000;
const PROBE_CONNS = 12;

export interface AdversarialOptions {
  /** Start <root>/src/main.ts instead of this tree's (a before/after comparison). */
  root: string | null;
  /** Run only these classes (by name). */
  only: string[] | null;
  /** Write a CPU profile of each server to this directory (bun --cpu-prof). */
  cpuProfDir: string | null;
}

export interface AdversarialOutcome {
  serverRoot: string;
  serverCommit: string | null;
  serverDirty: boolean | null;
  /** The command lines the servers ran with. */
  servers: Record<string, string>;
  rows: Row[];
  classes: ClassResult[];
  notes: string[];
  error?: string;
}

export const CLASS_NAMES = CLASSES.map((c) => c.name);
const epoch = () => performance.timeOrigin + performance.now();

function git(root: string, args: string[]): string | null {
  const r = Bun.spawnSync(["git", "-C", root, ...args], { stdout: "pipe", stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : null;
}

function freePort(): number {
  const l = Bun.listen({ hostname: HOST, port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

interface Server { child: Child; port: number; cmd: string[] }

/** pushgate with its default limits (only the port, host, log level and, for "jwt", the auth mode set). */
async function startServer(root: string, kind: "uid" | "jwt", o: AdversarialOptions): Promise<Server> {
  const port = freePort();
  const extra = process.env.PUSHGATE_BENCH_ARGS ? process.env.PUSHGATE_BENCH_ARGS.split(" ") : [];
  const prof = o.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${o.cpuProfDir}`, `--cpu-prof-name=pushgate-${kind}-${Date.now()}.cpuprofile`] : [];
  const cmd = [
    process.execPath, ...prof, "src/main.ts", "--port", String(port), "--host", HOST, "--log-level", "warn",
    ...(kind === "jwt" ? ["--auth", "jwt", "--jwt-secret", JWT_SECRET] : []), ...extra,
  ];
  const child = spawnChild(`pushgate (${kind})`, cmd, root);
  const deadline = performance.now() + 10_000;
  for (;;) {
    if (child.proc.exitCode !== null) throw new Error(`pushgate (${kind}) exited at start: ${child.tail().trim()}`);
    try {
      const res = await fetch(`http://${HOST}:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return { child, port, cmd };
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`pushgate (${kind}) not ready in 10 s: ${child.tail().trim()}`);
    await Bun.sleep(50);
  }
}

/** Rejects after ms (the timer is cleared when p settles first). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no end within ${ms} ms`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

interface Window { from: number; to: number; cpuMs: number | null }
type RawPhase = Omit<PhaseResult, "ws" | "http" | "cpuMs"> & Window;
interface RawClass { cls: AttackClass; baseline: Window; inputs: { name: string; phases: RawPhase[]; error?: string }[] }

/** Runs one server's classes: the server, its world (uid), the probe, every window; then the statistics. */
async function runGroup(kind: "uid" | "jwt", classes: readonly AttackClass[], root: string, serverRoot: string, o: AdversarialOptions, notes: string[], servers: Record<string, string>): Promise<ClassResult[]> {
  const server = await startServer(serverRoot, kind, o);
  servers[kind] = server.cmd.map((a, i) => (i === 0 ? "bun" : a)).join(" ");
  const pid = server.child.proc.pid;
  const ctx = new Ctx(HOST, server.port, 8);
  const world = kind === "uid" ? new World(ctx) : null;
  setWorld(world);
  const samplesFile = join(os.tmpdir(), `pushgate-adversarial-${process.pid}-${kind}.f64`);
  let probe: Child | null = null;
  const raw: RawClass[] = [];
  try {
    await world?.ensure();
    const probeCfg: ProbeConfig = {
      host: HOST, port: server.port, sources: 8, conns: PROBE_CONNS, everyMs: 1, httpEveryMs: 2, httpMaxInFlight: 32,
      samplesFile, maxSeconds: 600,
      ...(kind === "jwt" ? { tokens: Array.from({ length: PROBE_CONNS }, (_, i) => paddedToken(`probe-${i}`, [], 300, JWT_SECRET, { exp: Math.floor(Date.now() / 1000) + 7200 })) } : { uids: Array.from({ length: PROBE_CONNS }, (_, i) => `probe-${i}`) }),
    };
    probe = spawnChild(`adversarial probe (${kind})`, [process.execPath, "bench/clients/adversarial-probe.ts", JSON.stringify(probeCfg)], root, true);
    await probe.waitLine((l) => l === "READY", 20_000);
    await Bun.sleep(500); // the probe's first pings: JIT and connection warm-up, outside every window
    const cpu = () => procCpuMs(pid);
    for (const cls of classes) {
      const alive = server.child.proc.exitCode === null && server.child.proc.signalCode === null;
      if (!alive) {
        notes.push(`${cls.name}: not run, pushgate (${kind}) exited: ${server.child.tail().trim().slice(-300)}`);
        continue;
      }
      await world?.ensure();
      console.log(`adversarial ${cls.name} (${cls.inputs.length} inputs)`);
      const c0 = cpu();
      const b0 = epoch();
      await Bun.sleep(BASELINE_MS);
      const b1 = epoch();
      const c1 = cpu();
      const rc: RawClass = { cls, baseline: { from: b0, to: b1, cpuMs: c0 !== null && c1 !== null ? c1 - c0 : null }, inputs: [] };
      raw.push(rc);
      for (const input of cls.inputs) {
        const ir: RawClass["inputs"][number] = { name: input.name, phases: [] };
        rc.inputs.push(ir);
        try {
          const phases = await within(input.setup(ctx), SETUP_LIMIT_MS, `${cls.name} setup`);
          for (const ph of phases) {
            const t0 = epoch();
            const ca = cpu();
            let answers = new Map<string, number>();
            let maxAnswerMs = NaN;
            let error: string | undefined;
            try {
              ({ answers, maxAnswerMs } = await within(ph.run(), PHASE_LIMIT_MS, `${cls.name} ${ph.label}`));
            } catch (e) {
              error = (e as Error).message;
            }
            await Bun.sleep(SETTLE_MS);
            const t1 = epoch();
            const cb = cpu();
            ir.phases.push({ label: ph.label, sent: ph.sent, atOnce: ph.atOnce, answers: Object.fromEntries(answers), maxAnswerMs, from: t0, to: t1, cpuMs: ca !== null && cb !== null ? cb - ca : null, ...(error ? { error } : {}) });
            if (error) notes.push(`${cls.name} / ${input.name} / ${ph.label}: ${error}`);
          }
        } catch (e) {
          ir.error = (e as Error).message;
          notes.push(`${cls.name} / ${input.name}: setup failed: ${ir.error}`);
        } finally {
          ctx.closeOpened();
        }
        await Bun.sleep(100); // closes settle outside the next window
      }
    }
  } finally {
    if (probe) {
      probe.proc.kill("SIGUSR1");
      if (!(await waitExit(probe, 15_000))) notes.push(`probe (${kind}) did not exit on SIGUSR1`);
    }
    world?.close();
    if (world?.reopened) notes.push(`${world.reopened} sink/fan connections were closed by the server during the run (slow readers) and reopened`);
    setWorld(null);
    await stopChild(server.child);
  }
  const report = probe ? childResults<Record<string, unknown>>(probe).find((r) => r.phase === "probe") : undefined;
  if (!report || !existsSync(samplesFile)) throw new Error(`probe (${kind}) left no samples: ${probe?.tail().trim().slice(-500)}`);
  const all = new Float64Array(await Bun.file(samplesFile).arrayBuffer());
  rmSync(samplesFile, { force: true });
  const nWs = report.wsSamples as number;
  const nHttp = report.httpSamples as number;
  const ws: Samples = { send: all.subarray(0, nWs), rtt: all.subarray(nWs, 2 * nWs) };
  const http: Samples = { send: all.subarray(2 * nWs, 2 * nWs + nHttp), rtt: all.subarray(2 * nWs + nHttp) };
  for (const e of JSON.parse(String(report.events)) as { at: number; what: string }[]) {
    const during = raw.flatMap((c) => c.inputs.flatMap((i) => i.phases.filter((p) => e.at >= p.from && e.at <= p.to).map((p) => `${c.cls.name} / ${i.name} / ${p.label}`)));
    notes.push(`${e.what}${during.length ? ` during ${during[0]}` : ""}`);
  }
  if (Number(report.httpSkipped) > 0) notes.push(`probe (${kind}): ${report.httpSkipped} /healthz requests skipped (32 in flight)`);
  return raw.map((rc) => {
    const rate = rc.baseline.cpuMs !== null ? rc.baseline.cpuMs / (rc.baseline.to - rc.baseline.from) : null;
    const inputs: InputResult[] = rc.inputs.map((i) => ({
      name: i.name,
      ...(i.error ? { error: i.error } : {}),
      phases: i.phases.map((p) => ({
        ...p,
        ws: rttStats(ws, p.from, p.to, true),
        http: rttStats(http, p.from, p.to, true),
        cpuMs: p.cpuMs !== null && rate !== null ? Math.max(0, p.cpuMs - rate * (p.to - p.from)) : null,
      })),
    }));
    const c: Omit<ClassResult, "row"> = {
      name: rc.cls.name, server: rc.cls.server, what: rc.cls.what,
      baseline: {
        from: rc.baseline.from, to: rc.baseline.to, ws: rttStats(ws, rc.baseline.from, rc.baseline.to, false),
        http: rttStats(http, rc.baseline.from, rc.baseline.to, false), cpuMsPerSec: rate === null ? null : rate * 1000,
      },
      inputs,
    };
    return { ...c, row: classRow(c) };
  });
}

export async function runAdversarial(o: AdversarialOptions, root: string): Promise<AdversarialOutcome> {
  const serverRoot = o.root ?? root;
  const out: AdversarialOutcome = {
    serverRoot, serverCommit: git(serverRoot, ["rev-parse", "HEAD"]),
    serverDirty: git(serverRoot, ["status", "--porcelain", "--", "src"]) === null ? null : git(serverRoot, ["status", "--porcelain", "--", "src"]) !== "",
    servers: {}, rows: [], classes: [], notes: [],
  };
  if (!existsSync(join(serverRoot, "src", "main.ts"))) {
    out.error = `no src/main.ts under ${serverRoot}`;
    return out;
  }
  if (o.cpuProfDir) mkdirSync(o.cpuProfDir, { recursive: true });
  const chosen = CLASSES.filter((c) => !o.only || o.only.includes(c.name));
  console.log(`adversarial: ${chosen.length} classes against ${serverRoot}/src/main.ts (${out.serverCommit?.slice(0, 7) ?? "no git"}${out.serverDirty ? ", src modified" : ""}), default limits`);
  for (const kind of ["uid", "jwt"] as const) {
    const classes = chosen.filter((c) => c.server === kind);
    if (classes.length === 0) continue;
    try {
      out.classes.push(...(await runGroup(kind, classes, root, serverRoot, o, out.notes, out.servers)));
    } catch (e) {
      out.error = `${kind} server: ${(e as Error).message}`;
      out.notes.push(out.error);
    }
  }
  out.rows = out.classes.map((c) => c.row);
  return out;
}

/** The table, the worst input per class, and how to read them. */
export function renderAdversarial(a: AdversarialOutcome): string {
  if (a.rows.length === 0) return `adversarial: no results${a.error ? ` (${a.error})` : ""}`;
  return [
    `adversarial: pushgate ${a.serverCommit?.slice(0, 7) ?? "?"}${a.serverDirty ? " (src modified)" : ""} at ${a.serverRoot}, default limits`,
    renderRows(a.rows),
    "worst input per class:",
    renderWorstInputs(a.rows),
    "worst/p99 = the healthy pushgate.v1 client's ping round trips during the class's input windows (each input's send and a " +
      `${SETTLE_MS} ms settle); base p99 from the class's own ${BASELINE_MS} ms quiet window; worst stall = worst − base p50; ` +
      "http worst = POST /healthz round trips in the same windows; server cpu = CPU in the windows minus the baseline rate.",
  ].join("\n");
}

/**
 * The scenario as `bun run bench adversarial` runs it (alone): the table, the notes, and
 * bench/results/latest-adversarial.json (+ runs/adversarial-<timestamp>.json).
 */
export async function runAdversarialScenario(p: Params, root: string): Promise<void> {
  const unknown = p.adversarial.only?.filter((n) => !CLASS_NAMES.includes(n)) ?? [];
  if (unknown.length > 0) {
    console.error(`--adversarial-only: unknown class ${unknown.map((n) => JSON.stringify(n)).join(", ")} (classes: ${CLASS_NAMES.join(", ")})`);
    process.exitCode = 2;
    return;
  }
  const startedAt = new Date();
  const machine = machineInfo(root);
  const outcome = await runAdversarial(p.adversarial, root);
  console.log("\n" + renderAdversarial(outcome));
  if (outcome.notes.length) console.log("\nnotes:\n" + outcome.notes.map((n) => "  - " + n).join("\n"));
  const finishedAt = new Date();
  const dir = join(root, "bench", "results");
  const report = {
    scenario: "adversarial", startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(), machine: { ...machine, loadAvgEnd: os.loadavg() },
    params: p.adversarial, windows: { baselineMs: BASELINE_MS, settleMs: SETTLE_MS, probeConns: PROBE_CONNS }, adversarial: outcome,
  };
  // latest.json is left to the comparison scenarios, whose charts read it.
  const file = save(dir, startedAt, report, "adversarial");
  console.log(`\nsaved ${file} and bench/results/latest-adversarial.json (${(report.durationMs / 1000).toFixed(1)} s)`);
  if (outcome.error) process.exitCode = 1;
}

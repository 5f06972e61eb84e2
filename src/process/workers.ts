// --workers N (N > 1): a supervisor spawns N copies of this entry point, marked by PUSHGATE_WORKER,
// that bind one port with SO_REUSEPORT (the kernel spreads connections). A worker that exits is
// restarted with backoff; SIGTERM/SIGINT stops them all; a worker whose supervisor dies drains.
import type { Subprocess } from "bun";
import type { Config } from "../config/types.ts";
import { createLogger } from "../ops/log.ts";
import { selfCommand } from "./self.ts";

const WORKER_ENV = "PUSHGATE_WORKER";
const PARENT_ENV = "PUSHGATE_SUPERVISOR_PID";
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;
const STABLE_MS = 30_000; // a worker that ran this long restarts with the minimum delay again
const KILL_GRACE_MS = 2000; // on top of --drain-timeout before SIGKILL

interface Slot {
  index: number;
  proc: Subprocess | null;
  gone: Promise<void>; // resolves once the current process has exited and was logged
  startedAt: number;
  attempt: number; // consecutive restarts; 0 again after a stable run
  delay: number;
  timer: Timer | null;
}

/** True in a process spawned by the supervisor: it runs a server, never supervises. */
export function isWorker(): boolean {
  return process.env[WORKER_ENV] !== undefined;
}

/** In a worker: calls `onGone` once the supervisor that spawned it is no longer its parent. */
export function watchSupervisor(onGone: () => void, everyMs = 500): void {
  const parent = Number(process.env[PARENT_ENV]);
  if (!parent) return;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, everyMs);
  timer.unref();
}

/** Runs the supervisor until SIGTERM/SIGINT has stopped every worker; resolves to the exit code. */
export function superviseWorkers(config: Config, argv: readonly string[]): Promise<number> {
  const log = createLogger(config.logLevel);
  // Port 0: pick one now so that every worker (and every restart) binds the same port.
  const port = config.port === 0 ? freePort(config.host) : config.port;
  const cmd = [...selfCommand(), ...argv, ...(config.port === 0 ? ["--port", String(port)] : [])];
  const done = Promise.withResolvers<number>();
  let stopping = false;
  const slots: Slot[] = Array.from({ length: config.workers }, (_, index) => ({
    index, proc: null, gone: Promise.resolve(), startedAt: 0, attempt: 0, delay: BACKOFF_MIN_MS, timer: null,
  }));

  const spawn = (slot: Slot): Subprocess => {
    const proc = Bun.spawn(cmd, {
      env: { ...process.env, [WORKER_ENV]: String(slot.index), [PARENT_ENV]: String(process.pid) },
      stdin: "ignore", stdout: "inherit", stderr: "inherit",
    });
    slot.proc = proc;
    slot.startedAt = performance.now();
    slot.gone = proc.exited.then(() => exited(slot, proc));
    return proc;
  };

  const exited = (slot: Slot, proc: Subprocess) => {
    const signal = typeof proc.signalCode === "string" ? proc.signalCode : null;
    log[stopping ? "info" : "warn"]("worker_exited", { index: slot.index, pid: proc.pid, code: proc.exitCode, signal });
    if (slot.proc === proc) slot.proc = null;
    if (stopping) return;
    if (performance.now() - slot.startedAt >= STABLE_MS) {
      slot.delay = BACKOFF_MIN_MS;
      slot.attempt = 0;
    }
    const delay = slot.delay;
    slot.delay = Math.min(delay * 2, BACKOFF_MAX_MS);
    slot.timer = setTimeout(() => {
      slot.timer = null;
      if (stopping) return;
      slot.attempt++;
      const next = spawn(slot);
      log.info("worker_restarted", { index: slot.index, pid: next.pid, attempt: slot.attempt });
    }, delay);
  };

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("signal", { signal });
    for (const slot of slots) if (slot.timer) clearTimeout(slot.timer);
    const live = slots.filter((s) => s.proc !== null);
    for (const s of live) s.proc?.kill("SIGTERM");
    const all = Promise.all(live.map((s) => s.gone));
    const bound = Bun.sleep(config.drainTimeoutMs + KILL_GRACE_MS).then(() => "timeout" as const);
    let forced = 0;
    if ((await Promise.race([all, bound])) === "timeout") {
      for (const s of live) if (s.proc) { s.proc.kill("SIGKILL"); forced++; }
      await all;
    }
    log.info("supervisor_stopped", { forced });
    done.resolve(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));

  const pids = slots.map((slot) => spawn(slot).pid);
  log.info("supervisor_started", { host: config.host, port, workers: config.workers, pids });
  return done.promise;
}

function freePort(hostname: string): number {
  const listener = Bun.listen({ hostname, port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

// Child processes of the benchmark: spawned with Bun.spawn, remembered, and stopped by their own
// pid (SIGTERM, then SIGKILL after a grace period) — never by name.
import type { Subprocess } from "bun";
import { settlesWithin } from "./timeout.ts";

export interface Child {
  readonly name: string;
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Every complete stdout line so far. */
  readonly lines: string[];
  /** The last few KiB of stdout+stderr, for error messages. */
  tail(): string;
  /** Resolves once stdout has been read to its end. */
  readonly stdoutDone: Promise<void>;
  /** Resolves with the first stdout line matching `pred`, or rejects at the deadline / exit. */
  waitLine(pred: (line: string) => boolean, ms: number): Promise<string>;
}

const TAIL_BYTES = 4096;
const live = new Set<Subprocess>();
let stopping = false;

export class Interrupted extends Error {}

export function spawnChild(name: string, cmd: string[], cwd: string, inheritStderr = false): Child {
  if (stopping) throw new Interrupted("benchmark interrupted");
  const proc = Bun.spawn({ cmd, cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  live.add(proc);
  proc.exited.then(() => live.delete(proc));
  let tail = "";
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const keep = (text: string) => { tail = (tail + text).slice(-TAIL_BYTES); };
  const pump = async (stream: ReadableStream<Uint8Array>, onText: (t: string) => void) => {
    const dec = new TextDecoder();
    for await (const chunk of stream) onText(dec.decode(chunk, { stream: true }));
  };
  let partial = "";
  const stdoutDone = pump(proc.stdout, (t) => {
    keep(t);
    const parts = (partial + t).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    for (const w of waiters) w();
  }).catch(() => {});
  pump(proc.stderr, (t) => { keep(t); if (inheritStderr) process.stderr.write(t); }).catch(() => {});

  const waitLine = async (pred: (line: string) => boolean, ms: number): Promise<string> => {
    const deadline = performance.now() + ms;
    for (;;) {
      const hit = lines.find(pred);
      if (hit !== undefined) return hit;
      if (proc.exitCode !== null || proc.signalCode !== null) {
        await stdoutDone;
        const late = lines.find(pred);
        if (late !== undefined) return late;
        throw new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}): ${tail.trim()}`);
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${name}: no expected output within ${ms} ms: ${tail.trim()}`);
      const { promise, resolve } = Promise.withResolvers<void>();
      waiters.add(resolve);
      await Promise.race([promise, Bun.sleep(Math.min(left, 100))]);
      waiters.delete(resolve);
    }
  };
  return { name, proc, lines, stdoutDone, tail: () => tail, waitLine };
}

/** Waits for `child` to exit on its own, killing it after ms; returns whether it exited in time. */
export async function waitExit(child: Child, ms: number): Promise<boolean> {
  const inTime = await settlesWithin(child.proc.exited, ms);
  if (!inTime) await stop(child.proc);
  await settlesWithin(child.stdoutDone, 500);
  return inTime;
}

async function stop(proc: Subprocess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  if (!(await settlesWithin(proc.exited, 3000))) {
    proc.kill("SIGKILL");
    await settlesWithin(proc.exited, 1000);
  }
}

/** Stops every child still running; no child can be spawned afterwards. */
export async function stopAll(): Promise<void> {
  stopping = true;
  await Promise.all([...live].map(stop));
}

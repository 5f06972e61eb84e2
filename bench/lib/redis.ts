// The cluster scenario's own redis-server (a child process on a free 127.0.0.1 port, no
// persistence, stopped by its pid) and the INFO counters the scenario reads from it.
import { RedisClient } from "bun";
import { type Child, spawnChild } from "./processes.ts";
import { settlesWithin } from "./timeout.ts";

export const REDIS_BIN: string | null = Bun.which("redis-server");
const HOST = "127.0.0.1";
const READY_MS = 5000;

export interface RedisUnderTest {
  child: Child;
  port: number;
  url: string;
  version: string | null;
}

function freePort(): number {
  const l = Bun.listen({ hostname: HOST, port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** Starts redis-server (REDIS_BIN must be set) and resolves once it answers INFO; `label` names it in errors. */
export async function startRedis(root: string, label = "redis-server"): Promise<RedisUnderTest> {
  if (!REDIS_BIN) throw new Error("redis-server is not installed");
  const port = freePort();
  const child = spawnChild(label, [
    REDIS_BIN, "--port", String(port), "--bind", HOST, "--save", "", "--appendonly", "no",
    "--protected-mode", "no", "--loglevel", "warning",
  ], root);
  const url = `redis://${HOST}:${port}`;
  const deadline = performance.now() + READY_MS;
  for (;;) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) {
      throw new Error(`${label} exited at start: ${child.tail().trim()}`);
    }
    try {
      const info = await redisCommand(url, "INFO", ["server"]);
      const version = /^redis_version:(\S+)/m.exec(String(info))?.[1] ?? null;
      return { child, port, url, version };
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) {
      await stopChild(child);
      throw new Error(`${label} not ready within ${READY_MS} ms: ${child.tail().trim()}`);
    }
    await Bun.sleep(20);
  }
}

/** SIGTERM to this child's pid, SIGKILL after a grace period. */
export async function stopChild(child: Child): Promise<void> {
  const p = child.proc;
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill("SIGTERM");
  if (!(await settlesWithin(p.exited, 3000))) {
    p.kill("SIGKILL");
    await settlesWithin(p.exited, 1000);
  }
}

/** One command on a short-lived connection. */
export async function redisCommand(url: string, cmd: string, args: string[]): Promise<unknown> {
  const c = new RedisClient(url, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: 1000 });
  try {
    await c.connect();
    return await c.send(cmd, args);
  } finally {
    c.close();
  }
}

/** Counters of one moment: calls per command, total commands processed, Redis CPU seconds. */
export interface RedisCounters {
  calls: Record<string, number>;
  totalCommands: number;
  cpuSec: number;
}

/** INFO commandstats, stats and cpu, in one call each (every INFO is itself a counted command). */
export async function readCounters(c: RedisClient): Promise<RedisCounters> {
  const stats = String(await c.send("INFO", ["commandstats"])) + "\n" + String(await c.send("INFO", ["stats"])) +
    "\n" + String(await c.send("INFO", ["cpu"]));
  const calls: Record<string, number> = {};
  for (const m of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[m[1]!] = Number(m[2]);
  const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, "m").exec(stats)?.[1] ?? NaN);
  return {
    calls,
    totalCommands: field("total_commands_processed"),
    cpuSec: field("used_cpu_user") + field("used_cpu_sys"),
  };
}

/** after − before: per-command calls (nonzero only), total commands and CPU ms. */
export function counterDelta(before: RedisCounters, after: RedisCounters): { calls: Record<string, number>; totalCommands: number; cpuMs: number } {
  const calls: Record<string, number> = {};
  for (const [cmd, n] of Object.entries(after.calls)) {
    const d = n - (before.calls[cmd] ?? 0);
    if (d > 0) calls[cmd] = d;
  }
  return { calls, totalCommands: after.totalCommands - before.totalCommands, cpuMs: (after.cpuSec - before.cpuSec) * 1000 };
}

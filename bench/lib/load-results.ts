// The orchestrator's side of a load process: its `RESULT <json>` lines, and running one to its end.
import { type Child, spawnChild, waitExit } from "./processes.ts";
import { RESULT_PREFIX } from "./types.ts";

/** Every RESULT line the child printed, parsed, in order. */
export function childResults<T>(child: Child): T[] {
  return child.lines.filter((l) => l.startsWith(RESULT_PREFIX)).map((l) => JSON.parse(l.slice(RESULT_PREFIX.length)) as T);
}

/** The last RESULT line of `phase` the child printed, parsed, or null. */
export function lastResult(child: Child, phase: string): Record<string, unknown> | null {
  for (let i = child.lines.length - 1; i >= 0; i--) {
    const l = child.lines[i]!;
    if (l.startsWith(RESULT_PREFIX) && l.includes(`"phase":"${phase}"`)) return JSON.parse(l.slice(RESULT_PREFIX.length)) as Record<string, unknown>;
  }
  return null;
}

/** Waits until each child printed its first RESULT line (or gave up: exit, limit). */
export function firstResults(children: readonly Child[], limitMs: number): Promise<PromiseSettledResult<string>[]> {
  return Promise.allSettled(children.map((c) => c.waitLine((l) => l.startsWith(RESULT_PREFIX), limitMs)));
}

/**
 * Runs `bun <script> '<cfg JSON>'` to its exit (killed after limitMs): the phases it reported,
 * and an error when it was killed or exited non-zero (`who` names it in the message).
 */
export async function runLoadProcess<T>(
  root: string, name: string, script: string, cfg: unknown, limitMs: number, who: string,
): Promise<{ results: T[]; error: string | null }> {
  const child = spawnChild(name, [process.execPath, script, JSON.stringify(cfg)], root, true);
  const inTime = await waitExit(child, limitMs);
  const results = childResults<T>(child);
  let error: string | null = null;
  if (!inTime) error = `${who} killed after ${limitMs} ms`;
  else if (child.proc.exitCode !== 0) error = `${who} exited ${child.proc.exitCode}: ${child.tail().trim().slice(-500)}`;
  return { results, error };
}

/** n clients over ceil(n / perProcess) load processes (at least one): each one's first uid index and count. */
export function splitClients(n: number, perProcess: number): { firstUid: number; clients: number }[] {
  const procs = Math.max(1, Math.ceil(n / perProcess));
  return Array.from({ length: procs }, (_, k) => {
    const firstUid = Math.floor((n * k) / procs);
    return { firstUid, clients: Math.floor((n * (k + 1)) / procs) - firstUid };
  });
}

/** The distinct non-empty `errors` strings of the reports, joined with "; " ("" if none). */
export function distinctErrors(reports: readonly { errors?: unknown }[]): string {
  return [...new Set(reports.map((r) => r.errors).filter((e): e is string => !!e))].join("; ");
}

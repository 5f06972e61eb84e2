// What the hooks scenario's parts share: its processes besides the load (the backend,
// controls/hook-backend.ts; the webhook receiver, controls/webhook-receiver.ts; pushgate in the
// configurations measured; the rpc part's relay, controls/rpc-relay.ts), each its own child process
// on 127.0.0.1, stopped by its pid; and the rounds of a pair (control, pushgate), or of the rpc
// part's three (control, relay, pushgate), in rotating order.
import { type Child, spawnChild } from "../lib/processes.ts";
import type { AnyPhaseResult, ColumnName, RoundResult } from "../report/report.ts";
import { HOST, type ServerUnderTest, startPushgate } from "../lib/servers.ts";

const READY_MS = 10_000;

/** Signs the webhook POSTs (pushgate needs one of at least 16 characters; the receiver does not check it). */
export const WEBHOOK_SECRET = "pushgate-bench-webhook-secret";

export interface Listener { child: Child; port: number; url: string }

/** A bench/controls script (plus `args`) that prints {"port":N} once listening; `started` gets the child at once (so it is stopped on any error). */
export async function startListener(root: string, label: string, script: string, started: Child[], args: readonly string[] = []): Promise<Listener> {
  const child = spawnChild(label, [process.execPath, script, "--port", "0", "--host", HOST, ...args], root);
  started.push(child);
  const line = await child.waitLine((l) => l.startsWith('{"port":'), READY_MS);
  const port = (JSON.parse(line) as { port: number }).port;
  return { child, port, url: `http://${HOST}:${port}` };
}

/** pushgate with the bench's usual flags plus `args`; pushed to `started` once up. */
export async function startHookPushgate(root: string, label: string, args: string[], started: Child[]): Promise<ServerUnderTest> {
  const s = await startPushgate(root, args, label);
  started.push(s.child);
  return s;
}

/** Why a child is gone (exit code or signal, last output), or null while it runs. */
export function deadReason(c: Child): string | null {
  const p = c.proc;
  return p.exitCode === null && p.signalCode === null ? null : `${c.name} exited (${p.exitCode ?? p.signalCode}): ${c.tail().trim().slice(-400)}`;
}

/** The first dead one of `children`, as an Error to throw, or null. */
export function checkAlive(children: readonly Child[]): string | null {
  for (const c of children) {
    const d = deadReason(c);
    if (d) return d;
  }
  return null;
}

export type Name = "control" | "pushgate";
export const PAIR: readonly Name[] = ["control", "pushgate"];
/** Round r's order: control first in odd rounds, pushgate first in even ones. */
export const orderOf = (r: number): Name[] => (r % 2 === 1 ? [...PAIR] : [...PAIR].reverse());

/** The rpc part's three: control (direct to the backend), relay (controls/rpc-relay.ts), pushgate. */
export type RpcName = Name | "relay";
export const RPC_TRIO: readonly RpcName[] = ["control", "relay", "pushgate"];
/** Round r's rpc order: the trio rotated by r − 1, so over 3 rounds each goes first, second and last once. */
export const rpcOrderOf = (r: number): RpcName[] => RPC_TRIO.map((_, i) => RPC_TRIO[(i + r - 1) % RPC_TRIO.length]!);

/** One part's rounds: per round, each side's phase result (or an error). */
export type PartRounds<N extends string = RpcName> = { round: number; order: N[]; results: Partial<Record<N, AnyPhaseResult>>; errors: Partial<Record<N, string | null>> }[];

/** The parts' rounds as report.ts rounds (round r of every part together), for the participants `names`. */
export function mergeRounds<N extends ColumnName>(parts: readonly PartRounds<N>[], rounds: number, names: readonly N[]): RoundResult[] {
  return Array.from({ length: rounds }, (_, i) => {
    const r: RoundResult = { round: i + 1, order: orderOf(i + 1), results: {}, errors: {} };
    for (const name of names) {
      r.results[name] = [];
      r.errors[name] = null;
    }
    for (const pr of parts.map((part) => part.find((x) => x.round === i + 1))) {
      if (!pr) continue;
      for (const name of names) {
        const res = pr.results[name];
        if (res) r.results[name]!.push(res);
        const e = pr.errors[name];
        if (e) r.errors[name] = r.errors[name] ? `${r.errors[name]}; ${e}` : e;
      }
    }
    return r;
  });
}

/** Every phase's errors, timeouts, closed sockets and saturated load clients, one line each. */
export function phaseNotes(rounds: readonly RoundResult[], names: readonly ColumnName[]): string[] {
  const out: string[] = [];
  for (const r of rounds) {
    for (const name of names) {
      if (r.errors[name]) out.push(`round ${r.round} ${name}: ${r.errors[name]}`);
      for (const x of r.results[name] ?? []) {
        const at = `round ${r.round} ${name} ${x.phase}`;
        if (x.errors) out.push(`${at}: ${x.errors}`);
        if (x.timedOut) out.push(`${at}: ${x.timedOut} (partial results)`);
        if (typeof x.connsClosed === "number" && x.connsClosed > 0) out.push(`${at}: ${x.connsClosed} client sockets closed by the end`);
        if (typeof x.clientCpuUtil === "number" && x.clientCpuUtil > 0.85) out.push(`${at}: load client at ${Math.round(x.clientCpuUtil * 100)}% of a core — the generator may be the limit`);
      }
    }
  }
  return out;
}

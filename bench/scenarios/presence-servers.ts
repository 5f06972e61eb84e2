// What the presence scenario's parts share: the --channel-rules file (a temporary file: room-*
// public, chat-* public with presence), pushgate started with it, and the presence group's member
// processes (clients/presence-members.ts, started at one instant, held until released by pid).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import type { PresenceMembersConfig } from "../clients/presence-members.ts";
import { firstResults, lastResult, splitClients } from "../lib/load-results.ts";
import type { Params } from "../lib/params.ts";
import { type Child, spawnChild, waitExit } from "../lib/processes.ts";
import { HOST, type ServerUnderTest } from "../lib/servers.ts";
import { startHookPushgate } from "./hooks-servers.ts";

/** The rules the scenario runs with (docs/protocol.md "Subscriptions"). */
export const CHANNEL_RULES = {
  channels: [
    { match: "room-*", subscribe: "public" },
    { match: "chat-*", subscribe: "public", presence: true },
  ],
};
export const PRESENCE_GROUP = "chat-big";
/** Not a member's uid (those are m<k>): its transitions are the measured events. */
export const PROBE_UID = "probe";

/** Writes CHANNEL_RULES to a fresh temporary folder; `remove` deletes it. */
export function writeRules(): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(os.tmpdir(), "pushgate-bench-presence-"));
  const path = join(dir, "channel-rules.json");
  writeFileSync(path, JSON.stringify(CHANNEL_RULES, null, 2) + "\n");
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** pushgate with the bench's usual flags plus --channel-rules; in `started` once up. */
export function startPresencePushgate(root: string, label: string, rulesPath: string, started: Child[]): Promise<ServerUnderTest> {
  return startHookPushgate(root, label, ["--channel-rules", rulesPath], started);
}

export interface MemberReport {
  loggedIn: number; closedWhileHeld: number; outOfStep: number; duplicates: number; overflow: number; malformed: number;
  connsClosed: number; unexpectedFrames: number;
  presenceLast: number[]; presenceCount: number[]; pushLast: number[]; pushCount: number[];
}

export interface Members {
  children: Child[];
  requested: number;
  loggedIn: number;
  failed: number;
  setupMs: number;
  errors: string | null;
}

/** Starts the member processes (one per `perProcess` members) and waits until each has subscribed all of its own. */
export async function startMembers(root: string, p: Params, port: number, maxEvents: number, started: Child[]): Promise<Members> {
  const g = p.presence.group;
  const timeoutMs = Math.min(180_000, 20_000 + g.members * 5);
  const startAt = Date.now() + 800; // every process is up by then
  const children = splitClients(g.members, g.perProcess).map(({ firstUid, clients }, k) => {
    const cfg: PresenceMembersConfig = {
      host: HOST, port, firstUid, clients, sources: p.sources, concurrency: 64, startAt, connectTimeoutMs: timeoutMs,
      // Released by the orchestrator after the last round; this only bounds a lost release.
      holdMaxMs: timeoutMs + 600_000, group: PRESENCE_GROUP, memberUids: g.memberUids, probeUid: PROBE_UID, maxEvents,
    };
    const c = spawnChild(`presence members ${k}`, [process.execPath, "bench/clients/presence-members.ts", JSON.stringify(cfg)], root, true);
    started.push(c);
    return c;
  });
  const lines = await firstResults(children, timeoutMs + 10_000);
  const reports = children.map((c) => lastResult(c, "presence-members-ready") as { loggedIn: number; failed: number; setupMs: number; errors: string | null } | null);
  const ok = reports.filter((r): r is NonNullable<typeof r> => r !== null);
  const loggedIn = ok.reduce((n, r) => n + r.loggedIn, 0);
  const errors = [
    ...lines.flatMap((x, k) => (x.status === "rejected" ? [`member process ${k}: ${(x.reason as Error).message.slice(0, 200)}`] : [])),
    ...new Set(ok.map((r) => r.errors).filter((e): e is string => !!e)),
  ];
  return {
    children, requested: g.members, loggedIn, failed: g.members - loggedIn,
    setupMs: ok.length ? Math.max(...ok.map((r) => r.setupMs)) : NaN, errors: errors.join("; ") || null,
  };
}

/** SIGUSR1 to each member process (by pid): each prints its arrival tables and exits. */
export async function releaseMembers(m: Members): Promise<(MemberReport | null)[]> {
  for (const c of m.children) if (c.proc.exitCode === null) c.proc.kill("SIGUSR1");
  await Promise.all(m.children.map((c) => waitExit(c, 15_000)));
  return m.children.map((c) => lastResult(c, "presence-members") as MemberReport | null);
}

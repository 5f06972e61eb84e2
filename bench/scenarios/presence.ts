// `bun run bench presence` (alone): what client subscriptions and group presence cost
// (docs/protocol.md "Subscriptions", "Presence"), each against a control measured in the same run,
// the pair's order alternating over rounds (bench/README.md):
//   presence-subscribe  N pushgate.v1 connections send subscribe frames to public groups room-<k>
//                       vs the same memberships through POST /api/joinGroup {clientId, group}
//                       (clients/subscribe-client.ts, a fresh process and fresh connections each run)
//   presence-event      a probe connection's joins and leaves of a presence group of M members
//                       (one presence frame to every member each) vs as many sendToGroup pushes to
//                       the same group (clients/presence-prober.ts); the members are held by
//                       clients/presence-members.ts processes for the whole part and time every arrival
// Each pushgate runs with --channel-rules (presence-servers.ts). Prints a table, the targets and a
// Markdown table; saves bench/results/latest-presence.json (+ runs/presence-<timestamp>.json).
import os from "node:os";
import { join } from "node:path";
import type { PresenceProberConfig } from "../clients/presence-prober.ts";
import type { SubscribeClientConfig } from "../clients/subscribe-client.ts";
import { runLoadProcess } from "../lib/load-results.ts";
import type { Params } from "../lib/params.ts";
import { type Child, Interrupted } from "../lib/processes.ts";
import { stopChild } from "../lib/redis.ts";
import { HOST } from "../lib/servers.ts";
import { percentiles } from "../lib/stats.ts";
import {
  PRESENCE_LEGEND, type PresenceTarget, presenceMarkdown, presenceMetrics, presenceTargets, renderTargets,
} from "../report/presence-report.ts";
import { type AnyPhaseResult, machineInfo, renderTable, save, summarize } from "../report/report.ts";
import { type Name, PAIR, type PartRounds, checkAlive, mergeRounds, orderOf, phaseNotes } from "./hooks-servers.ts";
import { CHANNEL_RULES, type MemberReport, PRESENCE_GROUP, PROBE_UID, releaseMembers, startMembers, startPresencePushgate, writeRules } from "./presence-servers.ts";

/** Events of each kind in the group part's warm-up (even: the probe ends outside the group). */
const WARMUP_EVENTS = 4;

const LABEL: Record<Name, string> = { control: "API joinGroup", pushgate: "subscribe frames" };

function subscribeLine(r: AnyPhaseResult): string {
  const f = (k: string, d = 1) => (typeof r[k] === "number" ? (r[k] as number).toFixed(d) : "-");
  return `  ${r.subscribes} memberships in ${f("wallMs", 0)} ms (${f("perSec", 0)}/s), server ${f("serverCpuUsPerSubscribe")} µs each; ` +
    `refused ${r.refused}, missing ${r.missing}, login failures ${r.loginFailed}`;
}

/** Subscribe frames vs API joinGroup: one pushgate, a fresh subscribe-client process (and connections) per run. */
async function subscribePart(p: Params, root: string, rulesPath: string, started: Child[]): Promise<PartRounds<Name>> {
  const s = p.presence.subscribe;
  const pg = await startPresencePushgate(root, "pushgate (subscribe part)", rulesPath, started);
  console.log(`presence-subscribe: pushgate :${pg.port} (pid ${pg.child.proc.pid}); ${s.conns} connections × ${s.perConn} of ${s.groups} groups ` +
    `(subscribe frames vs joinGroup over ${s.apiConns} HTTP sockets)`);
  const run = async (name: Name, warmup: boolean) => {
    const conns = warmup ? Math.min(300, s.conns) : s.conns;
    const cfg: SubscribeClientConfig = {
      mode: name === "pushgate" ? "subscribe" : "api", host: HOST, port: pg.port, sources: p.sources, conns, groups: s.groups,
      perConn: s.perConn, apiConns: s.apiConns, connectTimeoutMs: 10_000 + conns * 5, phaseTimeoutMs: 30_000, serverPid: pg.child.proc.pid,
    };
    const out = await runLoadProcess<AnyPhaseResult>(root, `subscribe client (${name}${warmup ? " warm-up" : ""})`, "bench/clients/subscribe-client.ts", cfg,
      cfg.connectTimeoutMs + cfg.phaseTimeoutMs + 20_000, "subscribe client");
    await Bun.sleep(300); // the reset connections' closes settle before the next run
    const res = out.results.find((x) => x.phase === "presence-subscribe");
    return { res, error: checkAlive([pg.child]) ?? out.error ?? (res ? null : "subscribe client gave no result") };
  };
  console.log("presence-subscribe warm-up (results discarded)");
  for (const name of PAIR) await run(name, true);
  const rounds: PartRounds<Name> = [];
  for (let r = 1; r <= p.rounds; r++) {
    const order = orderOf(r);
    const round: PartRounds<Name>[number] = { round: r, order, results: {}, errors: {} };
    for (const name of order) {
      console.log(`presence-subscribe round ${r}/${p.rounds}: ${LABEL[name]}`);
      const { res, error } = await run(name, false);
      if (res) round.results[name] = res;
      round.errors[name] = error;
      if (res) console.log(subscribeLine(res));
    }
    rounds.push(round);
  }
  await stopChild(pg.child);
  return rounds;
}

/** One prober run's outcome, kept until the members' arrival tables are in. */
interface ProbeRun { round: number; name: Name; first: number; res: AnyPhaseResult; sentAtMs: number[] }

/** The members' arrivals of events first..first+n-1 (presence index or push seq) against their send times. */
function deliveries(reports: readonly MemberReport[], kind: "presence" | "push", first: number, sentAtMs: readonly number[], members: number) {
  const ms = new Float64Array(sentAtMs.length);
  const join: number[] = [], leave: number[] = [];
  let n = 0, missing = 0, extra = 0;
  for (const [k, sent] of sentAtMs.entries()) {
    const idx = first + k;
    let last = 0, count = 0;
    for (const r of reports) {
      const at = (kind === "presence" ? r.presenceLast : r.pushLast)[idx] ?? 0;
      count += (kind === "presence" ? r.presenceCount : r.pushCount)[idx] ?? 0;
      if (at > last) last = at;
    }
    missing += Math.max(0, members - count);
    extra += Math.max(0, count - members);
    if (count === 0) continue;
    ms[n++] = last - sent;
    (k % 2 === 0 ? join : leave).push(last - sent);
  }
  const [p50, p99, max] = percentiles(ms, n, [50, 99, 100]);
  const mid = (xs: number[]) => percentiles(Float64Array.from(xs), xs.length, [50])[0]!;
  return {
    deliveryP50Ms: p50!, deliveryP99Ms: p99!, deliveryMaxMs: max!, deliveryMeanMs: n ? ms.subarray(0, n).reduce((a, b) => a + b, 0) / n : NaN,
    joinDeliveryP50Ms: kind === "presence" ? mid(join) : null, leaveDeliveryP50Ms: kind === "presence" ? mid(leave) : null, missing, extra,
  };
}

/** Presence frames vs group pushes to one group of M members: one pushgate, the members held throughout. */
async function groupPart(p: Params, root: string, rulesPath: string, started: Child[], notes: string[]): Promise<PartRounds<Name>> {
  const g = p.presence.group;
  const perRun = 2 * g.events;
  const pg = await startPresencePushgate(root, "pushgate (presence part)", rulesPath, started);
  const serverPid = pg.child.proc.pid;
  console.log(`presence-event: pushgate :${pg.port} (pid ${serverPid}); ${g.members} members of ${PRESENCE_GROUP} (uids m0..m${g.memberUids - 1}, ` +
    `${Math.ceil(g.members / g.perProcess)} processes); ${g.events} joins + ${g.events} leaves vs ${perRun} sendToGroup pushes, one every ${g.intervalMs} ms`);
  const maxEvents = WARMUP_EVENTS + p.rounds * perRun + 16;
  const members = await startMembers(root, p, pg.port, maxEvents, started);
  console.log(`members: ${members.loggedIn}/${members.requested} subscribed in ${Math.round(members.setupMs)} ms`);
  if (members.errors) notes.push(`presence members: ${members.errors}`);
  if (members.failed) notes.push(`presence members: ${members.failed} of ${members.requested} did not subscribe (the rows count the others)`);
  const probe = async (mode: PresenceProberConfig["mode"], events: number, firstSeq: number, label: string) => {
    const cfg: PresenceProberConfig = {
      mode, host: HOST, port: pg.port, group: PRESENCE_GROUP, probeUid: PROBE_UID, events, intervalMs: g.intervalMs, firstSeq,
      connectTimeoutMs: 10_000, answerTimeoutMs: 10_000, serverPid,
    };
    const out = await runLoadProcess<AnyPhaseResult>(root, `presence prober (${label})`, "bench/clients/presence-prober.ts", cfg,
      cfg.connectTimeoutMs + events * g.intervalMs + cfg.answerTimeoutMs + 15_000, "presence prober");
    await Bun.sleep(200); // the last frames reach every member before the next run
    const res = out.results.find((x) => x.phase === "presence-probe");
    return { res, error: checkAlive([pg.child, ...members.children]) ?? out.error ?? (res ? null : "presence prober gave no result") };
  };
  let presenceNext = 0, pushNext = 0; // the members' event index / the next push seq
  const runs: ProbeRun[] = [];
  const errors = new Map<string, string | null>();
  const measure = async (round: number, name: Name, events: number) => {
    const first = name === "pushgate" ? presenceNext : pushNext;
    const { res, error } = await probe(name === "pushgate" ? "presence" : "push", events, first, `${name} ${round ? `round ${round}` : "warm-up"}`);
    // Every event was sent, answered or not: the members count on from there.
    if (name === "pushgate") presenceNext += events;
    else pushNext += events;
    if (res) runs.push({ round, name, first, res, sentAtMs: res.sentAtMs as unknown as number[] });
    errors.set(`${round}:${name}`, error);
    return res;
  };
  try {
    console.log("presence-event warm-up (results discarded)");
    for (const name of PAIR) await measure(0, name, WARMUP_EVENTS);
    // A few seconds are enough: idle costs a fraction of one event per interval.
    const idleEvents = Math.min(perRun, Math.ceil(6000 / g.intervalMs));
    console.log(`presence-event idle window (${idleEvents} × ${g.intervalMs} ms, nothing sent: the baseline CPU per interval)`);
    const idle = await probe("idle", idleEvents, 0, "idle");
    const idleUs = typeof idle.res?.serverCpuUsPerEvent === "number" ? idle.res.serverCpuUsPerEvent : null;
    if (idle.error) notes.push(`presence idle window: ${idle.error}`);
    for (let r = 1; r <= p.rounds; r++) {
      for (const name of orderOf(r)) {
        console.log(`presence-event round ${r}/${p.rounds}: ${name === "pushgate" ? "join/leave frames" : "sendToGroup pushes"}`);
        const res = await measure(r, name, perRun);
        if (res) console.log(`  server ${Number(res.serverCpuUsPerEvent).toFixed(1)} µs/event (${Math.round(Number(res.serverSysShare) * 100)}% kernel; idle ${idleUs?.toFixed(1) ?? "-"} µs per interval), answer p50 ${Number(res.answerP50Ms).toFixed(2)} ms, errors ${res.requestErrors}`);
      }
    }
    const reports = await releaseMembers(members);
    const got = reports.filter((x): x is MemberReport => x !== null);
    if (got.length < reports.length) notes.push(`presence members: ${reports.length - got.length} process(es) gave no arrival table (their members count as missing)`);
    const held = got.reduce((n, r) => n + r.loggedIn, 0);
    const sum = (k: keyof MemberReport) => got.reduce((n, r) => n + (r[k] as number), 0);
    const totals = { outOfStep: sum("outOfStep"), duplicates: sum("duplicates") + sum("overflow") + sum("malformed"), closedWhileHeld: sum("closedWhileHeld"), unexpectedFrames: sum("unexpectedFrames") };
    const rounds: PartRounds<Name> = [];
    for (let r = 1; r <= p.rounds; r++) {
      const round: PartRounds<Name>[number] = { round: r, order: orderOf(r), results: {}, errors: {} };
      for (const name of PAIR) {
        round.errors[name] = errors.get(`${r}:${name}`) ?? null;
        const run = runs.find((x) => x.round === r && x.name === name);
        if (!run) continue;
        const d = deliveries(got, name === "pushgate" ? "presence" : "push", run.first, run.sentAtMs, held);
        const cpu = typeof run.res.serverCpuUsPerEvent === "number" ? run.res.serverCpuUsPerEvent : null;
        round.results[name] = {
          phase: "presence-event", events: run.res.events as number, members: held, ...d, duplicates: d.extra + totals.duplicates,
          outOfStep: totals.outOfStep, closedWhileHeld: totals.closedWhileHeld,
          serverCpuUsPerEvent: cpu, serverSysShare: run.res.serverSysShare as number | null, serverCpuUsPerEventNet: cpu !== null && idleUs !== null ? cpu - idleUs : null, idleCpuUsPerInterval: idleUs,
          answerP50Ms: run.res.answerP50Ms as number, answerP99Ms: run.res.answerP99Ms as number, requestErrors: run.res.requestErrors as number,
          reachedMin: run.res.reachedMin as number | null, errors: run.res.errors as string | null, timedOut: run.res.timedOut as string | null,
          connsClosed: run.res.connsClosed as number | null, unexpectedFrames: (run.res.unexpectedFrames as number | null) ?? 0,
        };
      }
      rounds.push(round);
    }
    if (totals.unexpectedFrames) notes.push(`presence members: ${totals.unexpectedFrames} unexpected frames`);
    return rounds;
  } finally {
    await stopChild(pg.child);
  }
}

export async function runPresenceScenario(p: Params, root: string): Promise<void> {
  const startedAt = new Date();
  const machine = machineInfo(root);
  const { subscribe: s, group: g } = p.presence;
  console.log(`pushgate bench: presence; ${p.rounds} round(s), subscribes ${s.conns} × ${s.perConn}, ` +
    `presence group ${g.members} members, ${g.events} joins + ${g.events} leaves every ${g.intervalMs} ms; ` +
    `nproc ${machine.nproc}, load ${(machine.loadAvg as number[]).map((x) => x.toFixed(2)).join(" ")}`);
  const rules = writeRules();
  const started: Child[] = [];
  const parts: PartRounds<Name>[] = [];
  const extraNotes: string[] = [];
  let error: string | null = null;
  try {
    parts.push(await subscribePart(p, root, rules.path, started));
    parts.push(await groupPart(p, root, rules.path, started, extraNotes));
  } catch (e) {
    if (e instanceof Interrupted) throw e;
    error = (e as Error).message;
  } finally {
    await Promise.all(started.map(stopChild));
    rules.remove();
  }
  const rounds = mergeRounds(parts, p.rounds, PAIR);
  const summary = summarize(rounds, presenceMetrics());
  const targets: PresenceTarget[] = presenceTargets(summary, p);
  const markdown = presenceMarkdown(summary, p);
  const noteLines = [...(error ? [`presence scenario stopped early: ${error}`] : []), ...extraNotes, ...phaseNotes(rounds, PAIR)];
  console.log("\n" + renderTable(summary));
  console.log("\n" + PRESENCE_LEGEND);
  console.log("\ntargets:\n" + renderTargets(targets));
  console.log("\nas Markdown (docs/performance.md):\n\n" + markdown);
  if (noteLines.length) console.log("\nnotes:\n" + noteLines.map((n) => "  - " + n).join("\n"));
  const finishedAt = new Date();
  const file = save(join(root, "bench", "results"), startedAt, {
    scenario: "presence", startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(), machine: { ...machine, loadAvgEnd: os.loadavg() },
    params: { rounds: p.rounds, quick: p.quick, sources: p.sources, presence: p.presence, channelRules: CHANNEL_RULES },
    summary, targets, markdown, notes: noteLines, rounds, error,
  }, "presence");
  console.log(`\nsaved ${file} and bench/results/latest-presence.json (${((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(1)} s)`);
  if (error) process.exitCode = 1;
}

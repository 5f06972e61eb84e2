// The presence scenario's rows (report.ts summaries: medians over rounds, worst round for
// counters), the legend of its columns, its targets (a presence join/leave costs about one group
// push: both are one native publish to the group's topic) and the Markdown table for
// docs/performance.md (measurement | pushgate | control | ratio).
import type { Params } from "../lib/params.ts";
import { fmt, table } from "../lib/stats.ts";
import type { MetricDef, SummaryRow } from "./report.ts";

type Better = MetricDef["better"];
const m = (phase: string, key: string, better: Better, agg?: MetricDef["agg"]): MetricDef =>
  ({ phase, key, better, agg: agg ?? (better === "zero" ? "max" : "median") });

/** The presence event's server CPU may be at most this many group pushes' (noise on 2 shared cores included). */
export const EVENT_COST_TARGET = 1.5;

export function presenceMetrics(): MetricDef[] {
  return [
    ...([
      ["loggedIn", "info", "min"], ["loginFailed", "zero"], ["subscribes", "info"], ["refused", "zero"], ["missing", "zero"],
      ["perSec", "higher"], ["wallMs", "info"], ["serverCpuUsPerSubscribe", "lower"], ["serverCpuUtil", "info"], ["clientCpuUtil", "info"],
    ] as const).map(([k, b, a]) => m("presence-subscribe", k, b, a)),
    ...([
      ["members", "info", "min"], ["events", "info"], ["missing", "zero"], ["duplicates", "zero"], ["outOfStep", "zero"], ["requestErrors", "zero"],
      ["closedWhileHeld", "zero"], ["deliveryP50Ms", "lower"], ["deliveryP99Ms", "lower"], ["deliveryMaxMs", "lower"], ["deliveryMeanMs", "info"],
      ["joinDeliveryP50Ms", "info"], ["leaveDeliveryP50Ms", "info"], ["answerP50Ms", "info"], ["answerP99Ms", "info"],
      ["serverCpuUsPerEvent", "lower"], ["serverCpuUsPerEventNet", "lower"], ["serverSysShare", "info"], ["idleCpuUsPerInterval", "info"], ["reachedMin", "info", "min"],
    ] as const).map(([k, b, a]) => m("presence-event", k, b, a)),
  ];
}

export const PRESENCE_LEGEND = [
  "presence-subscribe: pushgate = each pushgate.v1 connection sends {\"type\":\"subscribe\",\"id\",\"group\":\"room-<k>\"} (a public --channel-rules rule),",
  "  all at once, first send to last reply; control = the same memberships of the same kind of connections through POST /api/joinGroup",
  "  {clientId, group} (the welcome's clientId), 64 keep-alive sockets with one request in flight each, first request to last answer.",
  "  perSec = memberships/s; missing = memberships the API does not count afterwards (getClientIdCountByGroup); serverCpuUsPerSubscribe = /proc CPU / memberships.",
  "presence-event: M members (pushgate.v1, uids m0..m99) subscribed to the presence group chat-big, held by their own processes throughout;",
  "  pushgate = a probe connection (uid probe) subscribes and unsubscribes alternately, one frame per interval: each a join or a leave,",
  "  one presence frame to every member; control = POST /api/sendToGroup {group, data:<seq>} at the same pace, one push frame to every member.",
  "  delivery = the send (the probe's frame / the POST) to the arrival at the last member, on one clock shared by the processes;",
  "  serverCpuUsPerEvent = pushgate's CPU over events × interval / events (raw); ...Net = minus the CPU per interval with nothing sent (idleCpuUsPerInterval);",
  "  serverSysShare = its kernel part (loopback TCP: one write per member socket, the receiving stack mostly run in the sender's syscall too);",
  "  answer = the probe's reply / the POST's answer. missing/duplicates/outOfStep (a member's n-th probe frame not join for even n, leave for odd)",
  "  count every member; outOfStep and closedWhileHeld are the members' totals over the whole part (the same in every round).",
  "ratio = pushgate / control; medians over rounds (worst round for counters).",
].join("\n");

export interface PresenceTarget { target: string; pushgate: string; control: string; ratio: number | null; met: boolean | null }

type Row = (phase: string, key: string) => { pg: number | null; ctl: number | null; ratio: number | null };

function rowOf(rows: readonly SummaryRow[]): Row {
  return (phase, key) => {
    const r = rows.find((x) => x.scenario === phase && x.metric === key);
    return { pg: r?.pushgate ?? null, ctl: r?.control ?? null, ratio: r?.ratio ?? null };
  };
}

const us = (x: number | null) => (x === null ? "-" : `${fmt(x)} µs`);
const ms = (x: number | null) => (x === null ? "-" : `${fmt(x)} ms`);
const perSec = (x: number | null) => (x === null ? "-" : `${fmt(x)}/s`);

/** Whether every correctness counter of `phase` is 0 in both columns. */
function clean(rows: readonly SummaryRow[], phase: string): boolean {
  return rows.filter((r) => r.scenario === phase && r.better === "zero").every((r) => (r.pushgate ?? 0) === 0 && (r.control ?? 0) === 0);
}

export function presenceTargets(rows: readonly SummaryRow[], p: Params): PresenceTarget[] {
  const row = rowOf(rows);
  const { subscribe: s, group: g } = p.presence;
  const net = row("presence-event", "serverCpuUsPerEventNet"), raw = row("presence-event", "serverCpuUsPerEvent");
  const cost = net.ratio ?? raw.ratio;
  const rate = row("presence-subscribe", "perSec"), sCpu = row("presence-subscribe", "serverCpuUsPerSubscribe");
  const d50 = row("presence-event", "deliveryP50Ms"), d99 = row("presence-event", "deliveryP99Ms");
  return [
    {
      target: `presence join/leave CPU ≤ ${EVENT_COST_TARGET}× one sendToGroup push (${fmt(g.members)} members; net of idle)`,
      pushgate: `${us(net.pg)} per event (raw ${us(raw.pg)})`, control: `${us(net.ctl)} per push (raw ${us(raw.ctl)})`, ratio: cost,
      met: cost === null ? null : cost <= EVENT_COST_TARGET && clean(rows, "presence-event"),
    },
    {
      target: `time to the last of ${fmt(g.members)} members, p50 / p99 (no target)`,
      pushgate: `${ms(d50.pg)} / ${ms(d99.pg)}`, control: `${ms(d50.ctl)} / ${ms(d99.ctl)}`, ratio: d50.ratio, met: null,
    },
    {
      target: `subscribe frames vs API joinGroup, ${fmt(s.conns)} connections × ${s.perConn} groups (no target)`,
      pushgate: `${perSec(rate.pg)}, ${us(sCpu.pg)} each`, control: `${perSec(rate.ctl)}, ${us(sCpu.ctl)} each`, ratio: rate.ratio,
      met: rate.pg === null ? null : clean(rows, "presence-subscribe") ? null : false,
    },
  ];
}

const metText = (x: boolean | null) => (x === null ? "-" : x ? "yes" : "NO");
const r2 = (x: number | null) => (x === null ? "-" : `${x.toFixed(2)}×`);

export function renderTargets(ts: readonly PresenceTarget[]): string {
  return table(["target", "pushgate", "control", "ratio", "met"], ts.map((t) => [t.target, t.pushgate, t.control, r2(t.ratio), metText(t.met)]), new Set([3]));
}

/** measurement | pushgate | control | ratio, for docs/performance.md. */
export function presenceMarkdown(rows: readonly SummaryRow[], p: Params): string {
  const row = rowOf(rows);
  const { subscribe: s, group: g } = p.presence;
  const n = fmt(g.members);
  const line = (what: string, phase: string, key: string, f: (x: number | null) => string) => {
    const x = row(phase, key);
    return `| ${what} | ${f(x.pg)} | ${f(x.ctl)} | ${r2(x.ratio)} |`;
  };
  const zeros = rows.filter((r) => r.better === "zero" && ((r.pushgate ?? 0) !== 0 || (r.control ?? 0) !== 0)).map((r) => `${r.scenario} ${r.metric}`);
  return [
    `| measurement | pushgate | control | ratio |`,
    `|---|---|---|---|`,
    line(`memberships/s, ${fmt(s.conns)} connections × ${s.perConn} of ${s.groups} public groups (pushgate: \`subscribe\` frames; control: API \`joinGroup\`)`, "presence-subscribe", "perSec", perSec),
    line("server CPU per membership", "presence-subscribe", "serverCpuUsPerSubscribe", us),
    line(`server CPU per event, ${n}-member group (pushgate: presence join/leave; control: \`sendToGroup\` push), net of idle`, "presence-event", "serverCpuUsPerEventNet", us),
    line("the same, raw (idle window included)", "presence-event", "serverCpuUsPerEvent", us),
    line(`send → last of ${n} members has the frame, p50`, "presence-event", "deliveryP50Ms", ms),
    line(`send → last of ${n} members has the frame, p99`, "presence-event", "deliveryP99Ms", ms),
    "",
    zeros.length ? `Correctness counters not 0: ${zeros.join(", ")}.` : "Every correctness counter (refused, missing, duplicates, out-of-step, request errors) is 0.",
  ].join("\n");
}

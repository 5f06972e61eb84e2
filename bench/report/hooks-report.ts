// The hooks scenario's rows (report.ts summaries: medians over rounds, worst round for counters),
// the legend of its columns, and its targets (issue 11): rpc overhead p99 ≤ 1 ms at 5,000 rpc/s
// (beside it, what pushgate adds over a bare Bun relay, the floor of its topology), --auth hook
// logins ≥ 0.5× uid mode, webhook events ≥ 20,000/s at the default batching.
import { fmt, table } from "../lib/stats.ts";
import type { MetricDef, SummaryRow } from "./report.ts";

type Better = MetricDef["better"];
const m = (phase: string, key: string, better: Better, agg?: MetricDef["agg"]): MetricDef =>
  ({ phase, key, better, agg: agg ?? (better === "zero" ? "max" : "median") });

export const webhookPhase = (batch: number) => `hooks-webhook-b${batch}`;

/** The rows, one webhook group per batch size measured. */
export function hooksMetrics(batches: readonly number[]): MetricDef[] {
  return [
    ...([
      ["sent", "info"], ["skipped", "zero"], ["lost", "zero"], ["rpcErrors", "zero"],
      ["rttP50Ms", "lower"], ["rttP99Ms", "lower"], ["rttMaxMs", "lower"], ["netP50Ms", "lower"], ["netP99Ms", "lower"],
      ["backendUsP50", "info"], ["pushgateHookMeanMs", "info"], ["pushgateHookP99LeMs", "info"], ["serverCpuUsPerRpc", "info"], ["backendCpuUsPerRpc", "info"], ["clientCpuUtil", "info"],
    ] as const).map(([k, b]) => m("hooks-rpc", k, b)),
    ...([
      ["loggedIn", "info", "min"], ["failed", "zero"], ["loginsPerSec", "higher"], ["serverCpuUsPerLogin", "lower"], ["backendCpuUsPerLogin", "info"],
    ] as const).map(([k, b, a]) => m("hooks-login", k, b, a)),
    ...batches.flatMap((batch) => ([
      ["eventsPerSec", "higher"], ["events", "info", "min"], ["dropped", "zero"], ["missing", "zero"], ["duplicates", "zero"], ["failedPosts", "zero"],
      ["liveEventsPerSec", "info"], ["generatorEventsPerSec", "info"], ["liveMaxQueue", "info", "max"], ["heldEvents", "info"],
      ["largestBatch", "info"], ["serverCpuUsPerEvent", "info"],
    ] as const).map(([k, b, a]) => m(webhookPhase(batch), k, b, a))),
  ];
}

export const HOOKS_LEGEND = [
  "hooks-rpc: control = the rpc body POSTed straight to the backend with pushgate's own HTTP client (src/hooks/http-pool.ts, keep-alive); pushgate = a pushgate.v1 `rpc` frame through pushgate",
  "  (--hook-url) to the same backend. rtt = the client's round trip, net = rtt minus the backend's own time (backendUsP50); pushgateHookMeanMs =",
  "  pushgate's own mean for its backend request (pushgate_hook_duration_seconds), pushgateHookP99LeMs = the upper bound of the histogram",
  "  bucket holding its p99. relay = the same pushgate.v1 frames through a bare Bun.serve relay (controls/rpc-relay.ts: welcome, POST with",
  "  pushgate's HTTP client, reply; its own process) to the same backend: the floor of pushgate's topology (hooks-rpc rows only).",
  "  Same rate, same open loop (lib/rate-sender.ts), each client its own process; the three rotate over rounds.",
  "hooks-login: control = uid mode (the first frame is the uid); pushgate = --auth hook (the backend answers {uid} from the credential).",
  "hooks-webhook-b<B> (--webhook-batch-max B): control = a bare poster of pre-built batches of B, one POST in flight (the receiver's ceiling);",
  "  pushgate eventsPerSec = a backlog drained (events queued behind one held POST, timed from its release to the last event);",
  "  liveEventsPerSec = sockets opened and reset by generator processes, first to last event at the receiver (bounded by generatorEventsPerSec",
  "  when liveMaxQueue stays far below the queue: pushgate kept up). dropped = pushgate_webhook_events_total dropped_* during the runs.",
  "ratio = pushgate / control (and relay/control, pushgate/relay in the hooks-rpc rows); medians over rounds (worst round for counters).",
].join("\n");

export interface HookTarget { target: string; measured: string; control: string; met: boolean | null }

const usRpc = (x: number | null) => (x === null ? "-" : `${x.toFixed(1)} µs/rpc`);

/** The targets from the summary rows. */
export function hookTargets(rows: readonly SummaryRow[], batches: readonly number[], rpcRate: number): HookTarget[] {
  const row = (phase: string, key: string) => rows.find((r) => r.scenario === phase && r.metric === key);
  const pg = (phase: string, key: string) => row(phase, key)?.pushgate ?? null;
  const ctl = (phase: string, key: string) => row(phase, key)?.control ?? null;
  const zero = (phase: string, keys: string[]) => keys.every((k) => (pg(phase, k) ?? 0) === 0 && (ctl(phase, k) ?? 0) === 0);
  const ms = (x: number | null) => (x === null ? "-" : `${fmt(x)} ms`);
  const out: HookTarget[] = [];

  const pNet = pg("hooks-rpc", "netP99Ms"), cNet = ctl("hooks-rpc", "netP99Ms");
  const overhead = pNet === null || cNet === null ? null : pNet - cNet;
  out.push({
    target: `rpc overhead p99 ≤ 1 ms at ${fmt(rpcRate)} rpc/s`,
    measured: `overhead p99 ${ms(overhead)} (pushgate p99 ${ms(pNet)}, raw ${ms(pg("hooks-rpc", "rttP99Ms"))}; p50 ${ms(pg("hooks-rpc", "netP50Ms"))})`,
    control: `direct call p99 ${ms(cNet)} (raw ${ms(ctl("hooks-rpc", "rttP99Ms"))}; p50 ${ms(ctl("hooks-rpc", "netP50Ms"))})`,
    met: overhead === null ? null : overhead <= 1 && zero("hooks-rpc", ["lost", "rpcErrors", "skipped"]),
  });
  // What pushgate adds over the least a relay on the same machine does (no target: a reference).
  const rel = (key: string) => row("hooks-rpc", key)?.relay ?? null;
  const minus = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);
  const rNet = rel("netP99Ms");
  const overRelay = minus(pNet, rNet), overRelay50 = minus(pg("hooks-rpc", "netP50Ms"), rel("netP50Ms"));
  const pCpu = pg("hooks-rpc", "serverCpuUsPerRpc"), rCpu = rel("serverCpuUsPerRpc");
  out.push({
    target: "rpc: pushgate − bare Bun relay (the topology's floor; no target)",
    measured: `pushgate − relay p99 ${ms(overRelay)} (p50 ${ms(overRelay50)}); CPU pushgate ${usRpc(pCpu)} vs relay ${usRpc(rCpu)}` +
      (pCpu !== null && rCpu !== null && rCpu > 0 ? ` (${(pCpu / rCpu).toFixed(2)}×)` : ""),
    control: `relay p99 ${ms(rNet)} (raw ${ms(rel("rttP99Ms"))}; p50 ${ms(rel("netP50Ms"))})`,
    met: null,
  });

  const pl = pg("hooks-login", "loginsPerSec"), cl = ctl("hooks-login", "loginsPerSec");
  const ratio = pl === null || cl === null || cl === 0 ? null : pl / cl;
  out.push({
    target: "--auth hook logins ≥ 0.5× uid mode",
    measured: `${fmt(pl)} logins/s (${ratio === null ? "-" : ratio.toFixed(2)}× uid mode)`,
    control: `uid mode ${fmt(cl)} logins/s`,
    met: ratio === null ? null : ratio >= 0.5 && zero("hooks-login", ["failed"]),
  });

  for (const [i, b] of batches.entries()) {
    const ph = webhookPhase(b);
    const backlog = pg(ph, "eventsPerSec");
    const clean = zero(ph, ["dropped", "missing", "duplicates", "failedPosts"]);
    out.push({
      target: i === 0 ? `webhook events ≥ 20,000/s (--webhook-batch-max ${b}, the default)` : `webhook events/s at --webhook-batch-max ${b} (no target)`,
      measured: `backlog ${fmt(backlog)}/s; live ${fmt(pg(ph, "liveEventsPerSec"))}/s (generator ${fmt(pg(ph, "generatorEventsPerSec"))}/s, ` +
        `queue peak ${fmt(pg(ph, "liveMaxQueue"))}); dropped ${fmt(pg(ph, "dropped"))}`,
      control: `bare poster ${fmt(ctl(ph, "eventsPerSec"))}/s (receiver ceiling)`,
      met: i === 0 ? (backlog === null ? null : backlog >= 20_000 && clean) : null,
    });
  }
  return out;
}

const metText = (x: boolean | null) => (x === null ? "-" : x ? "yes" : "NO");

export function renderTargets(ts: readonly HookTarget[]): string {
  return table(["target", "measured", "control", "met"], ts.map((t) => [t.target, t.measured, t.control, metText(t.met)]), new Set());
}

/** The same as a Markdown table (for docs/performance.md). */
export function targetsMarkdown(ts: readonly HookTarget[]): string {
  return ["| target | measured | control | met |", "|---|---|---|---|", ...ts.map((t) => `| ${t.target} | ${t.measured} | ${t.control} | ${metText(t.met)} |`)].join("\n");
}

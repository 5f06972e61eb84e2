// The hooks scenario's webhook part (called by hooks.ts): pushgate with --webhook-url to a bare
// receiver (controls/webhook-receiver.ts, its own process), connection.open + connection.close
// only, once per --webhook-batch-max measured (the default 100 and a larger one). Per round and
// batch size, in rotating order:
//   pushgate  live: generator processes (clients/webhook-churn.ts) log sockets in and reset them as
//             fast as they can, pacing themselves under the default --webhook-queue (10,000);
//             the receiver times the first to the last event. Then backlog: the receiver holds
//             pushgate's one POST in flight while a generator queues `backlogEvents` events behind
//             it (--webhook-queue raised to fit them), then releases it and times the drain.
//   control   a bare poster (clients/webhook-poster.ts) sends the backlog's count of events in
//             pre-built batches of the same size, one POST in flight, to the same receiver: the
//             receiver's ceiling at that batch size.
// Dropped events are read from pushgate's /metrics (pushgate_webhook_events_total{outcome}).
import type { ChurnConfig } from "../clients/webhook-churn.ts";
import type { PosterConfig } from "../clients/webhook-poster.ts";
import type { ReceiverStats } from "../controls/webhook-receiver.ts";
import { runLoadProcess, splitClients } from "../lib/load-results.ts";
import type { Params } from "../lib/params.ts";
import type { Child } from "../lib/processes.ts";
import { procCpuMs } from "../lib/proc-stats.ts";
import { byLabel, deltas, fetchMetrics, sample } from "../lib/prom-text.ts";
import { HOST, type ServerUnderTest } from "../lib/servers.ts";
import { webhookPhase } from "../report/hooks-report.ts";
import type { AnyPhaseResult } from "../report/report.ts";
import { WEBHOOK_SECRET, type Listener, type PartRounds, checkAlive, orderOf, startHookPushgate, startListener } from "./hooks-servers.ts";

/** pushgate's defaults (docs/hooks.md): the live run paces under this queue; 100 is passed as no flag. */
const DEFAULT_QUEUE = 10_000;
const DEFAULT_BATCH_MAX = 100;
/** The held POST must outlive the backlog's generation (the default 2 s --hook-timeout would retry it). */
const HOLD_TIMEOUT = "20s";
const LIVE_WAVE = 1000;
const BACKLOG_WAVE = 2500;
const CHURN_TIMEOUT_MS = 60_000;

type Fates = Record<string, number>;
const dropped = (d: Fates) => (d.dropped_queue_full ?? 0) + (d.dropped_retries_exhausted ?? 0);

/** Polls `pred` every `everyMs` until true or `ms` passed; whether it became true. */
async function waitFor(pred: () => Promise<boolean>, ms: number, everyMs = 10): Promise<boolean> {
  const end = performance.now() + ms;
  for (;;) {
    if (await pred().catch(() => false)) return true;
    if (performance.now() > end) return false;
    await Bun.sleep(everyMs);
  }
}

class Receiver {
  constructor(readonly l: Listener) {}
  async call(path: "/_reset" | "/_hold" | "/_release"): Promise<void> {
    const res = await fetch(this.l.url + path, { method: "POST", signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
  }
  async stats(): Promise<ReceiverStats> {
    const res = await fetch(this.l.url + "/_stats", { signal: AbortSignal.timeout(2000) });
    return (await res.json()) as ReceiverStats;
  }
  /** Until `n` distinct events arrived (or ms passed). */
  until(n: number, ms: number): Promise<boolean> {
    return waitFor(async () => { const s = await this.stats(); return s.events - s.duplicates >= n; }, ms);
  }
}

interface ChurnReport { loggedIn: number; failed: number; startedAtMs: number; finishedAtMs: number; maxQueue: number; errors: string | null }

const rate = (events: number, fromMs: number | null, toMs: number | null) =>
  fromMs === null || toMs === null || toMs <= fromMs ? null : events / ((toMs - fromMs) / 1000);

export async function runWebhookPart(p: Params, root: string, started: Child[]): Promise<{ parts: PartRounds[]; notes: string[] }> {
  const w = p.hooks.webhook;
  const notes: string[] = [];
  const recv = new Receiver(await startListener(root, "webhook receiver", "bench/controls/webhook-receiver.ts", started));
  const servers = new Map<number, ServerUnderTest>();
  for (const b of w.batches) {
    servers.set(b, await startHookPushgate(root, `pushgate (webhooks, batch max ${b})`, [
      "--webhook-url", `${recv.l.url}/events`, "--webhook-secret", WEBHOOK_SECRET, "--webhook-events", "connection.open,connection.close",
      "--webhook-queue", String(w.queue), "--hook-timeout", HOLD_TIMEOUT, ...(b === DEFAULT_BATCH_MAX ? [] : ["--webhook-batch-max", String(b)]),
    ], started));
  }
  console.log(`hooks-webhook: receiver ${recv.l.url} (pid ${recv.l.child.proc.pid}); ` +
    [...servers].map(([b, s]) => `batch max ${b} :${s.port} (pid ${s.child.proc.pid})`).join(", ") +
    `; --webhook-queue ${w.queue}, --hook-timeout ${HOLD_TIMEOUT} (the backlog is held), --webhook-batch-ms 50 (default)`);
  let uidBase = 0;

  const churn = async (s: ServerUnderTest, label: string, sockets: number, procs: number, wave: number, queueLimit: number) => {
    const split = splitClients(sockets, Math.ceil(sockets / procs));
    const outs = await Promise.all(split.map(({ clients }, k) => {
      const cfg: ChurnConfig = {
        host: HOST, port: s.port, sources: p.sources, sockets: clients, wave, concurrency: 64, timeoutMs: CHURN_TIMEOUT_MS, queueLimit, firstUid: uidBase,
      };
      uidBase += clients;
      return runLoadProcess<ChurnReport & { phase: string }>(root, `webhook churn ${k} (${label})`, "bench/clients/webhook-churn.ts", cfg, CHURN_TIMEOUT_MS + 15_000, "churn client");
    }));
    const reports = outs.map((o) => o.results.find((x) => x.phase === "churn")).filter((x): x is ChurnReport & { phase: string } => x !== undefined);
    const errors = [...new Set([...outs.map((o) => o.error), ...reports.map((r) => r.errors)].filter((e): e is string => !!e))].join("; ") || null;
    return { reports, errors, expected: 2 * reports.reduce((a, r) => a + r.loggedIn, 0) };
  };
  const fates = async (s: ServerUnderTest) => {
    const t = await fetchMetrics(`http://${HOST}:${s.port}`);
    return { events: byLabel(t, "pushgate_webhook_events_total", "outcome"), posts: byLabel(t, "pushgate_webhook_posts_total", "status"), queue: sample(t, "pushgate_webhook_queue") };
  };

  /** Generators as fast as they go, paced under the default queue; the receiver's first to last event. */
  const live = async (s: ServerUnderTest, b: number, sockets: number) => {
    await recv.call("/_reset");
    const m0 = await fates(s);
    // Each process waits while queue + its wave's events would pass its share; together they stay under DEFAULT_QUEUE.
    const limit = DEFAULT_QUEUE - 2 * LIVE_WAVE * (w.liveProcesses - 1);
    const g = await churn(s, `live, batch ${b}`, sockets, w.liveProcesses, LIVE_WAVE, limit);
    const lost = dropped(deltas(m0.events, (await fates(s)).events));
    const complete = await recv.until(g.expected - lost, 10_000);
    const st = await recv.stats();
    const d = deltas(m0.events, (await fates(s)).events);
    const startMs = Math.min(...g.reports.map((r) => r.startedAtMs));
    const endMs = Math.max(...g.reports.map((r) => r.finishedAtMs));
    return {
      liveEvents: st.events, liveEventsPerSec: rate(st.events, st.firstAt, st.lastAt), generatorEventsPerSec: rate(g.expected, startMs, endMs),
      liveMaxQueue: Math.max(0, ...g.reports.map((r) => r.maxQueue)), liveDropped: dropped(d), liveMissing: g.expected - (st.events - st.duplicates),
      liveDuplicates: st.duplicates, livePosts: st.posts,
      errors: [g.errors, complete ? null : `live: ${st.events - st.duplicates} of ${g.expected} events arrived within 10 s`].filter(Boolean).join("; ") || null,
    };
  };

  /** `events` queued behind one held POST, then drained: the receiver's release to its last event. */
  const backlog = async (s: ServerUnderTest, b: number, events: number) => {
    await recv.call("/_reset");
    await recv.call("/_hold");
    const m0 = await fates(s);
    const g = await churn(s, `backlog, batch ${b}`, Math.ceil(events / 2), 1, BACKLOG_WAVE, w.queue);
    // The held batch stays in the queue until it is answered: all created events are queued.
    let mid = await fates(s);
    const queued = await waitFor(async () => { mid = await fates(s); return mid.queue + dropped(deltas(m0.events, mid.events)) >= g.expected; }, 10_000, 20);
    const lost = dropped(deltas(m0.events, mid.events));
    const cpu0 = procCpuMs(s.child.proc.pid);
    await recv.call("/_release");
    const complete = await recv.until(g.expected - lost, 15_000);
    const cpu1 = procCpuMs(s.child.proc.pid);
    const st = await recv.stats();
    const m1 = await fates(s);
    const d = deltas(m0.events, m1.events);
    const drained = st.events - st.heldEvents;
    return {
      eventsPerSec: rate(drained, st.releaseAt, st.lastAt), events: st.events, heldEvents: st.heldEvents, backlogQueued: mid.queue,
      backlogPosts: st.posts, largestBatch: st.largestBatch, backlogDropped: dropped(d), backlogMissing: g.expected - (st.events - st.duplicates),
      backlogDuplicates: st.duplicates, failedPosts: deltas(m0.posts, m1.posts).failed ?? 0,
      serverCpuUsPerEvent: cpu0 === null || cpu1 === null || drained <= 0 ? null : ((cpu1 - cpu0) * 1000) / drained,
      errors: [g.errors, queued ? null : `backlog: only ${mid.queue} of ${g.expected} events were queued within 10 s`,
        complete ? null : `backlog: ${st.events - st.duplicates} of ${g.expected} events arrived within 15 s of the release`].filter(Boolean).join("; ") || null,
    };
  };

  const pushgateRun = async (b: number, liveSockets: number, backlogEvents: number): Promise<AnyPhaseResult> => {
    const s = servers.get(b)!;
    const l = await live(s, b, liveSockets);
    const k = await backlog(s, b, backlogEvents);
    return {
      phase: webhookPhase(b), ...l, ...k,
      dropped: l.liveDropped + k.backlogDropped, missing: l.liveMissing + k.backlogMissing, duplicates: l.liveDuplicates + k.backlogDuplicates,
      errors: [l.errors, k.errors].filter(Boolean).join("; ") || null,
    };
  };

  const controlRun = async (b: number, events: number): Promise<AnyPhaseResult> => {
    await recv.call("/_reset");
    const cfg: PosterConfig = { url: `${recv.l.url}/events`, events, batch: b, timeoutMs: 20_000 };
    const out = await runLoadProcess<AnyPhaseResult>(root, `webhook poster (batch ${b})`, "bench/clients/webhook-poster.ts", cfg, 60_000, "poster");
    const r = out.results.find((x) => x.phase === "poster");
    const st = await recv.stats();
    return {
      phase: webhookPhase(b), eventsPerSec: rate(st.events - st.firstBatch, st.firstAt, st.lastAt), events: st.events, posts: st.posts,
      duplicates: st.duplicates, missing: events - (st.events - st.duplicates), httpErrors: r?.httpErrors ?? null,
      clientCpuUtil: r?.clientCpuUtil ?? null, errors: [out.error, r?.errors].filter(Boolean).join("; ") || null,
    };
  };

  const alive = () => checkAlive([recv.l.child, ...[...servers.values()].map((x) => x.child)]);
  console.log("hooks-webhook warm-up (results discarded)");
  for (const b of w.batches) {
    await pushgateRun(b, Math.min(1000, w.liveSockets), Math.min(2000, w.backlogEvents));
    await controlRun(b, Math.min(2000, w.backlogEvents));
  }
  const parts: PartRounds[] = w.batches.map(() => []);
  for (let r = 1; r <= p.rounds; r++) {
    for (const [i, b] of w.batches.entries()) {
      const order = orderOf(r);
      const round: PartRounds[number] = { round: r, order, results: {}, errors: {} };
      for (const name of order) {
        console.log(`hooks-webhook round ${r}/${p.rounds}, batch max ${b}: ${name === "pushgate" ? "pushgate (live, then backlog)" : "bare poster"}`);
        const res = name === "pushgate" ? await pushgateRun(b, w.liveSockets, w.backlogEvents) : await controlRun(b, w.backlogEvents);
        round.results[name] = res;
        round.errors[name] = alive();
        const f = (x: unknown) => (typeof x === "number" ? Math.round(x).toLocaleString("en-US") : "-");
        console.log(name === "pushgate"
          ? `  live ${f(res.liveEventsPerSec)} events/s (generator ${f(res.generatorEventsPerSec)}/s, queue peak ${f(res.liveMaxQueue)}), backlog ${f(res.eventsPerSec)} events/s, dropped ${f(res.dropped)}`
          : `  ${f(res.eventsPerSec)} events/s`);
      }
      parts[i]!.push(round);
    }
  }
  notes.push(
    `hooks-webhook: pushgate ran with --webhook-queue ${w.queue} (default ${DEFAULT_QUEUE}) so the ${w.backlogEvents}-event backlog fits, and --hook-timeout ${HOLD_TIMEOUT} so the held POST is not retried; ` +
      `the live generators paced themselves under ${DEFAULT_QUEUE} queued events (liveMaxQueue is the largest queue they saw)`,
  );
  return { parts, notes };
}

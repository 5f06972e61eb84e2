// Cluster scenario phases, run inside cluster-load-client.ts. Senders and receivers are disjoint
// sets of clients (in the cluster: senders on node A, receivers on node B; in the single-node
// control: both on one node). A sender sends `u<j>:<seq>|<sendNs>|u<j>` to a receiver's uid (or,
// on pushgate.v1, `{"type":"send",…,"data":"<seq>|<sendNs>|u<j>"}`); the receiver checks the
// payload (the push envelope's `data` on v1) names its own uid (else misrouted), that the seq is
// new (else a duplicate), and records one-way latency (one process, one clock). A push reaching a
// sender is misrouted too: no message is addressed to a sender's uid. A v1 sender's `reply` to
// its own send is expected and only counted (replyErrors when it carries an error).
import { minRssKiB, procCpuMs, selfCpuMs } from "../lib/proc-stats.ts";
import { sendAtRate } from "../lib/rate-sender.ts";
import { percentiles } from "../lib/stats.ts";
import type { BurstOptions, RateOptions } from "../lib/types.ts";
import type { WsConn } from "../lib/ws-client.ts";
import { payloadEnd, payloadStart, sendFrame } from "../lib/wire.ts";
import { MALFORMED, MISROUTED, parseTargeted, parsedTargeted } from "./targeted-phase.ts";

export interface ClusterLoadConfig {
  host: string;
  /** Node the senders connect to, node the receivers connect to (the same for the control). */
  senderPort: number;
  receiverPort: number;
  /** Every pushgate process serving the load (A and B, or the single node), for CPU time. */
  serverPids: number[];
  /**
   * The target's Redis servers, in the nodes' --redis order (empty for the single-node control):
   * INFO counters per shard and subscription checks. The pushgate cluster may have several shards.
   */
  redisUrls: string[];
  /** Wire format of every client of this target (pushgate.v1 only against pushgate). */
  protocol: "seed" | "json";
  senders: number;
  receivers: number;
  sources: number;
  connectConcurrency: number;
  connectTimeoutMs: number;
  /** How long to wait until node B has subscribed every receiver's channel in Redis (on its shard). */
  subscribeTimeoutMs: number;
  targeted: RateOptions;
  throughput: BurstOptions;
}

export type ClusterPhase = "cluster-setup" | "cluster-targeted" | "cluster-throughput";
export type ClusterPhaseResult = { phase: ClusterPhase } & Record<string, number | string | null>;

const REPLY_PREFIX = Buffer.from('{"type":"reply"');
/** What a successful reply to sendFrame()'s `"id":1` starts with (an error reply has `"error"` there). */
const REPLY_OK_PREFIX = Buffer.from('{"type":"reply","id":1,"delivered":');
const EPOCH_KEY = Buffer.from('"epoch":"');

/** buf[start, end) begins with `prefix`. */
function startsWith(buf: Buffer, start: number, end: number, prefix: Buffer): boolean {
  return end - start >= prefix.length && prefix.compare(buf, start, start + prefix.length) === 0;
}

/** Checks and latencies of one phase; `seen` is indexed by seq. */
class Receipts {
  readonly seen: Uint8Array;
  readonly latency: Float64Array;
  delivered = 0;
  duplicates = 0;
  misrouted = 0;
  malformed = 0;
  /** pushgate.v1 only: replies to the senders' sends, and those that carried an error. */
  replies = 0;
  replyErrors = 0;
  /** pushgate.v1 only: pushes without a position (epoch/offset), i.e. not placed in history. */
  unplaced = 0;
  lastNs = 0;

  constructor(readonly total: number, readonly json: boolean) {
    this.seen = new Uint8Array(total);
    this.latency = new Float64Array(total);
  }

  readonly onReceiver = (c: WsConn, buf: Buffer, frameStart: number, frameEnd: number, now: number): void => {
    const start = payloadStart(c, buf, frameStart, frameEnd);
    if (start < 0) { this.malformed++; return; } // a receiver sends nothing, so every v1 frame must be a push
    // A placed push has `"epoch":"…"` before `"data"` (core/v1-envelope.ts); searched only there,
    // since the chunk goes on with other frames.
    if (c.json && buf.subarray(frameStart, start).indexOf(EPOCH_KEY) < 0) this.unplaced++;
    const seq = parseTargeted(buf, start, payloadEnd(c, frameEnd), c.uid, this.total);
    if (seq === MALFORMED) { this.malformed++; return; }
    if (seq === MISROUTED) { this.misrouted++; return; } // lost to its uid: counted in loss too
    if (this.seen[seq]) { this.duplicates++; return; }
    this.seen[seq] = 1;
    this.lastNs = now;
    this.latency[this.delivered++] = (now - parsedTargeted.sentNs) / 1e6;
  };

  /** Nothing is addressed to a sender; a v1 sender gets only the replies to its own sends. */
  readonly onSender = (c: WsConn, buf: Buffer, start: number, end: number): void => {
    if (c.json && startsWith(buf, start, end, REPLY_PREFIX)) {
      this.replies++;
      if (!startsWith(buf, start, end, REPLY_OK_PREFIX)) this.replyErrors++;
      return;
    }
    this.misrouted++;
  };

  attach(senders: readonly WsConn[], receivers: readonly WsConn[]): void {
    for (const c of senders) c.handler = this.onSender;
    for (const c of receivers) c.handler = this.onReceiver;
  }

  summary(sent: number): Record<string, number | null> {
    const [p50, p99, max] = percentiles(this.latency, this.delivered, [50, 99, 100]);
    return {
      sent, delivered: this.delivered, loss: sent - this.delivered,
      misrouted: this.misrouted, duplicates: this.duplicates, malformed: this.malformed,
      ...(this.json ? { replies: this.replies, replyErrors: this.replyErrors, unplaced: this.unplaced } : {}),
      latencyP50Ms: p50 ?? null, latencyP99Ms: p99 ?? null, latencyMaxMs: max ?? null,
    };
  }
}

/** CPU ms of each server process, or null if one cannot be read. */
export function cpuOf(pids: readonly number[]): number[] | null {
  const out: number[] = [];
  for (const pid of pids) {
    const ms = procCpuMs(pid);
    if (ms === null) return null;
    out.push(ms);
  }
  return out;
}

/** Total server CPU per message, and per process when there are several (A = senders' node, B = receivers'). */
function serverCpu(before: number[] | null, after: number[] | null, sent: number): Record<string, number | null> {
  if (before === null || after === null) return { serverCpuMs: null, serverCpuUsPerMsg: null };
  const each = after.map((x, i) => x - before[i]!);
  const total = each.reduce((a, b) => a + b, 0);
  const out: Record<string, number | null> = { serverCpuMs: total, serverCpuUsPerMsg: sent === 0 ? null : (total * 1000) / sent };
  if (each.length > 1 && sent > 0) each.forEach((ms, i) => { out[`serverCpuUsPerMsg${String.fromCharCode(65 + i)}`] = (ms * 1000) / sent; });
  return out;
}

/**
 * RSS of every server process in KiB, each the least of `n` samples 200 ms apart (taken in
 * parallel, as capacity.ts does for one), or null if one cannot be read.
 */
export async function rssOf(pids: readonly number[], n: number): Promise<number[] | null> {
  const each = await Promise.all(pids.map((pid) => minRssKiB(pid, n, 200)));
  return each.some((x) => x === null) ? null : (each as number[]);
}

/**
 * The setup phase's cost, summed over the target's server processes (capacity's fields): CPU per
 * login and RSS growth per logged-in connection.
 */
export function setupCost(
  cpu0: number[] | null, cpu1: number[] | null, rss0: number[] | null, rss1: number[] | null, loggedIn: number,
): Record<string, number | null> {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const cpuMs = cpu0 === null || cpu1 === null ? null : sum(cpu1) - sum(cpu0);
  const before = rss0 === null ? null : sum(rss0);
  const after = rss1 === null ? null : sum(rss1);
  return {
    serverCpuMs: cpuMs,
    serverCpuUsPerLogin: cpuMs === null || loggedIn === 0 ? null : (cpuMs * 1000) / loggedIn,
    serverRssBeforeMiB: before === null ? null : before / 1024,
    serverRssAfterMiB: after === null ? null : after / 1024,
    serverRssPerConnKiB: before === null || after === null || loggedIn === 0 ? null : (after - before) / loggedIn,
  };
}

function send(senders: readonly WsConn[], receivers: readonly WsConn[], seq: number): void {
  const from = senders[Math.floor(Math.random() * senders.length)]!;
  const to = receivers[Math.floor(Math.random() * receivers.length)]!.uid;
  from.sendText(sendFrame(from, to, `${seq}|${Bun.nanoseconds()}|${to}`));
}

/** (a)/(b): a fixed total rate for a fixed time from random senders to random receivers. */
export async function runCrossTargeted(
  senders: readonly WsConn[], receivers: readonly WsConn[], o: ClusterLoadConfig["targeted"], serverPids: readonly number[],
): Promise<ClusterPhaseResult> {
  const total = Math.floor(o.rate * o.seconds);
  const r = new Receipts(total, senders[0]?.json === true);
  r.attach(senders, receivers);
  const cpu0 = selfCpuMs();
  const srv0 = cpuOf(serverPids);
  const t0 = Bun.nanoseconds();
  const sending = await sendAtRate(o, total, t0, (seq) => send(senders, receivers, seq));
  const { sent, sendEnd } = sending;
  let timedOut = sending.timedOut;
  while (r.delivered < sent && Bun.nanoseconds() - sendEnd < o.drainMs * 1e6) await Bun.sleep(5);
  if (r.delivered < sent && !timedOut) timedOut = `${sent - r.delivered} undelivered after the ${o.drainMs} ms drain`;
  const elapsedMs = (Bun.nanoseconds() - t0) / 1e6;
  const cpuMs = selfCpuMs() - cpu0;
  const srv1 = cpuOf(serverPids);
  return {
    phase: "cluster-targeted",
    rate: o.rate, seconds: o.seconds,
    sendRate: sent / ((sendEnd - t0) / 1e9),
    ...r.summary(sent),
    timedOut,
    clientCpuMs: cpuMs, clientCpuUtil: cpuMs / elapsedMs,
    ...serverCpu(srv0, srv1, sent),
  };
}

/**
 * (c): M messages as fast as the servers deliver them: bursts of `burst` every ~1 ms, at most
 * `window` sent but not yet delivered. pushesPerSec = delivered / (first send → last delivery).
 */
export async function runCrossThroughput(
  senders: readonly WsConn[], receivers: readonly WsConn[], o: ClusterLoadConfig["throughput"], serverPids: readonly number[],
): Promise<ClusterPhaseResult> {
  const M = o.messages;
  const r = new Receipts(M, senders[0]?.json === true);
  r.attach(senders, receivers);
  const cpu0 = selfCpuMs();
  const srv0 = cpuOf(serverPids);
  const t0 = Bun.nanoseconds();
  const deadline = t0 + o.timeoutMs * 1e6;
  let sent = 0;
  let timedOut: string | null = null;
  let progressAt = t0;
  let progressSeen = 0;
  for (;;) {
    const now = Bun.nanoseconds();
    if (r.delivered !== progressSeen) { progressSeen = r.delivered; progressAt = now; }
    if (r.delivered >= M) break;
    if (now > deadline) { timedOut = `phase timeout ${o.timeoutMs} ms`; break; }
    if (now - progressAt > o.idleMs * 1e6) { timedOut = `no delivery for ${o.idleMs} ms`; break; }
    const n = Math.min(o.burst, M - sent, o.window - (sent - r.delivered));
    for (let k = 0; k < n; k++) send(senders, receivers, sent++);
    await Bun.sleep(1);
  }
  const wallNs = (r.lastNs || Bun.nanoseconds()) - t0;
  const elapsedMs = (Bun.nanoseconds() - t0) / 1e6;
  const cpuMs = selfCpuMs() - cpu0;
  const srv1 = cpuOf(serverPids);
  return {
    phase: "cluster-throughput",
    messages: M, burst: o.burst, window: o.window,
    ...r.summary(sent),
    wallMs: wallNs / 1e6,
    pushesPerSec: r.delivered / (wallNs / 1e9),
    timedOut,
    clientCpuMs: cpuMs, clientCpuUtil: cpuMs / elapsedMs,
    ...serverCpu(srv0, srv1, sent),
  };
}

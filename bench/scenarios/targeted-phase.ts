// Targeted: random clients send `u<j>:<seq>|<sendNs>|u<j>` to a random other uid u<j>, at a fixed
// total rate for a fixed time. The receiver checks the payload names its own uid (else misrouted)
// and records one-way latency (sender and receiver share this process's clock). loss = sent minus
// messages delivered to their own uid, so a misrouted message also counts as lost.
import { procCpuMs, selfCpuMs } from "../lib/proc-stats.ts";
import { sendAtRate } from "../lib/rate-sender.ts";
import { percentiles } from "../lib/stats.ts";
import type { LoadConfig, PhaseResult } from "../lib/types.ts";
import type { WsConn } from "../lib/ws-client.ts";
import { payloadEnd, payloadStart, sendFrame } from "../lib/wire.ts";

const PIPE = 124; // '|'

function isDigits(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i]! < 48 || buf[i]! > 57) return false;
  return true;
}

/** buf[from, to) equals the ASCII string s. */
function sameAscii(buf: Buffer, from: number, to: number, s: string): boolean {
  if (to - from !== s.length) return false;
  for (let k = 0; k < s.length; k++) if (buf[from + k] !== s.charCodeAt(k)) return false;
  return true;
}

export const MALFORMED = -1;
export const MISROUTED = -2;
/** The send time of the payload parseTargeted() last accepted (a field, so parsing allocates nothing). */
export const parsedTargeted = { sentNs: 0 };

/**
 * Parses a targeted payload `<seq>|<sentNs>|<uid>` in buf[start, end) from the bytes (no string
 * split per message: the load client's own CPU must stay well below the server's at 20,000
 * msgs/s). Returns seq (0 <= seq < total, its send time in parsedTargeted.sentNs), MALFORMED, or
 * MISROUTED when the payload names another uid than `uid`. Also used by the cluster scenario.
 */
export function parseTargeted(buf: Buffer, start: number, end: number, uid: string, total: number): number {
  let i = start;
  let seq = 0;
  for (; i < end && buf[i] !== PIPE; i++) seq = seq * 10 + (buf[i]! - 48);
  const seqEnd = i++;
  let sentNs = 0;
  for (; i < end && buf[i] !== PIPE; i++) sentNs = sentNs * 10 + (buf[i]! - 48);
  const nsEnd = i++;
  if (seqEnd === start || nsEnd === seqEnd + 1 || i > end || seq >= total || !Number.isSafeInteger(sentNs) ||
    !isDigits(buf, start, seqEnd) || !isDigits(buf, seqEnd + 1, nsEnd)) return MALFORMED;
  if (!sameAscii(buf, i, end, uid)) return MISROUTED;
  parsedTargeted.sentNs = sentNs;
  return seq;
}

export async function runTargeted(
  conns: readonly WsConn[], o: LoadConfig["targeted"], serverPid: number | null,
): Promise<PhaseResult> {
  const R = conns.length;
  const total = Math.floor(o.rate * o.seconds);
  const seen = new Uint8Array(total);
  const latency = new Float64Array(total);
  let delivered = 0;
  let duplicates = 0;
  let misrouted = 0;
  let malformed = 0;

  const onText = (c: WsConn, buf: Buffer, frameStart: number, frameEnd: number, now: number) => {
    const start = payloadStart(c, buf, frameStart, frameEnd);
    if (start < 0) return; // a pushgate.v1 reply to this client's own send
    const seq = parseTargeted(buf, start, payloadEnd(c, frameEnd), c.uid, total);
    if (seq === MALFORMED) { malformed++; return; }
    if (seq === MISROUTED) { misrouted++; return; } // not counted as delivered: it is lost to its uid
    if (seen[seq]) { duplicates++; return; }
    seen[seq] = 1;
    latency[delivered++] = (now - parsedTargeted.sentNs) / 1e6;
  };
  conns.forEach((c) => { c.handler = onText; });

  const cpu0 = selfCpuMs();
  const srv0 = procCpuMs(serverPid);
  const t0 = Bun.nanoseconds();
  const { sent, sendEnd, timedOut } = await sendAtRate(o, R > 1 ? total : 0, t0, (seq) => {
    const i = Math.floor(Math.random() * R);
    let j = Math.floor(Math.random() * (R - 1));
    if (j >= i) j++;
    const to = conns[j]!.uid;
    const from = conns[i]!;
    from.sendText(sendFrame(from, to, `${seq}|${Bun.nanoseconds()}|${to}`));
  });
  while (delivered < sent && Bun.nanoseconds() - sendEnd < o.drainMs * 1e6) await Bun.sleep(5);
  const elapsedMs = (Bun.nanoseconds() - t0) / 1e6;
  const cpuMs = selfCpuMs() - cpu0;
  const srv1 = procCpuMs(serverPid);
  const serverCpuMs = srv0 === null || srv1 === null ? null : srv1 - srv0;
  const [p50, p99, max] = percentiles(latency, delivered, [50, 99, 100]);
  return {
    phase: "targeted",
    rate: o.rate, seconds: o.seconds, sent,
    sendRate: sent / ((sendEnd - t0) / 1e9),
    delivered, loss: sent - delivered, misrouted, duplicates, malformed,
    latencyP50Ms: p50 ?? null, latencyP99Ms: p99 ?? null, latencyMaxMs: max ?? null,
    timedOut,
    clientCpuMs: cpuMs, clientCpuUtil: cpuMs / elapsedMs,
    serverCpuMs,
    serverCpuUsPerMsg: serverCpuMs === null || sent === 0 ? null : (serverCpuMs * 1000) / sent,
  };
}

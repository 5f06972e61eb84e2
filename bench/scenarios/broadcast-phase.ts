// Broadcast: client 0 publishes `all:<seq>|<sendNs>` M times, in bursts, keeping at most `window`
// messages in flight (counted by fan-out completions). Every client, the publisher included, is a
// receiver and must get seq 0..M-1 exactly once, in order.
import { procCpuMs, selfCpuMs } from "../lib/proc-stats.ts";
import { percentiles } from "../lib/stats.ts";
import type { LoadConfig, PhaseResult } from "../lib/types.ts";
import type { WsConn } from "../lib/ws-client.ts";
import { payloadEnd, payloadStart, sendFrame } from "../lib/wire.ts";

const PIPE = 124; // '|'

export async function runBroadcast(
  conns: readonly WsConn[], o: LoadConfig["broadcast"], serverPid: number | null,
): Promise<PhaseResult> {
  const R = conns.length;
  const M = o.messages;
  const next = new Int32Array(R); // per receiver: next expected seq
  const got = new Int32Array(R);
  const anomaly = new Uint8Array(R);
  const perMsg = new Int32Array(M); // receivers that got seq
  const sendAt = new Float64Array(M);
  const fanout = new Float64Array(M); // ms from send to the last receiver's delivery
  let fanoutDone = 0;
  let delivered = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let malformed = 0;
  let lastNs = 0;

  const onText = (c: WsConn, buf: Buffer, frameStart: number, frameEnd: number, now: number) => {
    const start = payloadStart(c, buf, frameStart, frameEnd);
    if (start < 0) return; // a pushgate.v1 reply to the publisher's own send
    const end = payloadEnd(c, frameEnd);
    let seq = 0;
    let i = start;
    for (; i < end; i++) {
      const ch = buf[i]!;
      if (ch === PIPE) break;
      if (ch < 48 || ch > 57) { i = end; break; }
      seq = seq * 10 + (ch - 48);
    }
    if (i === start || i >= end || seq >= M) { malformed++; return; }
    delivered++;
    lastNs = now;
    const k = c.slot;
    const exp = next[k]!;
    got[k] = got[k]! + 1;
    if (seq === exp) next[k] = exp + 1;
    else {
      anomaly[k] = 1;
      if (seq < exp) duplicates++;
      else { outOfOrder++; next[k] = seq + 1; }
    }
    const n = perMsg[seq]! + 1;
    perMsg[seq] = n;
    if (n === R) fanout[fanoutDone++] = (now - sendAt[seq]!) / 1e6;
  };
  conns.forEach((c, k) => { c.slot = k; c.handler = onText; });

  const pub = conns[0]!;
  const cpu0 = selfCpuMs();
  const srv0 = procCpuMs(serverPid);
  const t0 = Bun.nanoseconds();
  const deadline = t0 + o.timeoutMs * 1e6;
  let timedOut: string | null = null;
  let sent = 0;
  let progressAt = t0;
  let progressSeen = 0;
  const expected = R * M;
  for (;;) {
    const now = Bun.nanoseconds();
    if (delivered !== progressSeen) { progressSeen = delivered; progressAt = now; }
    if (delivered - duplicates >= expected) break;
    if (now > deadline) { timedOut = `phase timeout ${o.timeoutMs} ms`; break; }
    if (now - progressAt > o.idleMs * 1e6) { timedOut = `no delivery for ${o.idleMs} ms`; break; }
    const inFlight = sent - Math.floor(delivered / R);
    const n = Math.min(o.burst, M - sent, o.window - inFlight);
    for (let j = 0; j < n; j++) {
      const at = Bun.nanoseconds();
      sendAt[sent] = at;
      pub.sendText(sendFrame(pub, "all", `${sent}|${at}`));
      sent++;
    }
    await Bun.sleep(1);
  }
  const wallNs = (lastNs || Bun.nanoseconds()) - t0;
  const cpuMs = selfCpuMs() - cpu0;
  const srv1 = procCpuMs(serverPid);
  const serverCpuMs = srv0 === null || srv1 === null ? null : srv1 - srv0;
  let complete = 0;
  for (let k = 0; k < R; k++) if (got[k] === M && next[k] === M && anomaly[k] === 0) complete++;
  const [p50, p99, max] = percentiles(fanout, fanoutDone, [50, 99, 100]);
  const elapsedMs = (Bun.nanoseconds() - t0) / 1e6;
  return {
    phase: "broadcast",
    receivers: R, messages: M, sent, expected, delivered,
    wallMs: wallNs / 1e6,
    deliveriesPerSec: delivered / (wallNs / 1e9),
    fanoutP50Ms: p50 ?? null, fanoutP99Ms: p99 ?? null, fanoutMaxMs: max ?? null,
    fanoutCompleted: fanoutDone,
    receiversComplete: complete,
    duplicates, outOfOrder, missing: Math.max(0, expected - (delivered - duplicates)), malformed,
    timedOut,
    clientCpuMs: cpuMs, clientCpuUtil: cpuMs / elapsedMs,
    serverCpuMs,
    serverCpuNsPerDelivery: serverCpuMs === null || delivered === 0 ? null : (serverCpuMs * 1e6) / delivered,
  };
}

// The presence scenario's event source, one process per measurement, run by scenarios/presence.ts:
//   bun bench/clients/presence-prober.ts '<PresenceProberConfig JSON>'
// mode "presence": one pushgate.v1 connection (uid = probeUid, not a member's) alternately
//   subscribes to and unsubscribes from the presence group, one frame every intervalMs: each is
//   a join or a leave, so one presence frame to every member ({"type":"subscribe"|"unsubscribe","id":k,"group"}).
// mode "push" (the control): POST /api/sendToGroup {"group","data":<seq>} at the same pace, one
//   keep-alive socket.
// mode "idle": nothing is sent; the same window's server CPU (the baseline of 10,000 idle sockets).
// Each send's time is taken on the shared clock (epochMs), so the orchestrator can set it against
// the members' arrivals. Server CPU (/proc) covers events × intervalMs from the first send.
// Prints `RESULT <json>` (phase "presence-probe") and exits.
import { readFileSync } from "node:fs";
import { printResult, readConfig } from "./load-process.ts";
import { HttpPool } from "../lib/http-client.ts";
import { procCpuMs } from "../lib/proc-stats.ts";
import { percentiles } from "../lib/stats.ts";
import { epochMs, loginV1 } from "../lib/v1-session.ts";
import type { WsConn } from "../lib/ws-client.ts";

export interface PresenceProberConfig {
  mode: "presence" | "push" | "idle";
  host: string;
  port: number;
  group: string;
  probeUid: string;
  /** How many (presence: even, so the probe ends outside the group). */
  events: number;
  intervalMs: number;
  /** mode push: the first push's sequence number (its `data`); later ones count up. */
  firstSeq: number;
  connectTimeoutMs: number;
  /** Longest wait for the last answer after the last send. */
  answerTimeoutMs: number;
  serverPid: number | null;
}

interface Answer { ok: boolean; ms: number; error?: string }

/** The kernel's share of pid's CPU (stime) in clock ticks, beside the total: utime + stime (fields 14, 15 of /proc/<pid>/stat). */
function cpuTicks(pid: number | null): { user: number; sys: number } | null {
  if (pid === null) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { user: Number(f[11]), sys: Number(f[12]) };
  } catch {
    return null;
  }
}

if (import.meta.main) {
  const cfg = readConfig<PresenceProberConfig>("bench/clients/presence-prober.ts", "PresenceProberConfig", "scenarios/presence.ts");
  const sentAtMs: number[] = [];
  const answers: Answer[] = [];
  const errors = new Set<string>();
  let conn: WsConn | null = null;
  let http: HttpPool | null = null;
  let reachedMin: number | null = null;
  const pending = new Map<number, number>(); // id → send time (performance.now)
  const allAnswered = Promise.withResolvers<void>();
  const answered = (a: Answer) => {
    answers.push(a);
    if (!a.ok && a.error && errors.size < 5) errors.add(a.error);
    if (answers.length === cfg.events) allAnswered.resolve();
  };

  let send: (k: number) => void = () => {};
  if (cfg.mode === "presence") {
    conn = (await loginV1(cfg.probeUid, { host: cfg.host, port: cfg.port, localAddress: "127.0.0.1" }, cfg.connectTimeoutMs)).conn;
    // Only replies are answers (our own join frame follows our subscribe's reply).
    conn.handler = (_c, buf, start, end) => {
      const f = JSON.parse(buf.toString("utf8", start, end)) as { type?: string; id?: number; result?: { group?: string; unsubscribed?: boolean }; error?: { code?: string } };
      if (f.type !== "reply" || typeof f.id !== "number" || !pending.has(f.id)) return;
      const k = f.id;
      const ms = performance.now() - pending.get(k)!;
      pending.delete(k);
      const ok = k % 2 === 0 ? f.result?.group === cfg.group : f.result?.unsubscribed === true;
      answered({ ok, ms, error: ok ? undefined : (f.error?.code ?? JSON.stringify(f).slice(0, 80)) });
    };
    send = (k) => conn!.sendText(`{"type":"${k % 2 === 0 ? "subscribe" : "unsubscribe"}","id":${k},"group":"${cfg.group}"}`);
  } else if (cfg.mode === "push") {
    http = new HttpPool(cfg.host, cfg.port, 1);
    await http.post("/api/getAllClientCount", "{}").catch(() => null); // the socket is open before the first push
    send = (k) => {
      const t = performance.now();
      http!.post("/api/sendToGroup", `{"group":"${cfg.group}","data":${cfg.firstSeq + k}}`).then((a) => {
        const reached = (JSON.parse(a.body) as { result?: { reached?: number } }).result?.reached;
        const ok = a.status === 200 && typeof reached === "number";
        if (ok) reachedMin = reachedMin === null ? reached : Math.min(reachedMin, reached);
        answered({ ok, ms: performance.now() - t, error: ok ? undefined : `${a.status} ${a.body.slice(0, 80)}` });
      }, (e: Error) => answered({ ok: false, ms: performance.now() - t, error: e.message }));
    };
  }
  Bun.gc(true);
  await Bun.sleep(100);
  const cpu0 = procCpuMs(cfg.serverPid), ticks0 = cpuTicks(cfg.serverPid);
  const t0 = performance.now();
  for (let k = 0; k < cfg.events; k++) {
    const wait = t0 + k * cfg.intervalMs - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    if (cfg.mode !== "idle") {
      sentAtMs.push(epochMs());
      if (cfg.mode === "presence") pending.set(k, performance.now());
      send(k);
    }
  }
  // The window is events × intervalMs for every mode: the last event gets its interval too.
  const tail = t0 + cfg.events * cfg.intervalMs - performance.now();
  if (tail > 0) await Bun.sleep(tail);
  const cpu1 = procCpuMs(cfg.serverPid), ticks1 = cpuTicks(cfg.serverPid);
  const windowMs = performance.now() - t0;
  let timedOut: string | null = null;
  if (cfg.mode !== "idle" && answers.length < cfg.events) {
    const timer = setTimeout(() => allAnswered.resolve(), cfg.answerTimeoutMs);
    await allAnswered.promise;
    clearTimeout(timer);
    if (answers.length < cfg.events) timedOut = `${cfg.events - answers.length} of ${cfg.events} answers missing after ${cfg.answerTimeoutMs} ms`;
  }
  const ms = Float64Array.from(answers.map((a) => a.ms));
  const [answerP50Ms, answerP99Ms] = percentiles(ms, ms.length, [50, 99]);
  const cpuMs = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
  const user = ticks0 && ticks1 ? ticks1.user - ticks0.user : 0, sys = ticks0 && ticks1 ? ticks1.sys - ticks0.sys : 0;
  printResult({
    phase: "presence-probe", mode: cfg.mode, events: cfg.events, intervalMs: cfg.intervalMs, firstSeq: cfg.firstSeq,
    sentAtMs, windowMs, serverCpuMs: cpuMs,
    serverCpuUsPerEvent: cpuMs === null ? null : (cpuMs * 1000) / cfg.events,
    // Loopback TCP is paid by the sender: one write per member socket shows up as kernel time.
    serverSysShare: user + sys > 0 ? sys / (user + sys) : null,
    answers: answers.length, requestErrors: answers.filter((a) => !a.ok).length + (cfg.mode === "idle" ? 0 : cfg.events - answers.length),
    answerP50Ms, answerP99Ms, reachedMin, errors: [...errors].join("; ") || null, timedOut,
  }, conn ? [conn] : undefined);
  http?.close();
  conn?.reset();
  process.exit(0);
}

// The hooks scenario's rpc load process, run by scenarios/hooks.ts:
//   bun bench/clients/rpc-client.ts '<RpcClientConfig JSON>'
// mode "pushgate": `conns` pushgate.v1 clients (uid login) send `{"type":"rpc","id":<seq>,…}`
//   round-robin at a fixed total rate; pushgate asks the backend (--hook-url) and answers `reply`.
//   The same mode drives the bare relay (controls/rpc-relay.ts), pointed at its port.
// mode "direct" (the control): the same calls POSTed straight to the same backend with the HTTP
//   client pushgate itself uses (src/hooks/http-pool.ts, keep-alive), the body pushgate would
//   send, at the same rate — so the difference is what pushgate's hop adds.
// Open loop (lib/rate-sender.ts): a call due while maxInFlight are outstanding is skipped and
// counted. Each answer carries the backend's own time (`us`, controls/hook-backend.ts); the round
// trip is reported raw and minus it (net). Prints `RESULT <json>` (phase "rpc") and exits.
import { HttpPool } from "../../src/hooks/http-pool.ts";
import { printResult, readConfig } from "./load-process.ts";
import { closePool, openPool } from "../lib/client-pool.ts";
import { procCpuMs, selfCpuMs } from "../lib/proc-stats.ts";
import { sendAtRate } from "../lib/rate-sender.ts";
import { percentiles } from "../lib/stats.ts";
import type { WsConn } from "../lib/ws-client.ts";

export interface RpcClientConfig {
  mode: "pushgate" | "direct";
  host: string;
  /** pushgate's port, or the relay's (mode pushgate). */
  port: number;
  /** The backend's URL (mode direct). */
  backendUrl: string;
  sources: number;
  conns: number;
  rate: number;
  seconds: number;
  drainMs: number;
  maxInFlight: number;
  connectTimeoutMs: number;
  /** For CPU per call from /proc (null: not measured). */
  serverPid: number | null;
  backendPid: number | null;
}

interface Answer { result?: { us?: number; data?: unknown }; error?: { code?: string } }

if (import.meta.main) {
  const cfg = readConfig<RpcClientConfig>("bench/clients/rpc-client.ts", "RpcClientConfig", "scenarios/hooks.ts");
  const total = Math.floor(cfg.rate * cfg.seconds);
  const sentAt = new Float64Array(total);
  const raw = new Float64Array(total);
  const net = new Float64Array(total);
  const backendUs = new Float64Array(total);
  const answered = new Uint8Array(total);
  let replies = 0, rpcErrors = 0, malformed = 0, duplicates = 0, inFlight = 0, skipped = 0;
  const errors = new Set<string>();
  const fail = (msg: string) => { if (errors.size < 5) errors.add(msg); };

  /** One answer for call `seq` that arrived at nowNs. */
  const onAnswer = (seq: number, a: Answer, nowNs: number) => {
    if (!Number.isInteger(seq) || seq < 0 || seq >= total) { malformed++; return; }
    if (answered[seq]) { duplicates++; return; }
    answered[seq] = 1;
    inFlight--;
    if (a.error !== undefined || typeof a.result?.us !== "number" || a.result.data !== seq) {
      rpcErrors++;
      fail(a.error?.code ?? `unexpected answer ${JSON.stringify(a).slice(0, 80)}`);
      return;
    }
    const ms = (nowNs - sentAt[seq]!) / 1e6;
    raw[replies] = ms;
    net[replies] = ms - a.result.us / 1000;
    backendUs[replies] = a.result.us;
    replies++;
  };

  let conns: WsConn[] = [];
  let send: (seq: number) => void;
  if (cfg.mode === "pushgate") {
    const pool = await openPool({
      host: cfg.host, port: cfg.port, clients: cfg.conns, sources: cfg.sources, concurrency: 32,
      timeoutMs: cfg.connectTimeoutMs, opTimeoutMs: 5000, json: true,
    });
    conns = pool.conns;
    if (pool.failed) fail(`${pool.failed} of ${cfg.conns} clients did not log in: ${pool.errors.join("; ")}`);
    for (const c of conns) {
      c.handler = (_c, buf, start, end, nowNs) => {
        let f: Answer & { type?: string; id?: number };
        try {
          f = JSON.parse(buf.toString("utf8", start, end)) as typeof f;
        } catch {
          malformed++;
          return;
        }
        if (f.type !== "reply") { malformed++; return; }
        onAnswer(Number(f.id), f, nowNs);
      };
    }
    send = (seq) => {
      sentAt[seq] = Bun.nanoseconds();
      conns[seq % conns.length]!.sendText(`{"type":"rpc","id":${seq},"method":"bench.echo","data":${seq}}`);
    };
  } else {
    const pool = new HttpPool(new URL(cfg.backendUrl), 1 << 20, 10_000);
    send = (seq) => {
      sentAt[seq] = Bun.nanoseconds();
      const body = `{"kind":"rpc","clientId":"direct${seq % cfg.conns}","uid":"u${seq % cfg.conns}","method":"bench.echo","data":${seq}}`;
      pool.post(body)
        .then(({ status, text }) => {
          const now = Bun.nanoseconds();
          onAnswer(seq, status < 300 ? (JSON.parse(text) as Answer) : { error: { code: `HTTP ${status}` } }, now);
        })
        .catch((e) => { answered[seq] = 1; inFlight--; rpcErrors++; fail((e as Error).message); });
    };
  }

  const live = cfg.mode === "direct" || conns.length > 0;
  const cpu0 = selfCpuMs(), srv0 = procCpuMs(cfg.serverPid), be0 = procCpuMs(cfg.backendPid);
  const t0 = Bun.nanoseconds();
  let sent = 0;
  let timedOut: string | null = null;
  if (live) {
    const out = await sendAtRate({ rate: cfg.rate, seconds: cfg.seconds, drainMs: cfg.drainMs }, total, t0, (seq) => {
      if (inFlight >= cfg.maxInFlight) { skipped++; answered[seq] = 1; return; }
      inFlight++;
      sent++;
      send(seq);
    });
    timedOut = out.timedOut;
    const sendEnd = out.sendEnd;
    const drainEnd = Bun.nanoseconds() + cfg.drainMs * 1e6;
    while (inFlight > 0 && Bun.nanoseconds() < drainEnd) await Bun.sleep(2);
    const elapsedMs = (Bun.nanoseconds() - t0) / 1e6;
    const srv1 = procCpuMs(cfg.serverPid), be1 = procCpuMs(cfg.backendPid);
    const [p50, p99, max] = percentiles(raw, replies, [50, 99, 100]);
    const [n50, n99, nmax] = percentiles(net, replies, [50, 99, 100]);
    const [b50, b99] = percentiles(backendUs, replies, [50, 99]);
    const perCall = (a: number | null, b: number | null) => (a === null || b === null || sent === 0 ? null : ((b - a) * 1000) / sent);
    printResult({
      phase: "rpc", mode: cfg.mode, rate: cfg.rate, seconds: cfg.seconds, conns: conns.length || null,
      sent, skipped, replies, rpcErrors, lost: sent - replies - rpcErrors, duplicates, malformed,
      sendRate: sent / ((sendEnd - t0) / 1e9),
      rttP50Ms: p50 ?? null, rttP99Ms: p99 ?? null, rttMaxMs: max ?? null,
      netP50Ms: n50 ?? null, netP99Ms: n99 ?? null, netMaxMs: nmax ?? null,
      backendUsP50: b50 ?? null, backendUsP99: b99 ?? null,
      serverCpuUsPerRpc: perCall(srv0, srv1), backendCpuUsPerRpc: perCall(be0, be1),
      clientCpuUtil: (selfCpuMs() - cpu0) / elapsedMs, timedOut, errors: [...errors].join("; ") || null,
    }, conns.length ? conns : undefined);
  } else {
    printResult({ phase: "rpc", mode: cfg.mode, sent: 0, replies: 0, errors: [...errors].join("; ") || "no client logged in" });
  }
  await closePool(conns, 2000);
  process.exit(0);
}

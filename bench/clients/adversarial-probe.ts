// The healthy client of the adversarial scenario, in its own process so the attacker's work
// cannot delay its event loop: K pushgate.v1 connections, logged in, take turns sending
// `{"type":"ping","id":n}` every `everyMs` (each one stays under the default rate limit), and an
// open-loop POST /healthz every `httpEveryMs` on keep-alive sockets (a probe that never receives
// broadcasts). Every sample keeps its send time (epoch ms) and round trip; on SIGUSR1 they are
// written to `samplesFile` (Float64 arrays: ws send, ws rtt, http send, http rtt) and one
// RESULT line says how many. Round trip -1: lost (its connection closed first).
import { HttpPool } from "../lib/http-client.ts";
import { printResult, readConfig, releaseOnSignal } from "./load-process.ts";
import { WsConn } from "../lib/ws-client.ts";

export interface ProbeConfig {
  host: string;
  port: number;
  sources: number;
  /** pushgate.v1 connections that take turns; each pings every conns × everyMs. */
  conns: number;
  everyMs: number;
  httpEveryMs: number;
  httpMaxInFlight: number;
  /** The auth frame of connection i: uid mode (uids) or jwt mode (tokens). */
  uids?: string[];
  tokens?: string[];
  samplesFile: string;
  /** Sample capacity: the probe stops recording after this long. */
  maxSeconds: number;
}

const cfg = readConfig<ProbeConfig>("bench/clients/adversarial-probe.ts", "ProbeConfig", "adversarial.ts");
const epoch = () => performance.timeOrigin + performance.now();

class Samples {
  readonly send: Float64Array;
  readonly rtt: Float64Array;
  n = 0;
  constructor(cap: number) {
    this.send = new Float64Array(cap);
    this.rtt = new Float64Array(cap).fill(NaN);
  }
  /** Index of a new sample sent now, or -1 when full. */
  add(at: number): number {
    if (this.n >= this.send.length) return -1;
    this.send[this.n] = at;
    return this.n++;
  }
}

const ws = new Samples(Math.ceil((cfg.maxSeconds * 1000) / cfg.everyMs));
const http = new Samples(Math.ceil((cfg.maxSeconds * 1000) / cfg.httpEveryMs));
const events: { at: number; what: string }[] = [];
/** Per connection: the ping ids sent and not yet answered (answers come in order). */
const outstanding: number[][] = [];
const conns: (WsConn | null)[] = new Array(cfg.conns).fill(null);
let stopping = false;
let lastPongText = "";

function authFrame(i: number): string {
  return cfg.tokens ? JSON.stringify({ type: "auth", token: cfg.tokens[i % cfg.tokens.length] }) : JSON.stringify({ type: "auth", uid: cfg.uids![i % cfg.uids!.length] });
}

const PONG = Buffer.from('{"type":"pong","id":');
const WELCOME = Buffer.from('{"type":"welcome"');

async function connect(i: number): Promise<void> {
  const conn = await WsConn.connect(`probe-${i}`, { host: cfg.host, port: cfg.port, localAddress: `127.0.0.${1 + (i % cfg.sources)}`, json: true }, 10_000);
  const welcomed = Promise.withResolvers<void>();
  conn.handler = (_c, buf, start, end) => {
    if (PONG.compare(buf, start, Math.min(end, start + PONG.length)) === 0) {
      const id = Number(buf.toString("latin1", start + PONG.length, end - 1));
      const q = outstanding[i]!;
      // Pongs come back in order; anything older than this id was lost on the way (none expected).
      while (q.length > 0 && q[0]! < id) ws.rtt[q.shift()!] = -1;
      if (q[0] === id) {
        q.shift();
        ws.rtt[id] = epoch() - ws.send[id]!;
      }
      return;
    }
    if (WELCOME.compare(buf, start, Math.min(end, start + WELCOME.length)) === 0) welcomed.resolve();
    else if (end - start < 300 && buf[start + 9] === 0x65 /* e of "error" */) lastPongText = buf.toString("utf8", start, end);
  };
  conn.sendText(authFrame(i));
  const timer = setTimeout(() => welcomed.reject(new Error(`probe ${i}: no welcome in 10 s ${lastPongText}`)), 10_000);
  await welcomed.promise.finally(() => clearTimeout(timer));
  outstanding[i] = [];
  conns[i] = conn;
  conn.closed.then(() => {
    conns[i] = null;
    for (const id of outstanding[i]!) ws.rtt[id] = -1;
    outstanding[i] = [];
    if (stopping) return;
    events.push({ at: epoch(), what: `probe connection ${i} closed ${conn.closeCode}` });
    // Reconnect, so one attack that closes a probe does not blind the next ones.
    setTimeout(() => connect(i).catch((e) => events.push({ at: epoch(), what: `probe ${i} reconnect failed: ${(e as Error).message}` })), 50);
  });
}

await Promise.all(Array.from({ length: cfg.conns }, (_, i) => connect(i)));
const pool = new HttpPool(cfg.host, cfg.port, cfg.httpMaxInFlight);
let httpInFlight = 0;
let httpSkipped = 0;
let turn = 0;
const wsTimer = setInterval(() => {
  const i = turn++ % cfg.conns;
  const c = conns[i];
  if (!c || !c.open) return;
  const id = ws.add(epoch());
  if (id < 0) return;
  outstanding[i]!.push(id);
  c.sendText(`{"type":"ping","id":${id}}`);
}, cfg.everyMs);
const httpTimer = setInterval(() => {
  if (httpInFlight >= cfg.httpMaxInFlight) {
    httpSkipped++;
    return;
  }
  const id = http.add(epoch());
  if (id < 0) return;
  httpInFlight++;
  pool.post("/healthz", "").then(
    (a) => { http.rtt[id] = a.status === 200 ? epoch() - http.send[id]! : -1; },
    () => { http.rtt[id] = -1; },
  ).finally(() => { httpInFlight--; });
}, cfg.httpEveryMs);
console.log("READY");

const release = releaseOnSignal();
await release.promise;
stopping = true;
clearInterval(wsTimer);
clearInterval(httpTimer);
// Still unanswered: the server has kept them waiting this long (a stall in progress).
const now = epoch();
for (const q of outstanding) for (const id of q ?? []) ws.rtt[id] = now - ws.send[id]!;
for (let k = 0; k < http.n; k++) if (Number.isNaN(http.rtt[k]!)) http.rtt[k] = now - http.send[k]!;
const out = new Float64Array(2 * ws.n + 2 * http.n);
out.set(ws.send.subarray(0, ws.n), 0);
out.set(ws.rtt.subarray(0, ws.n), ws.n);
out.set(http.send.subarray(0, http.n), 2 * ws.n);
out.set(http.rtt.subarray(0, http.n), 2 * ws.n + http.n);
await Bun.write(cfg.samplesFile, out);
printResult({ phase: "probe", wsSamples: ws.n, httpSamples: http.n, httpSkipped, events: JSON.stringify(events) });
for (const c of conns) c?.close(200);
pool.close();
process.exit(0);

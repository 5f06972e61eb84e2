// The presence scenario's subscribe-rate load process, run by scenarios/presence.ts:
//   bun bench/clients/subscribe-client.ts '<SubscribeClientConfig JSON>'
// Logs `conns` pushgate.v1 clients in (uid u<i>, over the source addresses), keeping each
// welcome's clientId, then joins each to `perConn` of `groups` public groups room-<k>:
//   mode "subscribe": every connection sends its subscribes at once
//     ({"type":"subscribe","id":j,"group":"room-<k>"}), timed from the first send to the last reply;
//   mode "api" (the control): the same memberships through POST /api/joinGroup {clientId, group},
//     `apiConns` keep-alive sockets with one request in flight each, first request to last answer.
// Then it counts the groups' members through the API (getClientIdCountByGroup in one batch): every
// membership must be there. Server CPU from /proc around the timed part. Prints `RESULT <json>`
// (phase "presence-subscribe") and exits.
import { printResult, readConfig } from "./load-process.ts";
import { closePool, loginEach } from "../lib/client-pool.ts";
import { HttpPool } from "../lib/http-client.ts";
import { procCpuMs, selfCpuMs } from "../lib/proc-stats.ts";
import { loginV1 } from "../lib/v1-session.ts";
import type { WsConn } from "../lib/ws-client.ts";

export interface SubscribeClientConfig {
  mode: "subscribe" | "api";
  host: string;
  port: number;
  sources: number;
  conns: number;
  /** Groups room-0..room-<groups-1>; connection i joins room-<(i·perConn + j) mod groups>, j < perConn. */
  groups: number;
  perConn: number;
  /** HTTP sockets of the api mode (one request in flight on each). */
  apiConns: number;
  connectTimeoutMs: number;
  /** Longest wait for the timed part's last answer. */
  phaseTimeoutMs: number;
  serverPid: number | null;
}

const REPLY = Buffer.from('{"type":"reply"');
const RESULT_GROUP = Buffer.from('"result":{"group":');

const groupOf = (cfg: SubscribeClientConfig, i: number, j: number) => `room-${(i * cfg.perConn + j) % cfg.groups}`;

/** Every subscribe sent at once; resolves at the last reply (or the time limit). */
async function bySubscribe(cfg: SubscribeClientConfig, conns: readonly WsConn[], onDone: () => void): Promise<{ refused: number; errors: string[]; timedOut: string | null }> {
  const total = conns.length * cfg.perConn;
  const all = Promise.withResolvers<void>();
  let answered = 0, refused = 0;
  const errors = new Set<string>();
  for (const c of conns) {
    // A byte check, not JSON.parse: on 2 cores this process competes with the server it measures.
    c.handler = (_c, buf, start, end) => {
      if (REPLY.compare(buf, start, start + REPLY.length) !== 0) return;
      const at = buf.indexOf(RESULT_GROUP, start);
      if (at < 0 || at >= end) {
        refused++;
        if (errors.size < 5) errors.add(buf.toString("utf8", start, Math.min(end, start + 120)));
      }
      if (++answered === total) {
        onDone();
        all.resolve();
      }
    };
  }
  for (const [i, c] of conns.entries()) {
    for (let j = 0; j < cfg.perConn; j++) c.sendText(`{"type":"subscribe","id":${j},"group":"${groupOf(cfg, i, j)}"}`);
  }
  const timer = setTimeout(() => all.resolve(), cfg.phaseTimeoutMs);
  await all.promise;
  clearTimeout(timer);
  return { refused: refused + total - answered, errors: [...errors], timedOut: answered < total ? `${total - answered} of ${total} subscribes unanswered after ${cfg.phaseTimeoutMs} ms` : null };
}

/** The same memberships through POST /api/joinGroup, `apiConns` in flight. */
async function byApi(cfg: SubscribeClientConfig, http: HttpPool, clientIds: readonly string[], onDone: () => void): Promise<{ refused: number; errors: string[]; timedOut: string | null }> {
  const total = clientIds.length * cfg.perConn;
  const deadline = performance.now() + cfg.phaseTimeoutMs;
  const errors = new Set<string>();
  let next = 0, refused = 0;
  const worker = async () => {
    while (next < total && performance.now() < deadline) {
      const k = next++;
      const i = Math.floor(k / cfg.perConn), j = k % cfg.perConn;
      try {
        const a = await http.post("/api/joinGroup", `{"clientId":"${clientIds[i]}","group":"${groupOf(cfg, i, j)}"}`);
        if (a.status !== 200 || a.body !== '{"result":1}') {
          refused++;
          if (errors.size < 5) errors.add(`${a.status} ${a.body.slice(0, 80)}`);
        }
      } catch (e) {
        refused++;
        if (errors.size < 5) errors.add((e as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: cfg.apiConns }, worker));
  onDone();
  return { refused: refused + total - next, errors: [...errors], timedOut: next < total ? `${total - next} of ${total} joinGroup calls not sent within ${cfg.phaseTimeoutMs} ms` : null };
}

/** Members of every room-<k> summed (one API batch), or null if the batch failed. */
async function membershipsHeld(cfg: SubscribeClientConfig, http: HttpPool): Promise<number | null> {
  const calls = Array.from({ length: cfg.groups }, (_, k) => ({ method: "getClientIdCountByGroup", params: { group: `room-${k}` } }));
  try {
    const a = await http.post("/api/batch", JSON.stringify({ calls }));
    const body = JSON.parse(a.body) as { result?: { result?: unknown }[] };
    if (a.status !== 200 || !Array.isArray(body.result)) return null;
    return body.result.reduce((n, r) => n + (typeof r.result === "number" ? r.result : 0), 0);
  } catch {
    return null;
  }
}

if (import.meta.main) {
  const cfg = readConfig<SubscribeClientConfig>("bench/clients/subscribe-client.ts", "SubscribeClientConfig", "scenarios/presence.ts");
  const t0 = performance.now();
  const clientIds = new Map<WsConn, string>();
  const run = await loginEach(cfg.conns, 64, t0 + cfg.connectTimeoutMs, async (i) => {
    const { conn, clientId } = await loginV1(`u${i}`, { host: cfg.host, port: cfg.port, localAddress: `127.0.0.${1 + (i % cfg.sources)}` }, 5000);
    clientIds.set(conn, clientId);
    return conn;
  });
  const conns = run.conns.sort((a, b) => Number(a.uid.slice(1)) - Number(b.uid.slice(1)));
  for (const c of conns) c.handler = () => {};
  const http = new HttpPool(cfg.host, cfg.port, cfg.apiConns);
  // Open every HTTP socket before the clock starts (the api mode's connects are not its joins).
  await Promise.all(Array.from({ length: cfg.apiConns }, () => http.post("/api/getAllClientCount", "{}").catch(() => null)));
  Bun.gc(true);
  await Bun.sleep(200);
  // Read at the last answer (inside its handler), not when this await resumes.
  const end = { t: 0, cpu: null as number | null, self: 0 };
  const onDone = () => { end.t = performance.now(); end.cpu = procCpuMs(cfg.serverPid); end.self = selfCpuMs(); };
  const cpu0 = procCpuMs(cfg.serverPid), self0 = selfCpuMs();
  const tStart = performance.now();
  const out = cfg.mode === "subscribe" ? await bySubscribe(cfg, conns, onDone) : await byApi(cfg, http, conns.map((c) => clientIds.get(c)!), onDone);
  if (end.t === 0) onDone(); // timed out: measure up to now
  const wallMs = end.t - tStart, cpu1 = end.cpu;
  const expected = conns.length * cfg.perConn;
  const held = await membershipsHeld(cfg, http);
  const done = expected - out.refused;
  printResult({
    phase: "presence-subscribe", mode: cfg.mode, requested: cfg.conns, loggedIn: conns.length, loginFailed: run.failed,
    subscribes: expected, refused: out.refused, membershipsHeld: held, missing: held === null ? expected : Math.max(0, expected - held),
    wallMs, perSec: done / (wallMs / 1000),
    serverCpuUsPerSubscribe: cpu0 === null || cpu1 === null || done <= 0 ? null : ((cpu1 - cpu0) * 1000) / done,
    serverCpuUtil: cpu0 === null || cpu1 === null ? null : (cpu1 - cpu0) / wallMs,
    clientCpuUtil: (end.self - self0) / wallMs,
    errors: [...run.errors, ...out.errors].join("; ") || null, timedOut: out.timedOut,
  }, conns);
  http.close();
  await closePool(conns, 3000);
  process.exit(0);
}

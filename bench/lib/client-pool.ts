// Opens N clients (uid u<i>; seed protocol, or pushgate.v1 with `json`), spread over source
// addresses 127.0.0.1..127.0.0.<k>, with bounded concurrency and a deadline. Clients that fail
// are counted, not retried.
import { settlesWithin } from "./timeout.ts";
import { WsConn, type WsTarget } from "./ws-client.ts";

export const LOGIN_REPLY_PREFIX = "login success, your uid is ";

export interface PoolOptions {
  host: string;
  port: number;
  clients: number;
  /** Client i gets uid u<firstUid + i> (default 0), so several processes can split one uid range. */
  firstUid?: number;
  sources: number;
  concurrency: number;
  /** Whole pool deadline; each connect+login also has its own opTimeoutMs. */
  timeoutMs: number;
  opTimeoutMs: number;
  /** pushgate.v1 clients (auth frame, welcome) instead of seed ones. */
  json?: boolean;
}

export interface Pool {
  conns: WsConn[];
  failed: number;
  /** Up to 5 distinct failure messages. */
  errors: string[];
  wallMs: number;
}

export async function openPool(o: PoolOptions): Promise<Pool> {
  const t0 = performance.now();
  const run = await loginEach(o.clients, o.concurrency, t0 + o.timeoutMs, (i) => loginClient(
    `u${(o.firstUid ?? 0) + i}`, { host: o.host, port: o.port, localAddress: `127.0.0.${1 + (i % o.sources)}`, json: o.json }, o.opTimeoutMs,
  ));
  if (run.attempted < o.clients) run.errors.add(`pool deadline of ${o.timeoutMs} ms passed`);
  run.conns.sort((a, b) => uidIndex(a.uid) - uidIndex(b.uid));
  return { conns: run.conns, failed: run.failed, errors: [...run.errors], wallMs: performance.now() - t0 };
}

export interface LoginRun {
  /** In the order the logins completed. */
  conns: WsConn[];
  /** Failed logins plus the ones never attempted (the deadline passed). */
  failed: number;
  /** Up to 5 distinct failure messages (the caller may add one for the deadline). */
  errors: Set<string>;
  /** How many logins were started: fewer than count when the deadline passed. */
  attempted: number;
}

/**
 * Runs login(0..count-1) on `concurrency` workers until `deadline` (a performance.now() time);
 * a failure is counted (onFail sees its index), not retried.
 */
export async function loginEach(
  count: number, concurrency: number, deadline: number, login: (i: number) => Promise<WsConn>, onFail?: (i: number) => void,
): Promise<LoginRun> {
  const conns: WsConn[] = [];
  const errors = new Set<string>();
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      try {
        conns.push(await login(i));
      } catch (e) {
        failed++;
        onFail?.(i);
        if (errors.size < 5) errors.add((e as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { conns, failed: failed + count - next, errors, attempted: next };
}

/** Connects one client and logs `uid` in (seed, or pushgate.v1 when addr.json); closed if the login fails. */
export async function loginClient(
  uid: string, addr: WsTarget, opTimeoutMs: number,
): Promise<WsConn> {
  const conn = await WsConn.connect(uid, addr, opTimeoutMs);
  const reply = Promise.withResolvers<string>();
  conn.handler = (_c, buf, start, end) => reply.resolve(buf.toString("utf8", start, end));
  const timer = setTimeout(() => reply.reject(new Error("login reply timeout")), opTimeoutMs);
  conn.sendText(conn.json ? `{"type":"auth","uid":"${uid}"}` : uid);
  try {
    const text = await reply.promise;
    const good = conn.json ? text.startsWith('{"type":"welcome"') : text === LOGIN_REPLY_PREFIX + uid;
    if (!good) throw new Error(`unexpected login reply: ${text.slice(0, 80)}`);
    return conn;
  } catch (e) {
    conn.close(100);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

function uidIndex(uid: string): number {
  return Number(uid.slice(1));
}

/** Teardown at the end of a load process: every socket reset (see WsConn.reset), then up to ms for their close events. */
export async function closePool(conns: readonly WsConn[], ms: number): Promise<void> {
  for (const c of conns) c.reset();
  await settlesWithin(Promise.all(conns.map((c) => c.closed)), ms);
}

// Opens N seed-protocol clients (uid u<i>), spread over source addresses 127.0.0.1..127.0.0.<k>,
// with bounded concurrency and a deadline. Clients that fail are counted, not retried.
import { settlesWithin } from "./timeout.ts";
import { WsConn } from "./ws-client.ts";

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
}

export interface Pool {
  conns: WsConn[];
  failed: number;
  /** Up to 5 distinct failure messages. */
  errors: string[];
  wallMs: number;
}

export async function openPool(o: PoolOptions): Promise<Pool> {
  const conns: WsConn[] = [];
  const errors = new Set<string>();
  let failed = 0;
  let next = 0;
  const t0 = performance.now();
  const deadline = t0 + o.timeoutMs;
  const worker = async () => {
    while (next < o.clients && performance.now() < deadline) {
      const i = next++;
      try {
        conns.push(await loginOne(i, o));
      } catch (e) {
        failed++;
        if (errors.size < 5) errors.add((e as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.clients) }, worker));
  failed += o.clients - next; // never attempted: the pool deadline passed
  if (o.clients > next) errors.add(`pool deadline of ${o.timeoutMs} ms passed`);
  conns.sort((a, b) => uidIndex(a.uid) - uidIndex(b.uid));
  return { conns, failed, errors: [...errors], wallMs: performance.now() - t0 };
}

async function loginOne(i: number, o: PoolOptions): Promise<WsConn> {
  const uid = `u${(o.firstUid ?? 0) + i}`;
  const localAddress = `127.0.0.${1 + (i % o.sources)}`;
  const conn = await WsConn.connect(uid, { host: o.host, port: o.port, localAddress }, o.opTimeoutMs);
  const reply = Promise.withResolvers<string>();
  conn.handler = (_c, buf, start, end) => reply.resolve(buf.toString("utf8", start, end));
  const timer = setTimeout(() => reply.reject(new Error("login reply timeout")), o.opTimeoutMs);
  conn.sendText(uid);
  try {
    const text = await reply.promise;
    if (text !== LOGIN_REPLY_PREFIX + uid) throw new Error(`unexpected login reply: ${text.slice(0, 80)}`);
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

/** Closes every connection and waits (at most ms) for the sockets to be gone. */
export async function closePool(conns: readonly WsConn[], ms: number): Promise<void> {
  for (const c of conns) c.close(ms);
  await settlesWithin(Promise.all(conns.map((c) => c.closed)), ms);
}

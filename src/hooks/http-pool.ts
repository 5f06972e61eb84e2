// A small HTTP/1.1 keep-alive client for the hook requests to an http:// backend, on Bun.connect
// sockets in the node's own event loop. Measured against Bun's fetch (which hands every request
// to its HTTP thread and back) on this 2-core machine: ~12 µs of CPU per request instead of ~31,
// p99 0.7 ms instead of 1.9 ms (docs/performance.md, "Hooks"). One request per connection at a
// time (no pipelining); idle connections are kept for the next request. What it reads is
// bounded: the head by HEAD_MAX, the body by `maxBody` (Content-Length, chunked, or until
// close). A request is never sent twice: a connection that fails before its answer is an error
// for that request (the caller reports E_BACKEND_UNAVAILABLE), never a silent retry.
import type { Socket } from "bun";

/** Largest response head (status line and headers) read. */
const HEAD_MAX = 16 * 1024;
/**
 * An idle connection older than this is closed rather than reused: servers close idle
 * keep-alive connections (Node's default after 5 s), and a request written into one that is
 * closing would fail without having run.
 */
const IDLE_MAX_MS = 4000;
const CRLF = Buffer.from("\r\n");
const HEAD_END = Buffer.from("\r\n\r\n");

export interface HttpAnswer {
  status: number;
  text: string;
}

/** The answer was over the body bound. */
export class TooLarge extends Error {}
/** No complete answer within the timeout. */
export class TimedOut extends Error {
  override readonly name = "TimeoutError";
}

interface Pending {
  resolve(a: HttpAnswer): void;
  reject(e: Error): void;
  timer: Timer;
}

type BodyMode = "length" | "chunked" | "close" | "none";

/** One keep-alive connection and the answer it is reading (socket.data). */
class Conn {
  sock: Socket<Conn> | null = null;
  pending: Pending | null = null;
  dead = false;
  idleSince = 0;
  private buf: Buffer = Buffer.alloc(0);
  private status = 0;
  private mode: BodyMode | null = null;
  private length = 0;
  private closeAfter = false;
  private parts: Buffer[] = [];
  private size = 0;
  /** Bytes still to write (the socket took only part of the request). */
  private unsent: Buffer | null = null;

  constructor(private readonly pool: HttpPool) {}

  /** `req`: the whole request; `bytes`: its length in bytes. */
  send(req: string, bytes: number, p: Pending): void {
    this.pending = p;
    this.resetParse();
    const n = this.sock!.write(req);
    if (n < bytes) this.unsent = Buffer.from(req).subarray(Math.max(0, n)); // rare: the socket took part of it
  }

  drain(): void {
    const rest = this.unsent;
    if (rest === null || this.sock === null) return;
    const n = this.sock.write(rest);
    this.unsent = n < rest.length ? rest.subarray(Math.max(0, n)) : null;
  }

  data(chunk: Buffer): void {
    if (this.pending === null) return this.fail(new Error("the backend sent bytes without a request"));
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    try {
      this.parse();
    } catch (e) {
      this.fail(e as Error);
    }
  }

  closed(): void {
    this.dead = true;
    this.sock = null;
    this.pool.forget(this);
    if (this.pending === null) return;
    if (this.mode === "close") return this.finish();
    this.fail(new Error("the backend closed the connection before its answer was complete"));
  }

  /** Ends the request with `e` and drops the connection (its state is unknown). */
  fail(e: Error): void {
    const p = this.pending;
    this.pending = null;
    this.dead = true;
    this.pool.forget(this);
    this.sock?.terminate();
    this.sock = null;
    if (p) {
      clearTimeout(p.timer);
      p.reject(e);
    }
  }

  private resetParse(): void {
    this.buf = Buffer.alloc(0);
    this.status = 0;
    this.mode = null;
    this.length = 0;
    this.closeAfter = false;
    this.parts = [];
    this.size = 0;
  }

  private parse(): void {
    while (this.mode === null) {
      const end = this.buf.indexOf(HEAD_END);
      if (end < 0) {
        if (this.buf.length > HEAD_MAX) throw new Error(`the backend's answer head is over ${HEAD_MAX} bytes`);
        return;
      }
      this.head(this.buf.toString("latin1", 0, end));
      this.buf = this.buf.subarray(end + 4);
    }
    if (this.mode === "length") {
      if (this.buf.length < this.length) return;
      if (this.buf.length > this.length) throw new Error("the backend sent more than its Content-Length");
      this.take(this.buf);
      return this.finish();
    }
    if (this.mode === "chunked") return this.chunks();
    if (this.mode === "close") {
      this.take(this.buf);
      this.buf = Buffer.alloc(0);
      return;
    }
    if (this.buf.length > 0) throw new Error("the backend sent a body where none belongs");
    this.finish();
  }

  private head(text: string): void {
    // "HTTP/1.x SSS": checked by position (this runs once per answer: no split, no regex).
    if (!text.startsWith("HTTP/1.") || text.charCodeAt(8) !== 32 || !isDigits(text, 9, 12)) {
      throw new Error(`not an HTTP/1.x answer: ${JSON.stringify(text.slice(0, 40))}`);
    }
    const status = Number(text.slice(9, 12));
    if (status >= 100 && status < 200) return; // 100 Continue and the like: the real answer follows
    let length = -1;
    let chunked = false;
    let close = text.charCodeAt(7) === 48; // HTTP/1.0
    let at = text.indexOf("\r\n");
    while (at >= 0) {
      const start = at + 2;
      at = text.indexOf("\r\n", start);
      const line = at < 0 ? text.slice(start) : text.slice(start, at);
      const colon = line.indexOf(":");
      if (colon <= 0) throw new Error("a malformed header line in the backend's answer");
      // Only three names matter; their lengths (14, 17, 10) pick the comparison.
      if (colon !== 14 && colon !== 17 && colon !== 10) continue;
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim().toLowerCase();
      if (name === "content-length") {
        if (!/^\d{1,15}$/.test(value) || (length >= 0 && Number(value) !== length)) throw new Error("a bad Content-Length in the backend's answer");
        length = Number(value);
      } else if (name === "transfer-encoding") {
        chunked = value.split(",").map((v) => v.trim()).at(-1) === "chunked";
        if (!chunked) throw new Error(`an unsupported Transfer-Encoding in the backend's answer: ${value.slice(0, 40)}`);
      } else if (name === "connection") {
        if (value.split(",").some((v) => v.trim() === "close")) close = true;
      }
    }
    this.status = status;
    this.closeAfter = close;
    if (status === 204 || status === 304) this.mode = "none";
    else if (chunked) this.mode = "chunked";
    else if (length >= 0) {
      if (length > this.pool.maxBody) throw new TooLarge();
      this.mode = length === 0 ? "none" : "length";
      this.length = length;
    } else {
      this.mode = "close";
      this.closeAfter = true;
    }
  }

  private chunks(): void {
    for (;;) {
      const eol = this.buf.indexOf(CRLF);
      if (eol < 0) {
        if (this.buf.length > 1024) throw new Error("a malformed chunk in the backend's answer");
        return;
      }
      const sizeText = this.buf.toString("latin1", 0, eol).split(";")[0]!.trim();
      if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new Error("a malformed chunk size in the backend's answer");
      const n = parseInt(sizeText, 16);
      if (n === 0) {
        // The last chunk, then optional trailers and an empty line.
        const rest = this.buf.subarray(eol + 2);
        if (rest.length >= 2 && rest[0] === 13 && rest[1] === 10) return this.finish(rest.length > 2);
        const end = rest.indexOf(HEAD_END);
        if (end < 0) {
          if (rest.length > HEAD_MAX) throw new Error("the backend's trailers are too long");
          return;
        }
        return this.finish(rest.length > end + 4);
      }
      if (this.buf.length < eol + 2 + n + 2) {
        if (this.size + n > this.pool.maxBody) throw new TooLarge();
        return;
      }
      this.take(this.buf.subarray(eol + 2, eol + 2 + n));
      this.buf = this.buf.subarray(eol + 2 + n + 2);
    }
  }

  private take(b: Buffer): void {
    if (b.length === 0) return;
    this.size += b.length;
    if (this.size > this.pool.maxBody) throw new TooLarge();
    this.parts.push(b);
  }

  /** The answer is complete; `extra`: bytes followed it (the connection is not reused). */
  private finish(extra = false): void {
    const p = this.pending!;
    this.pending = null;
    clearTimeout(p.timer);
    const text = this.parts.length === 1 ? this.parts[0]!.toString("utf8") : Buffer.concat(this.parts, this.size).toString("utf8");
    const status = this.status;
    const reuse = !this.closeAfter && !extra && !this.dead;
    this.resetParse();
    if (!reuse) {
      this.dead = true;
      this.sock?.end();
      this.pool.forget(this);
    } else {
      this.pool.idle(this);
    }
    p.resolve({ status, text });
  }
}

function isDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

const HANDLERS = {
  data: (s: Socket<Conn>, d: Buffer) => s.data.data(d),
  drain: (s: Socket<Conn>) => s.data.drain(),
  close: (s: Socket<Conn>) => s.data.closed(),
  end: (s: Socket<Conn>) => s.data.closed(),
  error: (s: Socket<Conn>, e: Error) => s.data.fail(e),
  connectError: (s: Socket<Conn>, e: Error) => s.data.fail(e),
};

export class HttpPool {
  private readonly free: Conn[] = [];
  private readonly host: string;
  private readonly port: number;
  private readonly prefix: string;
  private readonly prefixBytes: number;

  /** `url`: an http:// URL. */
  constructor(url: URL, readonly maxBody: number, private readonly timeoutMs: number) {
    this.host = url.hostname.replace(/^\[|\]$/g, "");
    this.port = Number(url.port || 80);
    const target = `${url.pathname || "/"}${url.search}`;
    this.prefix = `POST ${target} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: `;
    this.prefixBytes = Buffer.byteLength(this.prefix);
  }

  /** POSTs `body` (JSON text); rejects with TimedOut, TooLarge or another Error (unreachable, broken answer). */
  post(body: string): Promise<HttpAnswer> {
    const n = Buffer.byteLength(body);
    const len = `${n}\r\n\r\n`;
    const req = this.prefix + len + body;
    const bytes = this.prefixBytes + len.length + n;
    const { promise, resolve, reject } = Promise.withResolvers<HttpAnswer>();
    let conn = this.free.pop();
    while (conn !== undefined && performance.now() - conn.idleSince > IDLE_MAX_MS) {
      conn.dead = true;
      conn.sock?.end();
      conn = this.free.pop();
    }
    const c = conn ?? new Conn(this);
    const p: Pending = { resolve, reject, timer: setTimeout(() => c.fail(new TimedOut()), this.timeoutMs) };
    if (conn) {
      conn.send(req, bytes, p);
      return promise;
    }
    c.pending = p;
    Bun.connect<Conn>({ hostname: this.host, port: this.port, data: c, socket: HANDLERS }).then(
      (sock) => {
        if (c.pending !== p) return void sock.terminate(); // timed out while connecting
        c.sock = sock;
        c.send(req, bytes, p);
      },
      (e: Error) => c.fail(e),
    );
    return promise;
  }

  idle(c: Conn): void {
    c.idleSince = performance.now();
    this.free.push(c);
  }

  forget(c: Conn): void {
    const i = this.free.indexOf(c);
    if (i >= 0) this.free.splice(i, 1);
  }

  close(): void {
    for (const c of this.free.splice(0)) c.sock?.end();
  }
}

// A small HTTP/1.1 keep-alive client for the hook requests to an http:// backend, on Bun.connect
// sockets in the node's own event loop. Measured against Bun's fetch (which hands every request
// to its HTTP thread and back) on this 2-core machine: ~12 µs of CPU per request instead of ~31,
// p99 0.7 ms instead of 1.9 ms (docs/performance.md, "Hooks"). One request per connection at a
// time (no pipelining); idle connections are kept for the next request. What it reads is
// bounded: the head by HEAD_MAX, the body by `maxBody` (Content-Length, chunked, or until
// close), and each byte is handled once whatever the packet sizes (the body is one buffer,
// copied into). Connection attempts at once are capped (a backend dropping SYNs must not cost a
// socket per request). A request is never sent twice: a connection that fails before its
// answer is an error for that request (the caller reports E_BACKEND_UNAVAILABLE), never a
// silent retry.
import { type ConnOwner, Conn, HANDLERS, type HttpAnswer, type Pending, TimedOut } from "./http-conn.ts";

export { type HttpAnswer, TimedOut, TooLarge } from "./http-conn.ts";

/**
 * An idle connection older than this is closed rather than reused: servers close idle
 * keep-alive connections (Node's default after 5 s), and a request written into one that is
 * closing would fail without having run.
 */
const IDLE_MAX_MS = 4000;

export class HttpPool implements ConnOwner {
  private readonly free: Conn[] = [];
  /** Connection attempts not settled yet: one that timed out still holds a socket until the kernel gives up. */
  private connecting = 0;
  private closed = false;
  private readonly host: string;
  private readonly port: number;
  private readonly prefix: string;
  private readonly prefixBytes: number;

  /** `url`: an http:// URL; `maxConnecting`: connection attempts at once (past it a request fails at once). */
  constructor(url: URL, readonly maxBody: number, private readonly timeoutMs: number, private readonly maxConnecting = 64) {
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
    if (this.closed) return Promise.reject(new Error("the hook client is closed (the node is stopping)"));
    const { promise, resolve, reject } = Promise.withResolvers<HttpAnswer>();
    let conn = this.free.pop();
    while (conn !== undefined && performance.now() - conn.idleSince > IDLE_MAX_MS) {
      conn.dead = true;
      conn.sock?.end();
      conn = this.free.pop();
    }
    if (conn === undefined && this.connecting >= this.maxConnecting) {
      // A backend that does not accept (SYNs dropped) must not cost a socket per request.
      return Promise.reject(new Error(`${this.connecting} connection attempts to the backend are still pending`));
    }
    const c = conn ?? new Conn(this);
    const p: Pending = { resolve, reject, timer: setTimeout(() => c.fail(new TimedOut()), this.timeoutMs) };
    if (conn) {
      conn.send(req, bytes, p);
      return promise;
    }
    c.pending = p;
    this.connecting++;
    Bun.connect<Conn>({ hostname: this.host, port: this.port, data: c, socket: HANDLERS }).then(
      (sock) => {
        this.connecting--;
        if (c.pending !== p || this.closed) return void sock.terminate(); // timed out while connecting, or closed
        c.sock = sock;
        c.send(req, bytes, p);
      },
      (e: Error) => {
        this.connecting--;
        c.fail(e);
      },
    );
    return promise;
  }

  idle(c: Conn): void {
    if (this.closed) {
      c.dead = true;
      c.sock?.end();
      return;
    }
    c.idleSince = performance.now();
    this.free.push(c);
  }

  forget(c: Conn): void {
    const i = this.free.indexOf(c);
    if (i >= 0) this.free.splice(i, 1);
  }

  /** Closes idle connections; requests in flight finish, then their connections close too. */
  close(): void {
    this.closed = true;
    for (const c of this.free.splice(0)) c.sock?.end();
  }
}

// A minimal HTTP/1.1 keep-alive client over node:net for the api scenario: a pool of sockets, one
// request in flight per socket, Content-Length bodies only (what pushgate and the control send).
// fetch() costs the load process ~80 µs per request at 5,000 req/s, which put the generator,
// not the server, into the p99; this keeps the client's share small.
import net from "node:net";

export interface HttpAnswer { status: number; body: string }

interface Pending { resolve: (a: HttpAnswer) => void; reject: (e: Error) => void }

class Conn {
  private buf: Buffer | null = null;
  pending: Pending | null = null;
  readonly socket: net.Socket;

  constructor(host: string, port: number, private readonly onFree: (c: Conn) => void, private readonly onDead: (c: Conn) => void) {
    this.socket = net.connect({ host, port });
    this.socket.setNoDelay(true);
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    const fail = (e: Error) => {
      this.pending?.reject(e);
      this.pending = null;
      this.onDead(this);
    };
    this.socket.on("error", fail);
    this.socket.on("close", () => fail(new Error("connection closed")));
  }

  send(head: string, body: string, p: Pending): void {
    this.pending = p;
    this.socket.write(head + Buffer.byteLength(body) + "\r\n\r\n" + body);
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    const end = this.buf.indexOf("\r\n\r\n");
    if (end < 0) return;
    const head = this.buf.toString("latin1", 0, end);
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const len = m ? Number(m[1]) : 0;
    if (this.buf.length < end + 4 + len) return;
    const status = Number(head.slice(9, 12));
    const body = this.buf.toString("utf8", end + 4, end + 4 + len);
    this.buf = this.buf.length > end + 4 + len ? this.buf.subarray(end + 4 + len) : null;
    const p = this.pending;
    this.pending = null;
    this.onFree(this);
    p?.resolve({ status, body });
  }
}

export class HttpPool {
  private readonly free: Conn[] = [];
  private readonly all = new Set<Conn>();

  constructor(private readonly host: string, private readonly port: number, private readonly max: number) {}

  /** POST `body` (JSON text) to `path`; rejects on a connection error. */
  post(path: string, body: string): Promise<HttpAnswer> {
    const head = `POST ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nContent-Type: application/json\r\nContent-Length: `;
    const { promise, resolve, reject } = Promise.withResolvers<HttpAnswer>();
    const c = this.free.pop() ?? this.open();
    if (c === null) reject(new Error(`more than ${this.max} requests in flight`));
    else c.send(head, body, { resolve, reject });
    return promise;
  }

  close(): void {
    for (const c of this.all) c.socket.destroy();
  }

  private open(): Conn | null {
    if (this.all.size >= this.max) return null;
    const c = new Conn(this.host, this.port, (x) => this.free.push(x), (x) => {
      this.all.delete(x);
      const i = this.free.indexOf(x);
      if (i >= 0) this.free.splice(i, 1);
    });
    this.all.add(c);
    return c;
  }
}

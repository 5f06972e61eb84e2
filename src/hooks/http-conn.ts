// One keep-alive HTTP/1.1 connection of the hook client (http-pool.ts) and the answer it is
// reading: a streaming parser that looks at each byte once whatever the packet sizes (the body
// is one buffer, copied into), bounded by HEAD_MAX and the pool's maxBody. socket.data is the
// Conn: one static handler object, no closure per connection.
import type { Socket } from "bun";

/** Largest response head (status line and headers) read. */
const HEAD_MAX = 16 * 1024;
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

export interface Pending {
  resolve(a: HttpAnswer): void;
  reject(e: Error): void;
  timer: Timer;
}

/** What a connection needs of its pool. */
export interface ConnOwner {
  readonly maxBody: number;
  idle(c: Conn): void;
  forget(c: Conn): void;
}

/** Where the reader is in an answer: each incoming packet is consumed once, byte ranges copied once. */
const enum St { Head, Length, Close, ChunkSize, ChunkData, ChunkEnd, Trailers, Done }

/** One keep-alive connection and the answer it is reading (socket.data). */
export class Conn {
  sock: Socket<Conn> | null = null;
  pending: Pending | null = null;
  dead = false;
  idleSince = 0;
  private st = St.Head;
  /** The unparsed bytes of a head, a chunk-size line or trailers (bounded by HEAD_MAX). */
  private line: Buffer = Buffer.alloc(0);
  private status = 0;
  /** Bytes left of a Content-Length body, of a chunk, or of a chunk's closing CRLF. */
  private left = 0;
  private closeAfter = false;
  /** The body: one buffer, sized by Content-Length or grown by doubling up to maxBody. */
  private body: Buffer | null = null;
  private size = 0;
  /** Bytes still to write (the socket took only part of the request). */
  private unsent: Buffer | null = null;

  constructor(private readonly pool: ConnOwner) {}

  /** `req`: the whole request; `bytes`: its length in bytes. */
  send(req: string, bytes: number, p: Pending): void {
    this.pending = p;
    this.resetParse();
    this.unsent = null;
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
    try {
      this.consume(chunk);
    } catch (e) {
      this.fail(e as Error);
    }
  }

  closed(): void {
    this.dead = true;
    this.sock = null;
    this.pool.forget(this);
    if (this.pending === null) return;
    if (this.st === St.Close) return this.finish(false);
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
    this.st = St.Head;
    this.line = Buffer.alloc(0);
    this.status = 0;
    this.left = 0;
    this.closeAfter = false;
    this.body = null;
    this.size = 0;
  }

  /** Consumes one packet: every byte is looked at once, whatever the packet sizes. */
  private consume(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && this.pending !== null) {
      switch (this.st) {
        case St.Head: {
          const end = this.lineUntil(chunk, off, HEAD_END, HEAD_MAX, "head");
          if (end < 0) return;
          const text = this.line.toString("latin1", 0, this.line.length - 4);
          this.line = Buffer.alloc(0);
          off = end;
          this.head(text);
          if ((this.st as St) === St.Done) this.finish(off < chunk.length);
          break;
        }
        case St.Length: {
          const n = Math.min(this.left, chunk.length - off);
          this.take(chunk, off, n);
          off += n;
          this.left -= n;
          if (this.left === 0) {
            if (off < chunk.length) throw new Error("the backend sent more than its Content-Length");
            this.finish(false);
          }
          break;
        }
        case St.Close:
          this.take(chunk, off, chunk.length - off);
          off = chunk.length;
          break;
        case St.ChunkSize: {
          const end = this.lineUntil(chunk, off, CRLF, 1024, "chunk-size line");
          if (end < 0) return;
          off = end;
          const n = chunkSize(this.line);
          this.line = Buffer.alloc(0);
          if (n === 0) {
            this.st = St.Trailers;
            this.left = 0;
          } else {
            if (this.size + n > this.pool.maxBody) throw new TooLarge();
            this.st = St.ChunkData;
            this.left = n;
          }
          break;
        }
        case St.ChunkData: {
          const n = Math.min(this.left, chunk.length - off);
          this.take(chunk, off, n);
          off += n;
          this.left -= n;
          if (this.left === 0) {
            this.st = St.ChunkEnd;
            this.left = 2;
          }
          break;
        }
        case St.ChunkEnd: {
          if (chunk[off] !== (this.left === 2 ? 13 : 10)) throw new Error("a chunk of the backend's answer does not end with CRLF");
          off++;
          if (--this.left === 0) this.st = St.ChunkSize;
          break;
        }
        case St.Trailers: {
          // Trailer lines, then an empty line; `left` counts their bytes (at most HEAD_MAX).
          const end = this.lineUntil(chunk, off, CRLF, HEAD_MAX - this.left, "trailers");
          if (end < 0) return;
          off = end;
          const empty = this.line.length === 2;
          this.left += this.line.length;
          this.line = Buffer.alloc(0);
          if (empty) this.finish(off < chunk.length);
          break;
        }
        case St.Done:
          throw new Error("the backend sent bytes after its answer");
      }
    }
  }

  /**
   * Gathers `line` bytes until `sep` (included); the offset after it in `chunk`, or -1 (all of
   * the packet taken, more needed). At most `max` bytes, else the answer is refused.
   */
  private lineUntil(chunk: Buffer, off: number, sep: Buffer, max: number, what: string): number {
    const before = this.line.length;
    // Only the tail of the old bytes can start a separator that this packet completes.
    const from = Math.max(0, before - sep.length + 1);
    this.line = before === 0 ? chunk.subarray(off) : Buffer.concat([this.line, chunk.subarray(off)]);
    const at = this.line.indexOf(sep, from);
    if (at < 0) {
      if (this.line.length > max) throw new Error(`the backend's answer ${what} is over ${max} bytes`);
      if (before === 0) this.line = Buffer.from(this.line); // own the bytes: the packet's buffer is not ours to keep
      return -1;
    }
    const end = at + sep.length;
    if (end > max) throw new Error(`the backend's answer ${what} is over ${max} bytes`);
    this.line = this.line.subarray(0, end);
    return off + (end - before);
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
    this.closeAfter = close || (chunked && length >= 0); // both framings: not to be trusted for the next answer
    if (status === 204 || status === 304) {
      this.st = St.Done;
    } else if (chunked) {
      this.st = St.ChunkSize;
    } else if (length >= 0) {
      if (length > this.pool.maxBody) throw new TooLarge();
      this.st = length === 0 ? St.Done : St.Length;
      this.left = length;
      if (length > 0) this.body = Buffer.allocUnsafe(length);
    } else {
      this.st = St.Close;
      this.closeAfter = true;
    }
  }

  /** Copies `n` bytes of the packet into the body (bounded by maxBody). */
  private take(chunk: Buffer, off: number, n: number): void {
    if (n === 0) return;
    const need = this.size + n;
    if (need > this.pool.maxBody) throw new TooLarge();
    if (this.body === null || this.body.length < need) {
      const grown = Buffer.allocUnsafe(Math.min(this.pool.maxBody, Math.max(need, 2 * (this.body?.length ?? 512))));
      if (this.body !== null) this.body.copy(grown, 0, 0, this.size);
      this.body = grown;
    }
    chunk.copy(this.body, this.size, off, off + n);
    this.size = need;
  }

  /** The answer is complete; `extra`: bytes followed it (the connection is not reused). */
  private finish(extra: boolean): void {
    const p = this.pending!;
    this.pending = null;
    clearTimeout(p.timer);
    const text = this.body === null ? "" : this.body.toString("utf8", 0, this.size);
    const status = this.status;
    // Not reused when the request is not all written yet (an early answer), or it must not be.
    const reuse = !this.closeAfter && !extra && !this.dead && this.unsent === null;
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

/** The size of a chunk-size line (hex, extensions after ';' ignored, CRLF included). */
function chunkSize(line: Buffer): number {
  let end = line.length - 2;
  const semi = line.indexOf(59);
  if (semi >= 0 && semi < end) end = semi;
  const text = line.toString("latin1", 0, end).trim();
  if (!/^[0-9a-fA-F]{1,8}$/.test(text)) throw new Error("a malformed chunk size in the backend's answer");
  return parseInt(text, 16);
}

function isDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export const HANDLERS = {
  data: (s: Socket<Conn>, d: Buffer) => s.data.data(d),
  drain: (s: Socket<Conn>) => s.data.drain(),
  close: (s: Socket<Conn>) => s.data.closed(),
  end: (s: Socket<Conn>) => s.data.closed(),
  error: (s: Socket<Conn>, e: Error) => s.data.fail(e),
  connectError: (s: Socket<Conn>, e: Error) => s.data.fail(e),
};


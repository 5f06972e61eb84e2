// The attacker's WebSocket client (adversarial scenario) over node:net: prebuilt frames written
// as they are, every close code and reason, the status and body of a refused upgrade, and large
// server frames (replays, broadcasts) joined once per frame rather than once per chunk.
import { encodeMasked, upgraded } from "../lib/ws-client.ts";
import net from "node:net";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** Frames up to this size are decoded for the answer classifier; larger ones only by their head. */
const DECODE_MAX = 256 * 1024;
/** Kept for the first collector: the first few small frames only. */
const BACKLOG_FRAMES = 4;
const BACKLOG_FRAME_MAX = 4096;

export interface AttackTarget {
  host: string;
  port: number;
  localAddress?: string;
  /** Request path and query, default "/" (e.g. "/?token=…"). */
  path?: string;
  /** Offered Sec-WebSocket-Protocol, e.g. "pushgate.v1"; none when absent. */
  protocol?: string;
}

/** One inbound text frame: its first bytes always, its whole text when it is small. */
export interface InFrame { len: number; head: string; text: string | null }

/** Answers an inbound frame with a tag (it is the awaited answer) or null (not an answer). */
export type Classify = (f: InFrame) => string | null;

/** The upgrade was answered with something other than 101. */
export class Refused extends Error {
  constructor(readonly status: number, readonly body: string) {
    super(`upgrade refused: ${status} ${body.slice(0, 200)}`);
  }

  /** `401 E_AUTH_FAILED` (the JSON error code of the body when there is one). */
  get tag(): string {
    return `${this.status} ${/"code":"([A-Z_]+)"/.exec(this.body)?.[1] ?? "(no code)"}`.trim();
  }
}

interface Collector { classify: Classify; want: number; got: Map<string, number>; n: number; done: () => void }

/**
 * A client frame: FIN, text (or `opcode`), masked with the all-zero key — legal (RFC 6455 asks
 * for a random key, servers cannot tell) and it lets a frame be built once and written many times
 * without masking cost in the attacker, whose CPU shares the machine with the server.
 */
export function clientFrame(payload: string | Buffer, opcode = 0x1): Buffer {
  return encodeMasked(opcode, typeof payload === "string" ? Buffer.from(payload) : payload, 0);
}

export class AttackWs {
  /** Text frames received and their bytes. */
  frames = 0;
  bytes = 0;
  /** `close <code> <reason, cut to 44 characters>` once closed (1006 without a close frame). */
  closeTag: string | null = null;
  readonly closed: Promise<void>;
  private chunks: Buffer[] = [];
  private have = 0;
  private need = 1;
  private upgraded = false;
  private readonly collectors = new Set<Collector>();
  /** Small frames that came before the first collect() (a login reply in the 101's own packet); null after it. */
  private backlog: InFrame[] | null = [];
  private readonly socket: net.Socket;
  private readonly key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  private readonly handshake = Promise.withResolvers<void>();

  private constructor(t: AttackTarget) {
    const closed = Promise.withResolvers<void>();
    this.closed = closed.promise;
    this.handshake.promise.catch(() => {});
    this.socket = net.connect(t.localAddress === undefined ? { host: t.host, port: t.port } : { host: t.host, port: t.port, localAddress: t.localAddress });
    this.socket.setNoDelay(true);
    this.socket.on("connect", () => {
      this.socket.write(
        `GET ${t.path ?? "/"} HTTP/1.1\r\nHost: ${t.host}:${t.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n` +
        (t.protocol ? `Sec-WebSocket-Protocol: ${t.protocol}\r\n\r\n` : "\r\n"),
      );
    });
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("error", (e) => this.handshake.reject(e));
    this.socket.on("close", () => {
      this.closeTag ??= "close 1006";
      this.handshake.reject(new Error("socket closed before upgrade"));
      for (const c of this.collectors) c.done();
      closed.resolve();
    });
  }

  /** Connects and upgrades; rejects with Refused for a non-101 answer, or an Error (timeout, reset). */
  static async open(t: AttackTarget, timeoutMs = 10_000): Promise<AttackWs> {
    const c = new AttackWs(t);
    await upgraded(c.handshake, c.socket, timeoutMs);
    return c;
  }

  get open(): boolean {
    return this.closeTag === null;
  }

  /** Writes prebuilt frames (clientFrame) in one go. */
  write(...frames: Buffer[]): void {
    if (!this.open) return;
    this.socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
  }

  send(text: string): void {
    this.write(clientFrame(text));
  }

  /**
   * Resolves with how many inbound frames got each tag, once `want` frames were answers, the
   * socket closed (its close tag is counted) or timeoutMs passed (`timeout` counted). Start it
   * before writing the frames it waits for.
   */
  collect(want: number, classify: Classify, timeoutMs: number): Promise<Map<string, number>> {
    const got = new Map<string, number>();
    const { promise, resolve } = Promise.withResolvers<Map<string, number>>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const c: Collector = {
      classify, want, got, n: 0,
      done: () => {
        if (!this.collectors.delete(c)) return;
        clearTimeout(timer);
        if (c.n < want && this.closeTag !== null) got.set(this.closeTag, (got.get(this.closeTag) ?? 0) + 1);
        resolve(got);
      },
    };
    if (want <= 0) return Promise.resolve(got);
    this.collectors.add(c);
    for (const f of this.backlog ?? []) this.offer(c, f);
    this.backlog = null;
    if (!this.collectors.has(c)) return promise;
    if (this.closeTag !== null) c.done();
    else {
      timer = setTimeout(() => {
        got.set("timeout", (got.get("timeout") ?? 0) + (want - c.n));
        c.n = want;
        c.done();
      }, timeoutMs);
    }
    return promise;
  }

  /** One answer (collect(1)). */
  async answer(classify: Classify, timeoutMs: number): Promise<string> {
    const m = await this.collect(1, classify, timeoutMs);
    return [...m.keys()][0] ?? "none";
  }

  /** Close frame 1000, then the socket is destroyed. */
  close(): void {
    if (this.open) {
      const code = Buffer.alloc(2);
      code.writeUInt16BE(1000);
      this.socket.write(clientFrame(code, 0x8));
      this.socket.end();
    }
    setTimeout(() => this.socket.destroy(), 200).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.have += chunk.length;
    if (this.have < this.need) return;
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.have);
    this.chunks = [];
    this.have = 0;
    let off = 0;
    if (!this.upgraded) {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return this.keep(buf, 0, buf.length + 1);
      const head = buf.toString("latin1", 0, end);
      const status = Number(head.slice(9, 12));
      if (status !== 101) {
        const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? "0");
        if (buf.length < end + 4 + len) return this.keep(buf, 0, end + 4 + len);
        this.handshake.reject(new Refused(status, buf.toString("utf8", end + 4, end + 4 + len)));
        this.socket.destroy();
        return;
      }
      const accept = new Bun.CryptoHasher("sha1").update(this.key + GUID).digest("base64");
      if (/\r\nsec-websocket-accept:\s*(\S+)/i.exec(head)?.[1] !== accept) {
        this.handshake.reject(new Error("bad Sec-WebSocket-Accept"));
        this.socket.destroy();
        return;
      }
      this.upgraded = true;
      this.handshake.resolve();
      off = end + 4;
    }
    const n = buf.length;
    while (off + 2 <= n) {
      const b0 = buf[off]!;
      let len = buf[off + 1]! & 0x7f;
      let head = 2;
      if (len === 126) {
        if (off + 4 > n) return this.keep(buf, off, 4);
        len = buf.readUInt16BE(off + 2);
        head = 4;
      } else if (len === 127) {
        if (off + 10 > n) return this.keep(buf, off, 10);
        len = Number(buf.readBigUInt64BE(off + 2));
        head = 10;
      }
      if (off + head + len > n) return this.keep(buf, off, head + len);
      this.onFrame(b0 & 0x0f, buf, off + head, off + head + len);
      off += head + len;
    }
    this.keep(buf, off, 2);
  }

  /** Keeps buf[off..] for the next chunk; `need` bytes from off complete what is pending. */
  private keep(buf: Buffer, off: number, need: number): void {
    if (off < buf.length) {
      const rest = buf.subarray(off);
      this.chunks = [rest];
      this.have = rest.length;
    }
    this.need = need;
  }

  private inFrame(buf: Buffer, start: number, end: number): InFrame {
    const len = end - start;
    return { len, head: buf.toString("utf8", start, Math.min(end, start + 64)), text: len <= DECODE_MAX ? buf.toString("utf8", start, end) : null };
  }

  private offer(c: Collector, f: InFrame): void {
    const tag = c.classify(f);
    if (tag === null) return;
    c.got.set(tag, (c.got.get(tag) ?? 0) + 1);
    if (++c.n >= c.want) c.done();
  }

  private onFrame(opcode: number, buf: Buffer, start: number, end: number): void {
    if (opcode === 0x1) {
      this.frames++;
      this.bytes += end - start;
      const len = end - start;
      if (this.collectors.size === 0) {
        if (this.backlog && len <= BACKLOG_FRAME_MAX && this.backlog.length < BACKLOG_FRAMES) this.backlog.push(this.inFrame(buf, start, end));
        return;
      }
      const f = this.inFrame(buf, start, end);
      for (const c of this.collectors) this.offer(c, f);
    } else if (opcode === 0x9) {
      this.socket.write(clientFrame(Buffer.from(buf.subarray(start, end)), 0xa));
    } else if (opcode === 0x8) {
      const code = end - start >= 2 ? buf.readUInt16BE(start) : 1005;
      const reason = buf.toString("utf8", start + 2, end);
      this.closeTag = `close ${code}${reason ? " " + reason.slice(0, 44) : ""}`;
      this.socket.end();
      for (const c of this.collectors) c.done();
    }
  }
}

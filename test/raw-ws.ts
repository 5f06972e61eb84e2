// A raw TCP WebSocket client for frames a well-behaved client library will not send:
// truncated, unmasked, oversized, binary, invalid UTF-8.
import type { Socket } from "bun";

export interface RawFrame { opcode: number; payload: Buffer }

export class RawWs {
  private buf: Buffer = Buffer.alloc(0);
  private handshakeDone = false;
  readonly frames: RawFrame[] = [];
  /** The server's handshake response head (status line and headers). */
  responseHead = "";
  readonly ended: Promise<void>;
  private endResolve!: () => void;
  private waiters: Array<() => void> = [];
  socket!: Socket<undefined>;
  /** Set false to leave pings unanswered (idle-timeout tests). */
  answerPings = true;

  private constructor() {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.ended = promise;
    this.endResolve = resolve;
  }

  static async open(port: number, path = "/", extraHeaders = ""): Promise<RawWs> {
    const raw = new RawWs();
    const upgraded = Promise.withResolvers<void>();
    raw.socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data: (_s, chunk) => {
          raw.buf = Buffer.concat([raw.buf, chunk]);
          if (!raw.handshakeDone) {
            const end = raw.buf.indexOf("\r\n\r\n");
            if (end === -1) return;
            const head = raw.buf.subarray(0, end).toString();
            raw.responseHead = head;
            raw.buf = raw.buf.subarray(end + 4);
            raw.handshakeDone = true;
            if (!head.startsWith("HTTP/1.1 101")) upgraded.reject(new Error(head.split("\r\n")[0]));
            else upgraded.resolve();
          }
          raw.parse();
        },
        close: () => raw.endResolve(),
        error: () => raw.endResolve(),
      },
    });
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
    raw.socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`,
    );
    await upgraded.promise;
    return raw;
  }

  private parse(): void {
    const { frames, rest } = parseFrames(this.buf);
    this.buf = rest;
    for (const frame of frames) {
      if (frame.opcode === 0x9 && this.answerPings) this.socket.write(encodeFrame(0xa, frame.payload));
      this.frames.push(frame);
    }
    if (frames.length > 0) for (const w of this.waiters.splice(0)) w();
  }

  /** Waits for the first frame matching `pred` (default: any) after index `from`. */
  async waitFrame(pred: (f: RawFrame) => boolean = () => true, ms = 3000): Promise<RawFrame> {
    const end = performance.now() + ms;
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (performance.now() > end) throw new Error("no matching frame");
      const { promise, resolve } = Promise.withResolvers<void>();
      this.waiters.push(resolve);
      await Promise.race([promise, Bun.sleep(50)]);
    }
  }

  /** The close frame's code and reason, once the server sent one. */
  async closeFrame(ms = 3000): Promise<{ code: number; reason: string }> {
    const f = await this.waitFrame((x) => x.opcode === 0x8, ms);
    return { code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005, reason: f.payload.subarray(2).toString() };
  }

  texts(): string[] {
    return this.frames.filter((f) => f.opcode === 0x1).map((f) => f.payload.toString());
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  sendText(text: string): void {
    this.write(encodeFrame(0x1, Buffer.from(text)));
  }

  end(): void {
    this.socket.end();
  }
}

/** A client frame: FIN set, masked unless `mask` is false. */
export function encodeFrame(opcode: number, payload: Uint8Array, mask = true, fin = true): Buffer {
  const len = payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | opcode];
  const m = mask ? 0x80 : 0;
  if (len < 126) head.push(m | len);
  else if (len < 65536) head.push(m | 126, len >> 8, len & 0xff);
  else {
    head.push(m | 127);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(len));
    head.push(...b);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = crypto.getRandomValues(new Uint8Array(4));
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i]! ^ key[i & 3]!;
  return Buffer.concat([Buffer.from(head), key, body]);
}

/** Splits server frames (unmasked) off the front of `buf`; `rest` is an incomplete tail. */
export function parseFrames(buf: Buffer): { frames: RawFrame[]; rest: Buffer } {
  const frames: RawFrame[] = [];
  for (;;) {
    if (buf.length < 2) break;
    let len = buf[1]! & 0x7f;
    let off = 2;
    if (len === 126) { if (buf.length < 4) break; len = buf.readUInt16BE(2); off = 4; }
    else if (len === 127) { if (buf.length < 10) break; len = Number(buf.readBigUInt64BE(2)); off = 10; }
    if (buf.length < off + len) break;
    frames.push({ opcode: buf[0]! & 0x0f, payload: Buffer.from(buf.subarray(off, off + len)) });
    buf = buf.subarray(off + len);
  }
  return { frames, rest: buf };
}

/** A logged-in seed client over node:net that then stops reading (socket.pause()). */
export async function stalledClient(port: number, uid: string): Promise<import("node:net").Socket> {
  const { connect } = await import("node:net");
  const sock = connect(port, "127.0.0.1");
  await new Promise((r) => sock.once("connect", r));
  sock.write(
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  await new Promise((r) => sock.once("data", r));
  sock.write(encodeFrame(0x1, Buffer.from(uid)));
  await new Promise((r) => sock.once("data", r)); // login reply
  sock.pause();
  return sock;
}

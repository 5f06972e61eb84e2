// Minimal RFC 6455 client over node:net, so each socket can pick its source address (Bun's
// WebSocket and Bun.connect cannot). Text frames in and out, pings answered, close frames read;
// server frames must be unmasked and unfragmented (Bun never fragments these small frames).
import net from "node:net";
import { JSON_SUBPROTOCOL } from "./wire.ts";

/** Called once per inbound text frame with its bytes buf[start, end); nowNs = arrival of the chunk. */
export type TextHandler = (conn: WsConn, buf: Buffer, start: number, end: number, nowNs: number) => void;

const ignore: TextHandler = () => {};
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/**
 * localAddress: bind the source address first (omit it to let connect() pick the port by 4-tuple).
 * json: offer the pushgate.v1 subprotocol (the server must accept it).
 */
export interface WsTarget { host: string; port: number; localAddress?: string; json?: boolean }

export class WsConn {
  handler: TextHandler = ignore;
  /** Speaks pushgate.v1 (see wire.ts) rather than the seed text protocol. */
  readonly json: boolean;
  /** Dense index set by whoever drives the connection (a scenario's receiver slot). */
  slot = -1;
  open = false;
  closeCode = 0;
  /** Frames this minimal client does not expect: binary, continuation, masked, non-FIN. */
  unexpectedFrames = 0;
  readonly closed: Promise<void>;
  private rest: Buffer | null = null;
  private upgraded = false;
  private readonly socket: net.Socket;
  private readonly key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  private readonly handshake = Promise.withResolvers<void>();

  private constructor(readonly uid: string, t: WsTarget) {
    const closed = Promise.withResolvers<void>();
    this.closed = closed.promise;
    this.json = t.json === true;
    this.handshake.promise.catch(() => {});
    this.socket = net.connect(t.localAddress === undefined ? { host: t.host, port: t.port } : { host: t.host, port: t.port, localAddress: t.localAddress });
    this.socket.setNoDelay(true);
    this.socket.on("connect", () => {
      this.socket.write(
        `GET / HTTP/1.1\r\nHost: ${t.host}:${t.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n` +
        (this.json ? `Sec-WebSocket-Protocol: ${JSON_SUBPROTOCOL}\r\n\r\n` : "\r\n"),
      );
    });
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("error", (e) => this.handshake.reject(e));
    this.socket.on("close", () => {
      this.open = false;
      this.handshake.reject(new Error("socket closed before upgrade"));
      closed.resolve();
    });
  }

  /** Connects and completes the upgrade, or rejects (and destroys the socket) after timeoutMs. */
  static async connect(uid: string, t: WsTarget, timeoutMs: number): Promise<WsConn> {
    const c = new WsConn(uid, t);
    await upgraded(c.handshake, c.socket, timeoutMs);
    return c;
  }

  /** One allocation per frame: the text is written straight into the frame and masked in place. */
  sendText(text: string): void {
    if (!this.open) return;
    const len = Buffer.byteLength(text);
    if (len >= 126) {
      this.socket.write(encodeMasked(0x1, Buffer.from(text)));
      return;
    }
    const frame = Buffer.allocUnsafe(6 + len);
    frame[0] = 0x81;
    frame[1] = 0x80 | len;
    frame.writeUInt32BE((Math.random() * 0x100000000) >>> 0, 2);
    frame.write(text, 6);
    for (let i = 0; i < len; i++) frame[6 + i] = frame[6 + i]! ^ frame[2 + (i & 3)]!;
    this.socket.write(frame);
  }

  /**
   * Ends the TCP connection with a reset, no close handshake: the load processes' teardown. A
   * normal close leaves this side in TIME_WAIT for 60 s, and tens of thousands of those made the
   * next round's connects slow (binding a chosen source address has to skip their ports).
   */
  reset(): void {
    this.open = false;
    this.socket.resetAndDestroy();
  }

  /** Sends a 1000 close frame and ends the socket; destroys it if still open after ms. */
  close(ms: number): void {
    if (this.open) {
      const code = Buffer.alloc(2);
      code.writeUInt16BE(1000);
      this.socket.write(encodeMasked(0x8, code));
      this.socket.end();
    }
    this.open = false;
    setTimeout(() => this.socket.destroy(), ms).unref();
  }

  private onData(chunk: Buffer): void {
    const now = Bun.nanoseconds();
    let buf = chunk;
    if (this.rest) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    let off = 0;
    if (!this.upgraded) {
      const end = buf.indexOf("\r\n\r\n");
      if (end === -1) {
        this.rest = Buffer.from(buf);
        return;
      }
      const head = buf.toString("latin1", 0, end);
      const problem = checkUpgrade(head, this.key, this.json);
      if (problem) {
        this.handshake.reject(new Error(problem));
        this.socket.destroy();
        return;
      }
      this.upgraded = true;
      this.open = true;
      this.handshake.resolve();
      off = end + 4;
    }
    const n = buf.length;
    while (off + 2 <= n) {
      const b0 = buf[off]!;
      const b1 = buf[off + 1]!;
      let len = b1 & 0x7f;
      let head = 2;
      if (len === 126) {
        if (off + 4 > n) break;
        len = buf.readUInt16BE(off + 2);
        head = 4;
      } else if (len === 127) {
        if (off + 10 > n) break;
        len = Number(buf.readBigUInt64BE(off + 2));
        head = 10;
      }
      if (b1 & 0x80) head += 4; // masked server frame: a protocol error, skipped below
      const start = off + head;
      const end = start + len;
      if (end > n) break;
      off = end;
      const opcode = b0 & 0x0f;
      if ((b0 & 0x80) === 0 || (b1 & 0x80) !== 0) this.unexpectedFrames++;
      else if (opcode === 0x1) this.handler(this, buf, start, end, now);
      else if (opcode === 0x9) this.socket.write(encodeMasked(0xa, buf.subarray(start, end)));
      else if (opcode === 0x8) {
        this.closeCode = len >= 2 ? buf.readUInt16BE(start) : 1005;
        this.open = false;
        this.socket.end();
      } else if (opcode !== 0xa) this.unexpectedFrames++;
    }
    if (off < n) this.rest = Buffer.from(buf.subarray(off));
  }
}

function checkUpgrade(head: string, key: string, json: boolean): string | null {
  const status = head.slice(0, head.indexOf("\r\n"));
  if (!/^HTTP\/1\.1 101\b/.test(status)) return `upgrade refused: ${status}`;
  if (json && !new RegExp(`\\r\\nsec-websocket-protocol:\\s*${JSON_SUBPROTOCOL}\\b`, "i").test(head)) return "pushgate.v1 was not accepted";
  const accept = new Bun.CryptoHasher("sha1").update(key + GUID).digest("base64");
  const m = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(head);
  return m?.[1] === accept ? null : "bad Sec-WebSocket-Accept";
}

/**
 * A client frame, FIN set, masked with `key` (random by default; a zero key leaves the payload as
 * it is, so a frame can be built once and written many times without masking cost).
 */
/** Waits for a raw connection's upgrade, or rejects (and destroys the socket) after `timeoutMs`. */
export async function upgraded(handshake: PromiseWithResolvers<void>, socket: { destroy(): void }, timeoutMs: number): Promise<void> {
  const timer = setTimeout(() => handshake.reject(new Error("upgrade timeout")), timeoutMs);
  try {
    await handshake.promise;
  } catch (e) {
    socket.destroy();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

export function encodeMasked(opcode: number, payload: Uint8Array, key = (Math.random() * 0x100000000) >>> 0): Buffer {
  const len = payload.length;
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + 4 + len);
  frame[0] = 0x80 | opcode;
  if (len < 126) frame[1] = 0x80 | len;
  else if (len < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(len), 2);
  }
  frame.writeUInt32BE(key, head);
  const body = head + 4;
  if (key === 0) frame.set(payload, body);
  else for (let i = 0; i < len; i++) frame[body + i] = payload[i]! ^ frame[head + (i & 3)]!;
  return frame;
}

// A pushgate.v1 test client: a real WebSocket offering the "pushgate.v1" subprotocol, whose
// inbound frames are parsed as JSON and queued so a test can await them one by one.
import type { Closed } from "./helpers.ts";

export const JSON_PROTOCOL = "pushgate.v1";

/** One server → client frame. Fields other than `type` depend on the type (docs/protocol.md). */
export type JsonFrame = { type: string } & Record<string, any>;

export interface JsonConnectOptions {
  /** Put on the upgrade URL as `?token=…`. */
  token?: string;
  /** Path (and query) of the upgrade URL, default "/". Ignored when `token` is given. */
  path?: string;
}

export class JsonClient {
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<Closed>;
  /** Every frame received, in order (including those already taken by next()). */
  readonly received: JsonFrame[] = [];
  private readonly queue: JsonFrame[] = [];
  private waiter: ((f: JsonFrame) => void) | null = null;

  constructor(url: string) {
    this.ws = new WebSocket(url, [JSON_PROTOCOL]);
    const open = Promise.withResolvers<void>();
    const closed = Promise.withResolvers<Closed>();
    this.opened = open.promise;
    this.closed = closed.promise;
    this.opened.catch(() => {});
    this.ws.onopen = () => open.resolve();
    this.ws.onerror = () => open.reject(new Error("websocket error before open"));
    this.ws.onclose = (e) => {
      open.reject(new Error(`websocket closed before open (${e.code})`));
      closed.resolve({ code: e.code, reason: e.reason });
    };
    this.ws.onmessage = (e) => {
      const text = typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data as ArrayBuffer);
      let frame: JsonFrame;
      try {
        frame = JSON.parse(text) as JsonFrame;
      } catch {
        frame = { type: "__not_json__", text };
      }
      this.received.push(frame);
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w(frame);
      } else this.queue.push(frame);
    };
  }

  static url(pg: { port: number }, opts: JsonConnectOptions = {}): string {
    const path = opts.token !== undefined ? `/?token=${encodeURIComponent(opts.token)}` : (opts.path ?? "/");
    return `ws://127.0.0.1:${pg.port}${path}`;
  }

  /** Opens a connection (resolves once open; nothing is sent). */
  static async connect(pg: { port: number }, opts: JsonConnectOptions = {}): Promise<JsonClient> {
    const c = new JsonClient(JsonClient.url(pg, opts));
    await c.opened;
    return c;
  }

  /** The negotiated subprotocol. */
  get protocol(): string {
    return this.ws.protocol;
  }

  /** Sends one frame as JSON text (a string is sent as is). */
  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /**
   * The next frame, or a rejection after `ms`. With `type`, the next frame must have that type:
   * anything else rejects with the frame in the message (frames are never skipped silently).
   */
  async next(type?: string, ms = 2000): Promise<JsonFrame> {
    const frame = await this.take(ms, type);
    if (type !== undefined && frame.type !== type) {
      throw new Error(`expected a ${type} frame, got ${JSON.stringify(frame)}`);
    }
    return frame;
  }

  private take(ms: number, type: string | undefined): Promise<JsonFrame> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    const { promise, resolve, reject } = Promise.withResolvers<JsonFrame>();
    const timer = setTimeout(() => {
      this.waiter = null;
      reject(new Error(`no ${type ?? "frame"} within ${ms} ms`));
    }, ms);
    this.waiter = (f) => {
      clearTimeout(timer);
      resolve(f);
    };
    return promise;
  }

  /** Resolves true when no frame arrives within `ms` (a frame that does arrive stays queued). */
  async nothingWithin(ms = 150): Promise<boolean> {
    try {
      const f = await this.take(ms, undefined);
      this.queue.unshift(f);
      return false;
    } catch {
      return true;
    }
  }

  /** Resolves with the close, or rejects after `ms`. */
  closedWithin(ms = 3000): Promise<Closed> {
    return Promise.race([
      this.closed,
      Bun.sleep(ms).then(() => { throw new Error(`not closed within ${ms} ms`); }),
    ]);
  }

  close(): void {
    if (this.ws.readyState <= 1) this.ws.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

// Test helpers: real servers on port 0, real sockets, socket events as awaitable promises.
import { describe } from "bun:test";
import { type Pushgate, startPushgate } from "../src/server.ts";
import type { Config } from "../src/config/types.ts";

export function startTestServer(overrides: Partial<Config> = {}): Pushgate {
  return startPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", ...overrides });
}

export interface Closed { code: number; reason: string }

/** What Bun's WebSocket client takes beyond the URL, and next()'s default wait. */
export interface TestClientOptions {
  protocols?: string | string[];
  /** Request headers (Bun's client sends them with the upgrade). */
  headers?: Record<string, string>;
  /** e.g. { rejectUnauthorized: false } for a self-signed certificate. */
  tls?: Bun.WebSocketOptions["tls"];
  /** next()'s default timeout in ms (2000). */
  nextMs?: number;
}

/** A WebSocket client whose messages queue up and can be awaited one by one. */
export class TestClient {
  readonly ws: WebSocket;
  /** Rejects on an error or a close before the socket opened. */
  readonly opened: Promise<void>;
  readonly closed: Promise<Closed>;
  private readonly queue: string[] = [];
  private waiter: { resolve: (m: string) => void } | null = null;
  private readonly nextMs: number;
  readonly received: string[] = [];

  constructor(url: string, opts?: string | string[] | TestClientOptions) {
    if (opts === undefined || typeof opts === "string" || Array.isArray(opts)) {
      this.ws = new WebSocket(url, opts);
      this.nextMs = 2000;
    } else {
      const { protocols = [], headers = {}, tls, nextMs = 2000 } = opts;
      this.ws = new WebSocket(url, tls ? { protocols, headers, tls } : { protocols, headers });
      this.nextMs = nextMs;
    }
    const open = Promise.withResolvers<void>();
    const closed = Promise.withResolvers<Closed>();
    this.opened = open.promise;
    this.closed = closed.promise;
    this.ws.onopen = () => open.resolve();
    this.ws.onerror = () => open.reject(new Error(`websocket error before open (${url})`));
    // After open this reject is a no-op (a settled promise stays as it is).
    this.ws.onclose = (e) => {
      open.reject(new Error(`closed ${e.code} before open (${url})`));
      closed.resolve({ code: e.code, reason: e.reason });
    };
    this.ws.onmessage = (e) => {
      const text = typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data as ArrayBuffer);
      this.received.push(text);
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w.resolve(text);
      } else this.queue.push(text);
    };
    this.opened.catch(() => {});
  }

  static async connect(pg: { port: number }, opts?: string | string[] | TestClientOptions): Promise<TestClient> {
    const c = new TestClient(`ws://127.0.0.1:${pg.port}/`, opts);
    await c.opened;
    return c;
  }

  /** Connect and log in with the seed protocol; resolves after the login reply. */
  static async login(pg: { port: number }, uid: string): Promise<TestClient> {
    const c = await TestClient.connect(pg);
    c.send(uid);
    const reply = await c.next();
    if (reply !== `login success, your uid is ${uid}`) throw new Error(`unexpected login reply: ${reply}`);
    return c;
  }

  send(text: string | Uint8Array): void {
    this.ws.send(text);
  }

  /** The next message, or a rejection after `ms` (default: the nextMs option, else 2000). */
  next(ms = this.nextMs): Promise<string> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    const { promise, resolve, reject } = Promise.withResolvers<string>();
    const timer = setTimeout(() => {
      this.waiter = null;
      reject(new Error(`no message within ${ms} ms`));
    }, ms);
    this.waiter = { resolve: (m) => { clearTimeout(timer); resolve(m); } };
    return promise;
  }

  /** Resolves true when no message arrives within `ms`. */
  async nothingWithin(ms = 150): Promise<boolean> {
    try {
      const m = await this.next(ms);
      this.queue.unshift(m);
      return false;
    } catch {
      return true;
    }
  }

  close(): void {
    if (this.ws.readyState <= 1) this.ws.close();
  }

  [Symbol.dispose](): void {
    if (this.ws.readyState <= 1) this.ws.close();
  }
}

export interface ApiAnswer { status: number; body: any }

export async function api(
  pg: { url: string }, method: string, params: unknown = {}, headers: Record<string, string> = {},
): Promise<ApiAnswer> {
  const res = await fetch(`${pg.url}/api/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof params === "string" ? params : JSON.stringify(params),
  });
  const text = await res.text();
  let body: unknown = text;
  try { body = JSON.parse(text); } catch {}
  return { status: res.status, body };
}

/** Reads one Prometheus sample value, e.g. metric(text, 'pushgate_closes_total{code="1009"}'). */
export function metricValue(text: string, series: string): number {
  for (const line of text.split("\n")) {
    if (line.startsWith(series + " ")) return Number(line.slice(series.length + 1));
  }
  return 0;
}

export async function metrics(pg: { url: string }): Promise<string> {
  return (await fetch(`${pg.url}/metrics`)).text();
}

/** Polls `cond` until it is true or `ms` passes. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 2000, what = "condition"): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (await cond()) return;
    await Bun.sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The caller's environment without PUSHGATE_*: only the test configures the processes it spawns. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PUSHGATE_") && v !== undefined) env[k] = v;
  return { ...env, ...extra };
}

/** A TCP port that was free a moment ago on `hostname` (bound on port 0, then released). */
export function freePort(hostname = "127.0.0.1"): number {
  const l = Bun.listen({ hostname, port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

const isZombie = (pid: number) => /^\d+ \(.*\) Z /.test(Bun.spawnSync(["cat", `/proc/${pid}/stat`]).stdout.toString());

/** Alive and not a zombie (orphans are reparented to a PID 1 that may never reap them). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !isZombie(pid);
}

/**
 * SIGKILLs `pid` only while it is still the process a test started: running, and its
 * /proc/<pid>/cmdline containing `cmdPart` (a PID logged earlier may since belong to another
 * process). True when it was killed.
 */
export function killIfOurs(pid: number, cmdPart: string): boolean {
  const cmdline = Bun.spawnSync(["cat", `/proc/${pid}/cmdline`], { stderr: "ignore" }).stdout.toString();
  if (!cmdline.includes(cmdPart) || isZombie(pid)) return false;
  try {
    process.kill(pid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}

/** describe() when the tool exists; else skipped with the reason printed, or (CI=true, `required`) a failure. */
export function describeWith(tool: string, found: unknown, install: string, required: boolean, name: string, fn: () => void): void {
  if (found) return describe(name, fn);
  if (required && process.env.CI === "true") throw new Error(`${tool} is not installed, and CI=true requires it (${install})`);
  console.log(`skipping "${name}": ${tool} is not installed (${install})`);
  describe.skip(name, fn);
}

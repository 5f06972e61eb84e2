// The fuzz oracle: what a documented answer looks like (HTTP API bodies, pushgate.v1 frames,
// close codes), the canary pair that must keep routing, and /metrics deltas. Checks return a
// problem string (null = fine) so a case can report every detail of what went wrong.
import { ErrorCodes, httpStatusFor, type ErrorCode } from "../../src/core/errors.ts";
import type { LogFields, Logger } from "../../src/ops/log.ts";
import { type Pushgate, startPushgate } from "../../src/server.ts";
import type { Config } from "../../src/config/types.ts";
import { TestClient } from "../helpers.ts";
import { JsonClient, type JsonFrame } from "../json-client.ts";

const CODES: ReadonlySet<string> = new Set(ErrorCodes);

export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === "string" && CODES.has(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const show = (v: unknown) => {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 300 ? s.slice(0, 300) + "…" : s;
};

/** `{code, message, field?}` with a documented code; E_INTERNAL is a server fault, never fine. */
export function errorObjectProblem(e: unknown): string | null {
  if (!isObject(e)) return `error is not an object: ${show(e)}`;
  if (!isErrorCode(e.code)) return `undocumented error code ${show(e.code)}`;
  if (e.code === "E_INTERNAL") return `internal error answered: ${show(e)}`;
  if (typeof e.message !== "string") return `error message is not a string: ${show(e)}`;
  if (e.field !== undefined && typeof e.field !== "string") return `error field is not a string: ${show(e)}`;
  // "outcome": "unknown" marks an error after a side effect (202, docs/http-api.md).
  if (e.outcome !== undefined && e.outcome !== "unknown") return `error outcome ${show(e.outcome)}`;
  const extra = Object.keys(e).filter((k) => k !== "code" && k !== "message" && k !== "field" && k !== "outcome");
  if (extra.length > 0) return `error has undocumented keys ${extra.join(",")}`;
  return null;
}

export interface ApiSeen {
  status: number;
  /** The error code answered (whole request), or null for a 200. */
  code: ErrorCode | null;
  /** Codes of failed calls inside a batch. */
  batchCodes: ErrorCode[];
}

/**
 * An HTTP API answer (docs/http-api.md): 200 {"result": …} or {"error": {…}} with the status
 * httpStatusFor(code). Nothing ≥ 500 (a standalone node that is not draining has no 5xx to give).
 */
export function apiAnswerProblem(
  req: { method: string; name: string }, status: number, text: string,
): { problem: string | null; seen: ApiSeen } {
  const seen: ApiSeen = { status, code: null, batchCodes: [] };
  const fail = (p: string) => ({ problem: `${req.method} /api/${show(req.name)} → ${status}: ${p}; body ${show(text)}`, seen });
  if (status >= 500) return fail("5xx answer");
  if (req.method === "HEAD") {
    // No body to read: 405 is E_METHOD_NOT_ALLOWED's status and nothing else's.
    seen.code = "E_METHOD_NOT_ALLOWED";
    return status === 405 && text === "" ? { problem: null, seen } : fail("HEAD must be 405 with no body");
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return fail("body is not JSON");
  }
  if (!isObject(body)) return fail("body is not an object");
  const keys = Object.keys(body);
  if (status === 200) {
    if (keys.length !== 1 || keys[0] !== "result") return fail("a 200 must be exactly {result}");
    if (req.name === "batch" && req.method === "POST") {
      const entries = body.result;
      if (!Array.isArray(entries)) return fail("batch result is not an array");
      for (const [i, entry] of entries.entries()) {
        if (!isObject(entry)) return fail(`batch entry ${i} is not an object`);
        const ek = Object.keys(entry);
        if (ek.length !== 1 || (ek[0] !== "result" && ek[0] !== "error")) return fail(`batch entry ${i} is not {result} or {error}`);
        if (ek[0] === "error") {
          const p = errorObjectProblem(entry.error);
          if (p) return fail(`batch entry ${i}: ${p}`);
          seen.batchCodes.push((entry.error as { code: ErrorCode }).code);
        }
      }
    }
    return { problem: null, seen };
  }
  if (keys.length !== 1 || keys[0] !== "error") return fail("an error answer must be exactly {error}");
  const p = errorObjectProblem(body.error);
  if (p) return fail(p);
  const code = (body.error as { code: ErrorCode }).code;
  seen.code = code;
  const expected = (body.error as { outcome?: string }).outcome === "unknown" ? 202 : httpStatusFor(code);
  if (expected !== status) return fail(`status ${status} but httpStatusFor(${code}) = ${httpStatusFor(code)}`);
  return { problem: null, seen };
}

const SERVER_FRAME_TYPES = new Set(["welcome", "push", "recovery", "reply", "pong", "refreshed", "error"]);

/** One server → client pushgate.v1 text frame (docs/protocol.md "Server → client"). */
export function jsonFrameProblem(text: string): string | null {
  let f: unknown;
  try {
    f = JSON.parse(text);
  } catch {
    return `server sent a text frame that is not JSON: ${show(text)}`;
  }
  if (!isObject(f) || typeof f.type !== "string") return `server frame without a string type: ${show(text)}`;
  if (!SERVER_FRAME_TYPES.has(f.type)) return `server frame of undocumented type: ${show(text)}`;
  if (f.type === "error") {
    const keys = Object.keys(f);
    if (keys[0] !== "type" || keys[1] !== "code" || keys[2] !== "message") return `error frame keys out of order: ${show(text)}`;
    const p = errorObjectProblem({ code: f.code, message: f.message });
    if (p) return `error frame: ${p}`;
    if (f.id !== undefined && typeof f.id !== "string" && typeof f.id !== "number") return `error frame id: ${show(text)}`;
  }
  if (f.type === "reply") {
    if (typeof f.id !== "string" && typeof f.id !== "number") return `reply without an id: ${show(text)}`;
    if (f.error !== undefined) {
      const p = errorObjectProblem(f.error);
      if (p) return `reply: ${p}`;
    } else if (typeof f.delivered !== "number" || f.delivered < 0) return `reply without delivered: ${show(text)}`;
  }
  if (f.type === "push") {
    if (!("data" in f) || typeof f.ts !== "number") return `push without data/ts: ${show(text)}`;
    if (f.stream !== undefined && (typeof f.stream !== "string" || typeof f.epoch !== "string" || typeof f.offset !== "number")) {
      return `push with a malformed position: ${show(text)}`;
    }
  }
  return null;
}

/** A close as the client saw it; code null = a close frame without a code (1005). */
export interface SeenClose { code: number | null; reason: string }

/** Codes documented in docs/protocol.md; 1011 is an internal error and always a failure. */
const PUSHGATE_CLOSE = /^E_[A-Z_]+: /;

/**
 * A close the server sent. `echo` is the client's own close frame when it sent a valid one:
 * the server echoes its code and reason (RFC 6455 §5.5.1), whatever the code.
 */
export function closeProblem(c: SeenClose, echo?: SeenClose | null): string | null {
  if (echo && c.code === echo.code && c.reason === echo.reason) return null;
  const pushgateReason = () => {
    const m = PUSHGATE_CLOSE.exec(c.reason);
    const code = c.reason.slice(0, c.reason.indexOf(":"));
    return m && isErrorCode(code) ? null : `close ${c.code} reason is not "<E_CODE>: …": ${show(c.reason)}`;
  };
  switch (c.code) {
    case 1000: return null; // closeClient: its reason is the caller's text
    case 1002: return c.reason.startsWith("Received ") ? null : `1002 with an unexpected reason ${show(c.reason)}`;
    case 1003: return c.reason.startsWith("E_BINARY_UNSUPPORTED: ") ? null : `1003 reason ${show(c.reason)}`;
    case 1007: return c.reason === "Received invalid UTF-8" ? null : `1007 reason ${show(c.reason)}`;
    case 1009: return c.reason === "Received too big message" ? null : `1009 reason ${show(c.reason)}`;
    case 1008: return pushgateReason();
    case 4001: return c.reason.startsWith("E_TOKEN_EXPIRED: ") ? null : `4001 reason ${show(c.reason)}`;
    case 1011: return `internal error close 1011 ${show(c.reason)}`;
    case 1001: return `1001 (going away) while the server is not shutting down: ${show(c.reason)}`;
    default: return `undocumented close code ${c.code} ${show(c.reason)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Server-side faults: every error-level log line (api_error, ws_handler_error, ws_frame_error,
// http_error, auth_error, …) is an exception the server caught. A client may still have got a
// documented answer, so the fuzz checks the log too: any such line fails the case.

export class ErrorLog implements Logger {
  private readonly lines: string[] = [];
  debug(): void {}
  info(): void {}
  warn(): void {}
  error(event: string, fields?: LogFields): void {
    this.lines.push(JSON.stringify({ event, ...fields }).slice(0, 2000));
  }
  /** Throws with the lines logged since the last call, if any. */
  check(): void {
    if (this.lines.length === 0) return;
    const lines = this.lines.splice(0);
    throw new Error(`the server logged ${lines.length} error(s): ${lines.join(" | ")}`);
  }
}

/** An in-process server on port 0 whose error log the fuzz reads. */
export function fuzzServer(overrides: Partial<Config> = {}): { pg: Pushgate; log: ErrorLog } {
  const log = new ErrorLog();
  const pg = startPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", ...overrides }, { logger: log });
  return { pg, log };
}

// ---------------------------------------------------------------------------------------------
// The canary pair: a seed sender and a pushgate.v1 receiver on other uids, untouched by the
// fuzz. After a case, a push from one to the other must still arrive, and a fresh connection
// must still log in. Their uids carry random hex no generator produces.

export interface Credentials {
  /** The seed protocol's login frame for `uid`. */
  seed(uid: string): string | Promise<string>;
  /** The pushgate.v1 auth frame for `uid`. */
  json(uid: string): Record<string, unknown> | Promise<Record<string, unknown>>;
}

export const UID_CREDENTIALS: Credentials = {
  seed: (uid) => uid,
  json: (uid) => ({ type: "auth", uid }),
};

const hex = () => Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex");

/** Seed login with any credential; resolves once "login success" came back. */
export async function seedLogin(pg: { port: number }, credential: string, uid: string, ms = 3000): Promise<TestClient> {
  const c = await TestClient.connect(pg);
  c.send(credential);
  const reply = await c.next(ms);
  if (reply !== `login success, your uid is ${uid}`) {
    c.close();
    throw new Error(`login as ${uid} answered ${show(reply)}`);
  }
  return c;
}

export class Canary {
  private n = 0;
  private checked = 0;
  private lastPush = 0;
  readonly senderUid = `fz-canary-s-${hex()}`;
  readonly receiverUid = `fz-canary-r-${hex()}`;
  private sender!: TestClient;
  private receiver!: JsonClient;

  private constructor(private readonly pg: { port: number }, private readonly creds: Credentials) {}

  static async start(pg: { port: number }, creds: Credentials = UID_CREDENTIALS): Promise<Canary> {
    const c = new Canary(pg, creds);
    c.sender = await seedLogin(pg, await creds.seed(c.senderUid), c.senderUid);
    c.receiver = await JsonClient.connect(pg);
    c.receiver.send(await creds.json(c.receiverUid));
    await c.receiver.next("welcome", 3000);
    return c;
  }

  /** Names a generator must never produce (its output is regenerated if it contains one). */
  get protectedNames(): string[] {
    return [this.senderUid, this.receiverUid];
  }

  /**
   * The pair still routes and a fresh connection logs in; bounded waits (a stalled event loop or
   * a dead server fails here). Every frame the receiver got meanwhile must be documented.
   */
  async check(ms = 3000, force = false): Promise<void> {
    // The sender's pushes are paced below the default rate limit (100 frames/s): being limited
    // is documented behaviour, not a fault. The fresh login runs every time.
    if (force || performance.now() - this.lastPush >= 20) {
      this.lastPush = performance.now();
      await this.push(ms);
    }
    const uid = `fz-alive-${hex()}`;
    const fresh = await seedLogin(this.pg, await this.creds.seed(uid), uid, ms);
    fresh.close();
    this.checked++;
  }

  private async push(ms: number): Promise<void> {
    const tag = `canary-${++this.n}`;
    this.sender.send(`${this.receiverUid}:${tag}`);
    const deadline = performance.now() + ms;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`canary: ${tag} did not arrive within ${ms} ms`);
      let f: JsonFrame;
      try {
        f = await this.receiver.next(undefined, left);
      } catch (e) {
        const closed = await Promise.race([this.receiver.closed, Bun.sleep(0).then(() => null)]);
        throw new Error(`canary: ${tag} did not arrive (${(e as Error).message}${closed ? `; receiver closed ${closed.code} ${closed.reason}` : ""})`);
      }
      const p = jsonFrameProblem(JSON.stringify(f));
      if (p) throw new Error(`canary receiver: ${p}`);
      if (f.type === "push" && f.data === tag) break;
    }
    this.pushes++;
  }

  private pushes = 0;

  get checks(): string {
    return `${this.checked} (${this.pushes} pushes)`;
  }

  close(): void {
    this.sender?.close();
    this.receiver?.close();
  }
}

// ---------------------------------------------------------------------------------------------
// /metrics

export type Samples = Map<string, number>;

export async function scrape(pg: { url: string }): Promise<Samples> {
  const text = await (await fetch(`${pg.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const out: Samples = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const sp = line.lastIndexOf(" ");
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

export function delta(after: Samples, before: Samples, series: string): number {
  return (after.get(series) ?? 0) - (before.get(series) ?? 0);
}

/** Counts things by key (observed close codes, error codes) for comparison with metric deltas. */
export class Tally {
  readonly counts = new Map<string, number>();
  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }
  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  toString(): string {
    return [...this.counts].sort().map(([k, v]) => `${k}=${v}`).join(" ");
  }
}

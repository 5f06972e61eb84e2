// What the adversarial inputs act on: the attacker's context (connections over rotating source
// addresses, logins, API calls), the standing population of the uid server (sinks with the
// longest uids in 16 groups, one uid with 96 connections) and the measured phases an input runs.
import { AttackWs, type Classify, type InFrame } from "./adversarial-ws.ts";
import { LIMITS, padded } from "./adversarial-inputs.ts";

export const V1 = "pushgate.v1";

/** What one measured phase saw: answers by tag, and the slowest answer (ms from its send). */
export interface Answers { answers: Map<string, number>; maxAnswerMs: number }

/**
 * One measured window: `sent` inputs, sent by run(), which resolves once they are answered.
 * `atOnce`: several inputs in flight together (connections at the same instant, or one
 * connection's burst in one write); otherwise each is sent after the previous one's answer.
 */
export interface Phase { label: string; sent: number; atOnce: boolean; run(): Promise<Answers> }

/** An input is set up outside the measured windows, then each of its phases is measured. */
export interface Input { name: string; setup(ctx: Ctx): Promise<Phase[]> }

export interface ApiAnswer { status: number; tag: string; ms: number; bytes: number; text: string }

export interface Sink { uid: string; json: boolean; conn: AttackWs; clientId: string }

export class Ctx {
  private next = 0;
  /** Connections opened for the current input; closed when it is done. */
  readonly opened: AttackWs[] = [];

  constructor(readonly host: string, readonly port: number, readonly sources: number) {}

  /** The next source address of 127.0.0.1..127.0.0.<sources>. */
  source(): string {
    return `127.0.0.${1 + (this.next++ % this.sources)}`;
  }

  /** Opens an attack connection (not logged in); it is closed after the current input. */
  async ws(o: { v1?: boolean; path?: string; keep?: boolean } = {}): Promise<AttackWs> {
    const c = await AttackWs.open({ host: this.host, port: this.port, localAddress: this.source(), path: o.path, protocol: o.v1 ? V1 : undefined });
    if (!o.keep) this.opened.push(c);
    return c;
  }

  /** A pushgate.v1 connection logged in as `uid` (uid mode) or with `token` (jwt mode); the welcome text. */
  async v1(login: { uid: string } | { token: string }, keep = false): Promise<{ conn: AttackWs; welcome: string }> {
    const conn = await this.ws({ v1: true, keep });
    let welcome = "";
    const answer = conn.answer((f) => {
      if (!f.head.startsWith('{"type":"welcome"')) return f.head.startsWith('{"type":"error"') ? `error ${f.head}` : null;
      welcome = f.text ?? "";
      return "welcome";
    }, 10_000);
    conn.send(JSON.stringify({ type: "auth", ...login }));
    const tag = await answer;
    if (tag !== "welcome") throw new Error(`pushgate.v1 login refused: ${tag}`);
    return { conn, welcome };
  }

  /** A seed connection logged in as `uid`. */
  async seed(uid: string, keep = false): Promise<AttackWs> {
    const conn = await this.ws({ keep });
    const answer = conn.answer((f) => (f.head.startsWith("login success") ? "ok" : "refused"), 10_000);
    conn.send(uid);
    const tag = await answer;
    if (tag !== "ok") throw new Error(`seed login as ${uid.slice(0, 20)}… refused: ${tag}`);
    return conn;
  }

  /** POST /api/<method> (fetch: native, keep-alive, and cheap on big answers). */
  async api(method: string, body: string): Promise<ApiAnswer> {
    const t0 = performance.now();
    try {
      const res = await fetch(`http://${this.host}:${this.port}/api/${method}`, { method: "POST", body });
      const text = await res.text();
      return { status: res.status, tag: apiTag(res.status, text), ms: performance.now() - t0, bytes: text.length, text };
    } catch (e) {
      return { status: 0, tag: `fetch failed: ${(e as Error).message.slice(0, 60)}`, ms: performance.now() - t0, bytes: 0, text: "" };
    }
  }

  /** Like api(), but a non-200 answer is an error (setup calls). */
  async apiOk(method: string, body: unknown): Promise<unknown> {
    const a = await this.api(method, typeof body === "string" ? body : JSON.stringify(body));
    if (a.status !== 200) throw new Error(`setup ${method}: ${a.status} ${a.text.slice(0, 200)}`);
    return (JSON.parse(a.text) as { result: unknown }).result;
  }

  closeOpened(): void {
    for (const c of this.opened.splice(0)) c.close();
  }
}

/** `200`, `200 batch: 999 ok, 1 E_INTERNAL`, `400 E_TOO_DEEP`, `500 E_INTERNAL`, `413 (empty)`. */
export function apiTag(status: number, text: string): string {
  if (status !== 200) return `${status} ${/"code":"([A-Z_]+)"/.exec(text.slice(0, 400))?.[1] ?? (text ? text.slice(0, 30) : "(empty)")}`;
  if (!text.startsWith('{"result":[{"')) return "200";
  if (text.length > 8 << 20) return `200 batch (${(text.length / 1048576).toFixed(0)} MB answer)`;
  // A batch: count the entries that failed, by code (the regex is cheaper than parsing MBs).
  const codes = new Map<string, number>();
  for (const m of text.matchAll(/\{"error":\{"code":"([A-Z_]+)"/g)) codes.set(m[1]!, (codes.get(m[1]!) ?? 0) + 1);
  if (codes.size === 0) return "200 batch ok";
  return `200 batch: ${[...codes].map(([c, n]) => `${n} ${c}`).join(", ")}`;
}

/** pushgate.v1 answers: `reply delivered`, `reply E_OFFLINE`, `error E_X`, `pong`; pushes are not answers. */
export const v1Answer: Classify = (f: InFrame) => {
  const h = f.head;
  if (h.startsWith('{"type":"reply"')) return /"error":\{"code":"([A-Z_]+)"/.exec(f.text ?? "")?.[1] ? `reply ${/"error":\{"code":"([A-Z_]+)"/.exec(f.text!)![1]}` : "reply delivered";
  if (h.startsWith('{"type":"error"')) return `error ${/"code":"([A-Z_]+)"/.exec(h)?.[1] ?? "?"}`;
  if (h.startsWith('{"type":"pong"')) return "pong";
  if (h.startsWith('{"type":"refreshed"')) return "refreshed";
  return null;
};

/** The end of a pushgate.v1 login: welcome (no recover), recovery, or an error frame. */
export function authAnswer(withRecover: boolean): Classify {
  return (f) => {
    const h = f.head;
    if (h.startsWith('{"type":"welcome"')) return withRecover ? null : "welcome";
    if (h.startsWith('{"type":"recovery"')) return (f.text ?? "").includes('"complete":true') ? "recovery complete" : "recovery incomplete";
    if (h.startsWith('{"type":"error"')) return `error ${/"code":"([A-Z_]+)"/.exec(h)?.[1] ?? "?"}`;
    return null;
  };
}

/** Seed answers: an error frame, or a delivered push (the sender's own copy, or a sync to itself). */
export const seedAnswer: Classify = (f) => {
  if (f.head.startsWith('{"type":"error"')) return `error ${/"code":"([A-Z_]+)"/.exec(f.head)?.[1] ?? "?"}`;
  return "delivered";
};

function count(into: Map<string, number>, from: Map<string, number>): void {
  for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + v);
}

/**
 * Frames written one at a time, each after the previous one's answer, on the first connection
 * still open (a connection the server closed hands over to the next one).
 */
export function seqFrames(label: string, conns: AttackWs[], frames: readonly Buffer[], classify: Classify, timeoutMs = 30_000): Phase {
  return {
    label, sent: frames.length, atOnce: false,
    async run() {
      const answers = new Map<string, number>();
      let maxAnswerMs = 0;
      for (const frame of frames) {
        const conn = conns.find((c) => c.open);
        if (!conn) {
          answers.set("no open connection left", (answers.get("no open connection left") ?? 0) + 1);
          continue;
        }
        const t0 = performance.now();
        const got = conn.collect(1, classify, timeoutMs);
        conn.write(frame);
        count(answers, await got);
        maxAnswerMs = Math.max(maxAnswerMs, performance.now() - t0);
      }
      return { answers, maxAnswerMs };
    },
  };
}

/**
 * Every connection writes its frames in one go, all at the same instant; resolves once each
 * connection has `want(i)` answers (default one per frame), closed, or timed out.
 */
export function burstFrames(
  label: string, conns: AttackWs[], frames: readonly (readonly Buffer[])[], classify: Classify, want?: (i: number) => number, timeoutMs = 60_000,
): Phase {
  return {
    label, sent: frames.reduce((n, f) => n + f.length, 0), atOnce: true,
    async run() {
      const answers = new Map<string, number>();
      const t0 = performance.now();
      let maxAnswerMs = 0;
      const waits = conns.map((c, i) => c.collect(want ? want(i) : frames[i]!.length, classify, timeoutMs).then((m) => {
        maxAnswerMs = Math.max(maxAnswerMs, performance.now() - t0);
        return m;
      }));
      conns.forEach((c, i) => c.write(...frames[i]!));
      for (const m of await Promise.all(waits)) count(answers, m);
      return { answers, maxAnswerMs };
    },
  };
}

/** API requests one after another. */
export function seqApi(label: string, ctx: Ctx, method: string, bodies: readonly string[]): Phase {
  return {
    label, sent: bodies.length, atOnce: false,
    async run() {
      const answers = new Map<string, number>();
      let maxAnswerMs = 0;
      for (const body of bodies) {
        const a = await ctx.api(method, body);
        answers.set(a.tag, (answers.get(a.tag) ?? 0) + 1);
        maxAnswerMs = Math.max(maxAnswerMs, a.ms);
      }
      return { answers, maxAnswerMs };
    },
  };
}

/** API requests all at once (one connection each). */
export function concApi(label: string, ctx: Ctx, method: string, bodies: readonly string[]): Phase {
  return {
    label, sent: bodies.length, atOnce: true,
    async run() {
      const answers = new Map<string, number>();
      const all = await Promise.all(bodies.map((b) => ctx.api(method, b)));
      for (const a of all) answers.set(a.tag, (answers.get(a.tag) ?? 0) + 1);
      return { answers, maxAnswerMs: Math.max(0, ...all.map((a) => a.ms)) };
    },
  };
}

/** The usual pair: `seq` sequential requests, then `conc` at once (either may be 0). */
export function apiPhases(ctx: Ctx, method: string, body: string | ((i: number) => string), seq: number, conc: number): Phase[] {
  const make = typeof body === "string" ? () => body : body;
  const out: Phase[] = [];
  if (seq > 0) out.push(seqApi(`seq ×${seq}`, ctx, method, Array.from({ length: seq }, (_, i) => make(i))));
  if (conc > 0) out.push(concApi(`conc ×${conc}`, ctx, method, Array.from({ length: conc }, (_, i) => make(seq + i))));
  return out;
}

export const SINKS = 200;
export const GROUPS = 16;
/** Connections of the fan-out uid held by the world; up to 4 attackers may join as the same uid (limit 100). */
export const FAN_CONNS = LIMITS.maxConnectionsPerUid - 4;
export const FAN_UID = "fan100";

/**
 * The uid server's standing population, opened once and kept: SINKS connections (half seed,
 * half pushgate.v1) with the longest allowed uids, each in all GROUPS groups (longest names), and
 * FAN_CONNS connections of one uid (half seed, half pushgate.v1). They read and discard what they
 * get (fan-out inputs reach them); one closed by the server (a slow reader) is reopened by ensure().
 */
export class World {
  sinks: Sink[] = [];
  fan: AttackWs[] = [];
  readonly groups = Array.from({ length: GROUPS }, (_, k) => padded(`grp-${k}-`, LIMITS.uidMax));
  reopened = 0;

  constructor(private readonly ctx: Ctx) {}

  static sinkUid(i: number): string {
    return padded(`sink-${i}-`, LIMITS.uidMax);
  }

  async ensure(): Promise<void> {
    const ctx = this.ctx;
    const todo: number[] = [];
    for (let i = 0; i < SINKS; i++) if (!this.sinks[i]?.conn.open) todo.push(i);
    if (this.sinks.length > 0) this.reopened += todo.length;
    for (let k = 0; k < todo.length; k += 32) {
      await Promise.all(todo.slice(k, k + 32).map(async (i) => {
        const uid = World.sinkUid(i);
        const json = i % 2 === 1;
        const conn = json ? (await ctx.v1({ uid }, true)).conn : await ctx.seed(uid, true);
        this.sinks[i] = { uid, json, conn, clientId: "" };
      }));
    }
    const fanOpen = this.fan.filter((c) => c.open);
    const fanMissing = FAN_CONNS - fanOpen.length;
    if (this.fan.length > 0) this.reopened += fanMissing;
    this.fan = fanOpen;
    for (let k = 0; k < fanMissing; k++) this.fan.push(k % 2 ? (await ctx.v1({ uid: FAN_UID }, true)).conn : await ctx.seed(FAN_UID, true));
    if (todo.length === 0) return;
    // Group memberships of the reopened sinks (joinGroup by uid: 2 targets a call, 400 a batch).
    const calls = todo.flatMap((i) => this.groups.map((group) => ({ method: "joinGroup", params: { uid: World.sinkUid(i), group } })));
    for (let k = 0; k < calls.length; k += 400) await ctx.apiOk("batch", { calls: calls.slice(k, k + 400) });
    const ids = (await ctx.apiOk("batch", { calls: todo.map((i) => ({ method: "getClientIdByUid", params: { uid: World.sinkUid(i) } })) })) as { result: string[] }[];
    todo.forEach((i, k) => { this.sinks[i]!.clientId = ids[k]!.result[0] ?? ""; });
  }

  close(): void {
    for (const s of this.sinks) s.conn.destroy();
    for (const c of this.fan) c.destroy();
  }
}


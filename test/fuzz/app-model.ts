// Reference models of pushgate's two wire protocols in `--auth uid` mode, written from
// docs/protocol.md (not from src/): given the messages a connection sent, the exact answers and
// the close it must get. A fuzz case compares what the server did with this; a difference is
// either a server defect or a doc that says otherwise — both worth a failing case.
import { jsonFrameProblem } from "./oracle.ts";

export interface Expectation {
  what: string;
  /** null when `text` is this answer. */
  check(text: string): string | null;
}

export interface ExpectedClose {
  code: number;
  /** Acceptable full reasons (the server cuts them to 123 bytes of UTF-8). */
  reasons: string[];
  /** Or any reason with this prefix. */
  prefix?: string;
}

export interface AppModel {
  expects: Expectation[];
  close: ExpectedClose | null;
}

/** A message as pushgate receives it: text (already valid UTF-8) or binary. */
export type AppMessage = { text: string } | { binary: true };

export interface ModelOptions {
  maxBadFrames: number;
  /** --max-json-depth when the server has it (E_TOO_DEEP); undefined on a server without it. */
  maxJsonDepth: number | undefined;
  maxRecoverStreams: number;
}

const BINARY_CLOSE: ExpectedClose = { code: 1003, reasons: ["E_BINARY_UNSUPPORTED: this protocol takes text frames only"] };
const TOO_MANY_BAD: ExpectedClose = { code: 1008, reasons: ["E_BAD_FRAME: too many bad frames"] };

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Every rule a name breaks (docs/protocol.md "A valid uid"); the server names one of them. */
export function nameProblems(kind: "uid" | "group", v: unknown): string[] {
  if (typeof v !== "string") return [`${kind} must be a string`];
  const out: string[] = [];
  if (v.length === 0) out.push(`${kind} must not be empty`);
  if (v.length > 128) out.push(`${kind} is longer than 128 characters`);
  if (v.includes(":")) out.push(`${kind} must not contain ':'`);
  if (CONTROL.test(v)) out.push(`${kind} must not contain control characters`);
  return out;
}

export function uidProblems(v: unknown): string[] {
  return v === "all" ? ['uid "all" is reserved for broadcast'] : nameProblems("uid", v);
}

/** What a string becomes on the wire (lone surrogates → U+FFFD), as the server will see it. */
export function wireString(s: string): string {
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(new TextEncoder().encode(s));
}

/** The close reason the server sends for `full`: itself, or cut to 123 bytes of UTF-8. */
export function reasonMatches(actual: string, full: string): boolean {
  const expected = wireString(full);
  if (Buffer.byteLength(expected) <= 123) return actual === expected;
  if (actual.length === 0 || Buffer.byteLength(actual) > 123) return false;
  return expected.startsWith(actual.replace(/\ufffd$/, ""));
}

export function closeMatches(actual: { code: number | null; reason: string }, e: ExpectedClose): boolean {
  if (actual.code !== e.code) return false;
  if (e.prefix !== undefined && wireString(actual.reason).startsWith(e.prefix)) return true;
  return e.reasons.some((r) => reasonMatches(actual.reason, r));
}

function parse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function errorFrameCheck(codes: string[], messages: string[] | null, id: unknown, anyId = false): Expectation["check"] {
  return (text) => {
    const p = parse(text);
    if (!p.ok) return "not JSON";
    const f = p.value as Record<string, unknown>;
    if (f.type !== "error") return `expected an error frame ${codes.join("|")}`;
    if (!codes.includes(f.code as string)) return `expected code ${codes.join("|")}, got ${String(f.code)}`;
    if (messages !== null && !messages.includes(f.message as string)) return `expected message ${JSON.stringify(messages)}, got ${JSON.stringify(f.message)}`;
    if (!anyId && !sameId(f, id)) return `expected id ${JSON.stringify(id)}, got ${JSON.stringify(f.id)}`;
    return null;
  };
}

/** `f.id` is the frame's id as the server echoes it (JSON text round trip), or absent. */
function sameId(f: Record<string, unknown>, id: unknown): boolean {
  if (id === undefined) return !("id" in f);
  return "id" in f && JSON.stringify(f.id) === JSON.stringify(id);
}

function exact(text: string, what: string): Expectation {
  const want = wireString(text);
  return { what, check: (t) => (t === want ? null : `expected ${JSON.stringify(want.slice(0, 200))}`) };
}

// ---------------------------------------------------------------------------------------------
// Seed protocol

export function seedModel(messages: readonly AppMessage[], opts: ModelOptions): AppModel {
  const expects: Expectation[] = [];
  let uid: string | null = null;
  let bad = 0;
  const badFrame = (code: string, msgs: string[]): ExpectedClose | null => {
    if (++bad >= opts.maxBadFrames) return TOO_MANY_BAD;
    expects.push({ what: `error ${code}`, check: (t) => {
      const want = msgs.map((m) => JSON.stringify({ type: "error", code, message: m }));
      return want.includes(t) ? null : `expected one of ${want.join(" ")}`;
    } });
    return null;
  };
  for (const m of messages) {
    if ("binary" in m) return { expects, close: BINARY_CLOSE };
    const text = m.text;
    if (uid === null) {
      const problems = uidProblems(text);
      if (problems.length > 0) return { expects, close: { code: 1008, reasons: problems.map((p) => `E_INVALID_UID: ${p}`) } };
      uid = text;
      expects.push(exact(`login success, your uid is ${uid}`, "login reply"));
      continue;
    }
    const colon = text.indexOf(":");
    let close: ExpectedClose | null = null;
    if (colon <= 0) close = badFrame("E_BAD_FRAME", ["expected <uid>:<payload> or all:<payload>"]);
    else {
      const target = text.slice(0, colon);
      const payload = text.slice(colon + 1);
      if (target === "all") expects.push(exact(payload, "own broadcast"));
      else {
        const problems = uidProblems(target);
        if (problems.length > 0) close = badFrame("E_INVALID_UID", problems);
        else if (target === uid) expects.push(exact(payload, "message to self"));
      }
    }
    if (close) return { expects, close };
  }
  return { expects, close: null };
}

// ---------------------------------------------------------------------------------------------
// pushgate.v1

function isId(v: unknown): boolean {
  return (typeof v === "number" && Number.isFinite(v)) || (typeof v === "string" && v.length <= 64);
}

/** Nesting depth of JSON text, strings skipped: what the server's pre-parse check sees. */
export function scanDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    } else if (c === "[" || c === "{") max = Math.max(max, ++depth);
    else if (c === "]" || c === "}") depth--;
  }
  return max;
}

function recoverValid(v: unknown, maxStreams: number): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v !== "object" || Array.isArray(v)) return false;
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > maxStreams) return false;
  return entries.every(([, p]) => {
    const q = p as { epoch?: unknown; offset?: unknown } | null;
    return q !== null && typeof q === "object" && typeof q.epoch === "string" && q.epoch.length <= 64 &&
      typeof q.offset === "number" && Number.isSafeInteger(q.offset) && q.offset >= 0;
  });
}

function welcomeCheck(uid: string): Expectation["check"] {
  return (text) => {
    const f = JSON.parse(text) as Record<string, any>;
    if (f.type !== "welcome") return "expected welcome";
    if (f.uid !== uid) return `welcome uid ${JSON.stringify(f.uid)} ≠ ${JSON.stringify(uid)}`;
    if (typeof f.clientId !== "string") return "welcome without a clientId";
    const names = Array.isArray(f.streams) ? f.streams.map((s: any) => s?.stream) : null;
    if (JSON.stringify(names) !== JSON.stringify([`uid:${uid}`, "all"])) return `welcome streams ${JSON.stringify(names)}`;
    return null;
  };
}

function recoveryCheck(named: string[]): Expectation["check"] {
  return (text) => {
    const f = JSON.parse(text) as Record<string, any>;
    if (f.type !== "recovery" || typeof f.complete !== "boolean" || !Array.isArray(f.streams)) return "expected recovery";
    const got = f.streams.map((s: any) => s?.stream);
    if (JSON.stringify(got) !== JSON.stringify(named)) return `recovery streams ${JSON.stringify(got)}, expected ${JSON.stringify(named)}`;
    for (const s of f.streams) {
      if (typeof s.recovered !== "boolean" || typeof s.replayed !== "number") return `recovery entry ${JSON.stringify(s)}`;
      if (!s.recovered && s.reason !== "gap" && s.reason !== "epoch") return `recovery reason ${JSON.stringify(s)}`;
    }
    if (f.complete !== f.streams.every((s: any) => s.recovered)) return "recovery.complete disagrees with its streams";
    return null;
  };
}

function replyCheck(id: unknown, accept: { delivered?: boolean; codes?: string[]; messages?: string[] }): Expectation["check"] {
  return (text) => {
    const f = JSON.parse(text) as Record<string, any>;
    if (f.type !== "reply") return "expected reply";
    if (!sameId(f, id)) return `reply id ${JSON.stringify(f.id)} ≠ ${JSON.stringify(id)}`;
    if (f.error === undefined) {
      if (!accept.delivered) return `expected an error reply ${accept.codes?.join("|")}`;
      return typeof f.delivered === "number" && f.delivered >= 1 ? null : `delivered ${f.delivered}`;
    }
    if (!accept.codes?.includes(f.error.code)) return `reply error ${f.error.code}, expected ${accept.delivered ? "delivered" : ""} ${accept.codes?.join("|") ?? ""}`;
    if (accept.messages && !accept.messages.includes(f.error.message)) return `reply message ${JSON.stringify(f.error.message)}, expected ${JSON.stringify(accept.messages)}`;
    return null;
  };
}

/** The answers to a pushgate.v1 connection's messages in uid mode with default options. */
export function jsonModel(messages: readonly AppMessage[], opts: ModelOptions): AppModel {
  const expects: Expectation[] = [];
  let uid: string | null = null;
  let bad = 0;
  /** An error frame that counts toward --max-bad-frames; returns the close when it is the last straw. */
  const badFrame = (code: string[], msgs: string[] | null, id: unknown, anyId = false): ExpectedClose | null => {
    if (++bad >= opts.maxBadFrames) return TOO_MANY_BAD;
    expects.push({ what: `error ${code.join("|")} ${msgs?.[0] ?? ""}`, check: errorFrameCheck(code, msgs, id, anyId) });
    return null;
  };
  for (const m of messages) {
    if ("binary" in m) return { expects, close: BINARY_CLOSE };
    const close = jsonStep(m.text);
    if (close) return { expects, close };
  }
  return { expects, close: null };

  function jsonStep(text: string): ExpectedClose | null {
    const parsed = parse(text);
    if (opts.maxJsonDepth !== undefined) {
      // The depth of the text, duplicate keys included: checked before parsing (docs/protocol.md).
      if (parsed.ok && scanDepth(text) > opts.maxJsonDepth) {
        const v = parsed.value as Record<string, unknown>;
        const id = v !== null && typeof v === "object" && !Array.isArray(v) && isId(v.id) ? v.id : undefined;
        return badFrame(["E_TOO_DEEP"], null, id);
      }
      // For text that is not JSON a pre-parse scan may say either: both are documented.
      if (!parsed.ok && scanDepth(text) > opts.maxJsonDepth) return badFrame(["E_TOO_DEEP", "E_BAD_FRAME"], null, undefined, true);
    }
    if (!parsed.ok) return badFrame(["E_BAD_FRAME"], ["frame is not valid JSON"], undefined);
    const v = parsed.value;
    if (v === null || typeof v !== "object" || Array.isArray(v)) return badFrame(["E_BAD_FRAME"], ["frame must be a JSON object"], undefined);
    const f = v as Record<string, unknown>;
    if (typeof f.type !== "string") return badFrame(["E_BAD_FRAME"], ["frame needs a string `type`"], undefined);
    if (f.id !== undefined && !isId(f.id)) return badFrame(["E_BAD_FRAME"], ["id must be a number or a string of at most 64 characters"], undefined);
    const id = f.id;
    const type = f.type;
    if (type === "ping") {
      expects.push({ what: "pong", check: (t) => {
        const g = JSON.parse(t) as Record<string, unknown>;
        return g.type === "pong" && sameId(g, id) && Object.keys(g).length === (id === undefined ? 1 : 2) ? null : "expected pong";
      } });
      return null;
    }
    if (uid === null) {
      if (type !== "auth") return badFrame(["E_BAD_FRAME"], ["the first frame must be auth"], id);
      if (!recoverValid(f.recover, opts.maxRecoverStreams)) return { code: 1008, reasons: [], prefix: "E_BAD_FRAME: recover" };
      if (typeof f.uid !== "string") return { code: 1008, reasons: ["E_AUTH_FAILED: auth needs a string `uid`"] };
      const problems = uidProblems(f.uid);
      if (problems.length > 0) return { code: 1008, reasons: problems.map((p) => `E_INVALID_UID: ${p}`) };
      const who = f.uid;
      uid = who;
      expects.push({ what: "welcome", check: welcomeCheck(who) });
      if (f.recover !== undefined && f.recover !== null) {
        const named = [`uid:${who}`, "all"].filter((s) => Object.hasOwn(f.recover as object, s));
        expects.push({ what: "recovery", check: recoveryCheck(named) });
      }
      return null;
    }
    switch (type) {
      case "send": return send(f, id);
      case "refresh": return badFrame(["E_BAD_FRAME"], ["refresh needs token auth (--auth jwt)"], id);
      case "auth": return badFrame(["E_BAD_FRAME"], ["already authenticated"], id);
      default: return badFrame(["E_BAD_FRAME"], [`unknown frame type ${JSON.stringify(type.slice(0, 32))}`], id);
    }
  }

  function send(f: Record<string, unknown>, id: unknown): ExpectedClose | null {
    if (id === undefined) return badFrame(["E_BAD_FRAME"], ["send needs an `id`"], undefined);
    if (typeof f.to !== "string") return badFrame(["E_BAD_FRAME"], ["send needs a string `to`"], id);
    if (f.data === undefined) return badFrame(["E_BAD_FRAME"], ["send needs `data`"], id);
    const to = f.to;
    const reply = (what: string, accept: Parameters<typeof replyCheck>[1]) => {
      expects.push({ what: `reply (${what})`, check: replyCheck(id, accept) });
      return null;
    };
    if (to === "all") return reply("all", { delivered: true });
    if (to.startsWith("uid:")) {
      const target = to.slice(4);
      const problems = uidProblems(target);
      if (problems.length > 0) return reply("invalid uid", { codes: ["E_INVALID_UID"], messages: problems });
      if (target === uid) return reply("self", { delivered: true });
      return reply("other uid", { delivered: true, codes: ["E_OFFLINE"], messages: [`uid ${target} has no connection`] });
    }
    if (to.startsWith("group:")) {
      const g = to.slice(6);
      const problems = nameProblems("group", g);
      if (problems.length > 0) return reply("invalid group", { codes: ["E_INVALID_GROUP"], messages: problems });
      return reply("not a member", { codes: ["E_FORBIDDEN"], messages: [`not a member of group ${g}`] });
    }
    return badFrame(["E_BAD_FRAME"], ["to must be uid:<uid>, group:<name> or all"], id);
  }
}

/**
 * Matches the text frames a connection received against the model, in order. pushgate.v1
 * `push` frames are skipped (checked only for shape): sends to `all` or to oneself interleave.
 * `finished` = the connection reached its end (sentinel or close), so nothing may be missing.
 */
export function matchAnswers(texts: readonly string[], model: AppModel, json: boolean, finished: boolean): string | null {
  let k = 0;
  for (const text of texts) {
    if (json) {
      const p = jsonFrameProblem(text);
      if (p) return p;
      if ((JSON.parse(text) as { type: string }).type === "push") continue;
    }
    const e = model.expects[k];
    if (!e) return `unexpected frame ${JSON.stringify(text.slice(0, 300))} after ${k} expected answers`;
    const p = e.check(text);
    if (p) return `answer ${k} (${e.what}): ${p}; got ${JSON.stringify(text.slice(0, 300))}`;
    k++;
  }
  if (finished && k < model.expects.length) return `missing answer ${k} (${model.expects[k]!.what}); got ${texts.length} frames`;
  return null;
}

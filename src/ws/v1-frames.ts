// Parsing and validation of inbound pushgate.v1 frames (trust boundary: results, no throws).
import { exceedsJsonDepth, stringEnd } from "../core/json-depth.ts";
import { type Err, type Ok, type Result, err, ok } from "../core/result.ts";
import type { StreamPosition } from "../history/types.ts";

export type Frame = { type: string; id?: string | number } & Record<string, unknown>;

/** A refused frame; `id` is the frame's top-level id when it could still be read. */
export type FrameError = Err & { id?: string | number };

const MAX_ID_LENGTH = 64;

/**
 * JSON text → a frame object. A frame nested deeper than `maxDepth` is refused before
 * JSON.parse (E_TOO_DEEP), its id read by a flat scan so a pending `send` still gets its answer.
 */
export function parseFrame(text: string, maxDepth: number): Ok<Frame> | FrameError {
  if (exceedsJsonDepth(text, maxDepth)) {
    const e: FrameError = err("E_TOO_DEEP", `frame nests deeper than ${maxDepth} levels (--max-json-depth)`);
    const id = peekFrameId(text);
    if (id !== undefined) e.id = id;
    return e;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return err("E_BAD_FRAME", "frame is not valid JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return err("E_BAD_FRAME", "frame must be a JSON object");
  }
  const f = value as Record<string, unknown>;
  if (typeof f.type !== "string") return err("E_BAD_FRAME", "frame needs a string `type`");
  if (f.id !== undefined && !isId(f.id)) {
    return err("E_BAD_FRAME", `id must be a number or a string of at most ${MAX_ID_LENGTH} characters`);
  }
  return ok(f as Frame);
}

function isId(v: unknown): v is string | number {
  return (typeof v === "number" && Number.isFinite(v)) || (typeof v === "string" && v.length <= MAX_ID_LENGTH);
}

const ID_NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * The top-level `"id"` of frame text that was not parsed (the last one, as JSON.parse would
 * keep), if it is a valid id. One pass over the text; only used on the error path.
 */
export function peekFrameId(text: string): string | number | undefined {
  let depth = 0;
  let found: string | number | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) depth--;
    else if (c === 34) {
      const end = stringEnd(text, i);
      if (end < 0) return found;
      if (depth === 1 && end === i + 3 && text.startsWith('"id"', i)) {
        let j = end + 1;
        while (isSpace(text.charCodeAt(j))) j++;
        // The last one decides, as in JSON.parse: a later invalid id leaves none.
        if (text.charCodeAt(j) === 58 /* : */) found = readIdValue(text, j + 1);
      }
      i = end;
    }
  }
  return found;
}

function readIdValue(text: string, from: number): string | number | undefined {
  let j = from;
  while (isSpace(text.charCodeAt(j))) j++;
  if (text.charCodeAt(j) === 34) {
    const end = stringEnd(text, j);
    // An id is at most 64 characters; a longer raw string (escapes) is not worth decoding.
    if (end < 0 || end - j > MAX_ID_LENGTH * 6 + 2) return undefined;
    try {
      const s = JSON.parse(text.slice(j, end + 1)) as string;
      return isId(s) ? s : undefined;
    } catch {
      return undefined;
    }
  }
  ID_NUMBER.lastIndex = j;
  const m = ID_NUMBER.exec(text);
  if (m === null) return undefined;
  const n = Number(m[0]);
  return isId(n) ? n : undefined;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** `auth.recover`: { "<stream>": { epoch, offset } } → Map, or null when absent. */
export function parseRecover(v: unknown, maxStreams: number): Result<Map<string, StreamPosition> | null> {
  if (v === undefined || v === null) return ok(null);
  if (typeof v !== "object" || Array.isArray(v)) return err("E_BAD_FRAME", "recover must be an object of stream → {epoch, offset}");
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > maxStreams) return err("E_BAD_FRAME", `recover names more than ${maxStreams} streams (--max-recover-streams)`, "recover");
  const out = new Map<string, StreamPosition>();
  for (const [stream, pos] of entries) {
    const p = pos as { epoch?: unknown; offset?: unknown } | null;
    if (
      p === null || typeof p !== "object" || typeof p.epoch !== "string" || p.epoch.length > 64 ||
      typeof p.offset !== "number" || !Number.isSafeInteger(p.offset) || p.offset < 0
    ) {
      return err("E_BAD_FRAME", `recover[${JSON.stringify(stream.slice(0, 140))}] must be {epoch: string, offset: integer >= 0}`);
    }
    out.set(stream, { epoch: p.epoch, offset: p.offset });
  }
  return ok(out);
}

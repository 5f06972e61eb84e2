// Parsing and validation of inbound pushgate.v1 frames (trust boundary: results, no throws).
import { type Result, err, ok } from "../core/result.ts";
import type { StreamPosition } from "../history/types.ts";

export type Frame = { type: string; id?: string | number } & Record<string, unknown>;

const MAX_ID_LENGTH = 64;
export const MAX_RECOVER_STREAMS = 1024;

export function parseFrame(text: string): Result<Frame> {
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

/** `auth.recover`: { "<stream>": { epoch, offset } } → Map, or null when absent. */
export function parseRecover(v: unknown): Result<Map<string, StreamPosition> | null> {
  if (v === undefined || v === null) return ok(null);
  if (typeof v !== "object" || Array.isArray(v)) return err("E_BAD_FRAME", "recover must be an object of stream → {epoch, offset}");
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > MAX_RECOVER_STREAMS) return err("E_BAD_FRAME", `recover names more than ${MAX_RECOVER_STREAMS} streams`);
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

// Messages on the Redis bus. A stream channel carries pushes in a compact text form (no JSON
// to parse per push on the receiving nodes):
//   "<epoch>|<offset>|<ts>|<j>|<origin>|<q>|<xlen>|<x><data>"
// epoch|offset are prepended by the push script; j is 1 when data is JSON text; origin the node
// that pushed; q its count-reply id ("" when no count is wanted); x, xlen characters long, the
// excluded clientIds as a JSON array ("" when none); data, the payload, runs to the end as is.
// A node's channel carries RPC requests and replies (JSON, rare) and delivery counts, one
// message per receiving node and turn: "c|<q>|<n>|<q>|<n>…".
import type { Payload } from "../../history/types.ts";

export interface PushMessage {
  epoch: string;
  offset: number;
  ts: number;
  payload: Payload;
  origin: string;
  /** Count-reply id, or 0 when no count is wanted. */
  q: number;
  excludeIds: string[] | null;
}

export type NodeMessage =
  | { k: "rpc"; id: number; from: string; method: string; params: Record<string, unknown> }
  | { k: "ret"; id: number; ok: true; value: unknown }
  | { k: "ret"; id: number; ok: false; code: string; message: string; u?: 1 }; // u: the call may have acted (api/guard.ts)

/** The body the push script publishes after "<epoch>|<offset>|" (and keeps in history). */
export function pushBody(origin: string, ts: number, p: Payload, excludeIds: readonly string[] | null, q: number): string {
  const x = excludeIds !== null && excludeIds.length > 0 ? JSON.stringify(excludeIds) : "";
  return `${ts}|${p.isJson ? 1 : 0}|${origin}|${q === 0 ? "" : q}|${x.length}|${x}${p.text}`;
}

/** Parses a stream channel message; null when malformed. */
export function parsePush(message: string): PushMessage | null {
  const f = fields(message, 0, 7);
  if (f === null) return null;
  return toMessage(message, f[0]!, f[1]!, f);
}

/** Parses a body kept in history (no epoch|offset in front). */
export function parseBody(body: string, epoch: string, offset: number): PushMessage | null {
  const f = fields(body, 0, 5);
  if (f === null) return null;
  return toMessage(body, epoch, String(offset), ["", "", ...f]);
}

/** The first n "|"-separated fields and where the rest starts (last element). */
function fields(s: string, from: number, n: number): string[] | null {
  const out: string[] = [];
  let at = from;
  for (let i = 0; i < n; i++) {
    const bar = s.indexOf("|", at);
    if (bar === -1) return null;
    out.push(s.slice(at, bar));
    at = bar + 1;
  }
  out.push(String(at));
  return out;
}

function toMessage(s: string, epoch: string, offsetText: string, f: string[]): PushMessage | null {
  const offset = Number(offsetText);
  const ts = Number(f[2]);
  const q = f[5] === "" ? 0 : Number(f[5]);
  const xlen = Number(f[6]);
  const rest = Number(f[7]);
  if (!Number.isSafeInteger(offset) || !Number.isFinite(ts) || !Number.isSafeInteger(q) || !Number.isSafeInteger(xlen) || xlen < 0) return null;
  let excludeIds: string[] | null = null;
  if (xlen > 0) {
    excludeIds = parseIds(s.slice(rest, rest + xlen));
    if (excludeIds === null) return null;
  }
  return {
    epoch, offset, ts, origin: f[4]!, q, excludeIds,
    payload: { text: s.slice(rest + xlen), isJson: f[3] === "1" },
  };
}

function parseIds(json: string): string[] | null {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? v.filter((id): id is string => typeof id === "string") : null;
  } catch {
    return null;
  }
}

/** Count replies: `pairs` is "<q>|<n>" entries. */
export function countMessage(pairs: readonly string[]): string {
  return "c|" + pairs.join("|");
}

/** Calls `each` for every (q, n) of a count message; false when `message` is not one. */
export function parseCounts(message: string, each: (q: number, n: number) => void): boolean {
  if (!message.startsWith("c|")) return false;
  const f = message.slice(2).split("|");
  for (let i = 0; i + 1 < f.length; i += 2) {
    const q = Number(f[i]);
    const n = Number(f[i + 1]);
    if (Number.isSafeInteger(q) && Number.isSafeInteger(n) && n >= 0) each(q, n);
  }
  return true;
}

export function parseNodeMessage(message: string): NodeMessage | null {
  try {
    const m = JSON.parse(message) as NodeMessage;
    return m && typeof m === "object" && typeof m.k === "string" ? m : null;
  } catch {
    return null;
  }
}

// Messages on the Redis bus. Stream channels carry pushes; a node's channel carries RPC
// requests, replies and delivery counts. All JSON; pushes are prefixed by the script with
// "<epoch>|<offset>|".
import type { Payload } from "../history/types.ts";

export interface PushBody {
  /** Origin node (it delivered locally already and ignores its own message). */
  o: string;
  s: string;
  t: number;
  d: string;
  j: 0 | 1;
  /** Excluded clientIds. */
  x?: readonly string[];
  /** Reply id: receivers publish their delivery count to the origin's channel. */
  q?: number;
}

export type NodeMessage =
  | { k: "rpc"; id: number; from: string; method: string; params: Record<string, unknown> }
  | { k: "ret"; id: number; ok: true; value: unknown }
  | { k: "ret"; id: number; ok: false; code: string; message: string; u?: 1 } // u: the call may have acted (api/guard.ts)
  | { k: "cnt"; q: number; n: number };

export function pushBody(origin: string, stream: string, ts: number, p: Payload, x: readonly string[] | null, q: number | null): string {
  const body: PushBody = { o: origin, s: stream, t: ts, d: p.text, j: p.isJson ? 1 : 0 };
  if (x && x.length > 0) body.x = x;
  if (q !== null) body.q = q;
  return JSON.stringify(body);
}

/** Splits "<epoch>|<offset>|<json>"; null when malformed. */
export function parsePush(message: string): { epoch: string; offset: number; body: PushBody } | null {
  const a = message.indexOf("|");
  const b = message.indexOf("|", a + 1);
  if (a <= 0 || b <= a) return null;
  const offset = Number(message.slice(a + 1, b));
  const body = parsePushBody(message.slice(b + 1));
  if (!Number.isSafeInteger(offset) || body === null) return null;
  return { epoch: message.slice(0, a), offset, body };
}

export function parsePushBody(json: string): PushBody | null {
  try {
    const body = JSON.parse(json) as PushBody;
    return typeof body?.s === "string" && typeof body.d === "string" && typeof body.t === "number" ? body : null;
  } catch {
    return null;
  }
}

export function parseNodeMessage(message: string): NodeMessage | null {
  try {
    const m = JSON.parse(message) as NodeMessage;
    return m && typeof m === "object" && typeof m.k === "string" ? m : null;
  } catch {
    return null;
  }
}

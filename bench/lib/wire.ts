// The two wire formats a load client can speak to pushgate: the seed text protocol (what the
// controls speak too) and pushgate.v1 (`--protocol json`, pushgate only). A scenario builds its
// frames and finds its payload in a received frame through here, so it does not care which.
import type { WsConn } from "./ws-client.ts";

export type Protocol = "seed" | "json";
export const JSON_SUBPROTOCOL = "pushgate.v1";

const Q = 34; // '"'
const PUSH_PREFIX = Buffer.from('{"type":"push"');
const DATA_KEY = Buffer.from('"data":"');

/** The frame that sends `payload` (plain ASCII, no quotes) to uid `target`, or to everyone for "all". */
export function sendFrame(c: WsConn, target: string, payload: string): string {
  if (!c.json) return `${target}:${payload}`;
  const to = target === "all" ? "all" : `uid:${target}`;
  return `{"type":"send","id":1,"to":"${to}","data":"${payload}"}`;
}

/**
 * Where the pushed payload starts in a received frame buf[start, end), or -1 for frames that
 * carry none (pushgate.v1 `reply` and other frames); it ends at payloadEnd(). For pushgate.v1 it
 * is the `data` string of a `push` envelope, which always ends the frame (`…,"data":"<payload>"}`).
 * Two numbers, no array: this runs once per delivery (millions per broadcast).
 */
export function payloadStart(c: WsConn, buf: Buffer, start: number, end: number): number {
  if (!c.json) return start;
  if (end - start < PUSH_PREFIX.length || PUSH_PREFIX.compare(buf, start, start + PUSH_PREFIX.length) !== 0) return -1;
  const at = buf.indexOf(DATA_KEY, start);
  if (at < 0 || at >= end || buf[end - 2] !== Q) return -1;
  return at + DATA_KEY.length;
}

export function payloadEnd(c: WsConn, end: number): number {
  return c.json ? end - 2 : end;
}

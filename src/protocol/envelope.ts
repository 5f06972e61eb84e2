// pushgate.v1 push frames, built once per push (not per receiver) as strings.
import type { Payload } from "../history/types.ts";

/** The `data` member: JSON text as-is, a plain string quoted. */
export function dataJson(p: Payload): string {
  return p.isJson ? p.text : JSON.stringify(p.text);
}

export function pushEnvelope(stream: string, epoch: string, offset: number, ts: number, p: Payload): string {
  return `{"type":"push","stream":${JSON.stringify(stream)},"epoch":"${epoch}","offset":${offset},"ts":${ts},"data":${dataJson(p)}}`;
}

/** A push outside any stream (sendToClient, closeClient's final message). */
export function directEnvelope(p: Payload, ts: number): string {
  return `{"type":"push","ts":${ts},"data":${dataJson(p)}}`;
}

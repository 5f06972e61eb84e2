// pushgate.v1 push frames, built once per push (not per receiver) as strings. Here, below the
// hub that sends them, so that delivery and the login replay (ws/v1-welcome.ts) build the same.
import type { Payload } from "../history/types.ts";

/** The `data` member: JSON text as-is, a plain string quoted. */
function dataJson(p: Payload): string {
  return p.isJson ? p.text : JSON.stringify(p.text);
}

/**
 * A push in a stream. One that was not placed in history (epoch "": the cluster published it
 * before any pushgate.v1 reader had marked the stream observed) carries no position: it cannot
 * be recovered, and a client must not take it for a position (nor drop the next one as a repeat).
 */
export function pushEnvelope(stream: string, epoch: string, offset: number, ts: number, p: Payload): string {
  if (epoch === "") return `{"type":"push","stream":${JSON.stringify(stream)},"ts":${ts},"data":${dataJson(p)}}`;
  return `{"type":"push","stream":${JSON.stringify(stream)},"epoch":"${epoch}","offset":${offset},"ts":${ts},"data":${dataJson(p)}}`;
}

/** A push outside any stream (sendToClient, closeClient's final message). */
export function directEnvelope(p: Payload, ts: number): string {
  return `{"type":"push","ts":${ts},"data":${dataJson(p)}}`;
}

// message.undelivered: a client's push to a uid that reached no connection — known, not
// guessed: an unknown outcome (a node or Redis did not answer) is not reported as undelivered.
import type { Conn } from "../core/conn-data.ts";
import type { Published } from "../engine/types.ts";
import type { Payload } from "../history/types.ts";

/** `r`: the push's outcome, counted on every node (the publish was asked for counts). */
export function reportUndelivered(ws: Conn, to: string, payload: Payload, r: number | Promise<Published>): void {
  const events = ws.data.hub.events;
  if (events === null || !events.wantsUndelivered) return;
  if (typeof r === "number") {
    if (r === 0) events.undelivered(ws, to, payload);
    return;
  }
  void r.then((p) => {
    if (p.error === null && p.reached === 0) events.undelivered(ws, to, payload);
  }, () => {});
}

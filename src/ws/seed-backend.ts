// --seed-messages backend: every seed frame after login goes to the application's backend as a
// `message` (GatewayWorker's `onMessage($client_id, $message)`) instead of being routed as
// `X:payload`; the backend's optional `reply` text goes back to that connection. A connection's
// messages are asked one at a time, in order (its replies keep the order of its frames); a
// backend fault answers the client with an error frame (E_BACKEND_UNAVAILABLE /
// E_BACKEND_TIMEOUT / E_BACKEND_ERROR), never silence.
import { clientIdOf } from "../core/client-table.ts";
import type { Conn } from "../core/conn-data.ts";
import { sendError } from "./error-frames.ts";

/** Messages of one connection that may wait for the backend; more are refused (E_RATE_LIMITED). */
const MAX_WAITING = 32;

export function toBackend(ws: Conn, message: string): void {
  const d = ws.data;
  const h = (d.hook ??= { ip: "", headers: {}, tail: null, waiting: 0 });
  if (h.waiting >= MAX_WAITING) {
    d.hub.metrics.limitsExceeded.incL(["seed_backend_waiting"]);
    return sendError(ws, "E_RATE_LIMITED", `${MAX_WAITING} messages are already waiting for the backend`);
  }
  h.waiting++;
  const tail: Promise<void> = (h.tail ?? Promise.resolve()).then(() => ask(ws, message)).finally(() => {
    h.waiting--;
    if (h.tail === tail) h.tail = null; // the last one: nothing kept per idle connection
  });
  h.tail = tail;
}

async function ask(ws: Conn, message: string): Promise<void> {
  const d = ws.data;
  const backend = d.hub.backend;
  if (backend === null) return sendError(ws, "E_FORBIDDEN", "this server has no backend for messages (--hook-url)");
  try {
    const r = await backend.post("message", { clientId: clientIdOf(d), uid: d.uid, message });
    if (ws.readyState !== 1) return;
    if (!r.ok) return sendError(ws, r.code, r.message);
    const { status, body } = r.value;
    if (status >= 400 || body.error !== undefined) return sendError(ws, "E_BACKEND_ERROR", `the backend refused the message (${status})`);
    if (typeof body.reply === "string") ws.send(body.reply);
  } catch (e) {
    d.hub.log.error("seed_backend_error", { clientId: clientIdOf(d), error: String(e) });
    if (ws.readyState === 1) sendError(ws, "E_INTERNAL", "internal error: the message's answer was lost");
  }
}

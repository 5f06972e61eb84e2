// The one static WebSocket handler. Per-connection state is ws.data; the hub is reached through
// it, so no closure is created per connection. Every frame goes through admit.ts, then to its
// wire format: seed.ts or the pushgate.v1 dispatcher (v1.ts).
import type { WebSocketHandler } from "bun";
import { clientIdOf } from "../core/client-table.ts";
import type { ConnData } from "../core/conn-data.ts";
import type { Hub } from "../core/hub.ts";
import { finishSeedLogin, onSeedMessage } from "./seed.ts";
import { onV1Message } from "./v1.ts";

export const websocketHandler: WebSocketHandler<ConnData> = {
  open(ws) {
    const d = ws.data;
    d.hub.members.attach(ws);
    d.hub.events?.opened?.(ws);
    // A token on the upgrade URL logs a seed socket in at once; pushgate.v1 still waits for
    // `auth`, which carries the recovery positions.
    if (d.preauth && !d.v1) finishSeedLogin(ws, { ok: true, value: d.preauth });
  },
  message(ws, message) {
    if (ws.data.v1) onV1Message(ws, message);
    else onSeedMessage(ws, message);
  },
  close(ws, rawCode, reason) {
    const hub = ws.data.hub;
    const code = effectiveCloseCode(hub, rawCode, reason);
    hub.expiry.cancel(ws);
    hub.subExpiry.cancelAll(ws);
    hub.events?.closed(ws, code, reason);
    hub.members.detach(ws, code);
    if (code !== 1000 && code !== 1001 && code !== 1005) {
      hub.log.debug("ws_closed", { clientId: clientIdOf(ws.data), uid: ws.data.uid, code, reason });
    }
  },
  error(error, ws) {
    ws.data.hub.log.error("ws_handler_error", { clientId: clientIdOf(ws.data), error: String(error) });
  },
};

/**
 * Bun reports the closes it makes itself (frame over maxPayloadLength, invalid UTF-8) to the
 * server as 1006 with a reason; map them to the code the client saw (1009, 1007) and count the
 * error. A backpressure close is a plain 1006 (see drops_total{reason="backpressure"}).
 */
function effectiveCloseCode(hub: Hub, code: number, reason: string): number {
  if (code !== 1006) return code;
  if (reason === "Received too big message") {
    hub.metrics.errors.incL(["E_PAYLOAD_TOO_LARGE"]);
    hub.metrics.limitsExceeded.incL(["max_payload"]);
    return 1009;
  }
  if (reason === "Received invalid UTF-8") {
    hub.metrics.errors.incL(["E_INVALID_UTF8"]);
    return 1007;
  }
  return code;
}

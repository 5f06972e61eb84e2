// The one static WebSocket handler. Per-connection state is ws.data; the hub is reached through
// it, so no closure is created per connection.
import type { WebSocketHandler } from "bun";
import { onSeedMessage } from "../protocol/seed.ts";
import type { ConnData } from "./conn-data.ts";

export const websocketHandler: WebSocketHandler<ConnData> = {
  open(ws) {
    ws.data.hub.attach(ws);
  },
  message: onSeedMessage,
  close(ws, code, reason) {
    const hub = ws.data.hub;
    hub.detach(ws, code);
    if (code !== 1000 && code !== 1001 && code !== 1005) {
      hub.log.debug("ws_closed", { clientId: ws.data.clientId, uid: ws.data.uid, code, reason });
    }
  },
  error(error, ws) {
    ws.data.hub.log.error("ws_handler_error", { clientId: ws.data.clientId, error: String(error) });
  },
};

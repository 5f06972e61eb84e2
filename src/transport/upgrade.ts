// WebSocket upgrade: refuse with a JSON 503 when draining or full, else hand over to Bun.
import type { Server } from "bun";
import { errorResponse } from "../api/respond.ts";
import type { Hub } from "../core/hub.ts";
import type { ConnData } from "./conn-data.ts";

export function upgrade(req: Request, server: Server<ConnData>, hub: Hub): Response | undefined {
  if (hub.draining) {
    hub.metrics.upgradesRejected.incL(["shutting_down"]);
    return errorResponse("E_SHUTTING_DOWN", "server is shutting down");
  }
  if (hub.clients.size >= hub.config.maxConnections) {
    hub.metrics.upgradesRejected.incL(["max_connections"]);
    hub.metrics.errors.incL(["E_TOO_MANY_CONNECTIONS"]);
    return errorResponse("E_TOO_MANY_CONNECTIONS", `server holds its maximum of ${hub.config.maxConnections} connections`);
  }
  if (server.upgrade(req, { data: hub.newConnData() })) return undefined;
  hub.metrics.upgradesRejected.incL(["bad_request"]);
  return errorResponse("E_BAD_FRAME", "not a valid WebSocket upgrade request", 400);
}

// WebSocket upgrade: refuse with a JSON 503 when draining or full, else hand over to Bun.
import type { Server } from "bun";
import { errorResponse } from "../api/respond.ts";
import type { ErrorCode } from "../core/errors.ts";
import type { Hub } from "../core/hub.ts";
import type { ConnData } from "./conn-data.ts";

export function upgrade(req: Request, server: Server<ConnData>, hub: Hub): Response | undefined {
  if (hub.draining) return refuse(hub, "shutting_down", "E_SHUTTING_DOWN", "server is shutting down");
  if (hub.clients.size >= hub.config.maxConnections) {
    return refuse(hub, "max_connections", "E_TOO_MANY_CONNECTIONS", `server holds its maximum of ${hub.config.maxConnections} connections`);
  }
  // An empty Sec-WebSocket-Protocol stops Bun echoing a subprotocol the client offered: the seed
  // protocol is not one, and claiming it would mislead clients that asked for another.
  if (server.upgrade(req, { data: hub.newConnData(), headers: NO_SUBPROTOCOL })) return undefined;
  return refuse(hub, "bad_request", "E_BAD_FRAME", "not a valid WebSocket upgrade request");
}

const NO_SUBPROTOCOL = { "Sec-WebSocket-Protocol": "" };

function refuse(hub: Hub, reason: string, code: ErrorCode, message: string): Response {
  hub.metrics.upgradesRejected.incL([reason]);
  hub.metrics.errors.incL([code]);
  return errorResponse(code, message);
}

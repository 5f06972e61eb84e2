// WebSocket upgrade: refuse with JSON when draining, full or (jwt) the URL token is bad; pick
// the wire format from the offered subprotocols; hand over to Bun.
import type { Server } from "bun";
import type { Identity } from "../auth/types.ts";
import { type ConnData, newConnData } from "../core/conn-data.ts";
import type { ErrorCode } from "../core/errors.ts";
import type { Hub } from "../core/hub.ts";
import { errorResponse } from "../core/respond.ts";
import type { Result } from "../core/result.ts";

const V1_SUBPROTOCOL = "pushgate.v1";
const NO_REQUEST = Object.freeze({ clientId: "", protocol: "seed" as const, ip: "", headers: Object.freeze({}) });
// An empty Sec-WebSocket-Protocol stops Bun echoing a subprotocol the client offered: the seed
// protocol is not one, and claiming another would mislead the client.
const SEED_HEADERS = { "Sec-WebSocket-Protocol": "" };
const V1_HEADERS = { "Sec-WebSocket-Protocol": V1_SUBPROTOCOL };

type Upgraded = Response | undefined;

export function upgrade(req: Request, server: Server<ConnData>, hub: Hub): Upgraded | Promise<Upgraded> {
  if (hub.draining) return refuse(hub, "shutting_down", "E_SHUTTING_DOWN", "server is shutting down");
  if (hub.clients.size >= hub.config.maxConnections) {
    return refuse(hub, "max_connections", "E_TOO_MANY_CONNECTIONS", `server holds its maximum of ${hub.config.maxConnections} connections`);
  }
  const offered = req.headers.get("sec-websocket-protocol");
  const v1 = offersV1(offered);
  // (A token on the URL is checked here in jwt mode; hook mode asks the backend at login, when
  // the connection has its clientId.)
  const token = hub.auth.credential === "token" && !hub.auth.wantsRequest ? tokenParam(req.url) : null;
  if (token === null) return accept(req, server, hub, v1, null, offered !== null);
  const result = hub.auth.authenticate(token, NO_REQUEST);
  if (result instanceof Promise) return result.then((r) => acceptWith(req, server, hub, v1, r));
  return acceptWith(req, server, hub, v1, result);
}

function acceptWith(req: Request, server: Server<ConnData>, hub: Hub, v1: boolean, r: Result<Identity>): Upgraded {
  if (!r.ok) return refuse(hub, "auth_failed", r.code, r.message);
  return accept(req, server, hub, v1, r.value);
}

function accept(req: Request, server: Server<ConnData>, hub: Hub, v1: boolean, preauth: Identity | null, offered = true): Upgraded {
  const data = newConnData(hub, v1);
  data.preauth = preauth;
  if (hub.auth.wantsRequest) data.hook = { ip: server.requestIP(req)?.address ?? "", headers: pickHeaders(req, hub.hookHeaders), tail: null, waiting: 0 };
  // Without an offered subprotocol there is nothing to answer (or to refuse): no headers to pass.
  const ok = offered ? server.upgrade(req, { data, headers: v1 ? V1_HEADERS : SEED_HEADERS }) : server.upgrade(req, { data });
  if (ok) return undefined;
  return refuse(hub, "bad_request", "E_BAD_FRAME", "not a valid WebSocket upgrade request");
}

/** The headers --hook-headers names, from the upgrade request (lower-case names). */
function pickHeaders(req: Request, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = req.headers.get(n);
    if (v !== null) out[n] = v;
  }
  return out;
}

function offersV1(header: string | null): boolean {
  if (header === null) return false;
  return header.split(",").some((p) => p.trim() === V1_SUBPROTOCOL);
}

function tokenParam(url: string): string | null {
  const q = url.indexOf("?");
  if (q === -1) return null;
  return new URLSearchParams(url.slice(q + 1)).get("token");
}

function refuse(hub: Hub, reason: string, code: ErrorCode, message: string): Response {
  hub.metrics.upgradesRejected.incL([reason]);
  hub.metrics.errors.incL([code]);
  return errorResponse(code, message);
}

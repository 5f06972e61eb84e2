// GET /healthz and GET /metrics.
import type { Hub } from "../core/hub.ts";
import { jsonResponse } from "../core/respond.ts";

export function healthz(hub: Hub, startedAt: number): Response {
  return jsonResponse({
    status: hub.draining ? "draining" : "ok",
    uptime: (Date.now() - startedAt) / 1000,
    connections: hub.clients.size,
    loggedIn: hub.members.loggedIn,
    uids: hub.members.uids.size,
    nodeId: hub.nodeId,
  }, hub.draining ? 503 : 200);
}

export function metricsText(hub: Hub): Response {
  return new Response(hub.metrics.registry.render(), {
    headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
  });
}

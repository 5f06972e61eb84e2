// GET /healthz and GET /metrics.
import type { Hub } from "../core/hub.ts";
import { jsonResponse } from "../core/respond.ts";
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, wantsOpenMetrics } from "./openmetrics.ts";

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

/** The 0.0.4 text, or OpenMetrics 1.0.0 when the request's Accept prefers it. */
export function metricsText(hub: Hub, req?: Request): Response {
  const om = wantsOpenMetrics(req?.headers.get("accept") ?? null);
  return new Response(hub.metrics.registry.render(om ? "openmetrics" : "prometheus"), {
    // Vary: a cache between Prometheus and the node must not hand one format to the other.
    headers: { "content-type": om ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE, vary: "accept" },
  });
}

// One node's figures for /admin: its populations (read from the hub), its counters (read back
// from its own /metrics text) and the newest lifecycle events. Counters are cumulative; the
// page turns two snapshots into rates.
import type { Hub } from "../core/hub.ts";
import type { EventRing, LifecycleEvent } from "./events.ts";
import { byLabel, histogram, parseMetrics, total } from "./prom-text.ts";

export interface NodeStats {
  nodeId: string;
  /** When the snapshot was taken, ms since epoch (rates divide by its differences). */
  at: number;
  uptime: number;
  draining: boolean;
  connections: number;
  loggedIn: number;
  uids: number;
  groups: number;
  framesIn: number;
  framesOut: number;
  opened: number;
  logins: number;
  publishes: Record<string, number>;
  drops: Record<string, number>;
  closes: Record<string, number>;
  errors: Record<string, number>;
  history: { streams: number; entries: number; bytes: number };
  /** HTTP API latency over every method: cumulative bucket counts (upper bound in seconds). */
  api: { buckets: [number, number][]; sum: number; count: number };
  rss: number;
  /** Null when this node keeps no events (its dashboard is off, or --admin-events 0). */
  events: LifecycleEvent[] | null;
  eventsTotal: number;
}

const P = "pushgate_";

export function nodeStats(hub: Hub, ring: EventRing | null, events: number): NodeStats {
  const m = parseMetrics(hub.metrics.registry.render());
  return {
    nodeId: hub.nodeId,
    at: Date.now(),
    uptime: total(m, `${P}uptime_seconds`),
    draining: hub.draining,
    connections: hub.clients.size,
    loggedIn: hub.members.loggedIn,
    uids: hub.members.uids.size,
    groups: hub.members.groups.size,
    framesIn: total(m, `${P}frames_in_total`),
    framesOut: total(m, `${P}frames_out_total`),
    opened: total(m, `${P}connections_opened_total`),
    logins: total(m, `${P}logins_total`),
    publishes: byLabel(m, `${P}publishes_total`, "kind"),
    drops: byLabel(m, `${P}drops_total`, "reason"),
    closes: byLabel(m, `${P}closes_total`, "code"),
    errors: byLabel(m, `${P}errors_total`, "code"),
    history: hub.history.stats(),
    api: histogram(m, `${P}api_duration_seconds`),
    rss: total(m, `${P}resident_memory_bytes`),
    events: ring === null || ring.size === 0 ? null : ring.newest(events),
    eventsTotal: ring?.total ?? 0,
  };
}

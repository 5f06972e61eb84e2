// The server's metrics. Names and labels are part of the operations contract (docs/operations.md).
import { heapSize } from "bun:jsc";
import { ProcessMetrics } from "./process-metrics.ts";
import { Counter, Gauge, Histogram, Registry } from "./prometheus.ts";

export interface MetricSources {
  connections(): number;
  loggedIn(): number;
  uids(): number;
  groups(): number;
  history(): { streams: number; entries: number; bytes: number };
}

export function createMetrics(src: MetricSources) {
  const r = new Registry();
  const started = Date.now();
  return {
    registry: r,
    /** Added by a cluster member only. */
    redisConnected: (read: () => number) => new Gauge("pushgate_redis_connected", "1 while this node's connections to every Redis shard are up and answering.", read),
    connections: r.add(new Gauge("pushgate_connections", "Open WebSocket connections.", src.connections)),
    loggedIn: r.add(new Gauge("pushgate_logged_in_connections", "Connections that have logged in (unbindUid keeps them counted).", src.loggedIn)),
    uids: r.add(new Gauge("pushgate_uids_online", "Distinct uids with at least one connection.", src.uids)),
    groups: r.add(new Gauge("pushgate_groups", "Groups with at least one member.", src.groups)),
    historyStreams: r.add(new Gauge("pushgate_history_streams", "Streams with history in memory.", () => src.history().streams)),
    historyEntries: r.add(new Gauge("pushgate_history_messages", "Messages held in history.", () => src.history().entries)),
    historyBytes: r.add(new Gauge("pushgate_history_bytes", "Approximate memory held by history.", () => src.history().bytes)),
    recoveries: r.add(new Counter("pushgate_recoveries_total", "Stream recoveries at login, by outcome (recovered, gap, epoch, limit).", ["outcome"])),
    replayed: r.add(new Counter("pushgate_replayed_messages_total", "Messages replayed from history at recovery.")),
    clusterErrors: r.add(new Counter("pushgate_cluster_errors_total", "Cluster pushes whose cluster-wide outcome is not fully known: delivered on this node only (Redis unreachable or not answering), or Redis or a node did not answer within --cluster-timeout.")),
    idempotentHits: r.add(new Counter("pushgate_idempotent_replays_total", "API sends answered from the idempotency cache (not delivered again).")),
    uptime: r.add(new Gauge("pushgate_uptime_seconds", "Seconds since start.", () => (Date.now() - started) / 1000)),
    rss: r.add(new Gauge("pushgate_resident_memory_bytes", "Process resident set size.", () => process.memoryUsage.rss())),
    // heapSize() is cheap (no heap walk, unlike heapStats()); process.memoryUsage().heapUsed is not the JS heap in Bun.
    heap: r.add(new Gauge("pushgate_js_heap_bytes", "JavaScript heap in use (live objects and garbage not yet collected).", () => heapSize())),
    opened: r.add(new Counter("pushgate_connections_opened_total", "WebSocket connections accepted.")),
    logins: r.add(new Counter("pushgate_logins_total", "Successful logins.")),
    framesIn: r.add(new Counter("pushgate_frames_in_total", "WebSocket frames received from clients.")),
    framesOut: r.add(new Counter("pushgate_frames_out_total", "WebSocket frames sent to clients (publish fan-out counted per receiver).")),
    publishes: r.add(new Counter("pushgate_publishes_total", "Publishes by kind of target (uid, group, all, client).", ["kind"])),
    drops: r.add(new Counter("pushgate_drops_total", "Messages not delivered, by reason.", ["reason"])),
    errors: r.add(new Counter("pushgate_errors_total", "Errors answered to clients or API callers, by code.", ["code"])),
    limitsExceeded: r.add(new Counter("pushgate_limits_exceeded_total", "Inputs refused for passing a limit, by limit (max_json_depth, api_max_targets, …).", ["limit"])),
    closes: r.add(new Counter("pushgate_closes_total", "Closed WebSocket connections, by close code.", ["code"])),
    upgradesRejected: r.add(new Counter("pushgate_upgrades_rejected_total", "WebSocket upgrades refused, by reason.", ["reason"])),
    apiRequests: r.add(new Counter("pushgate_api_requests_total", "HTTP API calls, by method and status.", ["method", "status"])),
    hookRequests: r.add(new Counter("pushgate_hook_requests_total", "Requests to the backend hook (--hook-url), by kind (connect, rpc, message, subscribe; in-process close, online, offline) and outcome (ok, refused, error, unavailable, timeout, queue_full).", ["kind", "outcome"])),
    hookDuration: r.add(new Histogram(
      "pushgate_hook_duration_seconds", "Backend hook latency (answered requests).", ["kind"],
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    )),
    hookQueue: (read: () => number) => new Gauge("pushgate_hook_queue", "Backend hook requests waiting for a free slot (--hook-concurrency).", read),
    webhookEvents: r.add(new Counter("pushgate_webhook_events_total", "Webhook events by fate: sent, dropped_queue_full, dropped_retries_exhausted, dropped_stopped (queued at or after a stop and not sent or handed to Redis within its bound).", ["outcome"])),
    webhookPosts: r.add(new Counter("pushgate_webhook_posts_total", "Webhook POSTs (batches, retries included) by HTTP status, or failed (no answer).", ["status"])),
    presenceEvents: r.add(new Counter("pushgate_presence_events_total", "Group presence frames (join, leave) published to a group's pushgate.v1 members.", ["event"])),
    webhookRetries: r.add(new Counter("pushgate_webhook_retries_total", "Webhook POSTs that were a retry of a batch not accepted before.")),
    webhookQueue: (read: () => number) => new Gauge("pushgate_webhook_queue", "Webhook events waiting to be sent.", read),
    apiDuration: r.add(new Histogram(
      "pushgate_api_duration_seconds", "HTTP API request latency.", ["method"],
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    )),
    /** The standard process_* families (CPU, memory, fds, start time), read on scrape. */
    process: r.add(new ProcessMetrics()),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

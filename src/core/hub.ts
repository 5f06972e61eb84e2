// The hub: one node's state (membership, inherited from Registry) and its delivery. Delivery is
// always one native server.publish per topic — never a loop over connections.
import type { Server } from "bun";
import type { Authenticator } from "../auth/types.ts";
import type { Config } from "../config/types.ts";
import type { Logger } from "../ops/log.ts";
import { createMetrics, type Metrics } from "../ops/metrics.ts";
import type { CounterSeries } from "../ops/prometheus.ts";
import type { Conn, ConnData } from "../transport/conn-data.ts";
import { ClientIdFactory } from "./client-id.ts";
import { Registry } from "./registry.ts";
import { TOPIC_ALL, groupTopic, uidTopic } from "./topics.ts";

export type PublishKind = "uid" | "group" | "all" | "client";

export class Hub extends Registry {
  server: Server<ConnData> | null = null;
  readonly metrics: Metrics;
  readonly ids: ClientIdFactory;
  draining = false;
  // Pre-resolved metric series for the per-message path (no label lookup per publish).
  private readonly published: Record<PublishKind, CounterSeries>;
  private readonly droppedOffline: CounterSeries;
  private readonly droppedBackpressure: CounterSeries;

  constructor(
    readonly config: Config, readonly log: Logger, readonly auth: Authenticator, nodeId: string,
  ) {
    super();
    this.ids = new ClientIdFactory(nodeId);
    this.metrics = createMetrics({
      connections: () => this.clients.size,
      loggedIn: () => this.loggedIn,
      uids: () => this.uids.size,
      groups: () => this.groups.size,
    });
    const m = this.metrics;
    this.published = {
      uid: m.publishes.series(["uid"]), group: m.publishes.series(["group"]),
      all: m.publishes.series(["all"]), client: m.publishes.series(["client"]),
    };
    this.droppedOffline = m.drops.series(["offline"]);
    this.droppedBackpressure = m.drops.series(["backpressure"]);
  }

  newConnData(): ConnData {
    const now = performance.now();
    return {
      hub: this, clientId: this.ids.next(), uid: null, loggedIn: false,
      loginDeadline: now + this.config.loginTimeoutMs, groups: null, session: null,
      tokens: this.config.rateBurst, refilledAt: now, rateDrops: 0, rateLimited: false,
    };
  }

  sendToUid(uid: string, text: string): number {
    return this.publish(uidTopic(uid), text, "uid", null);
  }

  sendToGroup(group: string, text: string, exclude: readonly Conn[] | null): number {
    return this.publish(groupTopic(group), text, "group", exclude);
  }

  sendToAll(text: string, exclude: readonly Conn[] | null): number {
    return this.publish(TOPIC_ALL, text, "all", exclude);
  }

  sendToClient(clientId: string, text: string): number {
    const ws = this.clients.get(clientId);
    this.published.client.inc();
    if (!ws) {
      this.droppedOffline.inc();
      return 0;
    }
    // 0 = over backpressureLimit: Bun closes that reader (closeOnBackpressureLimit). Bun also
    // answers 0 for an empty message it did send, hence the length check.
    if (ws.send(text) === 0 && text.length > 0) {
      this.droppedBackpressure.inc();
      return 0;
    }
    this.metrics.framesOut.inc();
    return 1;
  }

  /**
   * One native publish. Excluded sockets are unsubscribed for the duration of the (synchronous)
   * publish and resubscribed after, so exclusion costs O(excluded), not O(subscribers).
   */
  private publish(topic: string, text: string, kind: PublishKind, exclude: readonly Conn[] | null): number {
    const server = this.server;
    this.published[kind].inc();
    if (server === null) return 0;
    let removed: Conn[] | null = null;
    if (exclude) {
      for (const ws of exclude) {
        if (ws.isSubscribed(topic)) {
          ws.unsubscribe(topic);
          (removed ??= []).push(ws);
        }
      }
    }
    const n = server.subscriberCount(topic);
    if (n > 0) {
      // 0 = dropped for at least one reader over backpressureLimit (it is being closed); the
      // others got it. Never retry: that would duplicate for the healthy ones.
      // (0 also comes back for a delivered empty message.)
      if (server.publish(topic, text) === 0 && text.length > 0) this.droppedBackpressure.inc();
      this.metrics.framesOut.inc(n);
    } else {
      this.droppedOffline.inc();
    }
    if (removed) for (const ws of removed) ws.subscribe(topic);
    return n;
  }

  /** Close every connection (shutdown). */
  closeAll(code: number, reason: string): void {
    for (const ws of [...this.clients.values()]) ws.close(code, reason);
  }
}

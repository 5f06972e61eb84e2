// What the node tells the application, composed from the config: webhooks (an outbox in memory
// on one node, a Redis Stream on a cluster), the in-process close/online/offline hooks, and the
// presence transitions both hear (local-presence.ts on one node; redis/presence.ts across a
// cluster, with the lease that makes one node the sender and sweeper). The hub sees one
// NodeEvents; stop() sends or hands over what is queued, bounded.
import type { Config } from "../config/types.ts";
import type { Conn } from "../core/conn-data.ts";
import { clientIdOf } from "../core/client-table.ts";
import type { NodeEvents } from "../core/node-events.ts";
import { redisUrls } from "../engine/redis/connect.ts";
import type { Payload } from "../history/types.ts";
import type { Logger } from "../ops/log.ts";
import type { Metrics } from "../ops/metrics.ts";
import { InProcessEvents } from "./in-process-events.ts";
import type { Hooks } from "./in-process.ts";
import { LocalPresence } from "./local-presence.ts";
import { MemoryOutbox } from "./memory-outbox.ts";
import { type Presence, type PresenceListener, fanOut } from "./presence.ts";
import { Lease } from "./redis/lease.ts";
import { Link } from "./redis/link.ts";
import { RedisOutbox } from "./redis/outbox.ts";
import { ClusterPresence } from "./redis/presence.ts";
import { WebhookSender } from "./webhook-sender.ts";
import { Webhooks } from "./webhooks.ts";

export interface AppEventsParts {
  config: Config;
  nodeId: string;
  /** The engine reaches other nodes (a Redis cluster). */
  distributed: boolean;
  hooks: Hooks | null;
  metrics: Metrics;
  log: Logger;
  /** Every uid this node holds now, and whether it holds one. */
  held: () => Iterable<string>;
  holds: (uid: string) => boolean;
}

const STOP_BOUND_MS = 2000;

export class AppEvents implements NodeEvents {
  readonly wantsUndelivered: boolean;
  private readonly webhooks: Webhooks | null;
  private readonly inProcess: InProcessEvents | null;
  private readonly presence: Presence | null;
  private readonly outbox: MemoryOutbox | RedisOutbox | null = null;
  private readonly link: Link | null = null;
  private readonly lease: Lease | null = null;
  private readonly log: Logger;

  /** null when nothing listens (no webhook URL, no close/online/offline hook). */
  static of(p: AppEventsParts): AppEvents | null {
    const h = p.hooks;
    const hooked = h !== null && (h.close !== undefined || h.online !== undefined || h.offline !== undefined);
    return p.config.webhookUrl === null && !hooked ? null : new AppEvents(p);
  }

  private constructor(p: AppEventsParts) {
    const { config, metrics, log } = p;
    this.log = log;
    const h = p.hooks;
    this.inProcess = h && (h.close || h.online || h.offline) ? new InProcessEvents(h, config.hookTimeoutMs, metrics, log) : null;
    const names = new Set(config.webhookEvents.split(",").map((e) => e.trim()).filter((e) => e !== ""));
    const wantsPresence = (config.webhookUrl !== null && (names.has("user.online") || names.has("user.offline")))
      || h?.online !== undefined || h?.offline !== undefined;
    if (p.distributed) this.link = new Link(redisUrls(config.redisUrl!)[0]!, config.clusterTimeoutMs);
    if (config.webhookUrl !== null) {
      const sender = new WebhookSender(config, metrics, log);
      if (this.link) {
        this.lease = this.leaseOf(p);
        this.outbox = new RedisOutbox(this.link, p.nodeId, config, sender, this.lease, metrics, log);
      } else {
        this.outbox = new MemoryOutbox(p.nodeId, config, sender, metrics, log);
      }
      this.webhooks = new Webhooks(this.outbox, names, config.webhookMaxData);
    } else {
      this.webhooks = null;
    }
    this.wantsUndelivered = this.webhooks?.wants("message.undelivered") ?? false;
    if (!wantsPresence) {
      this.presence = null;
    } else if (this.link) {
      this.lease ??= this.leaseOf(p);
      // The webhook's presence events are appended by the presence scripts themselves (atomic
      // with the transition); only the in-process hooks hear them here.
      this.presence = new ClusterPresence(this.link, {
        nodeId: p.nodeId, presenceTtlMs: config.presenceTtlMs, debounceMs: config.webhookDebounceMs,
        appendOnline: this.webhooks?.wants("user.online") ?? false, appendOffline: this.webhooks?.wants("user.offline") ?? false,
        outboxMax: config.webhookQueue, held: p.held, holds: p.holds,
      }, this.inProcess, metrics, log);
    } else {
      const listeners: PresenceListener[] = [];
      if (this.webhooks) listeners.push(this.webhooks);
      if (this.inProcess) listeners.push(this.inProcess);
      this.presence = new LocalPresence(config.webhookDebounceMs, fanOut(listeners));
    }
    if (this.link) {
      void this.link.start();
      this.lease!.start();
    }
  }

  private leaseOf(p: AppEventsParts): Lease {
    return new Lease(this.link!, p.nodeId, Math.max(1000, Math.floor(p.config.presenceTtlMs / 3)), {
      acquired: () => {
        p.log.info("webhook_sender", { nodeId: p.nodeId, message: "this node sends the cluster's webhooks and sweeps presence" });
        if (this.outbox instanceof RedisOutbox) this.outbox.leaseAcquired();
        if (this.presence instanceof ClusterPresence) this.presence.leaseAcquired();
      },
      lost: () => {
        if (this.presence instanceof ClusterPresence) this.presence.leaseLost();
      },
    });
  }

  loggedIn(ws: Conn): void {
    this.webhooks?.loggedIn(ws);
  }

  closed(ws: Conn, code: number, reason: string): void {
    this.webhooks?.closed(ws, code, reason);
    const d = ws.data;
    if (this.inProcess && d.loggedIn) this.inProcess.closed({ clientId: clientIdOf(d), uid: d.uid!, code, reason, session: d.session?.data ?? null });
  }

  uidConnections(uid: string, n: number): void {
    this.presence?.uidConnections(uid, n);
  }

  undelivered(ws: Conn, to: string, payload: Payload): void {
    this.webhooks?.undelivered(ws, to, payload);
  }

  /** After the drain: pending presence and events sent (one node) or handed to Redis (a cluster), bounded. */
  async stop(): Promise<void> {
    const until = performance.now() + STOP_BOUND_MS;
    const work = (async () => {
      await this.presence?.stop();
      await this.outbox?.stop(until);
      await this.lease?.stop();
    })().catch((e) => this.log.error("webhook_error", { error: String(e).slice(0, 200) }));
    // Bounded whatever Redis or the receiver do (an orchestrator's kill comes later).
    await Promise.race([work, Bun.sleep(Math.max(0, until - performance.now()) + 200)]);
    this.link?.stop();
  }
}

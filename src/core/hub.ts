// The hub: one node's state and its delivery. Membership is its Registry (`hub.members`); a push
// goes to the engine (engine/types.ts), which places it in history and hands it back to
// deliver() on every node holding the stream; deliver() sends it with one native publish per
// wire format (seed text, pushgate.v1 envelope) — never a loop over connections. Every socket's
// ws.data points here, so the WebSocket side reaches its node's parts through it.
import type { Server } from "bun";
import type { Authenticator } from "../auth/types.ts";
import type { Config } from "../config/types.ts";
import type { Backend } from "./backend.ts";
import type { ChannelRules } from "./channel-rules.ts";
import type { NodeEvents } from "./node-events.ts";
import type { Engine, Placed, Published } from "../engine/types.ts";
import type { HistoryStore, Payload } from "../history/types.ts";
import type { Logger } from "../ops/log.ts";
import type { Metrics } from "../ops/metrics.ts";
import type { CounterSeries } from "../ops/prometheus.ts";
import type { ExpiryWheel } from "../ws/expiry.ts";
import type { SubscriptionExpiry } from "../ws/subscription-expiry.ts";
import { ClientTable } from "./client-table.ts";
import type { Conn, ConnData } from "./conn-data.ts";
import { Registry } from "./registry.ts";
import { V1_TOPIC_PREFIX, groupTopic } from "./topics.ts";
import { directEnvelope, pushEnvelope } from "./v1-envelope.ts";

export type PublishKind = "uid" | "group" | "all" | "client";

/** What the composition root (server.ts) builds a hub from. */
export interface HubParts {
  config: Config;
  log: Logger;
  auth: Authenticator;
  history: HistoryStore;
  nodeId: string;
  engine: Engine;
  metrics: Metrics;
  /** Token expiry of this node's sockets (scheduled at login and refresh, cancelled on close). */
  expiry: ExpiryWheel;
  /** Ends channel-token subscriptions at their token's exp. */
  subExpiry: SubscriptionExpiry;
  /** The application's backend (--hook-url): pushgate.v1 `rpc` frames go there. */
  backend: Backend | null;
  /** Connection events for the application (--webhook-url). */
  events: NodeEvents | null;
  /** --channel-rules: the groups clients may subscribe to themselves (null: none). */
  channels: ChannelRules | null;
}

export class Hub {
  server: Server<ConnData> | null = null;
  draining = false;
  /**
   * Bumped by every change an API call can make (membership, delivery, session, close), so a
   * call that throws can tell whether it had already taken effect (see api/guard.ts).
   */
  effects = 0;
  readonly config: Config;
  readonly log: Logger;
  readonly auth: Authenticator;
  readonly history: HistoryStore;
  readonly nodeId: string;
  readonly engine: Engine;
  readonly metrics: Metrics;
  readonly expiry: ExpiryWheel;
  readonly subExpiry: SubscriptionExpiry;
  readonly backend: Backend | null;
  readonly events: NodeEvents | null;
  readonly channels: ChannelRules | null;
  /** --hook-headers, lower-cased: the upgrade headers a login's backend sees. */
  readonly hookHeaders: readonly string[];
  /** This node's open connections by clientId. */
  readonly clients: ClientTable;
  readonly members: Registry;
  // Pre-resolved metric series for the per-message path (no label lookup per publish).
  private readonly published: Record<PublishKind, CounterSeries>;
  private readonly droppedOffline: CounterSeries;
  private readonly droppedBackpressure: CounterSeries;

  constructor(parts: HubParts) {
    this.config = parts.config;
    this.log = parts.log;
    this.auth = parts.auth;
    this.history = parts.history;
    this.nodeId = parts.nodeId;
    this.engine = parts.engine;
    this.metrics = parts.metrics;
    this.expiry = parts.expiry;
    this.subExpiry = parts.subExpiry;
    this.backend = parts.backend;
    this.events = parts.events;
    this.channels = parts.channels;
    this.hookHeaders = parts.config.hookHeaders.split(",").map((h) => h.trim().toLowerCase()).filter((h) => h !== "");
    this.clients = new ClientTable(parts.nodeId);
    const engine = parts.engine;
    const events = parts.events;
    this.members = new Registry(parts.config, parts.metrics, this.clients, {
      watch: (stream) => {
        engine.watch(stream);
        if (events && stream.startsWith("uid:")) this.uidChanged(events, stream.slice(4), 1);
      },
      unwatch: (stream) => {
        engine.unwatch(stream);
        if (events && stream.startsWith("uid:")) this.uidChanged(events, stream.slice(4), 0);
      },
      changed: () => void this.effects++,
      member: (group, uid, joined) => this.presenceEdge(group, uid, joined),
    });
    const m = this.metrics;
    this.published = {
      uid: m.publishes.series(["uid"]), group: m.publishes.series(["group"]),
      all: m.publishes.series(["all"]), client: m.publishes.series(["client"]),
    };
    this.droppedOffline = m.drops.series(["offline"]);
    this.droppedBackpressure = m.drops.series(["backpressure"]);
  }

  // Shortcuts into the registry for code that holds only the node handle (`pushgate.hub.pending`;
  // the tests read these two).
  get uids(): Registry["uids"] {
    return this.members.uids;
  }

  get pending(): Registry["pending"] {
    return this.members.pending;
  }

  /** A direct push to one connection: no stream, so no history and no recovery. */
  sendToClient(clientId: string, payload: Payload): number {
    const ws = this.clients.get(clientId);
    this.effects++;
    this.published.client.inc();
    if (!ws) {
      this.droppedOffline.inc();
      return 0;
    }
    const frame = ws.data.v1 ? directEnvelope(payload, Date.now()) : payload.text;
    // 0 = over backpressureLimit: Bun closes that reader (closeOnBackpressureLimit). Bun also
    // answers 0 for an empty message it did send, hence the length check.
    if (ws.send(frame) === 0 && frame.length > 0) {
      this.droppedBackpressure.inc();
      return 0;
    }
    this.metrics.framesOut.inc();
    return 1;
  }

  /**
   * A push to a stream, through the engine: a number when delivered at once (memory engine),
   * else a promise (delivered by every node holding the stream). `count`: the answer should sum
   * every node's connections (an API or pushgate.v1 send waits for it; a seed push does not).
   */
  publish(stream: string, kind: PublishKind, payload: Payload, excludeIds: readonly string[] | null, count: boolean): number | Promise<Published> {
    this.effects++;
    this.published[kind].inc();
    const r = this.engine.publish(stream, payload, excludeIds, count);
    if (typeof r === "number") {
      if (r === 0) this.droppedOffline.inc();
      return r;
    }
    return r.then((p) => {
      // An unknown outcome (Redis or a node did not answer in time) is reported, never "offline";
      // without counts from the other nodes "offline" is unknown here: not counted.
      if (p.error) this.metrics.clusterErrors.inc();
      else if (count && p.reached === 0) this.droppedOffline.inc();
      return p;
    });
  }

  /** Tells the node's events when a uid gets its first connection here or loses its last. */
  private uidChanged(events: NodeEvents, uid: string, edge: 0 | 1): void {
    if (this.members.uids.count(uid) === edge) events.uidConnections(uid, edge);
  }

  /** Whether a pushgate.v1 reader here subscribes to `stream` (its pushes must be placed in history). */
  observed(stream: string): boolean {
    return this.members.v1Conns > 0 && this.server !== null && this.server.subscriberCount(V1_TOPIC_PREFIX + stream) > 0;
  }

  /** Whether any socket here subscribes to `stream`, in either wire format (the history sweep keeps such streams). */
  subscribed(stream: string): boolean {
    const s = this.server;
    return s !== null && (s.subscriberCount(stream) > 0 || s.subscriberCount(V1_TOPIC_PREFIX + stream) > 0);
  }

  /**
   * One native publish per wire format that has subscribers here. Excluded sockets are
   * unsubscribed for the duration of the (synchronous) publishes and resubscribed after, so
   * exclusion costs O(excluded), not O(subscribers).
   */
  deliver(stream: string, payload: Payload, at: Placed, excludeIds: readonly string[] | null): number {
    const server = this.server;
    if (server === null) return 0;
    const v1Topic = this.v1Topic(stream);
    let removed: Conn[] | null = null;
    if (excludeIds) {
      for (const ws of this.clients.getAll(excludeIds)) {
        const topic = ws.data.v1 ? v1Topic! : stream;
        if (ws.isSubscribed(topic)) {
          ws.unsubscribe(topic);
          (removed ??= []).push(ws);
        }
      }
    }
    const nSeed = server.subscriberCount(stream);
    const nJson = v1Topic === null ? 0 : server.subscriberCount(v1Topic);
    if (nSeed > 0) this.publishFrame(server, stream, payload.text);
    if (nJson > 0) this.publishFrame(server, v1Topic!, pushEnvelope(stream, at.epoch, at.offset, at.ts, payload));
    this.metrics.framesOut.inc(nSeed + nJson);
    if (removed) for (const ws of removed) ws.subscribe(ws.data.v1 ? v1Topic! : stream);
    return nSeed + nJson;
  }

  /**
   * A uid's first connection in a group here, or its last one gone: for a group whose rule asks
   * for presence with join/leave, the engine decides whether that is the group's transition
   * (one node: always; a cluster: the first / last anywhere) and tells presence() once.
   */
  private presenceEdge(group: string, uid: string, joined: boolean): void {
    if (this.hasPresence(group)) this.engine.memberEdge(group, uid, joined);
  }

  /** Whether `group` has presence (--channel-rules): tracked, counted, listed by getPresence. */
  hasPresence(group: string): boolean {
    return this.channels?.match(group)?.presence === true;
  }

  /** Whether `group` has presence with join/leave frames. */
  joinLeave(group: string): boolean {
    const rule = this.channels?.match(group) ?? null;
    return rule !== null && rule.presence && rule.joinLeave;
  }

  /**
   * A group presence transition (engine handler). `sent`: the engine published its frame to
   * every node (a cluster); else (one node) it goes to this node's pushgate.v1 members.
   */
  presenceTransition(group: string, uid: string, joined: boolean, sent: boolean): void {
    if (!this.joinLeave(group)) return;
    if (sent) return this.metrics.presenceEvents.incL([joined ? "join" : "leave"]);
    // After the step that made the edge: a subscriber gets its reply first, then its own join.
    queueMicrotask(() => {
      this.metrics.presenceEvents.incL([joined ? "join" : "leave"]);
      this.signal(groupTopic(group), `{"type":"presence","group":${JSON.stringify(group)},"event":"${joined ? "join" : "leave"}","uid":${JSON.stringify(uid)}}`);
    });
  }

  /** A raw pushgate.v1 frame for this node's pushgate.v1 subscribers of `stream` (engine handler). */
  signal(stream: string, frame: string): void {
    const server = this.server;
    if (server === null || this.members.v1Conns === 0) return;
    const topic = V1_TOPIC_PREFIX + stream;
    if (server.subscriberCount(topic) > 0) this.publishFrame(server, topic, frame);
  }

  /** The stream's pushgate.v1 topic, or null on a node without pushgate.v1 sockets (seed-only nodes, the common Workerman migration, pay nothing for the pushgate.v1 family). */
  private v1Topic(stream: string): string | null {
    return this.members.v1Conns > 0 ? V1_TOPIC_PREFIX + stream : null;
  }

  private publishFrame(server: Server<ConnData>, topic: string, frame: string): void {
    // 0 = dropped for at least one reader (Bun answers -1 while merely queued, and for small
    // frames often the length even when a reader is then cut off, so slow-reader closes are
    // best read from closes_total{code="1006"}). Never retry: the healthy readers got it.
    // (0 also comes back for a delivered empty message.)
    if (server.publish(topic, frame) === 0 && frame.length > 0) this.droppedBackpressure.inc();
  }
}

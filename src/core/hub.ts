// The hub: one node's state (membership, inherited from Registry) and its delivery. A push to a
// stream is recorded in history, then sent with one native publish per wire format (seed text,
// pushgate.v1 envelope) — never a loop over connections.
import type { Server } from "bun";
import { IdempotencyCache } from "../api/idempotency.ts";
import type { Authenticator } from "../auth/types.ts";
import type { Config } from "../config/types.ts";
import type { HistoryEntry, HistoryStore, Payload } from "../history/types.ts";
import type { Logger } from "../ops/log.ts";
import { createMetrics, type Metrics } from "../ops/metrics.ts";
import type { CounterSeries } from "../ops/prometheus.ts";
import { directEnvelope, pushEnvelope } from "../protocol/envelope.ts";
import type { Conn, ConnData } from "../transport/conn-data.ts";
import { ExpiryWheel } from "../transport/expiry.ts";
import type { Cluster, Placed } from "../cluster/types.ts";
import { ClientTable } from "./client-table.ts";
import type { Err } from "./result.ts";
import { Registry } from "./registry.ts";
import { JSON_TOPIC_PREFIX, TOPIC_ALL, groupTopic, uidTopic } from "./topics.ts";

export type PublishKind = "uid" | "group" | "all" | "client";

/** A routed push: connections reached on every node, or the reason other nodes were not. */
export type Routed = { reached: number; error: Err | null };

/** Pushes delivered here per stream while a cluster login reads history (see captureStart). */
export type Capture = Map<string, Array<HistoryEntry & { epoch: string }>>;

export class Hub extends Registry {
  server: Server<ConnData> | null = null;
  readonly metrics: Metrics;
  readonly clients: ClientTable;
  draining = false;
  readonly expiry = new ExpiryWheel();
  readonly idempotency: IdempotencyCache;
  cluster: Cluster | null = null;
  private readonly captures = new Set<Capture>();
  // Pre-resolved metric series for the per-message path (no label lookup per publish).
  private readonly published: Record<PublishKind, CounterSeries>;
  private readonly droppedOffline: CounterSeries;
  private readonly droppedBackpressure: CounterSeries;

  constructor(
    readonly config: Config, readonly log: Logger, readonly auth: Authenticator,
    readonly history: HistoryStore, readonly nodeId: string,
  ) {
    super();
    this.clients = new ClientTable(nodeId);
    this.idempotency = new IdempotencyCache(config.idempotencyWindowMs, config.idempotencyMaxKeys);
    this.metrics = createMetrics({
      connections: () => this.clients.size,
      loggedIn: () => this.loggedIn,
      uids: () => this.uids.size,
      groups: () => this.groups.size,
      history: () => this.history.stats(),
    });
    const m = this.metrics;
    this.published = {
      uid: m.publishes.series(["uid"]), group: m.publishes.series(["group"]),
      all: m.publishes.series(["all"]), client: m.publishes.series(["client"]),
    };
    this.droppedOffline = m.drops.series(["offline"]);
    this.droppedBackpressure = m.drops.series(["backpressure"]);
  }

  newConnData(json: boolean): ConnData {
    const now = performance.now();
    return {
      hub: this, cid: 0, json, uid: null, loggedIn: false,
      loginDeadline: now + this.config.loginTimeoutMs, authenticating: false, preauth: null, expiresAt: 0,
      groups: null, session: null, tokens: this.config.rateBurst, refilledAt: now,
      rateDrops: 0, rateLimited: false, badFrames: 0,
    };
  }

  override detach(ws: Conn, code: number): void {
    this.expiry.cancel(ws);
    super.detach(ws, code);
  }

  sendToUid(uid: string, payload: Payload, exclude: readonly Conn[] | null = null): number {
    return this.push(uidTopic(uid), payload, "uid", exclude);
  }

  sendToGroup(group: string, payload: Payload, exclude: readonly Conn[] | null): number {
    return this.push(groupTopic(group), payload, "group", exclude);
  }

  sendToAll(payload: Payload, exclude: readonly Conn[] | null): number {
    return this.push(TOPIC_ALL, payload, "all", exclude);
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
    const frame = ws.data.json ? directEnvelope(payload, Date.now()) : payload.text;
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
   * A client's push to a stream: delivered here at once on a standalone node (a number), or
   * routed through Redis on a cluster member (a promise). The one place that tells them apart.
   */
  pushStream(stream: string, kind: PublishKind, payload: Payload, countRemote: boolean): number | Promise<Routed> {
    return this.cluster ? this.route(stream, payload, kind, null, countRemote) : this.push(stream, payload, kind, null);
  }

  /**
   * Cluster push: placed in the cluster-wide history by Redis, delivered here, and by the other
   * nodes holding the stream. With Redis down it is delivered here only (from this node's own
   * history, whose epoch differs, so recovery reports the break) and the result says so.
   */
  async route(
    stream: string, payload: Payload, kind: PublishKind, excludeIds: readonly string[] | null, countRemote: boolean,
  ): Promise<Routed> {
    const cluster = this.cluster!;
    this.effects++;
    let placed;
    try {
      placed = await cluster.push(stream, payload, excludeIds, countRemote);
    } catch {
      this.metrics.clusterErrors.inc();
      const exclude = excludeIds === null ? null : this.localConns(excludeIds);
      return { reached: this.push(stream, payload, kind, exclude), error: cluster.unavailable() };
    }
    this.published[kind].inc();
    // Delivered on this node by its own subscription (RedisCluster.onPush), in offset order with
    // other nodes' pushes; `remote` counts every node's connections, this one's included.
    const reached = placed.remote;
    // An unknown outcome (Redis or a node did not answer in time) is reported, never "offline".
    if (placed.error) {
      this.metrics.clusterErrors.inc();
      return { reached, error: placed.error };
    }
    // Without counts from the other nodes, "offline" is unknown here: not counted.
    if (countRemote && reached === 0) this.droppedOffline.inc();
    return { reached, error: null };
  }

  /** Records the push in this node's history, then delivers it. */
  private push(stream: string, payload: Payload, kind: PublishKind, exclude: readonly Conn[] | null): number {
    this.effects++;
    this.published[kind].inc();
    const server = this.server;
    if (server === null) return 0;
    // Kept in history only when a pushgate.v1 reader (who sees positions) may want it back.
    const jsonTopic = this.jsonTopic(stream);
    const observed = jsonTopic !== null && server.subscriberCount(jsonTopic) > 0;
    const n = this.deliver(stream, payload, exclude, this.history.append(stream, payload, observed), jsonTopic);
    if (n === 0) this.droppedOffline.inc();
    return n;
  }

  /**
   * One native publish per wire format that has subscribers here. Excluded sockets are
   * unsubscribed for the duration of the (synchronous) publishes and resubscribed after, so
   * exclusion costs O(excluded), not O(subscribers).
   */
  deliver(
    stream: string, payload: Payload, exclude: readonly Conn[] | null, at: Placed, jsonTopic = this.jsonTopic(stream),
  ): number {
    const server = this.server;
    if (server === null) return 0;
    if (this.captures.size > 0) this.capture(stream, payload, at);
    let removed: Conn[] | null = null;
    if (exclude) {
      for (const ws of exclude) {
        const topic = ws.data.json ? jsonTopic! : stream;
        if (ws.isSubscribed(topic)) {
          ws.unsubscribe(topic);
          (removed ??= []).push(ws);
        }
      }
    }
    const nSeed = server.subscriberCount(stream);
    const nJson = jsonTopic === null ? 0 : server.subscriberCount(jsonTopic);
    if (nSeed > 0) this.publish(server, stream, payload.text);
    if (nJson > 0) this.publish(server, jsonTopic!, pushEnvelope(stream, at.epoch, at.offset, at.ts, payload));
    this.metrics.framesOut.inc(nSeed + nJson);
    if (removed) for (const ws of removed) ws.subscribe(ws.data.json ? jsonTopic! : stream);
    return nSeed + nJson;
  }

  /** The stream's pushgate.v1 topic, or null on a node without pushgate.v1 sockets (seed-only nodes, the common Workerman migration, pay nothing for the JSON family). */
  private jsonTopic(stream: string): string | null {
    return this.jsonConns > 0 ? JSON_TOPIC_PREFIX + stream : null;
  }

  /** Starts collecting pushes delivered here for `streams` (a login reading cluster history). */
  captureStart(streams: readonly string[]): Capture {
    const c: Capture = new Map(streams.map((s) => [s, []]));
    this.captures.add(c);
    return c;
  }

  captureStop(c: Capture): void {
    this.captures.delete(c);
  }

  private capture(stream: string, payload: Payload, at: Placed): void {
    for (const c of this.captures) c.get(stream)?.push({ offset: at.offset, ts: at.ts, text: payload.text, isJson: payload.isJson, epoch: at.epoch });
  }

  protected override streamJoined(stream: string): void {
    this.cluster?.watch(stream);
  }

  protected override streamLeft(stream: string): void {
    this.cluster?.unwatch(stream);
  }

  private publish(server: Server<ConnData>, topic: string, frame: string): void {
    // 0 = dropped for at least one reader (Bun answers -1 while merely queued, and for small
    // frames often the length even when a reader is then cut off, so slow-reader closes are
    // best read from closes_total{code="1006"}). Never retry: the healthy readers got it.
    // (0 also comes back for a delivered empty message.)
    if (server.publish(topic, frame) === 0 && frame.length > 0) this.droppedBackpressure.inc();
  }

  /** Close every connection (shutdown). */
  closeAll(code: number, reason: string): void {
    for (const ws of this.clients.values()) ws.close(code, reason);
  }
}

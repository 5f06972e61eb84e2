// The hub: one node's state (membership, inherited from Registry) and its delivery. A push goes
// to the engine (engine/types.ts), which places it in history and hands it back to deliver()
// on every node holding the stream; deliver() sends it with one native publish per wire format
// (seed text, pushgate.v1 envelope) — never a loop over connections.
import type { Server } from "bun";
import { IdempotencyCache } from "../api/idempotency.ts";
import type { Authenticator } from "../auth/types.ts";
import type { Config } from "../config/types.ts";
import type { Engine, Placed, Published } from "../engine/types.ts";
import type { HistoryStore, Payload } from "../history/types.ts";
import type { Logger } from "../ops/log.ts";
import { createMetrics, type Metrics } from "../ops/metrics.ts";
import type { CounterSeries } from "../ops/prometheus.ts";
import { directEnvelope, pushEnvelope } from "../protocol/envelope.ts";
import type { Conn, ConnData } from "../transport/conn-data.ts";
import { ExpiryWheel } from "../transport/expiry.ts";
import { ClientTable } from "./client-table.ts";
import { Registry } from "./registry.ts";
import { JSON_TOPIC_PREFIX } from "./topics.ts";

export type PublishKind = "uid" | "group" | "all" | "client";

export class Hub extends Registry {
  server: Server<ConnData> | null = null;
  readonly metrics: Metrics;
  readonly clients: ClientTable;
  draining = false;
  readonly expiry = new ExpiryWheel();
  readonly idempotency: IdempotencyCache;
  // Pre-resolved metric series for the per-message path (no label lookup per publish).
  private readonly published: Record<PublishKind, CounterSeries>;
  private readonly droppedOffline: CounterSeries;
  private readonly droppedBackpressure: CounterSeries;

  constructor(
    readonly config: Config, readonly log: Logger, readonly auth: Authenticator,
    readonly history: HistoryStore, readonly nodeId: string, readonly engine: Engine,
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

  /** Whether a pushgate.v1 reader here subscribes to `stream` (its pushes must be placed in history). */
  observed(stream: string): boolean {
    return this.jsonConns > 0 && this.server !== null && this.server.subscriberCount(JSON_TOPIC_PREFIX + stream) > 0;
  }

  /**
   * One native publish per wire format that has subscribers here. Excluded sockets are
   * unsubscribed for the duration of the (synchronous) publishes and resubscribed after, so
   * exclusion costs O(excluded), not O(subscribers).
   */
  deliver(stream: string, payload: Payload, at: Placed, excludeIds: readonly string[] | null): number {
    const server = this.server;
    if (server === null) return 0;
    const jsonTopic = this.jsonTopic(stream);
    let removed: Conn[] | null = null;
    if (excludeIds) {
      for (const ws of this.localConns(excludeIds)) {
        const topic = ws.data.json ? jsonTopic! : stream;
        if (ws.isSubscribed(topic)) {
          ws.unsubscribe(topic);
          (removed ??= []).push(ws);
        }
      }
    }
    const nSeed = server.subscriberCount(stream);
    const nJson = jsonTopic === null ? 0 : server.subscriberCount(jsonTopic);
    if (nSeed > 0) this.publishFrame(server, stream, payload.text);
    if (nJson > 0) this.publishFrame(server, jsonTopic!, pushEnvelope(stream, at.epoch, at.offset, at.ts, payload));
    this.metrics.framesOut.inc(nSeed + nJson);
    if (removed) for (const ws of removed) ws.subscribe(ws.data.json ? jsonTopic! : stream);
    return nSeed + nJson;
  }

  /** The stream's pushgate.v1 topic, or null on a node without pushgate.v1 sockets (seed-only nodes, the common Workerman migration, pay nothing for the JSON family). */
  private jsonTopic(stream: string): string | null {
    return this.jsonConns > 0 ? JSON_TOPIC_PREFIX + stream : null;
  }

  protected override streamJoined(stream: string): void {
    this.engine.watch(stream);
  }

  protected override streamLeft(stream: string): void {
    this.engine.unwatch(stream);
  }

  private publishFrame(server: Server<ConnData>, topic: string, frame: string): void {
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

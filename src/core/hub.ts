// The hub owns connection membership (who is which uid, in which group) and delivery.
// Delivery is always one native server.publish per topic; the maps here serve presence
// queries, limits and sendToClient's single lookup — never a fan-out loop.
import type { Server } from "bun";
import type { Authenticator } from "../auth/types.ts";
import type { Config } from "../config/types.ts";
import type { Logger } from "../ops/log.ts";
import { createMetrics, type Metrics } from "../ops/metrics.ts";
import type { CounterSeries } from "../ops/prometheus.ts";
import type { Conn, ConnData } from "../transport/conn-data.ts";
import { ClientIdFactory } from "./client-id.ts";
import { type Result, ok, err } from "./result.ts";
import { TOPIC_ALL, groupTopic, uidTopic } from "./topics.ts";

export type PublishKind = "uid" | "group" | "all" | "client";

export class Hub {
  server: Server<ConnData> | null = null;
  readonly clients = new Map<string, Conn>();
  readonly pending = new Set<Conn>();
  readonly uids = new Map<string, Set<Conn>>();
  readonly groups = new Map<string, Set<Conn>>();
  readonly metrics: Metrics;
  readonly ids: ClientIdFactory;
  loggedIn = 0;
  draining = false;
  // Pre-resolved metric series for the per-message path (no label lookup per publish).
  private readonly published: Record<PublishKind, CounterSeries>;
  private readonly droppedOffline: CounterSeries;
  private readonly droppedBackpressure: CounterSeries;

  constructor(
    readonly config: Config, readonly log: Logger, readonly auth: Authenticator, nodeId: string,
  ) {
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

  attach(ws: Conn): void {
    this.clients.set(ws.data.clientId, ws);
    if (!ws.data.loggedIn) this.pending.add(ws);
    this.metrics.opened.inc();
  }

  detach(ws: Conn, code: number): void {
    const d = ws.data;
    this.clients.delete(d.clientId);
    this.pending.delete(ws);
    if (d.uid !== null) this.dropFromUid(ws, d.uid);
    if (d.loggedIn) this.loggedIn--;
    if (d.groups) for (const g of d.groups) this.dropFromGroup(ws, g);
    this.metrics.closes.incL([String(code)]);
  }

  /** Bind a connection to a uid (login when it had none). Re-binding replaces the old uid. */
  bindUid(ws: Conn, uid: string): Result<void> {
    const d = ws.data;
    if (d.uid === uid) return ok(undefined);
    const max = this.config.maxConnectionsPerUid;
    const set = this.uids.get(uid);
    if (max > 0 && set && set.size >= max) {
      return err("E_UID_CONNECTION_LIMIT", `uid already has ${max} connections (--max-connections-per-uid)`);
    }
    if (d.uid !== null) this.unbindUid(ws);
    if (set) set.add(ws);
    else this.uids.set(uid, new Set([ws]));
    d.uid = uid;
    ws.subscribe(uidTopic(uid));
    if (!d.loggedIn) {
      d.loggedIn = true;
      this.loggedIn++;
      this.pending.delete(ws);
      ws.subscribe(TOPIC_ALL);
      this.metrics.logins.inc();
    }
    return ok(undefined);
  }

  /** Remove the uid binding; the connection stays open, logged in and in its groups. */
  unbindUid(ws: Conn): void {
    const uid = ws.data.uid;
    if (uid === null) return;
    this.dropFromUid(ws, uid);
    ws.unsubscribe(uidTopic(uid));
    ws.data.uid = null;
  }

  joinGroup(ws: Conn, group: string): Result<void> {
    const d = ws.data;
    if (d.groups?.has(group)) return ok(undefined);
    if ((d.groups?.size ?? 0) >= this.config.maxGroupsPerConnection) {
      return err("E_BAD_PARAMS", `connection is already in ${this.config.maxGroupsPerConnection} groups (--max-groups-per-connection)`);
    }
    (d.groups ??= new Set()).add(group);
    const set = this.groups.get(group);
    if (set) set.add(ws);
    else this.groups.set(group, new Set([ws]));
    ws.subscribe(groupTopic(group));
    return ok(undefined);
  }

  leaveGroup(ws: Conn, group: string): void {
    const d = ws.data;
    if (!d.groups?.delete(group)) return;
    if (d.groups.size === 0) d.groups = null;
    this.dropFromGroup(ws, group);
    ws.unsubscribe(groupTopic(group));
  }

  /** Dissolve a group: every member leaves it. Returns how many connections left. */
  ungroup(group: string): number {
    const set = this.groups.get(group);
    if (!set) return 0;
    const members = [...set];
    for (const ws of members) this.leaveGroup(ws, group);
    return members.length;
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
    // 0 = over backpressureLimit: Bun closes that reader (closeOnBackpressureLimit).
    if (ws.send(text) === 0) this.droppedBackpressure.inc();
    else this.metrics.framesOut.inc();
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
      if (server.publish(topic, text) === 0) this.droppedBackpressure.inc();
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

  private dropFromUid(ws: Conn, uid: string): void {
    const set = this.uids.get(uid);
    if (!set) return;
    set.delete(ws);
    if (set.size === 0) this.uids.delete(uid);
  }

  private dropFromGroup(ws: Conn, group: string): void {
    const set = this.groups.get(group);
    if (!set) return;
    set.delete(ws);
    if (set.size === 0) this.groups.delete(group);
  }
}

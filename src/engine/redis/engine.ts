// The Redis engine (Bun.RedisClient, no packages): nodes joined through Redis. Streams are
// placed on one or more Redis instances (shards, shard-of.ts); node channels (calls, replies,
// counts) and presence live on the first. A stream's channel is subscribed only while this
// node holds a local subscriber of it, so a push to a uid costs work only on the nodes holding
// that uid. Pushes made in one event-loop turn go to their shard as one script call; a push to
// a stream no pushgate.v1 reader observed is only published (see push.lua).
import { type Err, type Result, err, ok } from "../../core/result.ts";
import type { HistoryStore, Payload, StreamPosition } from "../../history/types.ts";
import type { Logger } from "../../ops/log.ts";
import { MemoryEngine } from "../memory.ts";
import { noHandlers } from "../no-handlers.ts";
import type { Engine, EngineHandlers, LoginView, Published } from "../types.ts";
import { countMessage, parseCounts, parseNodeMessage, parsePush, pushBody } from "./bus.ts";
import { type Counted, CountTallies } from "./counts.ts";
import { PRESENCE_CHANNEL, STREAM_CHANNEL_PREFIX, nodeChannel, streamChannel } from "./keys.ts";
import { NodeCalls } from "./node-calls.ts";
import type { StreamHistory } from "./read.ts";
import { type Capture, clusterSource } from "./recovery-source.ts";
import { NoAnswer } from "./responsiveness.ts";
import { NotSent } from "./scripts.ts";
import { Shard, type ShardPush } from "./shard.ts";
import { shardOf } from "./shard-of.ts";
import { UidLimit } from "./uid-limit.ts";
import { lost, noAnswer, unavailable } from "./faults.ts";
import { Heartbeat } from "./heartbeat.ts";
import { GroupPresence } from "./group-presence.ts";

export interface RedisEngineOptions {
  /** One URL per shard; the first also carries node channels and presence. */
  urls: readonly string[];
  nodeId: string;
  historySize: number;
  historyTtlMs: number;
  presenceTtlMs: number;
  timeoutMs: number;
  /** Largest answer to another node's call (--cluster-max-reply). */
  maxReplyBytes: number;
  /** Most pushes in one script call (--redis-batch). */
  batchMax: number;
  /** --max-connections-per-uid (0: unlimited), enforced across the nodes. */
  maxPerUid: number;
  /** This node's own history: what a push and a login fall back on while Redis is unreachable. */
  history: HistoryStore;
  log: Logger;
}

const ALL = "all";
/** An uncounted push sent (one shared answer: nothing in it is per push). */
const SENT: Published = Object.freeze({ reached: 0, error: null });
const UID_PREFIX = "uid:";

const NO_HANDLERS = noHandlers(err("E_CLUSTER_UNAVAILABLE", "the node is starting"));

export class RedisEngine implements Engine {
  readonly kind = "redis";
  readonly distributed = true;
  readonly nodeId: string;
  private h = NO_HANDLERS;
  private readonly shards: Shard[];
  /** Node channels, presence and heartbeats. */
  private readonly home: Shard;
  private readonly nodeCalls: NodeCalls;
  private readonly tallies: CountTallies;
  private readonly captures = new Set<Capture>();
  /** This node alone (its own history): what pushes and logins fall back on while Redis is unreachable. */
  private readonly local: MemoryEngine;
  private readonly uidLimit: UidLimit | null;
  /** Cluster-wide group presence (join / leave), on the first shard. */
  private readonly groups: GroupPresence;
  /** Delivery counts owed to other nodes this turn: one message per origin node. */
  private countsOut = new Map<string, string[]>();
  private readonly heartbeat: Heartbeat;

  constructor(private readonly opts: RedisEngineOptions) {
    this.nodeId = opts.nodeId;
    this.local = new MemoryEngine(opts.history);
    this.tallies = new CountTallies(opts.timeoutMs);
    const n = opts.urls.length;
    const events = {
      message: this.onMessage,
      observed: (s: string) => this.h.observed(s),
      reconnected: (shard: Shard) => {
        this.rewriteUidCounts(shard);
        // Heartbeat at once: Redis may have restarted and forgotten this node.
        if (shard === this.home) {
          this.heartbeat.reconnected();
          // Redis may have restarted empty: this node's group members are written again.
          this.groups.resetScripts();
          this.groups.rewrite();
        }
      },
      resubscribed: (shard: Shard) => {
        if (shard === this.home) this.heartbeat.now(); // reachable again: present again
      },
      answering: (shard: Shard) => {
        this.rewriteUidCounts(shard);
        if (shard === this.home) this.heartbeat.now(); // present again now, not at the next heartbeat
        shard.marks.refresh();
      },
    };
    this.shards = opts.urls.map((url, i) => new Shard({
      url, label: String(i), nodeId: opts.nodeId, log: opts.log,
      historySize: opts.historySize, historyTtlMs: opts.historyTtlMs, timeoutMs: opts.timeoutMs, batchMax: opts.batchMax,
      fixed: [...(i === 0 ? [nodeChannel(opts.nodeId), PRESENCE_CHANNEL] : []), ...(shardOf(ALL, n) === i ? [streamChannel(ALL)] : [])],
    }, events));
    this.home = this.shards[0]!;
    this.heartbeat = new Heartbeat(this.home, opts.nodeId, opts.presenceTtlMs);
    this.nodeCalls = new NodeCalls({
      nodeId: opts.nodeId, timeoutMs: opts.timeoutMs, maxReplyBytes: opts.maxReplyBytes, home: this.home,
      liveNodes: () => this.heartbeat.liveNodes(), unavailable: () => this.unavailable(this.home), run: (m, p) => this.h.call(m, p),
    });
    this.groups = new GroupPresence(this.home, opts.nodeId, opts.presenceTtlMs, () => this.h, opts.log);
    this.uidLimit = opts.maxPerUid > 0
      ? new UidLimit(opts.maxPerUid, opts.nodeId, opts.presenceTtlMs, this.home, (uid) => this.h.connections(uid), opts.log)
      : null;
  }

  admitUid(uid: string): Promise<boolean> | null {
    return this.uidLimit?.admit(uid) ?? null;
  }

  admitted(uid: string): void {
    this.uidLimit?.admitted(uid);
  }

  /** The first shard (re)connected or answers again: it may have lost this node's uid counts. */
  private rewriteUidCounts(shard: Shard): void {
    if (this.uidLimit && shard === this.home) this.uidLimit.rewrite(this.h.uids());
  }

  register(handlers: EngineHandlers): void {
    this.h = handlers;
    this.local.register(handlers);
  }

  /** Every shard up and answering. */
  get connected(): boolean {
    return this.shards.every((s) => s.connected);
  }

  private shard(stream: string): Shard {
    return this.shards.length === 1 ? this.home : this.shards[shardOf(stream, this.shards.length)]!;
  }

  async start(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.start()));
    await this.heartbeat.start();
  }

  async stop(): Promise<void> {
    // The drain's leaves: written and told before the shards close.
    await this.groups.stop(2000);
    this.nodeCalls.flush();
    this.tallies.flush();
    await this.heartbeat.stop();
    for (const s of this.shards) s.stop();
  }

  watch(stream: string): void {
    const shard = this.shard(stream);
    if (this.uidLimit && stream.startsWith(UID_PREFIX)) this.uidLimit.changed(stream.slice(UID_PREFIX.length));
    shard.channels.watch(stream);
    if (this.h.observed(stream)) shard.marks.mark(stream);
  }

  unwatch(stream: string): void {
    this.shard(stream).channels.unwatch(stream);
    if (this.uidLimit && stream.startsWith(UID_PREFIX)) this.uidLimit.changed(stream.slice(UID_PREFIX.length));
  }

  // "all" is always subscribed (every node holds everyone), so holds skip it. The holder always
  // counts (its release() follows either way).
  hold(streams: readonly string[]): Promise<void> {
    return this.holdStreams(streams).catch(() => {});
  }

  release(streams: readonly string[]): void {
    for (const s of streams) if (s !== ALL) this.shard(s).channels.unwatch(s);
  }

  /**
   * The login first captures what this node delivers for its streams, subscribes their channels,
   * then reads Redis (login.lua marks them observed in the same step): every push placed after
   * the positions read is then either captured or, once the socket subscribes, live.
   */
  login(streams: readonly string[], recover: ReadonlyMap<string, StreamPosition> | null): Promise<LoginView> {
    const capture: Capture = new Map(streams.map((s) => [s, []]));
    this.captures.add(capture);
    const release = () => {
      this.captures.delete(capture);
      this.release(streams);
    };
    return this.holdStreams(streams)
      .then(() => this.read(streams, recover))
      .then(
        (histories) => ({ source: clusterSource(histories, capture), release }),
        // A shard unreachable: this node's own history (another epoch: recovery reports it).
        () => ({ source: this.local.login().source, release }),
      );
  }

  private holdStreams(streams: readonly string[]): Promise<void> {
    const parts = this.byShard(streams.filter((s) => s !== ALL));
    return Promise.all([...parts].map(([shard, list]) => shard.hold(list))).then(() => {});
  }

  private read(streams: readonly string[], from: ReadonlyMap<string, StreamPosition> | null): Promise<Map<string, StreamHistory>> {
    const parts = this.byShard(streams);
    return Promise.all([...parts].map(([shard, list]) => shard.read(list, from))).then((maps) => {
      if (maps.length === 1) return maps[0]!;
      const out = new Map<string, StreamHistory>();
      for (const m of maps) for (const [k, v] of m) out.set(k, v);
      return out;
    });
  }

  private byShard(streams: readonly string[]): Map<Shard, string[]> {
    const out = new Map<Shard, string[]>();
    for (const s of streams) {
      const shard = this.shard(s);
      const list = out.get(shard);
      if (list) list.push(s);
      else out.set(shard, [s]);
    }
    return out;
  }

  publish(stream: string, payload: Payload, excludeIds: readonly string[] | null, count: boolean): Promise<Published> {
    const shard = this.shard(stream);
    // Nothing is sent while its Redis is down or not answering: delivered here only, and said so.
    if (!shard.connected) return Promise.resolve(this.alone(shard, stream, payload, excludeIds));
    const { promise, resolve } = Promise.withResolvers<Published>();
    const tally = count ? this.tallies.open() : null;
    const push: ShardPush = {
      stream, body: pushBody(this.nodeId, Date.now(), payload, excludeIds, tally?.id ?? 0), counted: tally !== null,
      done: (r, e) => {
        if (r === null) {
          if (tally) this.tallies.finish(tally.id);
          // Never sent: delivered here only, and said so.
          if (e instanceof NotSent) return resolve(this.alone(shard, stream, payload, excludeIds));
          // Sent, then unanswered or the connection dropped: Redis may have run it (then every
          // node, this one too, delivered it once). Not delivered again here, and not
          // "offline": the outcome is unknown.
          return resolve({ reached: 0, error: e instanceof NoAnswer ? noAnswer("the push", this.opts.timeoutMs) : lost("the push", e) });
        }
        if (!tally) return resolve(SENT);
        // Every subscribed node reports a count, this one included (see onPush).
        this.tallies.expect(tally.id, r[2]);
        void this.counted(stream, tally.result, r[2]).then(resolve);
      },
    };
    shard.push(push);
    return promise;
  }

  private async counted(stream: string, counted: Promise<Counted>, receivers: number): Promise<Published> {
    const c = await counted;
    // A node that received the push but did not report may have delivered it: `reached` is then
    // a lower bound, and a uid not counted anywhere is unknown, not offline.
    if (c.reports < receivers) {
      return { reached: c.sum, error: err("E_CLUSTER_TIMEOUT", `${receivers - c.reports} of ${receivers} node(s) holding ${stream} did not report delivery within ${this.opts.timeoutMs} ms (--cluster-timeout): reached is a lower bound`) };
    }
    return { reached: c.sum, error: null };
  }

  /** Redis unreachable: delivered here from this node's own history (its epoch differs, so recovery reports the break). */
  private alone(shard: Shard, stream: string, payload: Payload, excludeIds: readonly string[] | null): Published {
    return { reached: this.local.publish(stream, payload, excludeIds), error: this.unavailable(shard, "delivered on this node only") };
  }

  call(node: string, method: string, params: Record<string, unknown>): Promise<Result<unknown>> {
    return node === this.nodeId ? this.h.call(method, params) : this.nodeCalls.call(node, method, params);
  }

  scatter(method: string, params: Record<string, unknown>): Promise<Result<unknown>[]> {
    return this.nodeCalls.scatter(method, params);
  }

  /** `what`: what this node did alone (a push: "delivered on this node only"; a question: this node's part). */
  private unavailable(shard: Shard, what?: string): Err {
    return unavailable(shard, this.opts.timeoutMs, this.shards.length > 1, what);
  }

  /** The listener of every channel. Bus input is validated: a bad message is logged, not fatal. */
  private readonly onMessage = (message: string, channel: string): void => {
    try {
      if (channel.startsWith(STREAM_CHANNEL_PREFIX)) return this.onPush(message, channel.slice(STREAM_CHANNEL_PREFIX.length));
      if (channel === PRESENCE_CHANNEL) return this.onPresence(message);
      if (parseCounts(message, this.addCount)) return;
      const m = parseNodeMessage(message);
      if (m) this.nodeCalls.received(m);
    } catch (e) {
      this.opts.log.error("cluster_message_error", { channel, error: String(e) });
    }
  };

  /** A presence frame the scripts published: to this node's pushgate.v1 members of its group. */
  private onPresence(frame: string): void {
    const group = (JSON.parse(frame) as { group?: unknown }).group;
    if (typeof group === "string") this.h.signal(`group:${group}`, frame);
  }

  memberEdge(group: string, uid: string, _joined: boolean): void {
    this.groups.edge(group, uid);
  }

  groupUidCount(group: string): Promise<Result<number>> {
    if (!this.home.connected) return Promise.resolve(this.unavailable(this.home, "not counted"));
    return this.groups.uidCount(group).then((n) => ok(n), (e) => err("E_CLUSTER_TIMEOUT", `Redis did not answer the group count: ${String(e).slice(0, 100)}`));
  }

  private onPush(message: string, stream: string): void {
    const p = parsePush(message);
    if (!p) return;
    // This node's own pushes are delivered here too, not from the script's reply: one
    // connection per shard, so a node's sockets get every stream in offset order, whoever
    // pushed. The stream is the channel's, never the body's.
    const at = { epoch: p.epoch, offset: p.offset, ts: p.ts };
    if (this.captures.size > 0) {
      for (const c of this.captures) c.get(stream)?.push({ ...at, text: p.payload.text, isJson: p.payload.isJson });
    }
    const n = this.h.deliver(stream, p.payload, at, p.excludeIds);
    if (p.q === 0) return;
    if (p.origin === this.nodeId) return this.tallies.add(p.q, n);
    if (this.countsOut.size === 0) setImmediate(this.sendCounts);
    const owed = this.countsOut.get(p.origin);
    if (owed) owed.push(`${p.q}|${n}`);
    else this.countsOut.set(p.origin, [`${p.q}|${n}`]);
  }

  private readonly addCount = (q: number, n: number): void => this.tallies.add(q, n);

  private readonly sendCounts = (): void => {
    const all = this.countsOut;
    this.countsOut = new Map();
    for (const [origin, pairs] of all) void this.home.cmd.send("PUBLISH", [nodeChannel(origin), countMessage(pairs)]).catch(() => {});
  };
}

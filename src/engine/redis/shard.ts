// One Redis instance of the engine tier: its two connections (commands; subscribed — a
// subscribed connection can run nothing else), whether it answers, the stream channels this
// node holds on it, the observed marks of its streams, and the turn's pushes to it, sent as one
// script call (push.lua). Streams are placed on shards by engine.ts (shard-of.ts).
import { RedisClient } from "bun";
import type { StreamPosition } from "../../history/types.ts";
import type { Logger } from "../../ops/log.ts";
import { Channels } from "./channels.ts";
import { randomHex } from "../../core/hex.ts";
import { historyKey, markerKey, metaKey, streamChannel } from "./keys.ts";
import { ObservedMarks } from "./marks.ts";
import { type ReadAsk, type StreamHistory, readStreams } from "./read.ts";
import { Responsiveness } from "./responsiveness.ts";
import { NotSent, SCRIPTS, Script } from "./scripts.ts";

/** Logins read in one script call at most (each names ~3 streams). */
const READS_PER_CALL = 256;

export interface ShardOptions {
  url: string;
  /** For logs: which shard ("0", "1", …) of which node. */
  label: string;
  nodeId: string;
  historySize: number;
  historyTtlMs: number;
  timeoutMs: number;
  batchMax: number;
  /** Channels this shard's subscriber connection always holds (the node channel on shard 0, "all" where it lives). */
  fixed: readonly string[];
  log: Logger;
}

/** What the shard needs from its engine. */
export interface ShardEvents {
  message(message: string, channel: string): void;
  observed(stream: string): boolean;
  /** The command connection is (re)connected: what waited on the old one is gone. */
  reconnected(shard: Shard): void;
  answering(shard: Shard): void;
  /** The subscriber connection has its channels again after a reconnect. */
  resubscribed(shard: Shard): void;
}

/** A push waiting for its turn's script call. */
export interface ShardPush {
  stream: string;
  body: string;
  counted: boolean;
  /** epoch, offset, receivers — or the error that stopped the call (NotSent: nothing ran). */
  done(r: [string, number, number] | null, e: unknown): void;
}

export class Shard {
  readonly cmd: RedisClient;
  readonly sub: RedisClient;
  readonly channels: Channels;
  readonly answers: Responsiveness;
  readonly marks: ObservedMarks;
  private readonly pushScript = new Script(SCRIPTS.push);
  private readonly loginScript = new Script(SCRIPTS.login);
  private readonly markScript = new Script(SCRIPTS.mark);
  readonly admitScript = new Script(SCRIPTS.admit);
  readonly uidCountsScript = new Script(SCRIPTS.uidCounts);
  readonly scripts: Script[];
  private queue: ShardPush[] = [];
  private reads: Array<ReadAsk & { resolve(m: Map<string, StreamHistory>): void; reject(e: unknown): void }> = [];
  private monitor: Timer | null = null;
  private lastUp = true;
  /** After a reconnect, until Redis confirmed every channel again (this node is not reachable yet). */
  resubscribing = false;
  private wasConnected = false;
  private stopped = false;
  private readonly historySize: string;
  private readonly historyTtl: string;
  private readonly epochBase = randomHex(4);
  private epochSeq = 0;

  constructor(readonly opts: ShardOptions, private readonly events: ShardEvents) {
    const log = opts.log;
    this.answers = new Responsiveness(opts.timeoutMs, {
      canMark: () => !this.stopped && this.linked,
      stalled: () => log.warn("redis_not_answering", { nodeId: opts.nodeId, shard: opts.label, timeoutMs: opts.timeoutMs }),
      answered: (afterMs) => {
        log.info("redis_answering", { nodeId: opts.nodeId, shard: opts.label, afterMs });
        events.answering(this);
      },
    });
    this.historySize = String(opts.historySize);
    this.historyTtl = String(opts.historyTtlMs);
    // No offline queue: a command during an outage fails at once (reported), never runs later
    // into the void. Bun reconnects by itself; subscriptions are restored in onconnect.
    const o = { enableOfflineQueue: false, autoReconnect: true, maxRetries: 1_000_000_000, connectionTimeout: 2000 };
    this.cmd = new RedisClient(opts.url, o);
    this.sub = new RedisClient(opts.url, o);
    this.channels = new Channels(this.sub, events.message, opts.fixed);
    this.marks = new ObservedMarks(opts.historyTtlMs, (streams, ttl) => {
      if (!this.connected) return Promise.reject(new Error("redis unavailable"));
      return this.bounded(this.markScript.run(this.cmd, streams.map(markerKey), [String(ttl)]));
    });
    this.scripts = [this.pushScript, this.loginScript, this.markScript, this.admitScript, this.uidCountsScript];
    this.cmd.onconnect = () => this.onConnect(false);
    this.sub.onconnect = () => this.onConnect(true);
    // onclose: Bun gave up reconnecting (or we closed); try again later rather than never.
    this.cmd.onclose = () => this.retryLater(this.cmd);
    this.sub.onclose = () => this.retryLater(this.sub);
  }

  /** Both connections up and Redis answering. */
  get connected(): boolean {
    return this.linked && this.answers.answering;
  }

  /** Both connections up (answering or not). */
  get linked(): boolean {
    return this.cmd.connected && this.sub.connected;
  }

  async start(): Promise<void> {
    await Promise.all([this.cmd.connect(), this.sub.connect()]);
    await this.channels.subscribeAll(false);
    this.wasConnected = true;
    this.marks.start(this.events.observed);
    // Bun reconnects by itself and fires onconnect again, but no event marks the loss: watch it.
    this.monitor = setInterval(() => {
      if (this.cmd.connected) this.answers.probe(() => this.cmd.send("PING", []));
      const up = this.linked;
      if (up === this.lastUp) return;
      this.lastUp = up;
      if (!up && !this.stopped) this.opts.log.warn("redis_disconnected", { nodeId: this.opts.nodeId, shard: this.opts.label });
    }, 250);
    this.monitor.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.monitor) clearInterval(this.monitor);
    this.marks.stop();
    this.cmd.close();
    this.sub.close();
  }

  bounded<T>(p: Promise<T>, marks = true): Promise<T> {
    return this.answers.bounded(p, marks);
  }

  /** Queues a push for this turn's script call. */
  push(p: ShardPush): void {
    if (this.queue.length === 0) setImmediate(this.flush);
    this.queue.push(p);
  }

  /** Sends the turn's pushes, in order, in script calls of at most --redis-batch. */
  private readonly flush = (): void => {
    const all = this.queue;
    this.queue = [];
    if (all.length <= this.opts.batchMax) return void this.send(all);
    for (let i = 0; i < all.length; i += this.opts.batchMax) void this.send(all.slice(i, i + this.opts.batchMax));
  };

  private async send(batch: ShardPush[]): Promise<void> {
    if (!this.connected) {
      for (const p of batch) p.done(null, new NotSent("redis unavailable"));
      return;
    }
    const keys: string[] = [];
    // A new epoch per call, unique without randomness per call.
    const args = [this.historySize, this.historyTtl, this.epochBase + (++this.epochSeq).toString(36)];
    for (const p of batch) {
      keys.push(markerKey(p.stream), metaKey(p.stream), historyKey(p.stream));
      args.push(streamChannel(p.stream), p.body, p.counted ? "1" : "0");
    }
    let r: Array<string | number>;
    try {
      r = (await this.bounded(this.pushScript.run(this.cmd, keys, args))) as Array<string | number>;
    } catch (e) {
      for (const p of batch) p.done(null, e);
      return;
    }
    batch.forEach((p, i) => p.done([String(r[3 * i]), Number(r[3 * i + 1]), Number(r[3 * i + 2])], null));
  }

  /** Holds `streams` (subscribes their channels); bounded, so a login never hangs on a Redis that does not answer. */
  hold(streams: readonly string[]): Promise<void> {
    const held = this.channels.hold(streams);
    // (A slow confirmation on the subscriber connection, e.g. in a login storm, does not mark
    // Redis as not answering: pushes and calls use the other connection.)
    if (this.connected) return this.bounded(held, false);
    held.catch(() => {});
    return Promise.reject(new Error("redis unavailable"));
  }

  /**
   * Positions and history of a login's streams on this shard (login.lua also marks them
   * observed). The turn's logins go as one script call and one PING.
   */
  read(streams: readonly string[], from: ReadonlyMap<string, StreamPosition> | null): Promise<Map<string, StreamHistory>> {
    if (!this.connected) return Promise.reject(new Error("redis unavailable"));
    const { promise, resolve, reject } = Promise.withResolvers<Map<string, StreamHistory>>();
    if (this.reads.length === 0) setImmediate(this.flushReads);
    this.reads.push({ streams, from, resolve, reject });
    return promise;
  }

  private readonly flushReads = (): void => {
    const all = this.reads;
    this.reads = [];
    for (let i = 0; i < all.length; i += READS_PER_CALL) void this.sendReads(all.slice(i, i + READS_PER_CALL));
  };

  private async sendReads(asks: typeof this.reads): Promise<void> {
    try {
      if (!this.connected) throw new Error("redis unavailable");
      const o = { markTtlMs: this.marks.ttlMs, historyTtlMs: this.opts.historyTtlMs, epoch: randomHex(4) };
      const maps = await this.bounded(readStreams(this.cmd, this.loginScript, asks, o));
      for (const a of asks) for (const s of a.streams) this.marks.noteMarked(s);
      // A push placed before the read may still be in flight on the subscriber connection: wait
      // for it (PONG queues behind it) so it is captured now, not delivered live after the replay.
      // A slow subscriber connection (a push backlog) does not mark Redis as not answering.
      await this.bounded(this.sub.ping(), false);
      asks.forEach((a, i) => a.resolve(maps[i]!));
    } catch (e) {
      for (const a of asks) a.reject(e);
    }
  }

  private onConnect(subscriber: boolean): void {
    if (!this.wasConnected || this.stopped) return;
    if (!subscriber) {
      // A new connection: what waited on the old one is gone (Bun rejected it). Redis may have
      // restarted and lost its scripts and marks.
      this.answers.reset();
      for (const s of this.scripts) s.reset();
      this.marks.refresh();
      this.events.reconnected(this);
      return;
    }
    this.resubscribing = true;
    // A failure here is the connection dropping mid-way (Bun drops a connection whose SUBSCRIBE
    // Redis refuses): its onclose reconnects, and that connect resubscribes (retryLater).
    void this.channels.subscribeAll(true).then(
      () => {
        this.resubscribing = false;
        // Up again now, not at the monitor's next tick: a loss right after must still be logged.
        this.lastUp = this.linked;
        this.opts.log.info("redis_reconnected", { nodeId: this.opts.nodeId, shard: this.opts.label, streams: this.channels.size });
        this.events.resubscribed(this);
      },
      (e) => {
        this.resubscribing = false;
        this.opts.log.error("redis_resubscribe_failed", { shard: this.opts.label, error: String(e) });
      },
    );
  }

  private retryLater(client: RedisClient): void {
    if (this.stopped) return;
    setTimeout(() => void client.connect().catch(() => this.retryLater(client)), 1000).unref();
  }
}

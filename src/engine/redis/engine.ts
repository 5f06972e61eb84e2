// The Redis engine (Bun.RedisClient, no packages): nodes joined through one Redis. Two
// connections: one for commands (the push script, login reads, heartbeats, node calls), one
// subscribed (a subscribed connection can run nothing else). A stream's channel is subscribed
// only while this node holds a local subscriber of it, so a push to a uid costs work only on the
// nodes holding that uid. Pushes made in one event-loop turn go to Redis as one script call;
// a push to a stream no pushgate.v1 reader observed is only published (see push.lua).
import { RedisClient } from "bun";
import { isUnknownOutcome, markUnknown } from "../../core/outcome.ts";
import { type Err, type Result, err, ok } from "../../core/result.ts";
import type { HistoryStore, Payload, StreamPosition } from "../../history/types.ts";
import type { Logger } from "../../ops/log.ts";
import type { Engine, EngineHandlers, LoginView, Published } from "../types.ts";
import { type NodeMessage, countMessage, parseCount, parseNodeMessage, parsePush, pushBody } from "./bus.ts";
import { Channels } from "./channels.ts";
import { type Counted, CountTallies } from "./counts.ts";
import { NODES_KEY, STREAM_CHANNEL_PREFIX, historyKey, markerKey, metaKey, nodeChannel, randomEpoch, streamChannel } from "./keys.ts";
import { ObservedMarks } from "./marks.ts";
import { Pending } from "./pending.ts";
import { type StreamHistory, readStreams } from "./read.ts";
import { type Capture, clusterSource } from "./recovery-source.ts";
import { NoAnswer, Responsiveness } from "./responsiveness.ts";
import { SCRIPTS, Script } from "./scripts.ts";

export interface RedisEngineOptions {
  url: string;
  nodeId: string;
  historySize: number;
  historyTtlMs: number;
  presenceTtlMs: number;
  timeoutMs: number;
  /** Most pushes in one script call (--redis-batch). */
  batchMax: number;
  /** This node's own history: what a push and a login fall back on while Redis is unreachable. */
  history: HistoryStore;
  log: Logger;
}

const ALL = "all";

interface QueuedPush {
  stream: string;
  payload: Payload;
  excludeIds: readonly string[] | null;
  body: string;
  /** Count-reply id (0: no count wanted) and what the count comes to. */
  tally: number;
  counted: Promise<Counted> | null;
  resolve(p: Published): void;
}

const NO_HANDLERS: EngineHandlers = {
  deliver: () => 0,
  observed: () => false,
  call: async () => err("E_CLUSTER_UNAVAILABLE", "the node is starting"),
};

export class RedisEngine implements Engine {
  readonly kind = "redis";
  readonly distributed = true;
  readonly nodeId: string;
  private h = NO_HANDLERS;
  private readonly cmd: RedisClient;
  private readonly sub: RedisClient;
  private readonly channels: Channels;
  private readonly calls = new Pending<Result<unknown>>();
  private readonly tallies = new CountTallies();
  private readonly pushScript = new Script(SCRIPTS.push);
  private readonly loginScript = new Script(SCRIPTS.login);
  private readonly beatScript = new Script(SCRIPTS.beat);
  private readonly liveScript = new Script(SCRIPTS.live);
  private readonly markScript = new Script(SCRIPTS.mark);
  private readonly marks: ObservedMarks;
  private readonly captures = new Set<Capture>();
  private queue: QueuedPush[] = [];
  private heartbeat: Timer | null = null;
  private monitor: Timer | null = null;
  private lastUp = true;
  /** Whether Redis answers (responsiveness.ts): while it does not, nothing more is sent. */
  private readonly answers: Responsiveness;
  private wasConnected = false;
  private stopped = false;
  private readonly historySize: string;
  private readonly historyTtl: string;
  private readonly epochBase = randomEpoch();
  private epochSeq = 0;

  constructor(private readonly opts: RedisEngineOptions) {
    this.nodeId = opts.nodeId;
    this.answers = new Responsiveness(opts.timeoutMs, {
      canMark: () => !this.stopped && this.linked,
      stalled: () => opts.log.warn("redis_not_answering", { nodeId: this.nodeId, timeoutMs: opts.timeoutMs }),
      answered: (afterMs) => {
        opts.log.info("redis_answering", { nodeId: this.nodeId, afterMs });
        void this.beat().catch(() => {}); // present again now, not at the next heartbeat
        this.marks.refresh();
      },
    });
    this.historySize = String(opts.historySize);
    this.historyTtl = String(opts.historyTtlMs);
    // No offline queue: a command during an outage fails at once (reported), never runs later
    // into the void. Bun reconnects by itself; subscriptions are restored in onconnect.
    const o = { enableOfflineQueue: false, autoReconnect: true, maxRetries: 1_000_000_000, connectionTimeout: 2000 };
    this.cmd = new RedisClient(opts.url, o);
    this.sub = new RedisClient(opts.url, o);
    this.channels = new Channels(this.sub, this.onMessage, [nodeChannel(this.nodeId), streamChannel(ALL)]);
    this.marks = new ObservedMarks(opts.historyTtlMs, (keys, ttl) => {
      if (!this.connected) return Promise.reject(new Error("redis unavailable"));
      return this.bounded(this.markScript.run(this.cmd, keys.map(markerKey), [String(ttl)]));
    });
    this.cmd.onconnect = () => this.onConnect(false);
    this.sub.onconnect = () => this.onConnect(true);
    // onclose: Bun gave up reconnecting (or we closed); try again later rather than never.
    this.cmd.onclose = () => this.retryLater(this.cmd);
    this.sub.onclose = () => this.retryLater(this.sub);
  }

  register(handlers: EngineHandlers): void {
    this.h = handlers;
  }

  /** Both connections up and Redis answering. */
  get connected(): boolean {
    return this.linked && this.answers.answering;
  }

  /** Both connections up (answering or not). */
  private get linked(): boolean {
    return this.cmd.connected && this.sub.connected;
  }

  async start(): Promise<void> {
    await Promise.all([this.cmd.connect(), this.sub.connect()]);
    await this.channels.subscribeAll(false);
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat().catch(() => {}), Math.max(200, Math.floor(this.opts.presenceTtlMs / 3)));
    this.heartbeat.unref();
    this.wasConnected = true;
    this.marks.start((s) => this.h.observed(s));
    // Bun reconnects by itself and fires onconnect again, but no event marks the loss: watch it.
    this.monitor = setInterval(() => {
      if (this.cmd.connected) this.answers.probe(() => this.cmd.send("PING", []));
      const up = this.linked;
      if (up === this.lastUp) return;
      this.lastUp = up;
      if (!up) this.onDisconnect();
    }, 250);
    this.monitor.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.monitor) clearInterval(this.monitor);
    this.marks.stop();
    this.calls.flush(() => this.unavailable());
    if (this.connected) await this.bounded(this.cmd.send("ZREM", [NODES_KEY, this.nodeId])).catch(() => {});
    this.cmd.close();
    this.sub.close();
  }

  watch(stream: string): void {
    this.channels.watch(stream);
    if (this.h.observed(stream)) this.marks.mark(stream);
  }

  unwatch(stream: string): void {
    this.channels.unwatch(stream);
  }

  // "all" is always subscribed (every node holds everyone), so holds skip it.
  hold(streams: readonly string[]): Promise<void> {
    return this.holdStreams(streams).catch(() => {});
  }

  release(streams: readonly string[]): void {
    for (const s of streams) if (s !== ALL) this.channels.unwatch(s);
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
        (histories) => {
          for (const s of streams) this.marks.noteMarked(s); // login.lua marked them
          return { source: clusterSource(histories, capture), release };
        },
        // Redis unreachable: this node's own history (another epoch: recovery reports it).
        () => ({ source: this.opts.history, release }),
      );
  }

  publish(stream: string, payload: Payload, excludeIds: readonly string[] | null, count: boolean): Promise<Published> {
    // Nothing is sent while Redis is down or not answering: delivered here only, and said so.
    if (!this.connected) return Promise.resolve(this.local(stream, payload, excludeIds));
    const { promise, resolve } = Promise.withResolvers<Published>();
    const tally = count ? this.tallies.open(this.opts.timeoutMs) : null;
    const body = pushBody(this.nodeId, Date.now(), payload, excludeIds, tally?.id ?? 0);
    if (this.queue.length === 0) setImmediate(this.flush);
    this.queue.push({ stream, payload, excludeIds, body, tally: tally?.id ?? 0, counted: tally?.result ?? null, resolve });
    return promise;
  }

  /** Sends the turn's pushes, in order, in script calls of at most --redis-batch. */
  private readonly flush = (): void => {
    const all = this.queue;
    this.queue = [];
    for (let i = 0; i < all.length; i += this.opts.batchMax) void this.send(all.slice(i, i + this.opts.batchMax));
  };

  private async send(batch: QueuedPush[]): Promise<void> {
    if (!this.connected) {
      for (const p of batch) this.fail(p, null);
      return;
    }
    const keys: string[] = [];
    // A new epoch per call, unique without randomness per call.
    const args = [this.historySize, this.historyTtl, this.epochBase + (++this.epochSeq).toString(36)];
    for (const p of batch) {
      keys.push(markerKey(p.stream), metaKey(p.stream), historyKey(p.stream));
      args.push(streamChannel(p.stream), p.body, p.tally === 0 ? "0" : "1");
    }
    let r: Array<string | number>;
    try {
      r = (await this.bounded(this.pushScript.run(this.cmd, keys, args))) as Array<string | number>;
    } catch (e) {
      for (const p of batch) this.fail(p, e);
      return;
    }
    batch.forEach((p, i) => {
      if (p.tally === 0) return p.resolve({ reached: 0, error: null });
      // Every subscribed node reports a count, this one included (see onPush).
      this.tallies.expect(p.tally, Number(r[3 * i + 2]));
      void this.counted(p, Number(r[3 * i + 2]));
    });
  }

  private async counted(p: QueuedPush, receivers: number): Promise<void> {
    const c = await p.counted!;
    // A node that received the push but did not report may have delivered it: `reached` is then
    // a lower bound, and a uid not counted anywhere is unknown, not offline.
    if (c.reports < receivers) {
      return p.resolve({ reached: c.sum, error: err("E_CLUSTER_TIMEOUT", `${receivers - c.reports} of ${receivers} node(s) holding ${p.stream} did not report delivery within ${this.opts.timeoutMs} ms (--cluster-timeout): reached is a lower bound`) });
    }
    p.resolve({ reached: c.sum, error: null });
  }

  private fail(p: QueuedPush, e: unknown): void {
    if (p.tally !== 0) this.tallies.finish(p.tally);
    // Sent but unanswered: Redis may still run it (and then every node, this one too, delivers
    // it once). Not delivered here now, and not "offline": the outcome is unknown.
    if (e instanceof NoAnswer) return p.resolve({ reached: 0, error: this.noAnswer("the push") });
    p.resolve(this.local(p.stream, p.payload, p.excludeIds));
  }

  /** Redis unreachable: delivered here from this node's own history (its epoch differs, so recovery reports the break). */
  private local(stream: string, payload: Payload, excludeIds: readonly string[] | null): Published {
    const at = this.opts.history.append(stream, payload, this.h.observed(stream));
    return { reached: this.h.deliver(stream, payload, at, excludeIds), error: this.unavailable() };
  }

  private holdStreams(streams: readonly string[]): Promise<void> {
    // The holder always counts (its release() follows either way); the wait is bounded, so a
    // login never hangs on a Redis that does not answer. (A slow confirmation on the subscriber
    // connection, e.g. in a login storm, does not mark Redis as not answering.)
    const held = this.channels.hold(streams.filter((s) => s !== ALL));
    if (this.connected) return this.bounded(held, false);
    held.catch(() => {});
    return Promise.reject(new Error("redis unavailable"));
  }

  private read(streams: readonly string[], from: ReadonlyMap<string, StreamPosition> | null): Promise<Map<string, StreamHistory>> {
    if (!this.connected) return Promise.reject(new Error("redis unavailable"));
    const o = { markTtlMs: this.marks.ttlMs, historyTtlMs: this.opts.historyTtlMs, epoch: randomEpoch() };
    return this.bounded(readStreams(this.cmd, this.loginScript, streams, from, o)).then(async (h) => {
      // A push placed before the read may still be in flight on the subscriber connection: wait
      // for it (PONG queues behind it) so it is captured now, not delivered live after the replay.
      await this.bounded(this.sub.ping(), false);
      return h;
    });
  }

  async call(node: string, method: string, params: Record<string, unknown>): Promise<Result<unknown>> {
    if (node === this.nodeId) return this.h.call(method, params);
    if (!this.connected) return this.unavailable();
    const { id, promise } = this.calls.open(this.opts.timeoutMs, () => err("E_CLUSTER_TIMEOUT", `node ${node} did not answer within ${this.opts.timeoutMs} ms (--cluster-timeout): the call may still run there`));
    const msg: NodeMessage = { k: "rpc", id, from: this.nodeId, method, params };
    // Not awaited: the call's own timer bounds it even when Redis does not answer the PUBLISH
    // (then Redis may still deliver it later, so that timer's E_CLUSTER_TIMEOUT is the answer).
    this.bounded(this.cmd.send("PUBLISH", [nodeChannel(node), JSON.stringify(msg)])).then(
      (receivers) => { if (receivers === 0) this.calls.settle(id, err("E_NO_SUCH_CLIENT", `node ${node} is not in the cluster`)); },
      (e) => { if (!(e instanceof NoAnswer)) this.calls.settle(id, this.unavailable()); },
    );
    return promise;
  }

  async scatter(method: string, params: Record<string, unknown>): Promise<Result<unknown>[]> {
    if (!this.connected) return [this.unavailable()];
    let nodes: string[];
    try {
      nodes = (await this.liveNodes()).filter((n) => n !== this.nodeId);
    } catch {
      return [this.unavailable()];
    }
    const answers = await Promise.all(nodes.map((n) => this.call(n, method, params)));
    // A node that left (no subscriber on its channel) is missing from the merge. One that does
    // not answer holds an unknown part: E_CLUSTER_TIMEOUT, never a merge that says "not there".
    return answers.filter((a) => a.ok || a.code !== "E_NO_SUCH_CLIENT");
  }

  unavailable(): Err {
    if (this.linked && !this.answers.answering) {
      return err("E_CLUSTER_UNAVAILABLE", `Redis is not answering (nothing within ${this.opts.timeoutMs} ms, --cluster-timeout): delivered on this node only; other nodes were not reached`);
    }
    return err("E_CLUSTER_UNAVAILABLE", "Redis is unreachable: delivered on this node only; other nodes were not reached");
  }

  /** The answer for a command Redis got but did not answer in time. */
  private noAnswer(what: string): Err {
    return err("E_CLUSTER_TIMEOUT", `Redis did not answer ${what} within ${this.opts.timeoutMs} ms (--cluster-timeout): it may still run when Redis does, or never`);
  }

  /** Nodes that heartbeated within --presence-ttl, by Redis's clock (node clocks may disagree). */
  async liveNodes(): Promise<string[]> {
    return (await this.bounded(this.liveScript.run(this.cmd, [NODES_KEY], [String(this.opts.presenceTtlMs)]))) as string[];
  }

  private async beat(): Promise<void> {
    if (!this.connected) return;
    // Nodes silent for two TTLs are gone: forgotten (queries already skip them after one).
    await this.bounded(this.beatScript.run(this.cmd, [NODES_KEY], [this.nodeId, String(2 * this.opts.presenceTtlMs)]));
  }

  private bounded<T>(p: Promise<T>, marks = true): Promise<T> {
    return this.answers.bounded(p, marks);
  }

  /** The listener of every channel. Bus input is validated: a bad message is logged, not fatal. */
  private readonly onMessage = (message: string, channel: string): void => {
    try {
      if (channel.startsWith(STREAM_CHANNEL_PREFIX)) return this.onPush(message, channel.slice(STREAM_CHANNEL_PREFIX.length));
      const c = parseCount(message);
      if (c) return this.tallies.add(c.q, c.n);
      const m = parseNodeMessage(message);
      if (m) this.onNodeMessage(m);
    } catch (e) {
      this.opts.log.error("cluster_message_error", { channel, error: String(e) });
    }
  };

  private onPush(message: string, stream: string): void {
    const p = parsePush(message);
    if (!p) return;
    // This node's own pushes are delivered here too, not from the script's reply: one
    // connection, so a node's sockets get every stream in offset order, whoever pushed. The
    // stream is the channel's, never the body's.
    const at = { epoch: p.epoch, offset: p.offset, ts: p.ts };
    if (this.captures.size > 0) {
      for (const c of this.captures) c.get(stream)?.push({ ...at, text: p.payload.text, isJson: p.payload.isJson });
    }
    const n = this.h.deliver(stream, p.payload, at, p.excludeIds);
    if (p.q === 0) return;
    if (p.origin === this.nodeId) this.tallies.add(p.q, n);
    else void this.cmd.send("PUBLISH", [nodeChannel(p.origin), countMessage(p.q, n)]).catch(() => {});
  }

  private onNodeMessage(m: NodeMessage): void {
    if (m.k === "ret") {
      if (m.ok) this.calls.settle(m.id, ok(m.value));
      else {
        const e = err(m.code as Err["code"], String(m.message));
        this.calls.settle(m.id, m.u === 1 ? markUnknown(e) : e);
      }
      return;
    }
    if (m.k !== "rpc" || typeof m.method !== "string" || typeof m.from !== "string" || m.params === null || typeof m.params !== "object") return;
    void this.h.call(m.method, m.params).then((r) => {
      const reply: NodeMessage = r.ok ? { k: "ret", id: m.id, ok: true, value: r.value }
        : isUnknownOutcome(r) ? { k: "ret", id: m.id, ok: false, code: r.code, message: r.message, u: 1 }
        : { k: "ret", id: m.id, ok: false, code: r.code, message: r.message };
      return this.cmd.send("PUBLISH", [nodeChannel(m.from), JSON.stringify(reply)]);
    }).catch(() => {});
  }

  private onConnect(subscriber: boolean): void {
    if (!this.wasConnected || this.stopped) return;
    if (!subscriber) {
      // A new connection: what waited on the old one is gone (Bun rejected it).
      this.answers.reset();
      // Redis may have restarted and lost its scripts and markers: heartbeat and mark at once.
      for (const s of [this.pushScript, this.loginScript, this.beatScript, this.liveScript, this.markScript]) s.reset();
      void this.beat().catch(() => {});
      this.marks.refresh();
      return;
    }
    void this.channels.subscribeAll(true).then(
      () => {
        // Up again now, not at the monitor's next tick: a loss right after must still be logged.
        this.lastUp = this.linked;
        this.opts.log.info("redis_reconnected", { nodeId: this.nodeId, streams: this.channels.size });
      },
      (e) => this.opts.log.error("redis_resubscribe_failed", { error: String(e) }),
    );
  }

  private retryLater(client: RedisClient): void {
    if (this.stopped) return;
    setTimeout(() => void client.connect().catch(() => this.retryLater(client)), 1000).unref();
  }

  private onDisconnect(): void {
    if (this.stopped) return;
    this.opts.log.warn("redis_disconnected", { nodeId: this.nodeId });
  }
}

// The cluster over Redis (Bun.RedisClient, no packages). Two connections: one for commands
// (EVALSHA push, history reads, heartbeats, replies), one subscribed (a subscribed connection can
// run nothing else). Stream channels are subscribed only while this node holds a local subscriber
// of the stream, so a push to a uid costs work only on the nodes holding that uid.
import { RedisClient } from "bun";
import { type Err, type Result, err, ok } from "../core/result.ts";
import type { StreamPosition } from "../history/types.ts";
import type { Logger } from "../ops/log.ts";
import { type NodeMessage, parseNodeMessage, parsePush, pushBody } from "./bus.ts";
import { Channels } from "./channels.ts";
import { CountTallies } from "./counts.ts";
import { NODES_KEY, STREAM_CHANNEL_PREFIX, historyKey, metaKey, nodeChannel, randomEpoch, streamChannel } from "./keys.ts";
import { Pending } from "./pending.ts";
import { BEAT_SCRIPT, LIVE_SCRIPT, PUSH_SCRIPT } from "./push-script.ts";
import { readStreams } from "./read.ts";
import { NoAnswer, Responsiveness } from "./responsiveness.ts";
import { isUnknownOutcome, markUnknown } from "../api/guard.ts";
import type { Cluster, LocalCall, RemoteDelivery, RemotePush, StreamHistory } from "./types.ts";

export interface RedisClusterOptions {
  url: string;
  nodeId: string;
  historySize: number;
  historyTtlMs: number;
  presenceTtlMs: number;
  timeoutMs: number;
  log: Logger;
}

const ALL = "all";

export class RedisCluster implements Cluster {
  readonly nodeId: string;
  private readonly cmd: RedisClient;
  private readonly sub: RedisClient;
  private readonly channels: Channels;
  private readonly calls = new Pending<Result<unknown>>();
  private readonly tallies = new CountTallies();
  private scriptSha: string | null = null;
  private heartbeat: Timer | null = null;
  private monitor: Timer | null = null;
  private lastUp = true;
  /** Whether Redis answers (responsiveness.ts): while it does not, nothing more is sent. */
  private readonly answers: Responsiveness;
  private wasConnected = false;
  private stopped = false;
  deliver: RemoteDelivery = () => 0;
  runLocal: LocalCall = async () => err("E_INTERNAL", "no local handler");

  constructor(private readonly opts: RedisClusterOptions) {
    this.nodeId = opts.nodeId;
    this.answers = new Responsiveness(opts.timeoutMs, {
      canMark: () => !this.stopped && this.linked,
      stalled: () => opts.log.warn("redis_not_answering", { nodeId: this.nodeId, timeoutMs: opts.timeoutMs }),
      answered: (afterMs) => {
        opts.log.info("redis_answering", { nodeId: this.nodeId, afterMs });
        void this.beat().catch(() => {}); // present again now, not at the next heartbeat
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
    this.calls.flush(() => this.unavailable());
    if (this.connected) await this.bounded(this.cmd.send("ZREM", [NODES_KEY, this.nodeId])).catch(() => {});
    this.cmd.close();
    this.sub.close();
  }

  watch(stream: string): void {
    this.channels.watch(stream);
  }

  unwatch(stream: string): void {
    this.channels.unwatch(stream);
  }

  // "all" is always subscribed (every node holds everyone), so holds skip it. The holder always
  // counts (its release() follows either way); the wait is bounded, so a login never hangs on a
  // Redis that does not answer.
  hold(streams: readonly string[]): Promise<void> {
    const held = this.channels.hold(streams.filter((s) => s !== ALL));
    // (A slow confirmation on the subscriber connection, e.g. in a login storm, does not mark
    // Redis as not answering: pushes and calls use the other connection.)
    if (this.connected) return this.bounded(held, false);
    held.catch(() => {});
    return Promise.reject(new Error("redis unavailable"));
  }

  release(streams: readonly string[]): void {
    for (const s of streams) if (s !== ALL) this.channels.unwatch(s);
  }

  async push(stream: string, payload: { text: string; isJson: boolean }, excludeIds: readonly string[] | null, countRemote: boolean): Promise<RemotePush> {
    // Both connections: this node delivers its own pushes from its subscription too.
    if (!this.connected) throw new Error("redis unavailable");
    const ts = Date.now();
    const tally = countRemote ? this.tallies.open(this.opts.timeoutMs) : null;
    const body = pushBody(this.nodeId, stream, ts, payload, excludeIds, tally?.id ?? null);
    let r: [string, number, number];
    try {
      r = await this.bounded(this.eval(stream, ts, body, countRemote));
    } catch (e) {
      if (tally) this.tallies.finish(tally.id);
      // Sent but unanswered: Redis may still run it (and then every node, this one too, delivers
      // it once). Not delivered here now, and not "offline": the outcome is unknown.
      if (e instanceof NoAnswer) return { epoch: "", offset: 0, ts, remote: 0, error: this.noAnswer("the push") };
      throw e;
    }
    const [epoch, offset, receivers] = r;
    if (!tally) return { epoch, offset, ts, remote: 0 };
    // Every subscribed node reports a count, this one included (see onPush).
    this.tallies.expect(tally.id, receivers);
    const counted = await tally.result;
    // A node that received the push but did not report may have delivered it: `remote` is then
    // a lower bound, and a uid not counted anywhere is unknown, not offline.
    if (counted.reports < receivers) {
      return { epoch, offset, ts, remote: counted.sum, error: err("E_CLUSTER_TIMEOUT", `${receivers - counted.reports} of ${receivers} node(s) holding ${stream} did not report delivery within ${this.opts.timeoutMs} ms (--cluster-timeout): reached is a lower bound`) };
    }
    return { epoch, offset, ts, remote: counted.sum };
  }

  read(streams: readonly string[], from: ReadonlyMap<string, StreamPosition> | null): Promise<Map<string, StreamHistory>> {
    if (!this.connected) return Promise.reject(new Error("redis unavailable"));
    return this.bounded(readStreams(this.cmd, streams, from, this.opts.historyTtlMs)).then(async (h) => {
      // A push placed before the read may still be in flight on the subscriber connection: wait
      // for it (PONG queues behind it) so it is captured now, not delivered live after the replay.
      // A slow subscriber connection (a push backlog) does not mark Redis as not answering.
      await this.bounded(this.sub.ping(), false);
      return h;
    });
  }

  async call(node: string, method: string, params: Record<string, unknown>): Promise<Result<unknown>> {
    if (node === this.nodeId) return this.runLocal(method, params);
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
    return (await this.bounded(this.cmd.send("EVAL", [LIVE_SCRIPT, "1", NODES_KEY, String(this.opts.presenceTtlMs)]))) as string[];
  }

  private async beat(): Promise<void> {
    if (!this.connected) return;
    // Nodes silent for two TTLs are gone: forgotten (queries already skip them after one).
    await this.bounded(this.cmd.send("EVAL", [BEAT_SCRIPT, "1", NODES_KEY, this.nodeId, String(2 * this.opts.presenceTtlMs)]));
  }

  private bounded<T>(p: Promise<T>, marks = true): Promise<T> {
    return this.answers.bounded(p, marks);
  }

  /** Used by the script only when the stream has no epoch yet: unique without randomness per push. */
  private epochSeq = 0;
  private epochCandidate(): string {
    return this.epochBase + (++this.epochSeq).toString(36);
  }
  private readonly epochBase = randomEpoch();
  private historySize = "";
  private historyTtl = "";

  private async eval(stream: string, ts: number, body: string, counted: boolean): Promise<[string, number, number]> {
    const args = (sha: string) => [
      sha, "2", metaKey(stream), historyKey(stream),
      streamChannel(stream), this.epochCandidate(), String(ts), this.historySize, this.historyTtl, body, counted ? "1" : "0",
    ];
    this.scriptSha ??= (await this.cmd.send("SCRIPT", ["LOAD", PUSH_SCRIPT])) as string;
    try {
      return (await this.cmd.send("EVALSHA", args(this.scriptSha))) as [string, number, number];
    } catch (e) {
      if (!String(e).includes("NOSCRIPT")) throw e;
      // Redis restarted and lost its script cache.
      this.scriptSha = (await this.cmd.send("SCRIPT", ["LOAD", PUSH_SCRIPT])) as string;
      return (await this.cmd.send("EVALSHA", args(this.scriptSha))) as [string, number, number];
    }
  }

  /** The listener of every channel. Bus input is validated: a bad message is logged, not fatal. */
  private readonly onMessage = (message: string, channel: string): void => {
    try {
      if (channel.startsWith(STREAM_CHANNEL_PREFIX)) return this.onPush(message, channel.slice(STREAM_CHANNEL_PREFIX.length));
      const m = parseNodeMessage(message);
      if (m) this.onNodeMessage(m);
    } catch (e) {
      this.opts.log.error("cluster_message_error", { channel, error: String(e) });
    }
  };

  private onPush(message: string, stream: string): void {
    const p = parsePush(message);
    if (!p) return;
    // This node's own pushes are delivered here too, not from the EVALSHA reply: one connection,
    // so a node's sockets get every stream in offset order, whoever pushed. The stream is the
    // channel's, never the body's.
    const b = p.body;
    const x = Array.isArray(b.x) ? b.x.filter((id): id is string => typeof id === "string") : null;
    const n = this.deliver(stream, { text: b.d, isJson: b.j === 1 }, { epoch: p.epoch, offset: p.offset, ts: b.t }, x);
    if (b.q !== undefined && b.o === this.nodeId) this.tallies.add(b.q, n);
    else if (b.q !== undefined) {
      const reply: NodeMessage = { k: "cnt", q: b.q, n };
      void this.cmd.send("PUBLISH", [nodeChannel(b.o), JSON.stringify(reply)]).catch(() => {});
    }
  }

  private onNodeMessage(m: NodeMessage): void {
    if (m.k === "cnt") {
      if (Number.isSafeInteger(m.q) && Number.isSafeInteger(m.n) && m.n >= 0) this.tallies.add(m.q, m.n);
      return;
    }
    if (m.k === "ret") {
      if (m.ok) this.calls.settle(m.id, ok(m.value));
      else {
        const e = err(m.code as Err["code"], String(m.message));
        this.calls.settle(m.id, m.u === 1 ? markUnknown(e) : e);
      }
      return;
    }
    if (m.k !== "rpc" || typeof m.method !== "string" || typeof m.from !== "string" || m.params === null || typeof m.params !== "object") return;
    void this.runLocal(m.method, m.params).then((r) => {
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
      // Redis may have restarted and lost the script cache; heartbeat at once.
      this.scriptSha = null;
      void this.beat().catch(() => {});
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

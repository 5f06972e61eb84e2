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
  private wasConnected = false;
  private stopped = false;
  deliver: RemoteDelivery = () => 0;
  runLocal: LocalCall = async () => err("E_INTERNAL", "no local handler");

  constructor(private readonly opts: RedisClusterOptions) {
    this.nodeId = opts.nodeId;
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

  get connected(): boolean {
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
      const up = this.connected;
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
    if (this.cmd.connected) await this.bounded(this.cmd.send("ZREM", [NODES_KEY, this.nodeId])).catch(() => {});
    this.cmd.close();
    this.sub.close();
  }

  watch(stream: string): void {
    this.channels.watch(stream);
  }

  unwatch(stream: string): void {
    this.channels.unwatch(stream);
  }

  // "all" is always subscribed (every node holds everyone), so holds skip it.
  hold(streams: readonly string[]): Promise<void> {
    return this.channels.hold(streams.filter((s) => s !== ALL));
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
      throw e;
    }
    const [epoch, offset, receivers] = r;
    let remote = 0;
    if (tally) {
      // Every subscribed node reports a count, this one included (see onPush).
      this.tallies.expect(tally.id, receivers);
      remote = await tally.result;
    }
    return { epoch, offset, ts, remote };
  }

  read(streams: readonly string[], from: ReadonlyMap<string, StreamPosition> | null): Promise<Map<string, StreamHistory>> {
    if (!this.connected) return Promise.reject(new Error("redis unavailable"));
    return this.bounded(readStreams(this.cmd, streams, from, this.opts.historyTtlMs).then(async (h) => {
      // A push placed before the read may still be in flight on the subscriber connection: wait
      // for it (PONG queues behind it) so it is captured now, not delivered live after the replay.
      await this.sub.ping();
      return h;
    }));
  }

  async call(node: string, method: string, params: Record<string, unknown>): Promise<Result<unknown>> {
    if (node === this.nodeId) return this.runLocal(method, params);
    if (!this.cmd.connected) return this.unavailable();
    const { id, promise } = this.calls.open(this.opts.timeoutMs, () => err("E_CLUSTER_TIMEOUT", `node ${node} did not answer within ${this.opts.timeoutMs} ms (--cluster-timeout)`));
    const msg: NodeMessage = { k: "rpc", id, from: this.nodeId, method, params };
    const receivers = await this.cmd.send("PUBLISH", [nodeChannel(node), JSON.stringify(msg)]).catch(() => -1);
    if (receivers === -1) this.calls.settle(id, this.unavailable());
    else if (receivers === 0) this.calls.settle(id, err("E_NO_SUCH_CLIENT", `node ${node} is not in the cluster`));
    return promise;
  }

  async scatter(method: string, params: Record<string, unknown>): Promise<Result<unknown>[]> {
    if (!this.cmd.connected) return [this.unavailable()];
    let nodes: string[];
    try {
      nodes = (await this.liveNodes()).filter((n) => n !== this.nodeId);
    } catch {
      return [this.unavailable()];
    }
    const answers = await Promise.all(nodes.map((n) => this.call(n, method, params)));
    // A node that left or does not answer is missing from the merge, not an error.
    return answers.filter((a) => a.ok || (a.code !== "E_NO_SUCH_CLIENT" && a.code !== "E_CLUSTER_TIMEOUT"));
  }

  unavailable(): Err {
    return err("E_CLUSTER_UNAVAILABLE", "Redis is unreachable: delivered on this node only; other nodes were not reached");
  }

  /** Nodes that heartbeated within --presence-ttl, by Redis's clock (node clocks may disagree). */
  async liveNodes(): Promise<string[]> {
    return (await this.bounded(this.cmd.send("EVAL", [LIVE_SCRIPT, "1", NODES_KEY, String(this.opts.presenceTtlMs)]))) as string[];
  }

  private async beat(): Promise<void> {
    if (!this.cmd.connected) return;
    // Nodes silent for two TTLs are gone: forgotten (queries already skip them after one).
    await this.bounded(this.cmd.send("EVAL", [BEAT_SCRIPT, "1", NODES_KEY, this.nodeId, String(2 * this.opts.presenceTtlMs)]));
  }

  /** Rejects when Redis stops answering (a stopped or blackholed server keeps `connected`). */
  private bounded<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, Bun.sleep(this.opts.timeoutMs).then((): T => { throw new Error("redis did not answer in time"); })]);
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
      this.calls.settle(m.id, m.ok ? ok(m.value) : err(m.code as Err["code"], String(m.message)));
      return;
    }
    if (m.k !== "rpc" || typeof m.method !== "string" || typeof m.from !== "string" || m.params === null || typeof m.params !== "object") return;
    void this.runLocal(m.method, m.params).then((r) => {
      const reply: NodeMessage = r.ok ? { k: "ret", id: m.id, ok: true, value: r.value } : { k: "ret", id: m.id, ok: false, code: r.code, message: r.message };
      return this.cmd.send("PUBLISH", [nodeChannel(m.from), JSON.stringify(reply)]);
    }).catch(() => {});
  }

  private onConnect(subscriber: boolean): void {
    if (!this.wasConnected || this.stopped) return;
    if (!subscriber) {
      // Redis may have restarted and lost the script cache; heartbeat at once.
      this.scriptSha = null;
      void this.beat().catch(() => {});
      return;
    }
    void this.channels.subscribeAll(true).then(
      () => {
        // Up again now, not at the monitor's next tick: a loss right after must still be logged.
        this.lastUp = this.connected;
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

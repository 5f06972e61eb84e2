// The cluster over Redis (Bun.RedisClient, no packages). Two connections: one for commands
// (EVALSHA push, history reads, heartbeats, replies), one subscribed (a subscribed connection can
// run nothing else). Stream channels are subscribed only while this node holds a local subscriber
// of the stream, so a push to a uid costs work only on the nodes holding that uid.
import { RedisClient } from "bun";
import { type Err, type Result, err, ok } from "../core/result.ts";
import type { StreamPosition } from "../history/types.ts";
import type { Logger } from "../ops/log.ts";
import { type NodeMessage, parseNodeMessage, parsePush, pushBody } from "./bus.ts";
import { CountTallies } from "./counts.ts";
import { NODES_KEY, STREAM_CHANNEL_PREFIX, historyKey, metaKey, nodeChannel, randomEpoch, streamChannel } from "./keys.ts";
import { Pending } from "./pending.ts";
import { PUSH_SCRIPT } from "./push-script.ts";
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
  onStateChange?: (connected: boolean) => void;
}

const ALL = "all";

export class RedisCluster implements Cluster {
  readonly nodeId: string;
  private readonly cmd: RedisClient;
  private readonly sub: RedisClient;
  private readonly watched = new Map<string, number>();
  private readonly subscribing = new Map<string, Promise<unknown>>();
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
    // No offline queue: a command during an outage fails at once (reported), never runs later
    // into the void. Bun reconnects by itself; subscriptions are restored in onconnect.
    const o = { enableOfflineQueue: false, autoReconnect: true, maxRetries: 1_000_000_000, connectionTimeout: 2000 };
    this.cmd = new RedisClient(opts.url, o);
    this.sub = new RedisClient(opts.url, o);
    this.cmd.onconnect = () => this.onConnect();
    this.sub.onconnect = () => this.onConnect();
    // onclose: Bun gave up reconnecting (or we closed); try again later rather than never.
    this.cmd.onclose = () => this.retryLater(this.cmd);
    this.sub.onclose = () => this.retryLater(this.sub);
  }

  get connected(): boolean {
    return this.cmd.connected && this.sub.connected;
  }

  async start(): Promise<void> {
    await Promise.all([this.cmd.connect(), this.sub.connect()]);
    await this.resubscribe();
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
    if (this.cmd.connected) await this.cmd.send("ZREM", [NODES_KEY, this.nodeId]).catch(() => {});
    this.cmd.close();
    this.sub.close();
  }

  watch(stream: string): void {
    void this.subscribeRef(stream).catch(() => {});
  }

  /** Counts a holder; resolves once Redis confirmed the subscription (in flight or done). */
  private subscribeRef(stream: string): Promise<unknown> {
    const n = this.watched.get(stream) ?? 0;
    this.watched.set(stream, n + 1);
    if (n > 0) return this.subscribing.get(stream) ?? Promise.resolve();
    if (!this.sub.connected) return Promise.resolve();
    const p = this.sub.subscribe(streamChannel(stream), this.onMessage).finally(() => {
      if (this.subscribing.get(stream) === p) this.subscribing.delete(stream);
    });
    this.subscribing.set(stream, p);
    return p;
  }

  // "all" is always subscribed (every node holds everyone), so holds skip it.
  async hold(streams: readonly string[]): Promise<void> {
    await Promise.all(streams.filter((s) => s !== ALL).map((s) => this.subscribeRef(s)));
  }

  release(streams: readonly string[]): void {
    for (const s of streams) if (s !== ALL) this.unwatch(s);
  }

  unwatch(stream: string): void {
    const n = this.watched.get(stream) ?? 0;
    if (n > 1) return void this.watched.set(stream, n - 1);
    this.watched.delete(stream);
    if (n === 1 && this.sub.connected) void this.sub.unsubscribe(streamChannel(stream), this.onMessage).catch(() => {});
  }

  async push(stream: string, payload: { text: string; isJson: boolean }, excludeIds: readonly string[] | null, countRemote: boolean): Promise<RemotePush> {
    // Both connections: this node delivers its own pushes from its subscription too.
    if (!this.connected) throw new Error("redis unavailable");
    const ts = Date.now();
    const tally = countRemote ? this.tallies.open(this.opts.timeoutMs) : null;
    const body = pushBody(this.nodeId, stream, ts, payload, excludeIds, tally?.id ?? null);
    let r: [string, number, number];
    try {
      r = await this.eval(stream, ts, body);
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
    if (!this.cmd.connected) return Promise.reject(new Error("redis unavailable"));
    return readStreams(this.cmd, streams, from, this.opts.historyTtlMs);
  }

  async call(node: string, method: string, params: Record<string, unknown>): Promise<Result<unknown>> {
    if (node === this.nodeId) return this.runLocal(method, params);
    if (!this.cmd.connected) return this.unavailable();
    const { id, promise } = this.calls.open(this.opts.timeoutMs, () => err("E_NO_SUCH_CLIENT", `node ${node} did not answer within ${this.opts.timeoutMs} ms`));
    const msg: NodeMessage = { k: "rpc", id, from: this.nodeId, method, params };
    const receivers = await this.cmd.send("PUBLISH", [nodeChannel(node), JSON.stringify(msg)]).catch(() => -1);
    if (receivers === -1) this.calls.settle(id, this.unavailable());
    else if (receivers === 0) this.calls.settle(id, err("E_NO_SUCH_CLIENT", `node ${node} is not in the cluster`));
    return promise;
  }

  async scatter(method: string, params: Record<string, unknown>): Promise<{ results: Result<unknown>[]; missing: number }> {
    if (!this.cmd.connected) return { results: [this.unavailable()], missing: 0 };
    const nodes = (await this.liveNodes()).filter((n) => n !== this.nodeId);
    const answers = await Promise.all(nodes.map((n) => this.call(n, method, params)));
    const results = answers.filter((a) => a.ok || a.code !== "E_NO_SUCH_CLIENT");
    return { results, missing: answers.length - results.length };
  }

  unavailable(): Err {
    return err("E_CLUSTER_UNAVAILABLE", "Redis is unreachable: delivered on this node only; other nodes were not reached");
  }

  async liveNodes(): Promise<string[]> {
    const since = Date.now() - this.opts.presenceTtlMs;
    return (await this.cmd.send("ZRANGEBYSCORE", [NODES_KEY, String(since), "+inf"])) as string[];
  }

  private async beat(): Promise<void> {
    if (!this.cmd.connected) return;
    const now = Date.now();
    await this.cmd.send("ZADD", [NODES_KEY, String(now), this.nodeId]);
    // Nodes silent for two TTLs are gone: forget them (queries already skip them after one).
    await this.cmd.send("ZREMRANGEBYSCORE", [NODES_KEY, "-inf", String(now - 2 * this.opts.presenceTtlMs)]);
  }

  /** Used by the script only when the stream has no epoch yet: unique without randomness per push. */
  private epochSeq = 0;
  private epochCandidate(): string {
    return this.epochBase + (++this.epochSeq).toString(36);
  }
  private readonly epochBase = randomEpoch();

  private async eval(stream: string, ts: number, body: string): Promise<[string, number, number]> {
    const args = (sha: string) => [
      sha, "2", metaKey(stream), historyKey(stream),
      streamChannel(stream), this.epochCandidate(), String(ts), String(this.opts.historySize), String(this.opts.historyTtlMs), body,
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

  /** One listener for every channel (so a re-subscribe after reconnect does not add another). */
  private readonly onMessage = (message: string, channel: string): void => {
    if (channel.startsWith(STREAM_CHANNEL_PREFIX)) return this.onPush(message);
    const m = parseNodeMessage(message);
    if (m) this.onNodeMessage(m);
  };

  private onPush(message: string): void {
    const p = parsePush(message);
    if (!p) return;
    // This node's own pushes are delivered here too, not from the EVALSHA reply: one connection,
    // so a node's sockets get every stream in offset order, whoever pushed.
    const b = p.body;
    const n = this.deliver(b.s, { text: b.d, isJson: b.j === 1 }, { epoch: p.epoch, offset: p.offset, ts: b.t }, b.x ?? null);
    if (b.q !== undefined && b.o === this.nodeId) this.tallies.add(b.q, n);
    else if (b.q !== undefined) {
      const reply: NodeMessage = { k: "cnt", q: b.q, n };
      void this.cmd.send("PUBLISH", [nodeChannel(b.o), JSON.stringify(reply)]).catch(() => {});
    }
  }

  private onNodeMessage(m: NodeMessage): void {
    if (m.k === "cnt") return this.tallies.add(m.q, m.n);
    if (m.k === "ret") {
      this.calls.settle(m.id, m.ok ? ok(m.value) : err(m.code as Err["code"], m.message));
      return;
    }
    void this.runLocal(m.method, m.params).then((r) => {
      const reply: NodeMessage = r.ok ? { k: "ret", id: m.id, ok: true, value: r.value } : { k: "ret", id: m.id, ok: false, code: r.code, message: r.message };
      return this.cmd.send("PUBLISH", [nodeChannel(m.from), JSON.stringify(reply)]);
    }).catch(() => {});
  }

  private async resubscribe(): Promise<void> {
    const channels = [nodeChannel(this.nodeId), streamChannel(ALL), ...[...this.watched.keys()].map(streamChannel)];
    for (let i = 0; i < channels.length; i += 1000) await this.sub.subscribe(channels.slice(i, i + 1000), this.onMessage);
  }

  private onConnect(): void {
    if (!this.wasConnected || this.stopped || !this.connected) return;
    // Up again now, not at the monitor's next tick: a loss right after this must still be logged.
    this.lastUp = true;
    // Redis forgets subscriptions and scripts across a restart: register again.
    this.scriptSha = null;
    void Promise.all([this.resubscribe(), this.beat()]).then(
      () => {
        this.opts.log.info("redis_reconnected", { nodeId: this.nodeId, streams: this.watched.size });
        this.opts.onStateChange?.(true);
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
    this.opts.onStateChange?.(false);
  }
}

// Which Redis channels this node is subscribed to: stream channels refcounted by local holders
// (subscribed at the first, unsubscribed after the last), plus fixed channels (its own, "all").
import type { RedisClient } from "bun";
import { streamChannel } from "./keys.ts";

type Listener = (message: string, channel: string) => void;

export class Channels {
  private readonly refs = new Map<string, number>();
  private readonly subscribing = new Map<string, Promise<unknown>>();
  private batch: { streams: Set<string>; promise: Promise<unknown>; resolve(v: unknown): void; reject(e: unknown): void } | null = null;

  constructor(private readonly sub: RedisClient, private readonly listener: Listener, private readonly fixed: readonly string[]) {}

  get size(): number {
    return this.refs.size;
  }

  watch(stream: string): void {
    void this.ref(stream).catch(() => {});
  }

  /** ref() each stream; resolves once Redis confirmed every subscription; rejects when down. */
  async hold(streams: readonly string[]): Promise<void> {
    await Promise.all(streams.map((s) => this.ref(s)));
  }

  unwatch(stream: string): void {
    const n = this.refs.get(stream) ?? 0;
    if (n > 1) return void this.refs.set(stream, n - 1);
    this.refs.delete(stream);
    // Still in the batch not yet sent: it will not be subscribed at all.
    if (n !== 1 || !this.sub.connected || this.batch?.streams.has(stream)) return;
    try {
      // (Throws synchronously when the client is not in subscriber mode.)
      void this.sub.unsubscribe(streamChannel(stream), this.listener).catch(() => {});
    } catch {}
  }

  /** Counts a holder; resolves once Redis confirmed the subscription (in flight or done). */
  private ref(stream: string): Promise<unknown> {
    const n = this.refs.get(stream) ?? 0;
    this.refs.set(stream, n + 1);
    if (!this.sub.connected) return Promise.reject(new Error("redis unavailable"));
    if (n > 0) return this.subscribing.get(stream) ?? Promise.resolve();
    const p = this.enqueue(stream);
    this.subscribing.set(stream, p);
    return p;
  }

  /**
   * Subscriptions asked for in one event-loop turn go to Redis as one SUBSCRIBE (a login storm
   * costs one command per turn, not one per connection).
   */
  private enqueue(stream: string): Promise<unknown> {
    let b = this.batch;
    if (b === null) {
      b = this.batch = { streams: new Set(), ...Promise.withResolvers<unknown>() };
      b.promise.catch(() => {});
      setImmediate(() => this.flush());
    }
    b.streams.add(stream);
    return b.promise;
  }

  private flush(): void {
    const b = this.batch!;
    this.batch = null;
    // A stream released before its batch left needs no subscription.
    const channels = [...b.streams].filter((s) => this.refs.has(s)).map(streamChannel);
    const sent: Promise<unknown>[] = [];
    try {
      for (let i = 0; i < channels.length; i += 1000) sent.push(this.sub.subscribe(channels.slice(i, i + 1000), this.listener));
    } catch (e) {
      sent.push(Promise.reject(e)); // (throws synchronously when the connection is down)
    }
    Promise.all(sent).then(b.resolve, b.reject).finally(() => {
      for (const s of b.streams) if (this.subscribing.get(s) === b.promise) this.subscribing.delete(s);
    });
  }

  /**
   * Subscribes every channel this node needs. After a reconnect Redis has forgotten them but Bun
   * still holds the old listeners (and would add the same listener again): drop those first, in
   * the same tick, so each message is delivered once.
   */
  subscribeAll(dropStale: boolean): Promise<unknown> {
    const pending: Promise<unknown>[] = [];
    if (dropStale) {
      try {
        pending.push(this.sub.unsubscribe().catch(() => {}));
      } catch {}
    }
    const streams = [...this.refs.keys()];
    const channels = [...this.fixed, ...streams.map(streamChannel)];
    for (let i = 0; i < channels.length; i += 1000) pending.push(this.sub.subscribe(channels.slice(i, i + 1000), this.listener));
    const all = Promise.all(pending);
    for (const s of streams) this.subscribing.set(s, all);
    void all.finally(() => { for (const s of streams) if (this.subscribing.get(s) === all) this.subscribing.delete(s); }).catch(() => {});
    return all;
  }
}

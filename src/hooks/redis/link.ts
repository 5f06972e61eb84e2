// One Redis connection for the webhook outbox and uid presence (the first --redis URL), apart
// from the engine's: its calls are few, and a slow POST must never queue behind pushes. No
// offline queue (a call during an outage fails at once and is retried by its owner); Bun
// reconnects by itself, and `reconnected` tells the owners (Redis may have lost everything).
import { RedisClient } from "bun";
import { NotSent, Script } from "../../engine/redis/scripts.ts";

export class Link {
  readonly client: RedisClient;
  private stopped = false;
  private readonly onUp: Array<() => void> = [];
  private readonly scripts: Script[] = [];

  constructor(url: string, private readonly timeoutMs: number) {
    this.client = new RedisClient(url, { enableOfflineQueue: false, autoReconnect: true, maxRetries: 1_000_000_000, connectionTimeout: 2000 });
    this.client.onconnect = () => {
      for (const s of this.scripts) s.reset();
      for (const f of this.onUp) f();
    };
    this.client.onclose = () => this.retryLater();
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** `f` runs after every (re)connect. */
  whenConnected(f: () => void): void {
    this.onUp.push(f);
  }

  script(source: string): Script {
    const s = new Script(source);
    this.scripts.push(s);
    return s;
  }

  async start(): Promise<void> {
    await this.client.connect().catch(() => this.retryLater());
  }

  /** A script call bounded by the cluster timeout (a Redis that does not answer never hangs an owner). */
  run(script: Script, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    if (!this.client.connected) return Promise.reject(new NotSent("redis unavailable"));
    return this.bounded(script.run(this.client, keys, args));
  }

  send(cmd: string, args: string[]): Promise<unknown> {
    if (!this.client.connected) return Promise.reject(new NotSent("redis unavailable"));
    return this.bounded(this.client.send(cmd, args));
  }

  stop(): void {
    this.stopped = true;
    this.client.close();
  }

  private bounded<T>(p: Promise<T>): Promise<T> {
    const { promise, reject } = Promise.withResolvers<never>();
    const t = setTimeout(() => reject(new Error(`redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    return Promise.race([p, promise]).finally(() => clearTimeout(t));
  }

  private retryLater(): void {
    if (this.stopped) return;
    setTimeout(() => void this.client.connect().catch(() => this.retryLater()), 1000).unref();
  }
}

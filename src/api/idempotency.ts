// Remembers API send results by idempotencyKey for a window, so a retried request is answered
// with the first result instead of delivering twice. Map order = insertion order = age.

interface Entry {
  method: string;
  result: unknown;
  at: number;
}

/** A first call still running: a retry with its key joins it. */
interface Inflight {
  method: string;
  pending: Promise<unknown>;
}

export class IdempotencyCache {
  private readonly entries = new Map<string, Entry>();
  // Per node (this instance): two nodes in one process never share a key's answer.
  private readonly running = new Map<string, Inflight>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (e && this.now() - e.at > this.windowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  inflight(key: string): Inflight | undefined {
    return this.running.get(key);
  }

  /** The first call with `key` has started; call the returned function when it has finished. */
  begin(key: string, method: string, pending: Promise<unknown>): () => void {
    this.running.set(key, { method, pending });
    return () => this.running.delete(key);
  }

  set(key: string, method: string, result: unknown): void {
    this.sweep(this.maxKeys - 1);
    this.entries.set(key, { method, result, at: this.now() });
  }

  /**
   * Forgets expired keys (oldest first), and the oldest beyond `keep`. Also run on a timer, so
   * the last window's keys do not stay in memory after traffic stops (found by the soak).
   */
  sweep(keep = this.maxKeys): void {
    const now = this.now();
    for (const [k, e] of this.entries) {
      if (now - e.at <= this.windowMs && this.entries.size <= keep) break;
      this.entries.delete(k);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

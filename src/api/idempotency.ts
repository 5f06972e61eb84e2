// Remembers API send results by idempotencyKey for a window, so a retried request is answered
// with the first result instead of delivering twice. Map order = insertion order = age.

interface Entry {
  method: string;
  result: unknown;
  at: number;
}

export class IdempotencyCache {
  private readonly entries = new Map<string, Entry>();

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

  set(key: string, method: string, result: unknown): void {
    const now = this.now();
    for (const [k, e] of this.entries) {
      if (now - e.at <= this.windowMs && this.entries.size < this.maxKeys) break;
      this.entries.delete(k);
    }
    this.entries.set(key, { method, result, at: now });
  }

  get size(): number {
    return this.entries.size;
  }
}

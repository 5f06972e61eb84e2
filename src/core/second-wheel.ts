// Entries bucketed by the second they are due, swept every 250 ms: the cost of a sweep is
// O(entries due), not O(all), and there is no timer per entry. Token expiry (ws/expiry.ts) and
// channel-token subscriptions (ws/subscription-expiry.ts) run on one each.
export class SecondWheel<E> {
  private readonly buckets = new Map<number, Set<E>>();
  private timer: Timer | null = null;

  /** `due`: called for an entry whose second has come (`at` is when it was added for, ms since epoch). */
  constructor(private readonly due: (e: E, now: number) => void) {}

  add(e: E, at: number): void {
    const second = Math.ceil(at / 1000);
    let set = this.buckets.get(second);
    if (!set) this.buckets.set(second, (set = new Set()));
    set.add(e);
  }

  remove(e: E, at: number): void {
    const second = Math.ceil(at / 1000);
    const set = this.buckets.get(second);
    if (set?.delete(e) && set.size === 0) this.buckets.delete(second);
  }

  start(): void {
    this.timer ??= setInterval(() => this.sweep(Date.now()), 250);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  sweep(now: number): void {
    const current = Math.floor(now / 1000);
    for (const [second, set] of this.buckets) {
      if (second > current) continue;
      this.buckets.delete(second);
      for (const e of set) this.due(e, now);
    }
  }
}

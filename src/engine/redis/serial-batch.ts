// Keys whose state a node writes to Redis (presence holdings): gathered per event-loop turn,
// written one batch at a time (an older value can never land after a newer one; each key's
// value is read by `write` when it is sent), kept when a write fails and tried again — one retry
// timer at a time, none while Redis is unreachable (the owner calls schedule() on reconnect).
export class SerialBatch {
  private batch = new Set<string>();
  private scheduled = false;
  private flushing: Promise<void> | null = null;
  private retry: Timer | null = null;
  private stopped = false;

  /**
   * `write`: writes the keys in order and answers those it could not write (they are kept);
   * `up`: whether Redis can be reached now.
   */
  constructor(private readonly write: (keys: string[]) => Promise<string[]>, private readonly up: () => boolean) {}

  add(key: string): void {
    this.batch.add(key);
    this.schedule();
  }

  /** Writes soon (also with nothing queued: a write of no keys still asks Redis, e.g. whether the node was healed). */
  schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.flushing) {
        void this.flushing.then(() => this.schedule());
        return;
      }
      this.flushing = this.flush().finally(() => { this.flushing = null; });
    });
  }

  /** A graceful stop: the write in flight, then what is queued; nothing after. */
  async drain(): Promise<void> {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    if (this.flushing) await this.flushing;
    this.stopped = true;
    if (this.batch.size > 0 && this.up()) await this.flush();
  }

  private async flush(): Promise<void> {
    const all = [...this.batch];
    this.batch = new Set();
    const left = this.up() ? await this.write(all) : all;
    if (left.length === 0) return;
    for (const k of left) if (!this.batch.has(k)) this.batch.add(k);
    if (this.retry !== null || this.stopped || !this.up()) return; // a reconnect writes them
    this.retry = setTimeout(() => {
      this.retry = null;
      this.schedule();
    }, 500);
    this.retry.unref();
  }
}

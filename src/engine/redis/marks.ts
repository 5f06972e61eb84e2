// Which streams this node keeps marked "observed" in Redis: those a local pushgate.v1 reader
// subscribes to. Pushes to a marked stream are placed in history (push.lua); the mark outlives
// the last reader by at least the history TTL, so a client that reconnects within it can still
// recover what it missed. Marked at a v1 login (login.lua) or when a v1 socket joins a stream,
// refreshed every ttl/2 while still observed here, and all at once after a reconnect (a
// restarted Redis has lost them).
const CHUNK = 1000;

export class ObservedMarks {
  /** How long a mark lives in Redis after its last refresh. */
  readonly ttlMs: number;
  private readonly marked = new Set<string>();
  private readonly due = new Set<string>();
  private timer: Timer | null = null;
  private observed: (stream: string) => boolean = () => false;

  constructor(private readonly historyTtlMs: number, private readonly send: (streams: string[], ttlMs: number) => Promise<unknown>) {
    this.ttlMs = Math.ceil(historyTtlMs * 1.5);
  }

  start(observed: (stream: string) => boolean): void {
    this.observed = observed;
    // Every ttl/2, and a mark lives 1.5 × ttl: it outlives the last reader by at least the TTL.
    this.timer = setInterval(() => this.refresh(), Math.max(250, Math.floor(this.historyTtlMs / 2)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** A local v1 reader now observes `stream`: marked in Redis within this event-loop turn. */
  mark(stream: string): void {
    if (this.marked.has(stream)) return;
    this.marked.add(stream);
    if (this.due.size === 0) setImmediate(() => this.flush());
    this.due.add(stream);
  }

  /** Marked by someone else (a login's script call). */
  noteMarked(stream: string): void {
    this.marked.add(stream);
  }

  /** Re-marks every stream still observed here; forgets the others (their marks run out in Redis). */
  refresh(): void {
    for (const s of this.marked) {
      if (this.observed(s)) this.due.add(s);
      else this.marked.delete(s);
    }
    this.flush();
  }

  private flush(): void {
    const streams = [...this.due];
    this.due.clear();
    for (let i = 0; i < streams.length; i += CHUNK) {
      const chunk = streams.slice(i, i + CHUNK);
      // Not marked (Redis unreachable): sent again at the next refresh, reconnect or answer.
      this.send(chunk, this.ttlMs).catch(() => {});
    }
  }
}

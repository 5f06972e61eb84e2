// Whether Redis answers, as opposed to whether its sockets are up. A stopped or blackholed Redis
// keeps its sockets open, so Bun still says `connected` and would queue every command, to run all
// at once if Redis wakes up. The first command unanswered past --cluster-timeout marks Redis as
// not answering; until something answers again the cluster sends nothing more (operations fail
// at once and honestly: "not reached", because not sent), and a probe PING tells when it is back.

/** A Redis command that got no answer within --cluster-timeout (Redis may still run it later). */
export class NoAnswer extends Error {}

export interface ResponsivenessEvents {
  /** Whether marking makes sense now (connections up, cluster not stopped). */
  canMark(): boolean;
  stalled(): void;
  answered(afterMs: number): void;
}

export class Responsiveness {
  /** When a command last went unanswered (0: Redis answers). */
  private stalledAt = 0;
  private probing = false;

  constructor(private readonly timeoutMs: number, private readonly events: ResponsivenessEvents) {}

  get answering(): boolean {
    return this.stalledAt === 0;
  }

  /**
   * Rejects with NoAnswer when `p` is not settled within the timeout, and (`marks`) marks Redis as
   * not answering; any answer, even late, clears that.
   */
  bounded<T>(p: Promise<T>, marks = true): Promise<T> {
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    const timer = setTimeout(() => {
      if (marks) this.stall();
      reject(new NoAnswer("redis did not answer in time"));
    }, this.timeoutMs);
    p.then(
      (v) => {
        clearTimeout(timer);
        this.answered();
        resolve(v); // (a no-op after the timeout)
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
    return promise;
  }

  /** While Redis does not answer: one `ping` at a time, to learn when it does again. */
  probe(ping: () => Promise<unknown>): void {
    if (this.stalledAt === 0 || this.probing) return;
    this.probing = true;
    ping().then(() => this.answered(), () => {}).finally(() => { this.probing = false; });
  }

  /** A new connection: what waited on the old one is gone (Bun rejected it). */
  reset(): void {
    this.stalledAt = 0;
    this.probing = false;
  }

  private stall(): void {
    if (this.stalledAt !== 0 || !this.events.canMark()) return;
    this.stalledAt = performance.now();
    this.events.stalled();
  }

  private answered(): void {
    if (this.stalledAt === 0) return;
    const ms = Math.round(performance.now() - this.stalledAt);
    this.stalledAt = 0;
    this.events.answered(ms);
  }
}

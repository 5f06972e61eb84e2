// Delivery counts from other nodes for one push: replies may arrive before the publish tells
// how many nodes received it, so the expected number is set late. The result says how many
// nodes reported, so a timeout (a node that did not) is never mistaken for "reached nowhere".
// Tallies are opened in order with one timeout, so they also expire in order: one sweep timer
// finishes the overdue ones from the oldest (no timer per push).

export interface Counted {
  /** Connections reached, summed over the reports. */
  sum: number;
  /** Nodes that reported. */
  reports: number;
}

interface Tally {
  expected: number | null;
  got: number;
  sum: number;
  deadline: number;
  resolve(c: Counted): void;
}

/** How often overdue tallies are looked for: a timeout fires up to this late. */
const SWEEP_MS = 25;

export class CountTallies {
  private next = 1;
  // Map order = opening order = deadline order.
  private readonly tallies = new Map<number, Tally>();
  private sweeper: Timer | null = null;

  constructor(private readonly ms: number) {}

  open(): { id: number; result: Promise<Counted> } {
    const id = this.next++;
    const { promise, resolve } = Promise.withResolvers<Counted>();
    this.tallies.set(id, { expected: null, got: 0, sum: 0, resolve, deadline: performance.now() + this.ms });
    if (this.sweeper === null) {
      this.sweeper = setInterval(() => this.sweep(), Math.min(SWEEP_MS, this.ms));
      this.sweeper.unref();
    }
    return { id, result: promise };
  }

  expect(id: number, nodes: number): void {
    const t = this.tallies.get(id);
    if (!t) return;
    t.expected = nodes;
    if (t.got >= nodes) this.finish(id);
  }

  add(id: number, n: number): void {
    const t = this.tallies.get(id);
    if (!t) return;
    t.got++;
    t.sum += n;
    if (t.expected !== null && t.got >= t.expected) this.finish(id);
  }

  finish(id: number): void {
    const t = this.tallies.get(id);
    if (!t) return;
    this.tallies.delete(id);
    t.resolve({ sum: t.sum, reports: t.got });
  }

  /** Finishes every open tally now, with what it has (stop). */
  flush(): void {
    for (const id of [...this.tallies.keys()]) this.finish(id);
  }

  private sweep(): void {
    const now = performance.now();
    for (const [id, t] of this.tallies) {
      if (t.deadline > now) break;
      this.finish(id);
    }
    if (this.tallies.size === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }
}

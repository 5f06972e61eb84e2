// Delivery counts from other nodes for one push: replies may arrive before the publish tells
// how many nodes received it, so the expected number is set late. The result says how many
// nodes reported, so a timeout (a node that did not) is never mistaken for "reached nowhere".

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
  resolve(c: Counted): void;
  timer: Timer;
}

export class CountTallies {
  private next = 1;
  private readonly tallies = new Map<number, Tally>();

  open(ms: number): { id: number; result: Promise<Counted> } {
    const id = this.next++;
    const { promise, resolve } = Promise.withResolvers<Counted>();
    const tally: Tally = { expected: null, got: 0, sum: 0, resolve, timer: setTimeout(() => this.finish(id), ms) };
    this.tallies.set(id, tally);
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
    clearTimeout(t.timer);
    this.tallies.delete(id);
    t.resolve({ sum: t.sum, reports: t.got });
  }
}

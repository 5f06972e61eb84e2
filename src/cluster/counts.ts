// Delivery counts from other nodes for one push: replies may arrive before the publish tells
// how many nodes received it, so the expected number is set late.

interface Tally {
  expected: number | null;
  got: number;
  sum: number;
  resolve(sum: number): void;
  timer: Timer;
}

export class CountTallies {
  private next = 1;
  private readonly tallies = new Map<number, Tally>();

  open(ms: number): { id: number; result: Promise<number> } {
    const id = this.next++;
    const { promise, resolve } = Promise.withResolvers<number>();
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
    t.resolve(t.sum);
  }
}

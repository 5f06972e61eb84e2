// Outstanding cross-node calls and delivery-count waits, each settled by replies or a timeout.

interface Waiter<T> {
  resolve(v: T): void;
  timer: Timer;
}

export class Pending<T> {
  private next = 1;
  private readonly waiters = new Map<number, Waiter<T>>();

  /** A new id and a promise that settles with `onTimeout()` after `ms` unless answered. */
  open(ms: number, onTimeout: () => T): { id: number; promise: Promise<T> } {
    const id = this.next++;
    const { promise, resolve } = Promise.withResolvers<T>();
    const timer = setTimeout(() => {
      this.waiters.delete(id);
      resolve(onTimeout());
    }, ms);
    this.waiters.set(id, { resolve, timer });
    return { id, promise };
  }

  settle(id: number, value: T): boolean {
    const w = this.waiters.get(id);
    if (!w) return false;
    clearTimeout(w.timer);
    this.waiters.delete(id);
    w.resolve(value);
    return true;
  }

  /** Settles every waiter now (shutdown). */
  flush(value: (id: number) => T): void {
    for (const [id, w] of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(value(id));
    }
    this.waiters.clear();
  }
}

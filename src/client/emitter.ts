// A small typed event emitter. Listener arrays are copied on (un)subscribe, never on emit, so
// emitting allocates nothing and a listener may unsubscribe itself while being called.

type Listener = (a?: unknown, b?: unknown) => void;

export class Emitter<Events extends { [K in keyof Events]: (...args: any[]) => void }> {
  private readonly listeners = new Map<keyof Events, Listener[]>();

  /** Subscribes; returns a function that unsubscribes. */
  on<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    const list = this.listeners.get(event);
    this.listeners.set(event, list ? [...list, listener as Listener] : [listener as Listener]);
    return () => this.off(event, listener);
  }

  /** Subscribes for one call. */
  once<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    const off = this.on(event, ((a?: unknown, b?: unknown) => {
      off();
      (listener as Listener)(a, b);
    }) as Events[K]);
    return off;
  }

  off<K extends keyof Events>(event: K, listener: Events[K]): void {
    const list = this.listeners.get(event);
    if (!list) return;
    const i = list.indexOf(listener as Listener);
    if (i === -1) return;
    if (list.length === 1) this.listeners.delete(event);
    else this.listeners.set(event, list.slice(0, i).concat(list.slice(i + 1)));
  }

  listenerCount(event: keyof Events): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  /**
   * Calls every listener with up to two arguments. A throwing listener does not stop the others
   * or corrupt the caller's state: its error is rethrown asynchronously.
   */
  protected emit(event: keyof Events, a?: unknown, b?: unknown): void {
    const list = this.listeners.get(event);
    if (!list) return;
    for (let i = 0; i < list.length; i++) {
      try {
        list[i]!(a, b);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}

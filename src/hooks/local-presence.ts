// Presence transitions of one node (the memory engine): its counts are the whole truth.
import type { Presence, PresenceListener } from "./presence.ts";

export class LocalPresence implements Presence {
  /** uids whose offline waits for the debounce (a new connection in time cancels it). */
  private readonly leaving = new Map<string, Timer>();

  constructor(private readonly debounceMs: number, private readonly listener: PresenceListener) {}

  uidConnections(uid: string, n: number): void {
    if (n === 1) {
      const t = this.leaving.get(uid);
      if (t === undefined) return this.listener.online(uid);
      clearTimeout(t); // back within the debounce: neither offline nor online
      this.leaving.delete(uid);
      return;
    }
    const t = setTimeout(() => {
      this.leaving.delete(uid);
      this.listener.offline(uid);
    }, this.debounceMs);
    t.unref();
    this.leaving.set(uid, t);
  }

  async stop(): Promise<void> {
    // The node is going away: its uids' offline transitions are due now.
    for (const [uid, t] of this.leaving) {
      clearTimeout(t);
      this.listener.offline(uid);
    }
    this.leaving.clear();
  }
}

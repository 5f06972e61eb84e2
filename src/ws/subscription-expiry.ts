// Channel-token subscriptions end at their token's exp unless a new token came first (a
// `subscribe` again): entries bucketed by the second they expire, swept every 250 ms, so the
// cost is O(expiring subscriptions). An expired one leaves the group and is told with an
// `unsubscribed` frame (code E_TOKEN_EXPIRED). One per node (server.ts makes it, the hub holds it).
import type { Conn } from "../core/conn-data.ts";

interface Entry {
  ws: Conn;
  group: string;
  /** ms since epoch */
  exp: number;
}

export class SubscriptionExpiry {
  private readonly buckets = new Map<number, Set<Entry>>();
  private timer: Timer | null = null;

  /** (Re)schedules the end of `ws`'s subscription to `group` at `exp` (ms since epoch). */
  schedule(ws: Conn, group: string, exp: number): void {
    this.cancel(ws, group);
    const entry: Entry = { ws, group, exp };
    const s = ws.data.subs!;
    (s.expiry ??= new Map()).set(group, entry);
    const second = Math.ceil(exp / 1000);
    let set = this.buckets.get(second);
    if (!set) this.buckets.set(second, (set = new Set()));
    set.add(entry);
  }

  /** The subscription ended otherwise (unsubscribe, leaveGroup): no expiry for it. */
  cancel(ws: Conn, group: string): void {
    const entry = ws.data.subs?.expiry?.get(group) as Entry | undefined;
    if (entry === undefined) return;
    ws.data.subs!.expiry!.delete(group);
    const second = Math.ceil(entry.exp / 1000);
    const set = this.buckets.get(second);
    if (set?.delete(entry) && set.size === 0) this.buckets.delete(second);
  }

  /** The connection closed. */
  cancelAll(ws: Conn): void {
    const m = ws.data.subs?.expiry;
    if (!m) return;
    for (const group of [...m.keys()]) this.cancel(ws, group);
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
      for (const e of set) {
        if (e.exp > now) {
          this.schedule(e.ws, e.group, e.exp);
          continue;
        }
        // Stale: refreshed (a newer entry), or the membership ended otherwise (leaveGroup drops the entry).
        if (e.ws.data.subs?.expiry?.get(e.group) !== e) continue;
        e.ws.data.subs!.expiry!.delete(e.group);
        if (e.ws.readyState !== 1 || !e.ws.data.groups?.has(e.group)) continue;
        e.ws.data.hub.members.leaveGroup(e.ws, e.group);
        e.ws.send(`{"type":"unsubscribed","group":${JSON.stringify(e.group)},"code":"E_TOKEN_EXPIRED","message":"the channel token expired"}`);
      }
    }
  }
}

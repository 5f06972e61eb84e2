// Channel-token subscriptions end at their token's exp unless a new token came first (a
// `subscribe` again): entries on a SecondWheel, so the cost is O(expiring subscriptions). An
// expired one leaves the group and is told with an `unsubscribed` frame (code E_TOKEN_EXPIRED).
// One per node (server.ts makes it, the hub holds it).
import type { Conn } from "../core/conn-data.ts";
import { SecondWheel } from "../core/second-wheel.ts";

interface Entry {
  ws: Conn;
  group: string;
  /** ms since epoch */
  exp: number;
}

export class SubscriptionExpiry {
  private readonly wheel = new SecondWheel<Entry>((e, now) => {
    if (e.exp > now) return this.wheel.add(e, e.exp);
    // Stale: refreshed (a newer entry), or the membership ended otherwise (leaveGroup drops the entry).
    const s = e.ws.data.subs;
    if (s?.expiry?.get(e.group) !== e) return;
    s.expiry!.delete(e.group);
    if (e.ws.readyState !== 1 || !e.ws.data.groups?.has(e.group)) return;
    e.ws.data.hub.members.leaveGroup(e.ws, e.group);
    e.ws.send(`{"type":"unsubscribed","group":${JSON.stringify(e.group)},"code":"E_TOKEN_EXPIRED","message":"the channel token expired"}`);
  });

  /** (Re)schedules the end of `ws`'s subscription to `group` at `exp` (ms since epoch). */
  schedule(ws: Conn, group: string, exp: number): void {
    this.cancel(ws, group);
    const entry: Entry = { ws, group, exp };
    (ws.data.subs!.expiry ??= new Map()).set(group, entry);
    this.wheel.add(entry, exp);
  }

  /** The subscription ended otherwise (unsubscribe, leaveGroup): no expiry for it. */
  cancel(ws: Conn, group: string): void {
    const entry = ws.data.subs?.expiry?.get(group) as Entry | undefined;
    if (entry === undefined) return;
    ws.data.subs!.expiry!.delete(group);
    this.wheel.remove(entry, entry.exp);
  }

  /** The connection closed. */
  cancelAll(ws: Conn): void {
    const m = ws.data.subs?.expiry;
    if (!m) return;
    for (const group of [...m.keys()]) this.cancel(ws, group);
  }

  start(): void {
    this.wheel.start();
  }

  stop(): void {
    this.wheel.stop();
  }
}

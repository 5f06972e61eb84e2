// The node's recent lifecycle events for /admin: a fixed-size ring (--admin-events; the oldest
// is overwritten), fed by a NodeEvents that records open, login and close and passes every call
// on to the application's events (webhooks, in-process hooks), so the hub sees one listener.
import { clientIdOf } from "../core/client-table.ts";
import type { Conn } from "../core/conn-data.ts";
import type { NodeEvents } from "../core/node-events.ts";
import type { Payload } from "../history/types.ts";

export interface LifecycleEvent {
  /** Sequence number on its node (1, 2, …): tells how many were overwritten. */
  seq: number;
  /** ms since epoch. */
  t: number;
  kind: "open" | "login" | "close";
  clientId: string;
  uid: string | null;
  protocol: "pushgate.v1" | "seed";
  /** open: the peer's address. */
  ip?: string;
  /** close: the effective close code and its reason. */
  code?: number;
  reason?: string;
}

export class EventRing {
  private readonly slots: (LifecycleEvent | null)[];
  private seq = 0;

  constructor(readonly size: number) {
    this.slots = new Array<LifecycleEvent | null>(size).fill(null);
  }

  /** Events recorded since start (those past `size` were overwritten). */
  get total(): number {
    return this.seq;
  }

  add(e: Omit<LifecycleEvent, "seq">): void {
    if (this.size === 0) return;
    const seq = ++this.seq;
    this.slots[(seq - 1) % this.size] = { seq, ...e };
  }

  /** The newest `n` events, newest first. */
  newest(n: number): LifecycleEvent[] {
    const out: LifecycleEvent[] = [];
    const count = Math.min(n, this.size, this.seq);
    for (let i = 0; i < count; i++) out.push(this.slots[(this.seq - 1 - i) % this.size]!);
    return out;
  }
}

/** Records into `ring`, then forwards to `inner` (null: nothing else listens). */
export class RecordingEvents implements NodeEvents {
  constructor(private readonly ring: EventRing, private readonly inner: NodeEvents | null) {}

  get wantsUndelivered(): boolean {
    return this.inner?.wantsUndelivered ?? false;
  }

  opened(ws: Conn): void {
    this.ring.add({ ...base(ws, "open"), ip: ws.remoteAddress });
    this.inner?.opened?.(ws);
  }

  loggedIn(ws: Conn): void {
    this.ring.add(base(ws, "login"));
    this.inner?.loggedIn(ws);
  }

  closed(ws: Conn, code: number, reason: string): void {
    this.ring.add({ ...base(ws, "close"), code, reason });
    this.inner?.closed(ws, code, reason);
  }

  uidConnections(uid: string, n: number): void {
    this.inner?.uidConnections(uid, n);
  }

  undelivered(ws: Conn, to: string, payload: Payload): void {
    this.inner?.undelivered(ws, to, payload);
  }
}

function base(ws: Conn, kind: LifecycleEvent["kind"]): Omit<LifecycleEvent, "seq"> {
  const d = ws.data;
  return { t: Date.now(), kind, clientId: clientIdOf(d), uid: d.uid, protocol: d.v1 ? "pushgate.v1" : "seed" };
}

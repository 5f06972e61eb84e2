// This node's open connections by clientId: a dense slot array with a free list instead of a
// Map<string, Conn> (a JSC Map entry costs ~170 B, a slot 8 B). A slot's use count is part of
// the clientId, so a stale clientId never finds the connection that reused its slot.
import { cidFor, cidOf, formatClientId, slotOf, SLOT_BITS } from "./client-id.ts";
import type { Conn, ConnData } from "./conn-data.ts";

export class ClientTable {
  private readonly slots: (Conn | null)[] = [];
  private readonly uses: number[] = [];
  private readonly free: number[] = [];
  private count = 0;

  constructor(readonly nodeId: string) {}

  get size(): number {
    return this.count;
  }

  /** Gives `ws` a slot and its clientId number (ws.data.cid). */
  add(ws: Conn): void {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.slots.length;
      if (slot >= 2 ** SLOT_BITS) throw new Error("more than 16,777,216 connections on one node");
      this.slots.push(null);
      this.uses.push(0);
    }
    const use = this.uses[slot]! + 1;
    this.uses[slot] = use;
    this.slots[slot] = ws;
    ws.data.cid = cidFor(slot, use);
    this.count++;
  }

  delete(ws: Conn): void {
    const slot = slotOf(ws.data.cid);
    if (this.slots[slot] !== ws) return;
    this.slots[slot] = null;
    this.free.push(slot);
    this.count--;
  }

  /** The open connection with this clientId on this node. */
  get(clientId: string): Conn | undefined {
    const cid = cidOf(this.nodeId, clientId);
    if (cid < 0) return undefined;
    const ws = this.slots[slotOf(cid)];
    return ws && ws.data.cid === cid ? ws : undefined;
  }

  /** The open connections among `clientIds` (unknown ids are skipped). */
  getAll(clientIds: readonly string[]): Conn[] {
    const out: Conn[] = [];
    for (const id of clientIds) {
      const ws = this.get(id);
      if (ws) out.push(ws);
    }
    return out;
  }

  has(clientId: string): boolean {
    return this.get(clientId) !== undefined;
  }

  /** A snapshot of every open connection. */
  values(): Conn[] {
    const out: Conn[] = [];
    for (const ws of this.slots) if (ws) out.push(ws);
    return out;
  }
}

/** The clientId of a connection (built on demand; it is not stored per connection). */
export function clientIdOf(d: ConnData): string {
  return formatClientId(d.hub.nodeId, d.cid);
}

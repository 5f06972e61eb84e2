// key → connections, for uids and groups. Most uids have one connection, so a single entry is
// stored as the connection itself and becomes a Set only at the second one (a Set costs ~250 B).
import type { Conn } from "./conn-data.ts";

export class ConnIndex {
  private readonly map = new Map<string, Conn | Set<Conn>>();

  get size(): number {
    return this.map.size;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  count(key: string): number {
    const v = this.map.get(key);
    return v === undefined ? 0 : v instanceof Set ? v.size : 1;
  }

  add(key: string, ws: Conn): void {
    const v = this.map.get(key);
    if (v === undefined) this.map.set(key, ws);
    else if (v instanceof Set) v.add(ws);
    else if (v !== ws) this.map.set(key, new Set([v, ws]));
  }

  delete(key: string, ws: Conn): void {
    const v = this.map.get(key);
    if (v === ws) this.map.delete(key);
    else if (v instanceof Set && v.delete(ws)) {
      if (v.size === 1) this.map.set(key, v.values().next().value!);
    }
  }

  /** At most `n` of the key's connections, without copying the rest. */
  firstConns(key: string, n: number): Conn[] {
    const v = this.map.get(key);
    if (v === undefined || n <= 0) return [];
    if (!(v instanceof Set)) return [v];
    const out: Conn[] = [];
    for (const ws of v) {
      if (out.length >= n) break;
      out.push(ws);
    }
    return out;
  }

  conns(key: string): Conn[] {
    const v = this.map.get(key);
    return v === undefined ? [] : v instanceof Set ? [...v] : [v];
  }

  keys(): MapIterator<string> {
    return this.map.keys();
  }
}

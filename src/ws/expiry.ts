// Token expiry: connections bucketed by the second their token expires, swept every 250 ms,
// so the cost is O(expiring connections), not O(all connections), and no timer per socket.
// One wheel per node (server.ts makes it, the hub holds it); an expired socket closes with 4001.
import type { Conn } from "../core/conn-data.ts";
import { CloseCode } from "../core/errors.ts";
import { closeWithError } from "./error-frames.ts";

export class ExpiryWheel {
  private readonly buckets = new Map<number, Set<Conn>>();
  private timer: Timer | null = null;

  /** (Re)schedules `ws` to close at `expiresAt` (ms since epoch; 0 = never). */
  schedule(ws: Conn, expiresAt: number): void {
    this.cancel(ws);
    ws.data.expiresAt = expiresAt;
    if (expiresAt <= 0) return;
    const second = Math.ceil(expiresAt / 1000);
    let set = this.buckets.get(second);
    if (!set) this.buckets.set(second, (set = new Set()));
    set.add(ws);
  }

  cancel(ws: Conn): void {
    const at = ws.data.expiresAt;
    if (at <= 0) return;
    const second = Math.ceil(at / 1000);
    const set = this.buckets.get(second);
    if (set?.delete(ws) && set.size === 0) this.buckets.delete(second);
    ws.data.expiresAt = 0;
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
      for (const ws of set) {
        if (ws.data.expiresAt > now) { this.schedule(ws, ws.data.expiresAt); continue; }
        ws.data.expiresAt = 0;
        closeWithError(ws, CloseCode.TOKEN_EXPIRED, "E_TOKEN_EXPIRED", "token expired");
      }
    }
  }
}

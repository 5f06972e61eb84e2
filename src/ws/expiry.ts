// Token expiry: connections on a SecondWheel by the second their token expires, so the cost is
// O(expiring connections) and no timer per socket. One per node (server.ts makes it, the hub
// holds it); an expired socket closes with 4001.
import type { Conn } from "../core/conn-data.ts";
import { CloseCode } from "../core/errors.ts";
import { SecondWheel } from "../core/second-wheel.ts";
import { closeWithError } from "./error-frames.ts";

export class ExpiryWheel {
  private readonly wheel = new SecondWheel<Conn>((ws, now) => {
    // Refreshed to a later second meanwhile: on the wheel again.
    if (ws.data.expiresAt > now) return this.schedule(ws, ws.data.expiresAt);
    ws.data.expiresAt = 0;
    closeWithError(ws, CloseCode.TOKEN_EXPIRED, "E_TOKEN_EXPIRED", "token expired");
  });

  /** (Re)schedules `ws` to close at `expiresAt` (ms since epoch; 0 = never). */
  schedule(ws: Conn, expiresAt: number): void {
    this.cancel(ws);
    ws.data.expiresAt = expiresAt;
    if (expiresAt > 0) this.wheel.add(ws, expiresAt);
  }

  cancel(ws: Conn): void {
    const at = ws.data.expiresAt;
    if (at <= 0) return;
    this.wheel.remove(ws, at);
    ws.data.expiresAt = 0;
  }

  start(): void {
    this.wheel.start();
  }

  stop(): void {
    this.wheel.stop();
  }

  sweep(now: number): void {
    this.wheel.sweep(now);
  }
}

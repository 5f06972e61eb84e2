// Per-connection inbound token bucket: `rate` tokens/s refill, `burst` capacity. State lives in
// ws.data so the check allocates nothing. A frame costs one token per started --rate-frame-bytes
// (at least one, at most a full bucket), so a burst of large frames is bounded in bytes too.
import type { ConnData } from "../core/conn-data.ts";

/** Tokens a frame of `length` characters costs. */
export function frameCost(length: number, frameBytes: number, burst: number): number {
  if (length <= frameBytes) return 1;
  const cost = Math.ceil(length / frameBytes);
  return cost < burst ? cost : Math.max(1, burst);
}

export function takeToken(d: ConnData, rate: number, burst: number, now: number, cost = 1): boolean {
  if (rate === 0) return true;
  const elapsed = now - d.refilledAt;
  if (elapsed > 0) {
    const t = d.tokens + (elapsed * rate) / 1000;
    d.tokens = t > burst ? burst : t;
    d.refilledAt = now;
  }
  if (d.tokens >= cost) {
    d.tokens -= cost;
    return true;
  }
  return false;
}

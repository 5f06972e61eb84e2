// Per-connection inbound token bucket: `rate` tokens/s refill, `burst` capacity. State lives in
// ws.data so the check allocates nothing.
import type { ConnData } from "./conn-data.ts";

export function takeToken(d: ConnData, rate: number, burst: number, now: number): boolean {
  if (rate === 0) return true;
  const elapsed = now - d.refilledAt;
  if (elapsed > 0) {
    const t = d.tokens + (elapsed * rate) / 1000;
    d.tokens = t > burst ? burst : t;
    d.refilledAt = now;
  }
  if (d.tokens >= 1) {
    d.tokens -= 1;
    return true;
  }
  return false;
}

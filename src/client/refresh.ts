// When to refresh a token: `refreshBeforeMs` ahead of its expiry, and never later than half of
// its remaining life, so a short-lived token is refreshed with time to spare.

/** setTimeout fires at once for delays past 2^31 - 1 ms; longer waits are done in steps. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Delay in ms from `nowMs` until the refresh of a token expiring at `expSec` (seconds since epoch). */
export function refreshDelay(expSec: number, nowMs: number, refreshBeforeMs: number): number {
  const remaining = expSec * 1000 - nowMs;
  if (!(remaining > 0)) return 0;
  return Math.max(0, Math.min(remaining - refreshBeforeMs, remaining / 2));
}

/** Resolves the token option: a fixed string, or the callback's answer. Throws on a bad answer. */
export async function resolveToken(source: string | (() => string | Promise<string>)): Promise<string> {
  const token = typeof source === "function" ? await source() : source;
  if (typeof token !== "string" || token === "") throw new TypeError("the token callback must return a non-empty string");
  return token;
}

/** Arms one timer for the next refresh; a refreshed `exp` that is not later than the last is ignored. */
export class RefreshTimer {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastExp = 0;

  constructor(private readonly refreshBeforeMs: number, private readonly fire: () => void) {}

  /** Schedules the refresh of a token expiring at `expSec`; no-op without a later expiry. */
  schedule(expSec: number | undefined): void {
    if (typeof expSec !== "number" || !(expSec > this.lastExp)) return;
    this.lastExp = expSec;
    this.arm(expSec);
  }

  /** Stops the timer and forgets the expiry (the next connection starts afresh). */
  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.lastExp = 0;
  }

  private arm(expSec: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    const delay = refreshDelay(expSec, Date.now(), this.refreshBeforeMs);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (delay > MAX_TIMER_MS) this.arm(expSec);
      else this.fire();
    }, Math.min(delay, MAX_TIMER_MS));
  }
}

// Exponential backoff with full jitter: delay = random(0, min(max, min * 2^attempt)).

import type { ReconnectOptions } from "./types.ts";

export class Backoff {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxAttempts: number;
  /** Reconnects scheduled since the last reset. */
  attempt = 0;

  constructor(opts: ReconnectOptions = {}, private readonly random: () => number = Math.random) {
    this.minDelayMs = nonNegative(opts.minDelayMs, 250);
    this.maxDelayMs = Math.max(this.minDelayMs, nonNegative(opts.maxDelayMs, 10_000));
    this.maxAttempts = nonNegative(opts.maxAttempts, Infinity);
  }

  /** The upper bound of the next delay, without consuming an attempt. */
  ceiling(attempt = this.attempt): number {
    // 2^attempt overflows to Infinity long before it matters; Math.min keeps it at the cap.
    return Math.min(this.maxDelayMs, this.minDelayMs * 2 ** attempt);
  }

  /** The next delay in ms, or null when maxAttempts is used up. Consumes one attempt. */
  next(): number | null {
    if (this.attempt >= this.maxAttempts) return null;
    const delay = Math.floor(this.random() * (this.ceiling() + 1));
    this.attempt++;
    return delay;
  }

  /** Consumes one attempt with no delay (an immediate retry); null when used up. */
  immediate(): 0 | null {
    if (this.attempt >= this.maxAttempts) return null;
    this.attempt++;
    return 0;
  }

  reset(): void {
    this.attempt = 0;
  }
}

function nonNegative(v: number | undefined, fallback: number): number {
  return typeof v === "number" && v >= 0 && !Number.isNaN(v) ? v : fallback;
}

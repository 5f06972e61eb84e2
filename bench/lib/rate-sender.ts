// The open-loop sender of the fixed-rate targeted phases (standalone and cluster): every TICK_MS it
// sends what is due at `rate` per second since t0 (at most 4× a tick's share at once), for
// `seconds`, and gives up once sending has taken 1.5× as long.
import type { RateOptions } from "./types.ts";

// 1 ms: at 20,000 msgs/s a tick's burst is 20 messages, so the last of a burst waits less behind the first.
const TICK_MS = 1;

/** Calls send(seq) for seq = 0..total-1 at o.rate; sendEnd is in Bun.nanoseconds(). */
export async function sendAtRate(
  o: RateOptions, total: number, t0: number, send: (seq: number) => void,
): Promise<{ sent: number; sendEnd: number; timedOut: string | null }> {
  const sendNs = o.seconds * 1e9;
  const maxPerTick = Math.max(1, Math.ceil((o.rate * TICK_MS) / 1000) * 4);
  let sent = 0;
  let timedOut: string | null = null;
  while (sent < total) {
    const now = Bun.nanoseconds();
    if (now - t0 > sendNs * 1.5) { timedOut = `sending took over ${o.seconds * 1.5} s`; break; }
    const due = Math.min(total, Math.floor(((now - t0) / 1e9) * o.rate));
    const n = Math.min(due - sent, maxPerTick);
    for (let k = 0; k < n; k++) send(sent++);
    await Bun.sleep(TICK_MS);
  }
  return { sent, sendEnd: Bun.nanoseconds(), timedOut };
}

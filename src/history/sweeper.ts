// Periodic history sweep: expired messages go, and idle streams for which `keep` is false (the
// node passes "nobody here subscribes to it").
import type { HistoryStore, StreamName } from "./types.ts";

export function startHistorySweeper(history: HistoryStore, ttlMs: number, keep: (stream: StreamName) => boolean): Timer {
  const every = Math.min(10_000, Math.max(250, Math.floor(ttlMs / 4)));
  const timer = setInterval(() => history.sweep(keep), every);
  timer.unref();
  return timer;
}

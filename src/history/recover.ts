// The recovery rule shared by every history source: what a client positioned at `from` gets.
import type { HistoryEntry, RecoveryOutcome, StreamPosition } from "./types.ts";

/** `entries`: what the source still holds after `from`, oldest first, contiguous. */
export function recoverFrom(from: StreamPosition, position: StreamPosition, entries: readonly HistoryEntry[]): RecoveryOutcome {
  if (from.epoch !== position.epoch || from.offset > position.offset) {
    return { recovered: false, reason: "epoch", entries: [], position };
  }
  if (from.offset === position.offset) return { recovered: true, entries: [], position };
  const first = entries[0]?.offset ?? position.offset + 1;
  if (first > from.offset + 1) return { recovered: false, reason: "gap", entries, position };
  return { recovered: true, entries, position };
}

/** Where welcome positions and recovery come from at a login. */
export interface RecoverySource {
  position(stream: string): StreamPosition;
  since(stream: string, from: StreamPosition): RecoveryOutcome;
}

// The history store interface: bounded per-stream history with offsets and epochs, so a client
// that reconnects can recover what it missed. The embedded store is memory-store.ts.
//
// Methods are synchronous on purpose: login subscribes, replays and reports in one step with no
// publish in between, which is what makes "no gap, no duplicate" hold. A remote store (Redis
// Streams, cluster issue) must keep that step atomic, e.g. by serving it from a local mirror.

/** A stream: "uid:<uid>", "group:<name>" or "all". */
export type StreamName = string;

export interface StreamPosition {
  epoch: string;
  /** Offset of the last message; 0 when the stream has had none in this epoch. */
  offset: number;
}

/** What a push carries: `text` is what seed sockets get; JSON sockets get it as JSON. */
export interface Payload {
  text: string;
  /** True when `text` is JSON text (an API object/number/…); false for a plain string. */
  isJson: boolean;
}

export interface HistoryEntry extends Payload {
  offset: number;
  /** Server time of the push, ms since epoch. */
  ts: number;
}

export type RecoveryOutcome =
  | { recovered: true; entries: readonly HistoryEntry[]; position: StreamPosition }
  | { recovered: false; reason: "gap" | "epoch"; entries: readonly HistoryEntry[]; position: StreamPosition };

export interface HistoryStats {
  streams: number;
  entries: number;
  bytes: number;
}

export interface HistoryStore {
  /**
   * Records a push; returns its position and timestamp. `observed` (default true) says a reader
   * that sees positions (pushgate.v1) got it; position()/since() observe a stream too. A push
   * to a stream never observed is not kept and has no position (epoch "", offset 0): nobody can
   * hold a position to recover from, so a seed-only stream (the Workerman migration) costs no
   * memory. Once observed, a stream keeps its messages until size, TTL or the byte cap drop them.
   */
  append(stream: StreamName, payload: Payload, observed?: boolean): { epoch: string; offset: number; ts: number };
  /** The stream's current position (creates the stream, with a fresh epoch, if unknown). */
  position(stream: StreamName): StreamPosition;
  /** Messages after `from` (exclusive), and whether they are all of them. */
  since(stream: StreamName, from: StreamPosition): RecoveryOutcome;
  /** Drops expired messages and idle streams for which `keep` is false. */
  sweep(keep: (stream: StreamName) => boolean): void;
  stats(): HistoryStats;
}

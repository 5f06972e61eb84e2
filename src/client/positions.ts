// The last processed position of every stream the client has seen: the duplicate guard for
// pushes, and the `recover` map of the next `auth`. Positions are mutated in place, so tracking
// a push allocates nothing.

import type { PositionMap, RecoveryStream, StreamState } from "./types.ts";

export class Positions {
  private readonly map = new Map<string, { epoch: string; offset: number }>();

  constructor(initial?: PositionMap) {
    if (!initial) return;
    for (const stream in initial) {
      const p = initial[stream];
      if (p && typeof p.epoch === "string" && Number.isSafeInteger(p.offset) && p.offset >= 0) {
        this.map.set(stream, { epoch: p.epoch, offset: p.offset });
      }
    }
  }

  get size(): number {
    return this.map.size;
  }

  /**
   * Records a push. Returns false for a duplicate (offset ≤ the known one in the same epoch),
   * which the caller drops. A push in another epoch is adopted.
   */
  accept(stream: string, epoch: string, offset: number): boolean {
    const p = this.map.get(stream);
    if (p === undefined) {
      this.map.set(stream, { epoch, offset });
      return true;
    }
    if (p.epoch === epoch) {
      if (offset <= p.offset) return false;
    } else {
      p.epoch = epoch;
    }
    p.offset = offset;
    return true;
  }

  /**
   * welcome.streams: positions a stream the client did not know, and adopts a new epoch (nothing
   * will be replayed for it). A known stream in the same epoch keeps the client's own position,
   * since the replayed pushes that follow the welcome will move it forward.
   */
  welcome(streams: readonly StreamState[]): void {
    for (let i = 0; i < streams.length; i++) {
      const s = streams[i]!;
      const p = this.map.get(s.stream);
      if (p === undefined) this.map.set(s.stream, { epoch: s.epoch, offset: s.offset });
      else if (p.epoch !== s.epoch) {
        p.epoch = s.epoch;
        p.offset = s.offset;
      }
    }
  }

  /** recovery.streams: the server's word on where each stream now stands, after the replay. */
  recovery(streams: readonly RecoveryStream[]): void {
    for (let i = 0; i < streams.length; i++) {
      const s = streams[i]!;
      if (typeof s.epoch !== "string" || typeof s.offset !== "number") continue;
      const p = this.map.get(s.stream);
      if (p === undefined) this.map.set(s.stream, { epoch: s.epoch, offset: s.offset });
      else {
        p.epoch = s.epoch;
        p.offset = s.offset;
      }
    }
  }

  /** The last position seen of `stream` (a copy), or undefined. */
  get(stream: string): { epoch: string; offset: number } | undefined {
    const p = this.map.get(stream);
    return p === undefined ? undefined : { epoch: p.epoch, offset: p.offset };
  }

  /** Forgets `stream` (a group the client left: a later subscribe starts afresh). */
  delete(stream: string): void {
    this.map.delete(stream);
  }

  /** A fresh copy: `{ [stream]: { epoch, offset } }`; also the `recover` field of `auth`. */
  snapshot(skip?: (stream: string) => boolean): PositionMap {
    const out: PositionMap = {};
    for (const [stream, p] of this.map) if (!skip?.(stream)) out[stream] = { epoch: p.epoch, offset: p.offset };
    return out;
  }
}

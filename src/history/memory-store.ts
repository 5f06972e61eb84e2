// Embedded history: per-stream rings bounded by count and TTL, plus a global byte cap that
// drops whole least-recently-written streams (their epoch changes, so clients see the loss).
// A stream exists once observed (types.ts, append): seed-only streams cost nothing.
import { recoverFrom } from "./recover.ts";
import type {
  HistoryEntry, HistoryStats, HistoryStore, Payload, RecoveryOutcome, StreamName, StreamPosition,
} from "./types.ts";

/**
 * One stream's history as a ring of parallel arrays: no object per entry, so a busy node's
 * retained history is its payload strings only (the GC scans far fewer cells; see
 * docs/performance.md). Offsets are implicit: the oldest held entry is `top - count + 1`.
 */
interface Stream {
  epoch: string;
  top: number;
  head: number;
  count: number;
  texts: (string | undefined)[];
  ts: Float64Array;
  json: Uint8Array;
  bytes: number;
  lastWrite: number;
}

const ENTRY_OVERHEAD = 48; // ring slots (pointer, timestamp, flag) and the string's header (approximate)
const STREAM_OVERHEAD = 160;
const FIRST_CAPACITY = 4;
/** The epoch append reports for a stream nobody observes (no position is handed out for it). */
const UNOBSERVED = "";

export interface MemoryStoreOptions {
  size: number;
  ttlMs: number;
  maxBytes: number;
  now?: () => number;
}

export class MemoryHistoryStore implements HistoryStore {
  // Map order = least recently written first (re-inserted on write), for eviction.
  private readonly streams = new Map<StreamName, Stream>();
  private bytes = 0;
  private entryCount = 0;
  private readonly now: () => number;

  constructor(private readonly opts: MemoryStoreOptions) {
    this.now = opts.now ?? Date.now;
  }

  append(name: StreamName, payload: Payload, observed = true) {
    const ts = this.now();
    // A stream exists here once observed; a push nobody can recover costs no memory at all.
    const s = observed ? this.stream(name) : this.streams.get(name);
    if (s === undefined) return { epoch: UNOBSERVED, offset: 0, ts };
    const offset = ++s.top;
    s.lastWrite = ts;
    if (this.opts.size > 0) {
      this.trim(s, ts, 1);
      if (s.count === s.texts.length) grow(s, this.opts.size);
      const at = wrap(s.head + s.count, s.texts.length);
      s.texts[at] = payload.text;
      s.ts[at] = ts;
      s.json[at] = payload.isJson ? 1 : 0;
      s.count++;
      this.account(s, entryBytes(payload.text), 1);
      this.streams.delete(name);
      this.streams.set(name, s);
      if (this.bytes > this.opts.maxBytes) this.evict(name);
    }
    return { epoch: s.epoch, offset, ts };
  }

  position(name: StreamName): StreamPosition {
    const s = this.stream(name);
    return { epoch: s.epoch, offset: s.top };
  }

  since(name: StreamName, from: StreamPosition): RecoveryOutcome {
    const s = this.stream(name);
    this.trim(s, this.now(), 0);
    const after: HistoryEntry[] = [];
    if (from.epoch === s.epoch) {
      const first = s.top - s.count + 1;
      for (let k = Math.max(0, from.offset + 1 - first); k < s.count; k++) {
        const at = wrap(s.head + k, s.texts.length);
        after.push({ offset: first + k, ts: s.ts[at]!, text: s.texts[at]!, isJson: s.json[at] === 1 });
      }
    }
    return recoverFrom(from, { epoch: s.epoch, offset: s.top }, after);
  }

  sweep(keep: (stream: StreamName) => boolean): void {
    const now = this.now();
    for (const [name, s] of this.streams) {
      this.trim(s, now, 0);
      if (s.count === 0 && now - s.lastWrite > this.opts.ttlMs && !keep(name)) this.drop(name, s);
    }
  }

  stats(): HistoryStats {
    return { streams: this.streams.size, entries: this.entryCount, bytes: this.bytes };
  }

  private stream(name: StreamName): Stream {
    let s = this.streams.get(name);
    if (!s) {
      s = {
        epoch: newEpoch(), top: 0, head: 0, count: 0, texts: [], ts: EMPTY_TS, json: EMPTY_FLAGS,
        bytes: STREAM_OVERHEAD + name.length * 2, lastWrite: this.now(),
      };
      this.streams.set(name, s);
      this.bytes += s.bytes;
    }
    return s;
  }

  /** Drops expired entries, and the oldest beyond `size - room` (room for the entries about to be added). */
  private trim(s: Stream, now: number, room: number): void {
    const oldest = now - this.opts.ttlMs;
    const keepAtMost = Math.max(0, this.opts.size - room);
    let freed = 0;
    let drop = 0;
    while (s.count > 0 && (s.count > keepAtMost || s.ts[s.head]! < oldest)) {
      freed += entryBytes(s.texts[s.head]!);
      s.texts[s.head] = undefined;
      s.head = wrap(s.head + 1, s.texts.length);
      s.count--;
      drop++;
    }
    if (drop === 0) return;
    this.account(s, -freed, -drop);
    // An emptied ring gives its slots back (it grows again from FIRST_CAPACITY on the next push).
    if (s.count === 0) {
      s.texts = [];
      s.ts = EMPTY_TS;
      s.json = EMPTY_FLAGS;
      s.head = 0;
    }
  }

  /** Drops least recently written streams (never `keepName`) until under the byte cap. */
  private evict(keepName: StreamName): void {
    for (const [name, s] of this.streams) {
      if (this.bytes <= this.opts.maxBytes) return;
      if (name !== keepName) this.drop(name, s);
    }
  }

  private drop(name: StreamName, s: Stream): void {
    this.streams.delete(name);
    this.bytes -= s.bytes;
    this.entryCount -= s.count;
  }

  private account(s: Stream, bytes: number, entries: number): void {
    s.bytes += bytes;
    this.bytes += bytes;
    this.entryCount += entries;
  }
}

const EMPTY_TS = new Float64Array(0);
const EMPTY_FLAGS = new Uint8Array(0);

/** i mod cap for 0 <= i < 2 * cap, without a division. */
function wrap(i: number, cap: number): number {
  return i >= cap ? i - cap : i;
}

function entryBytes(text: string): number {
  return ENTRY_OVERHEAD + text.length * 2;
}

/** Doubles the ring (up to `size` slots), oldest entry first at index 0. */
function grow(s: Stream, size: number): void {
  const cap = Math.min(size, Math.max(FIRST_CAPACITY, s.texts.length * 2));
  const texts = new Array<string | undefined>(cap);
  const ts = new Float64Array(cap);
  const json = new Uint8Array(cap);
  for (let k = 0; k < s.count; k++) {
    const at = (s.head + k) % s.texts.length;
    texts[k] = s.texts[at];
    ts[k] = s.ts[at]!;
    json[k] = s.json[at]!;
  }
  s.texts = texts;
  s.ts = ts;
  s.json = json;
  s.head = 0;
}

function newEpoch(): string {
  const b = crypto.getRandomValues(new Uint8Array(4));
  let out = "";
  for (const x of b) out += x.toString(16).padStart(2, "0");
  return out;
}

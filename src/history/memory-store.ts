// Embedded history: per-stream arrays bounded by count and TTL, plus a global byte cap that
// drops whole least-recently-written streams (their epoch changes, so clients see the loss).
import { recoverFrom } from "./recover.ts";
import type {
  HistoryEntry, HistoryStats, HistoryStore, Payload, RecoveryOutcome, StreamName, StreamPosition,
} from "./types.ts";

interface Stream {
  epoch: string;
  top: number;
  entries: HistoryEntry[];
  bytes: number;
  lastWrite: number;
}

const ENTRY_OVERHEAD = 64; // object header, offset, ts, flags (approximate)
const STREAM_OVERHEAD = 160;

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

  append(name: StreamName, payload: Payload) {
    const s = this.stream(name);
    const ts = this.now();
    const offset = ++s.top;
    s.lastWrite = ts;
    if (this.opts.size > 0) {
      const entry: HistoryEntry = { offset, ts, text: payload.text, isJson: payload.isJson };
      s.entries.push(entry);
      this.account(s, entrySize(entry), 1);
      this.trim(s, ts);
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
    this.trim(s, this.now());
    const after = from.epoch === s.epoch ? s.entries.filter((e) => e.offset > from.offset) : [];
    return recoverFrom(from, { epoch: s.epoch, offset: s.top }, after);
  }

  sweep(keep: (stream: StreamName) => boolean): void {
    const now = this.now();
    for (const [name, s] of this.streams) {
      this.trim(s, now);
      if (s.entries.length === 0 && now - s.lastWrite > this.opts.ttlMs && !keep(name)) this.drop(name, s);
    }
  }

  stats(): HistoryStats {
    return { streams: this.streams.size, entries: this.entryCount, bytes: this.bytes };
  }

  private stream(name: StreamName): Stream {
    let s = this.streams.get(name);
    if (!s) {
      s = { epoch: newEpoch(), top: 0, entries: [], bytes: STREAM_OVERHEAD + name.length * 2, lastWrite: this.now() };
      this.streams.set(name, s);
      this.bytes += s.bytes;
    }
    return s;
  }

  private trim(s: Stream, now: number): void {
    const oldest = now - this.opts.ttlMs;
    let drop = 0;
    while (drop < s.entries.length && (s.entries.length - drop > this.opts.size || s.entries[drop]!.ts < oldest)) drop++;
    if (drop === 0) return;
    let freed = 0;
    for (let i = 0; i < drop; i++) freed += entrySize(s.entries[i]!);
    s.entries.splice(0, drop);
    this.account(s, -freed, -drop);
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
    this.entryCount -= s.entries.length;
  }

  private account(s: Stream, bytes: number, entries: number): void {
    s.bytes += bytes;
    this.bytes += bytes;
    this.entryCount += entries;
  }
}

function entrySize(e: HistoryEntry): number {
  return ENTRY_OVERHEAD + e.text.length * 2;
}

function newEpoch(): string {
  const b = crypto.getRandomValues(new Uint8Array(4));
  let out = "";
  for (const x of b) out += x.toString(16).padStart(2, "0");
  return out;
}

// pushgate.v1 logins' positions and history from Redis: every login of one event-loop turn on
// one shard in one script call (login.lua).
import type { HistoryEntry, StreamPosition } from "../../history/types.ts";
import { parseBody } from "./bus.ts";
import { historyKey, markerKey, metaKey } from "./keys.ts";
import type { Script } from "./scripts.ts";
import type { RedisClient } from "bun";

/** A stream's cluster-wide history after a position, for recovery. */
export interface StreamHistory {
  position: StreamPosition;
  /** Entries after the asked-for offset that Redis still holds (oldest first). */
  entries: HistoryEntry[];
}

export interface ReadOptions {
  markTtlMs: number;
  historyTtlMs: number;
  /** Given to a stream that has no epoch yet. */
  epoch: string;
}

/** One login's ask: its streams on this shard, and where its client stands in them (recover). */
export interface ReadAsk {
  streams: readonly string[];
  from: ReadonlyMap<string, StreamPosition> | null;
}

/** One map per ask, in order. A stream named by several asks ("all") is read once per ask. */
export async function readStreams(cmd: RedisClient, script: Script, asks: readonly ReadAsk[], o: ReadOptions): Promise<Map<string, StreamHistory>[]> {
  const keys: string[] = [];
  const args = [String(o.markTtlMs), String(o.historyTtlMs * 12), o.epoch];
  for (const a of asks) {
    for (const s of a.streams) {
      keys.push(markerKey(s), metaKey(s), historyKey(s));
      const want = a.from?.get(s);
      args.push(want?.epoch ?? "", want ? String(want.offset) : "");
    }
  }
  const raw = (await script.run(cmd, keys, args)) as Array<[string | null, number, Array<[string, string[]]>]>;
  const oldest = Date.now() - o.historyTtlMs;
  let i = 0;
  return asks.map((a) => {
    const out = new Map<string, StreamHistory>();
    for (const stream of a.streams) {
      const [epoch, offset, entries] = raw[i++] ?? [null, 0, []];
      out.set(stream, { position: { epoch: epoch ?? "", offset: Number(offset) }, entries: toEntries(entries ?? [], epoch ?? "", oldest) });
    }
    return out;
  });
}

function toEntries(raw: Array<[string, string[]]>, epoch: string, oldest: number): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const [id, fields] of raw) {
    const offset = Number(id.slice(0, id.indexOf("-")));
    let body: string | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === "b") body = fields[i + 1];
    const m = body === undefined ? null : parseBody(body, epoch, offset);
    // Only a leading run of expired entries is dropped (node clocks may differ: never a hole).
    if (m && (out.length > 0 || m.ts >= oldest)) out.push({ offset, ts: m.ts, text: m.payload.text, isJson: m.payload.isJson });
  }
  return out;
}

// Reads stream positions and history from Redis for a login (welcome positions, recovery).
import type { RedisClient } from "bun";
import type { HistoryEntry, StreamPosition } from "../history/types.ts";
import { parsePushBody } from "./bus.ts";
import { historyKey, metaKey, randomEpoch } from "./keys.ts";
import type { StreamHistory } from "./types.ts";

export async function readStreams(
  cmd: RedisClient, streams: readonly string[], from: ReadonlyMap<string, StreamPosition> | null, ttlMs: number,
): Promise<Map<string, StreamHistory>> {
  const out = new Map<string, StreamHistory>();
  await Promise.all(streams.map(async (stream) => {
    // Give a new stream its epoch now, so a client positioned before the first push can still
    // recover it (same epoch, offset 0).
    // Fire-and-forget, but never unhandled: a rejection (Redis gone mid-login) would kill the process.
    cmd.send("HSETNX", [metaKey(stream), "e", randomEpoch()]).catch(() => {});
    cmd.send("PEXPIRE", [metaKey(stream), String(ttlMs * 12), "NX"]).catch(() => {});
    const [e, o] = (await cmd.send("HMGET", [metaKey(stream), "e", "o"])) as [string | null, string | null];
    const position = { epoch: e ?? "", offset: Number(o ?? 0) };
    const want = from?.get(stream);
    let entries: HistoryEntry[] = [];
    if (want && e !== null && want.epoch === e && want.offset < position.offset) {
      // Bounded by the position just read; later pushes reach this login through the capture.
      const raw = (await cmd.send("XRANGE", [historyKey(stream), `${want.offset + 1}-0`, `${position.offset}-0`])) as Array<[string, string[]]> | null;
      entries = toEntries(raw ?? [], Date.now() - ttlMs);
    }
    out.set(stream, { position, entries });
  }));
  return out;
}

function toEntries(raw: Array<[string, string[]]>, oldest: number): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const [id, fields] of raw) {
    const offset = Number(id.slice(0, id.indexOf("-")));
    let body: string | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === "b") body = fields[i + 1];
    const b = body === undefined ? null : parsePushBody(body);
    // Only a leading run of expired entries is dropped (node clocks may differ: never a hole).
    if (b && (out.length > 0 || b.t >= oldest)) out.push({ offset, ts: b.t, text: b.d, isJson: b.j === 1 });
  }
  return out;
}

// A login's view of cluster history: what Redis held when read, plus the pushes this node
// delivered for those streams meanwhile (captured), merged by offset.
import { type RecoverySource, recoverFrom } from "../../history/recover.ts";
import type { HistoryEntry, StreamPosition } from "../../history/types.ts";
import type { StreamHistory } from "./read.ts";

/** Pushes delivered here per stream while a login reads Redis (engine.ts captures them). */
export type Capture = Map<string, Array<HistoryEntry & { epoch: string }>>;

export function clusterSource(histories: Map<string, StreamHistory>, capture: Capture): RecoverySource {
  const views = new Map<string, { position: StreamPosition; entries: HistoryEntry[] }>();
  for (const [stream, h] of histories) {
    const entries = [...h.entries];
    let { epoch, offset } = h.position;
    for (const c of capture.get(stream) ?? []) {
      // Unplaced (published before the login marked the stream observed: before its position),
      // or of another epoch (Redis lost the stream meanwhile).
      if (c.epoch === "") continue;
      if (epoch === "") epoch = c.epoch;
      if (c.epoch !== epoch) continue;
      if (c.offset > (entries.at(-1)?.offset ?? 0)) entries.push(c);
      if (c.offset > offset) offset = c.offset;
    }
    views.set(stream, { position: { epoch, offset }, entries });
  }
  return {
    position: (stream) => views.get(stream)?.position ?? { epoch: "", offset: 0 },
    since(stream, from) {
      const v = views.get(stream) ?? { position: { epoch: "", offset: 0 }, entries: [] };
      return recoverFrom(from, v.position, v.entries.filter((e) => e.offset > from.offset));
    },
  };
}

// A login's view of cluster history: what Redis held when read, plus the pushes this node
// delivered for those streams meanwhile (captured), merged by offset.
import type { Capture } from "../core/hub.ts";
import { type RecoverySource, recoverFrom } from "../history/recover.ts";
import type { HistoryEntry, StreamPosition } from "../history/types.ts";
import type { StreamHistory } from "./types.ts";

export function clusterSource(histories: Map<string, StreamHistory>, capture: Capture): RecoverySource {
  const views = new Map<string, { position: StreamPosition; entries: HistoryEntry[] }>();
  for (const [stream, h] of histories) {
    const entries = [...h.entries];
    let { epoch, offset } = h.position;
    for (const c of capture.get(stream) ?? []) {
      if (epoch === "") epoch = c.epoch;
      if (c.epoch !== epoch) continue; // pushes of another epoch (Redis lost the stream meanwhile)
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

// The soak's server process: `bun bench/scenarios/soak-server.ts <sample ms> <gc every ms> <pushgate flags>`
// runs src/main.ts unchanged (same flags, same code) in this process and prints one `HEAP <json>`
// line every <sample ms>: the JS heap (bun:jsc heapStats) and mimalloc's bytes in use, which /metrics
// does not expose (it has pushgate_resident_memory_bytes only). Every <gc every ms> the line
// is taken after a full GC (`full: true`: the live heap, the leak signal, plus object counts by
// type to name a growing structure); the others are taken as they are, so GC timing is mostly
// the server's own. SIGUSR2 (sent by soak.ts, by pid) prints a full line at once.
import { heapStats } from "bun:jsc";

export const HEAP_PREFIX = "HEAP ";

export interface HeapLine {
  t: number;
  full: boolean;
  heapBytes: number;
  heapCapacityBytes: number;
  extraBytes: number;
  objects: number;
  /** mimalloc normal + huge allocations in use (native memory: sockets, buffers, strings' storage). */
  mallocBytes: number | null;
  gcMs: number;
  /** Only on full lines. */
  types?: Record<string, number>;
}

function sample(full: boolean): HeapLine {
  const t0 = performance.now();
  if (full) Bun.gc(true);
  const gcMs = performance.now() - t0;
  const h = heapStats();
  const mi = (h as unknown as { mimalloc?: { malloc_normal?: { current: number }; malloc_huge?: { current: number } } }).mimalloc;
  return {
    t: Date.now(), full, heapBytes: h.heapSize, heapCapacityBytes: h.heapCapacity, extraBytes: h.extraMemorySize,
    objects: h.objectCount,
    mallocBytes: mi?.malloc_normal && mi.malloc_huge ? mi.malloc_normal.current + mi.malloc_huge.current : null,
    gcMs, ...(full ? { types: h.objectTypeCounts } : {}),
  };
}

if (import.meta.main) {
  // Its own two arguments come first; main.ts parses what is left (Bun.argv.slice(2)).
  const [every, gcEvery] = Bun.argv.splice(2, 2).map(Number) as [number, number];
  if (!(every > 0 && gcEvery > 0)) {
    console.error("usage: bun bench/scenarios/soak-server.ts <sample ms> <gc every ms> <pushgate flags>");
    process.exit(2);
  }
  let lastFull = 0;
  const print = (full: boolean) => {
    if (full) lastFull = Date.now();
    process.stdout.write(HEAP_PREFIX + JSON.stringify(sample(full)) + "\n");
  };
  setInterval(() => print(Date.now() - lastFull >= gcEvery - every / 2), every).unref();
  // The orchestrator's census points (before the load, at the end, after the cool-down).
  process.on("SIGUSR2", () => print(true));
  await import("../../src/main.ts");
}

// The standard process_* families, named, typed and described as the official Prometheus client
// libraries (Go, Python) export them. Read at scrape time: CPU and RSS from the runtime (any
// platform); virtual memory, open and max fds from /proc (Linux; a family whose file cannot be
// read is left out of that scrape, never an error). Each /proc read is one small file or stat
// (a few µs); the fd count never lists /proc/self/fd when the kernel reports it as the
// directory's size (Linux 6.2+), so 100k open sockets cost no more than ten. Older kernels must
// list it (~12 ms at 15k descriptors, on the event loop): that count is reused for 10 s.
import { readFileSync, readdirSync, statSync } from "node:fs";
import type { Format } from "./openmetrics.ts";
import { Gauge, type Metric, ReadCounter } from "./prometheus.ts";

interface Sample {
  cpuSeconds: number;
  rss: number;
  vsize: number | null;
  openFds: number | null;
  maxFds: number | null;
  startTime: number;
}

/** The fields of /proc/self/stat after the command name (which may hold spaces and parens). */
function statFields(): string[] | null {
  try {
    const stat = readFileSync("/proc/self/stat", "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** vsize, field 23 of /proc/self/stat (index 20 after the name), in bytes. */
function virtualMemory(): number | null {
  const f = statFields();
  return f ? finite(Number(f[20])) : null;
}

/** How long a listed fd count (kernels before 6.2) is reused: a listing grows with the sockets. */
const LISTED_FDS_REUSE_MS = 10_000;

/**
 * Open descriptors. The directory's size is the count (Linux 6.2+, 0 before); listing it opens
 * one more descriptor, which the listing includes and is not counted here.
 */
function openFds(listed: { n: number; at: number } | null, now: number): { n: number; at: number; listed: boolean } | null {
  try {
    const size = statSync("/proc/self/fd").size;
    if (size > 0) return { n: size, at: now, listed: false };
    if (listed && now - listed.at < LISTED_FDS_REUSE_MS) return { ...listed, listed: true };
    return { n: readdirSync("/proc/self/fd").length - 1, at: now, listed: true };
  } catch {
    return null;
  }
}

/** The soft RLIMIT_NOFILE, from /proc/self/limits (Bun raises it to the hard limit at start). */
function maxFds(): number | null {
  try {
    const line = readFileSync("/proc/self/limits", "latin1").split("\n").find((l) => l.startsWith("Max open files"));
    return line ? finite(Number(line.slice("Max open files".length).trim().split(/\s+/)[0])) : null;
  } catch {
    return null;
  }
}

/**
 * Process start, unix seconds: from /proc (boot time + start ticks; USER_HZ is 100 on every
 * Linux architecture Bun runs on), else the runtime's time origin (a little after exec).
 */
function startTime(): number {
  try {
    const btime = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "latin1"));
    const ticks = Number(statFields()?.[19]);
    if (btime && Number.isFinite(ticks)) return Number(btime[1]) + ticks / 100;
  } catch {}
  return performance.timeOrigin / 1000;
}

interface Family {
  name: string;
  help: string;
  kind: "counter" | "gauge";
  /** null: not available on this platform or in this scrape; the family is left out. */
  pick: (s: Sample) => number | null;
}

const FAMILIES: readonly Family[] = [
  { name: "process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.", kind: "counter", pick: (s) => s.cpuSeconds },
  { name: "process_resident_memory_bytes", help: "Resident memory size in bytes.", kind: "gauge", pick: (s) => s.rss },
  { name: "process_virtual_memory_bytes", help: "Virtual memory size in bytes.", kind: "gauge", pick: (s) => s.vsize },
  { name: "process_open_fds", help: "Number of open file descriptors.", kind: "gauge", pick: (s) => s.openFds },
  { name: "process_max_fds", help: "Maximum number of open file descriptors.", kind: "gauge", pick: (s) => s.maxFds },
  { name: "process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.", kind: "gauge", pick: (s) => s.startTime },
];

export class ProcessMetrics implements Metric {
  /** Read once, on the first scrape: it does not change. */
  private start: number | null = null;
  /** The last listed fd count (kernels before 6.2), reused for LISTED_FDS_REUSE_MS. */
  private listedFds: { n: number; at: number } | null = null;

  /** One reading of everything, taken once per scrape. */
  sample(): Sample {
    const cpu = process.cpuUsage();
    const fds = openFds(this.listedFds, performance.now());
    this.listedFds = fds?.listed ? { n: fds.n, at: fds.at } : null;
    return {
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      rss: process.memoryUsage.rss(),
      vsize: virtualMemory(),
      openFds: fds?.n ?? null,
      maxFds: maxFds(),
      startTime: (this.start ??= startTime()),
    };
  }

  render(out: string[], format?: Format): void {
    const s = this.sample();
    for (const f of FAMILIES) {
      const v = f.pick(s);
      if (v === null) continue;
      const read = () => v;
      (f.kind === "counter" ? new ReadCounter(f.name, f.help, read) : new Gauge(f.name, f.help, read)).render(out, format);
    }
  }
}

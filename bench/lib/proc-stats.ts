// CPU time and resident memory of another process, from Linux /proc (null elsewhere or once the
// process is gone). CPU covers all threads, at clock-tick (usually 10 ms) resolution.
import { readFileSync } from "node:fs";

let ticksPerSecond: number | null = null;

function clockTicks(): number {
  if (ticksPerSecond === null) {
    const r = Bun.spawnSync(["getconf", "CLK_TCK"], { stdout: "pipe", stderr: "ignore" });
    const n = Number(r.stdout.toString().trim());
    ticksPerSecond = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return ticksPerSecond;
}

/** user + system CPU milliseconds of `pid`, or null. */
export function procCpuMs(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    return Number.isFinite(ticks) ? (ticks * 1000) / clockTicks() : null;
  } catch {
    return null;
  }
}

/** Resident set size of `pid` in KiB, or null. */
export function procRssKiB(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** CPU of this process in ms (user + system). */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The smallest of `n` RSS samples of `pid` taken `everyMs` apart, in KiB (null if none could be read). */
export async function minRssKiB(pid: number, n: number, everyMs: number): Promise<number | null> {
  let min: number | null = null;
  for (let i = 0; i < n; i++) {
    if (i > 0) await Bun.sleep(everyMs);
    const v = procRssKiB(pid);
    if (v !== null && (min === null || v < min)) min = v;
  }
  return min;
}

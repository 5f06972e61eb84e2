// What the soak reads from the server from outside: /metrics (summed by metric name, plus the
// labelled series), presence over the HTTP API, and open fds from /proc.
import { readdirSync } from "node:fs";

export interface Scrape {
  /** Each metric's value summed over its labels. */
  sums: Record<string, number>;
  /** `name{labels}` → value, for the breakdowns in the report. */
  series: Record<string, number>;
}

export async function scrape(host: string, port: number): Promise<Scrape | null> {
  try {
    const res = await fetch(`http://${host}:${port}/metrics`, { signal: AbortSignal.timeout(3000) });
    const text = await res.text();
    const sums: Record<string, number> = {};
    const series: Record<string, number> = {};
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("#")) continue;
      const sp = line.lastIndexOf(" ");
      const key = line.slice(0, sp);
      const v = Number(line.slice(sp + 1));
      if (!Number.isFinite(v)) continue;
      const brace = key.indexOf("{");
      const name = brace < 0 ? key : key.slice(0, brace);
      if (name.endsWith("_bucket")) continue;
      sums[name] = (sums[name] ?? 0) + v;
      if (brace >= 0) series[key] = v;
    }
    return { sums, series };
  } catch {
    return null;
  }
}

/** One API call's `result`, or throws with the error answer. */
export async function apiResult(host: string, port: number, method: string, params: unknown = {}): Promise<unknown> {
  const res = await fetch(`http://${host}:${port}/api/${method}`, {
    method: "POST", body: JSON.stringify(params), signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json()) as { result?: unknown; error?: { code: string; message: string } };
  if (!res.ok || !("result" in body)) throw new Error(`${method}: HTTP ${res.status} ${JSON.stringify(body.error ?? body)}`);
  return body.result;
}

export interface Presence {
  clientCount: number;
  uidCount: number;
  uids: string[];
  groups: string[];
  /** The gauges of the same moment. */
  gauges: { connections: number | null; loggedIn: number | null; uidsOnline: number | null; groups: number | null };
}

export async function presence(host: string, port: number): Promise<Presence> {
  const [clientCount, uidCount, uids, groups, m] = await Promise.all([
    apiResult(host, port, "getAllClientCount"), apiResult(host, port, "getAllUidCount"),
    apiResult(host, port, "getAllUidList"), apiResult(host, port, "getAllGroupIdList"), scrape(host, port),
  ]);
  const g = (name: string) => m?.sums[name] ?? null;
  return {
    clientCount: clientCount as number, uidCount: uidCount as number,
    uids: [...(uids as string[])].sort(), groups: [...(groups as string[])].sort(),
    gauges: { connections: g("pushgate_connections"), loggedIn: g("pushgate_logged_in_connections"), uidsOnline: g("pushgate_uids_online"), groups: g("pushgate_groups") },
  };
}

/** Open file descriptors of pid (sockets included), or null. */
export function procFds(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

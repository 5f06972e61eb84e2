// Turns the cumulative counters of successive snapshots into rates: per node (each over its own
// clock) and summed for the cluster, kept for the last WINDOW_MS for the charts. A cluster figure
// that a missing node would change is null (a gap, "unknown"), never the sum of the others.
import type { ClusterStats } from "../cluster.ts";
import type { NodeStats } from "../node-stats.ts";

export const WINDOW_MS = 5 * 60_000;

export interface Rates {
  framesIn: number | null;
  framesOut: number | null;
  drops: number | null;
  pushes: number | null;
  /** API latency over the interval, ms (null: no API call in it). */
  apiAvg: number | null;
  apiP95: number | null;
  apiCalls: number | null;
}

/** API calls answered in an interval, summed over the nodes. */
export interface ApiDelta {
  sum: number;
  count: number;
  buckets: [number, number][];
}

export interface Point extends Rates {
  t: number;
  /** Null when a node did not answer (a sum of the others would look exact). */
  connections: number | null;
  loggedIn: number | null;
  /** Distinct uids over the cluster (null: not counted). */
  uids: number | null;
  /** When uids were not counted distinct but every node answered: their sum over the nodes (an upper bound). */
  uidsSum: number | null;
}

const NONE: Rates = { framesIn: null, framesOut: null, drops: null, pushes: null, apiAvg: null, apiP95: null, apiCalls: null };

export class Series {
  readonly points: Point[] = [];
  private readonly prev = new Map<string, NodeStats>();
  /** Each node's API calls per interval, for latency over a longer span than one poll. */
  private readonly apiLog: { t: number; node: string; d: ApiDelta }[] = [];
  /** The latest rates per node. */
  readonly nodeRates = new Map<string, Rates>();

  add(s: ClusterStats, now = Date.now()): Point {
    const deltas: Delta[] = [];
    let whole = s.failures.length === 0;
    for (const n of s.nodes) {
      const before = this.prev.get(n.nodeId);
      const d = before ? delta(before, n) : null;
      this.prev.set(n.nodeId, n);
      this.nodeRates.set(n.nodeId, d ? ratesOf([d]) : NONE);
      // A node without a rate (new, restarted) leaves the cluster's rate unknown for this poll.
      if (!d) whole = false;
      else {
        deltas.push(d);
        if (d.apiCount > 0) this.apiLog.push({ t: now, node: n.nodeId, d: apiOf([d]) });
      }
    }
    // A node missing without a failure left the cluster. One that did not answer keeps its last
    // snapshot, so its next answer gives a rate again (when the failure names no node: every missing one).
    const seen = new Set(s.nodes.map((n) => n.nodeId));
    const failed = new Set(s.failures.map((f) => f.node));
    for (const id of [...this.prev.keys()]) {
      if (seen.has(id)) continue;
      this.nodeRates.delete(id);
      if (!failed.has(id) && !failed.has(null)) this.prev.delete(id);
    }
    const known = s.failures.length === 0;
    const p: Point = {
      t: now, ...(whole ? ratesOf(deltas) : NONE),
      connections: known ? sum(s.nodes, (n) => n.connections) : null,
      loggedIn: known ? sum(s.nodes, (n) => n.loggedIn) : null,
      uids: s.uids,
      uidsSum: s.uids === null && known ? sum(s.nodes, (n) => n.uids) : null,
    };
    this.points.push(p);
    while (this.points.length > 0 && this.points[0]!.t < now - WINDOW_MS) this.points.shift();
    while (this.apiLog.length > 0 && this.apiLog[0]!.t < now - WINDOW_MS) this.apiLog.shift();
    return p;
  }

  /** API latency over the last `ms` (of one node, or all): average and p95 in ms, and the calls counted. */
  apiOver(ms: number, node: string | null = null, now = Date.now()): { avg: number | null; p95: number | null; calls: number } {
    const all = mergeApi(this.apiLog.filter((e) => e.t >= now - ms && (node === null || e.node === node)).map((e) => e.d));
    if (all.count === 0) return { avg: null, p95: null, calls: 0 };
    return { avg: (all.sum / all.count) * 1000, p95: quantile(0.95, all.buckets, all.count) * 1000, calls: all.count };
  }

  clear(): void {
    this.points.length = 0;
    this.prev.clear();
    this.nodeRates.clear();
    this.apiLog.length = 0;
  }
}

interface Delta {
  seconds: number;
  framesIn: number;
  framesOut: number;
  drops: number;
  pushes: number;
  apiSum: number;
  apiCount: number;
  buckets: [number, number][];
}

/** Null when the node restarted (a counter went down) or no time passed. */
function delta(a: NodeStats, b: NodeStats): Delta | null {
  const seconds = (b.at - a.at) / 1000;
  const drops = sumValues(b.drops) - sumValues(a.drops);
  const pushes = sumValues(b.publishes) - sumValues(a.publishes);
  const d: Delta = {
    seconds, framesIn: b.framesIn - a.framesIn, framesOut: b.framesOut - a.framesOut, drops, pushes,
    apiSum: b.api.sum - a.api.sum, apiCount: b.api.count - a.api.count,
    buckets: b.api.buckets.map(([le, n]) => [le, n - (a.api.buckets.find(([l]) => l === le)?.[1] ?? 0)]),
  };
  if (seconds <= 0 || d.framesIn < 0 || d.framesOut < 0 || d.drops < 0 || d.pushes < 0 || d.apiCount < 0) return null;
  return d;
}

function ratesOf(ds: Delta[]): Rates {
  let framesIn = 0, framesOut = 0, drops = 0, pushes = 0;
  for (const d of ds) {
    framesIn += d.framesIn / d.seconds;
    framesOut += d.framesOut / d.seconds;
    drops += d.drops / d.seconds;
    pushes += d.pushes / d.seconds;
  }
  const api = apiOf(ds);
  return {
    framesIn, framesOut, drops, pushes, apiCalls: api.count,
    apiAvg: api.count > 0 ? (api.sum / api.count) * 1000 : null,
    apiP95: api.count > 0 ? quantile(0.95, api.buckets, api.count) * 1000 : null,
  };
}

function apiOf(ds: Delta[]): ApiDelta {
  return mergeApi(ds.map((d) => ({ sum: d.apiSum, count: d.apiCount, buckets: d.buckets })));
}

function mergeApi(parts: ApiDelta[]): ApiDelta {
  let sum = 0, count = 0;
  const buckets = new Map<number, number>();
  for (const p of parts) {
    sum += p.sum;
    count += p.count;
    for (const [le, n] of p.buckets) buckets.set(le, (buckets.get(le) ?? 0) + n);
  }
  return { sum, count, buckets: [...buckets].sort((a, b) => a[0] - b[0]) };
}

/** Like Prometheus' histogram_quantile: linear within the bucket; past the last bound, that bound. */
export function quantile(q: number, cumulative: [number, number][], count: number): number {
  const rank = q * count;
  let lower = 0, below = 0;
  for (const [le, n] of cumulative) {
    if (n >= rank) return n === below ? le : lower + ((le - lower) * (rank - below)) / (n - below);
    lower = le;
    below = n;
  }
  return lower;
}

function sum<T>(xs: T[], f: (x: T) => number): number {
  return xs.reduce((a, x) => a + f(x), 0);
}

export function sumValues(o: Record<string, number>): number {
  return Object.values(o).reduce((a, b) => a + b, 0);
}

// What the page says, as plain strings (no DOM, so tests run them as they are): the overview
// tiles, the nodes table's rows, and the summaries of a lookup and of a test push. A figure a
// node that did not answer would change is "unknown", or "≥ N" for a count that can only grow.
import { ApiError, type LookupAnswer, type PushAnswer } from "./api.ts";
import { fmtBytes, fmtDuration, fmtNum, fmtRate } from "./dom.ts";
import { type Point, type Series, sumValues } from "./series.ts";
import type { ClusterStats } from "../cluster.ts";
import type { NodeStats } from "../node-stats.ts";

export interface Tile {
  label: string;
  value: string;
  sub?: string;
}

export const UNKNOWN = "unknown";

export function tileFigures(s: ClusterStats, p: Point, api: ReturnType<Series["apiOver"]>): Tile[] {
  const nodes = s.nodes;
  const k = s.failures.length;
  const sum = (f: (n: NodeStats) => number) => nodes.reduce((a, n) => a + f(n), 0);
  // A count of the nodes that answered: exact, or a lower bound while some did not.
  const count = (n: number) => (k ? `≥ ${fmtNum(n)}` : fmtNum(n));
  const rate = (r: number | null) => (k ? UNKNOWN : fmtRate(r));
  const missing = k ? `(${k} not answering)` : "";
  const sub = (...parts: (string | undefined)[]) => parts.filter((x) => x).join(" ") || undefined;
  const uids: Tile = k
    ? { label: "Uids online", value: UNKNOWN, sub: missing }
    : s.uids === null
      ? { label: "Uids online", value: `≤ ${fmtNum(sum((n) => n.uids))}`, sub: "summed over nodes (a uid on two counts twice)" }
      : { label: "Uids online", value: fmtNum(s.uids), sub: s.cluster ? "distinct, every node" : undefined };
  return [
    { label: "Connections", value: count(sum((n) => n.connections)), sub: sub(missing, `${count(sum((n) => n.loggedIn))} logged in`) },
    uids,
    { label: "Groups", value: count(sum((n) => n.groups)), sub: sub(missing, s.cluster ? "summed over nodes" : undefined) },
    { label: "Frames in / s", value: rate(p.framesIn), sub: sub(missing, `${count(sum((n) => n.framesIn))} in all`) },
    { label: "Frames out / s", value: rate(p.framesOut), sub: sub(missing, `${count(sum((n) => n.framesOut))} in all`) },
    { label: "Pushes", value: count(sum((n) => sumValues(n.publishes))), sub: sub(missing, `${rate(p.pushes)} / s now`) },
    { label: "Drops", value: count(sum((n) => sumValues(n.drops))), sub: sub(missing, `${rate(p.drops)} / s now`) },
    {
      label: "History", value: `${count(sum((n) => n.history.entries))} msgs`,
      sub: sub(missing, `${count(sum((n) => n.history.streams))} streams, ${k ? "≥ " : ""}${fmtBytes(sum((n) => n.history.bytes))}`),
    },
    k ? { label: "API latency", value: UNKNOWN, sub: missing }
      : {
        label: "API latency", value: api.avg === null ? "—" : `${fmtNum(api.avg, 1)} ms`,
        sub: api.calls === 0 ? "no API call in the last minute" : `avg of ${fmtNum(api.calls)} calls in the last minute; p95 ${fmtNum(api.p95, 1)} ms`,
      },
    s.cluster
      ? { label: "Nodes", value: fmtNum(nodes.length), sub: k ? `answering; ${k} not answering` : "answering" }
      : { label: "Node", value: s.nodeId, sub: `up ${fmtDuration(nodes[0]!.uptime)}` },
  ];
}

export const NODE_HEAD = ["Node", "State", "Conns", "Uids", "Groups", "In / s", "Out / s", "Drops", "History", "API ms avg / p95 (1 min)", "RSS", "Up"];

/** One row per node that answered, then one per failure: its node id (when known) and "unknown" figures. */
export function nodeRows(s: ClusterStats, series: Series): string[][] {
  const rows = s.nodes.map((n) => {
    const r = series.nodeRates.get(n.nodeId);
    const api = series.apiOver(60_000, n.nodeId);
    return [
      n.nodeId + (n.nodeId === s.nodeId ? " (this)" : ""), n.draining ? "draining" : "ok", fmtNum(n.connections), fmtNum(n.uids), fmtNum(n.groups),
      fmtRate(r?.framesIn), fmtRate(r?.framesOut), fmtNum(sumValues(n.drops)), fmtNum(n.history.entries),
      api.avg === null ? "—" : `${fmtNum(api.avg, 1)} / ${fmtNum(api.p95, 1)}`, fmtBytes(n.rss), fmtDuration(n.uptime),
    ];
  });
  for (const f of s.failures) {
    rows.push([f.node ?? "unknown node", `not answering (${f.code})`, ...new Array<string>(NODE_HEAD.length - 2).fill(UNKNOWN)]);
  }
  return rows;
}

export function lookupSummary(a: LookupAnswer): string {
  const what = a.uid !== undefined ? `uid ${a.uid}` : `clientId ${a.clientId}`;
  const k = a.failures.length;
  const conns = `${a.count} connection${a.count === 1 ? "" : "s"}${a.count > a.connections.length ? ` (first ${a.connections.length} shown)` : ""}`;
  if (k === 0) return a.count === 0 ? `${what}: no connection.` : `${what}: ${conns}.`;
  if (a.uid === undefined) return `${what}: unknown, its node did not answer.`;
  return `${what}: at least ${conns}; ${k} node${k === 1 ? "" : "s"} did not answer, so there may be more.`;
}

export function pushSummary(r: PushAnswer): string {
  const reached = `${r.reached} connection${r.reached === 1 ? "" : "s"}`;
  const offline = r.offline?.length ? `; offline: ${r.offline.join(", ")}` : "";
  if (!r.error && !r.timedOut?.length) return `Sent: reached ${reached}${offline}.`;
  const unknownFor = r.timedOut?.length ? `; unknown for: ${r.timedOut.join(", ")}` : "";
  const why = r.error ? ` (${r.error.code}: ${r.error.message})` : "";
  return `Sent, outcome partly unknown: reached at least ${reached}${unknownFor}${offline}${why}.`;
}

/** A push that answered an error: not sent, or (HTTP 202, outcome "unknown") maybe sent. */
export function pushFailure(e: unknown): string {
  if (e instanceof ApiError && e.outcome === "unknown") return `Outcome unknown, it may have been delivered: ${errorText(e)}`;
  return `Not sent: ${errorText(e)}`;
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

// Renders one poll's answer into the page: overview tiles, the nodes table, drops and closes,
// recent events; and a lookup's connections. Text only (textContent), never markup.
import type { ClusterStats } from "../cluster.ts";
import type { LifecycleEvent } from "../events.ts";
import type { ConnInfo } from "../lookup.ts";
import type { LookupAnswer } from "./api.ts";
import type { El } from "./browser.ts";
import { byId, el, fillTable, fmtBytes, fmtDuration, fmtNum, fmtRate, fmtTime } from "./dom.ts";
import { type Point, type Series, sumValues } from "./series.ts";

const CLOSE_NAMES: Record<string, string> = {
  "1000": "normal", "1001": "going away (shutdown)", "1005": "no status", "1006": "abnormal (lost, or a slow reader cut off)",
  "1007": "invalid UTF-8", "1008": "policy (login, limits, abuse)", "1009": "frame too big", "1011": "internal error",
  "1013": "try again later (backend)", "4001": "token expired", other: "another code (sent by the client)",
};

export function renderTiles(s: ClusterStats, p: Point, api: ReturnType<Series["apiOver"]>): void {
  const nodes = s.nodes;
  const sum = (f: (n: ClusterStats["nodes"][number]) => number) => nodes.reduce((a, n) => a + f(n), 0);
  const history = sum((n) => n.history.entries);
  const tiles: [string, string, string?][] = [
    ["Connections", fmtNum(p.connections), `${fmtNum(p.loggedIn)} logged in`],
    s.uids === null
      ? ["Uids online", `≤ ${fmtNum(sum((n) => n.uids))}`, "summed over nodes (a uid on two counts twice)"]
      : ["Uids online", fmtNum(s.uids), s.cluster ? "distinct, every node" : undefined],
    ["Groups", fmtNum(sum((n) => n.groups)), s.cluster ? "summed over nodes" : undefined],
    ["Frames in / s", fmtRate(p.framesIn), `${fmtNum(sum((n) => n.framesIn))} in all`],
    ["Frames out / s", fmtRate(p.framesOut), `${fmtNum(sum((n) => n.framesOut))} in all`],
    ["Pushes", fmtNum(sum((n) => sumValues(n.publishes))), `${fmtRate(p.pushes)} / s now`],
    ["Drops", fmtNum(sum((n) => sumValues(n.drops))), `${fmtRate(p.drops)} / s now`],
    ["History", `${fmtNum(history)} msgs`, `${fmtNum(sum((n) => n.history.streams))} streams, ${fmtBytes(sum((n) => n.history.bytes))}`],
    ["API latency", api.avg === null ? "—" : `${fmtNum(api.avg, 1)} ms`, api.calls === 0 ? "no API call in the last minute" : `avg of ${fmtNum(api.calls)} calls in the last minute; p95 ${fmtNum(api.p95, 1)} ms`],
    [s.cluster ? "Nodes" : "Node", s.cluster ? fmtNum(nodes.length) : s.nodeId, s.failures.length ? `${s.failures.length} not answering` : `up ${fmtDuration(nodes[0]!.uptime)}`],
  ];
  byId("tiles").replaceChildren(...tiles.map(([k, v, sub]) => el("div", { class: "tile" }, el("dt", {}, k), el("dd", {}, v, sub ? el("small", {}, sub) : null))));
}

export function renderNodes(s: ClusterStats, series: Series): void {
  const rows = s.nodes.map((n) => {
    const r = series.nodeRates.get(n.nodeId);
    const api = series.apiOver(60_000, n.nodeId);
    return [
      n.nodeId + (n.nodeId === s.nodeId ? " (this)" : ""), n.draining ? "draining" : "ok", fmtNum(n.connections), fmtNum(n.uids), fmtNum(n.groups),
      fmtRate(r?.framesIn), fmtRate(r?.framesOut), fmtNum(sumValues(n.drops)), fmtNum(n.history.entries),
      api.avg === null ? "—" : `${fmtNum(api.avg, 1)} / ${fmtNum(api.p95, 1)}`, fmtBytes(n.rss), fmtDuration(n.uptime),
    ];
  });
  for (const f of s.failures) rows.push([f.code, f.message, "", "", "", "", "", "", "", "", "", ""]);
  const head = ["Node", "State", "Conns", "Uids", "Groups", "In / s", "Out / s", "Drops", "History", "API ms avg / p95 (1 min)", "RSS", "Up"];
  fillTable(byId("nodes"), head, rows, "no node answered", "Per node figures");
}

export function renderReasons(s: ClusterStats): void {
  const drops = merged(s.nodes.map((n) => n.drops));
  fillTable(byId("drops"), ["Reason", "Count"], drops.map(([k, v]) => [k, fmtNum(v)]), "no drops");
  const closes = merged(s.nodes.map((n) => n.closes));
  fillTable(byId("closes"), ["Code", "Meaning", "Count"],
    closes.map(([k, v]) => [k, CLOSE_NAMES[k] ?? "", fmtNum(v)]), "no closes yet");
}

export function renderEvents(s: ClusterStats, max: number): void {
  const all: (LifecycleEvent & { node: string })[] = [];
  let kept = false;
  for (const n of s.nodes) {
    if (n.events === null) continue;
    kept = true;
    for (const e of n.events) all.push({ ...e, node: n.nodeId });
  }
  all.sort((a, b) => b.t - a.t || b.seq - a.seq);
  const shown = all.slice(0, max);
  const head = ["Time", ...(s.cluster ? ["Node"] : []), "Event", "clientId", "uid", "Detail"];
  const rows = shown.map((e) => [
    fmtTime(e.t), ...(s.cluster ? [e.node] : []), e.kind, e.clientId, e.uid ?? "—", detail(e),
  ]);
  fillTable(byId("events"), head, rows, kept ? "no events yet" : "no node keeps events (--admin-events 0)", "Recent lifecycle events, newest first");
  const total = s.nodes.reduce((a, n) => a + n.eventsTotal, 0);
  byId("events-note").textContent = `Newest ${shown.length} of ${fmtNum(total)} since start (each node keeps its last --admin-events).`;
}

function detail(e: LifecycleEvent): string {
  if (e.kind === "close") return `${e.code}${CLOSE_NAMES[String(e.code)] ? ` ${CLOSE_NAMES[String(e.code)]}` : ""}${e.reason ? `: ${e.reason}` : ""}`;
  if (e.kind === "open") return `${e.protocol} from ${e.ip ?? "?"}`;
  return e.protocol;
}

export function renderLookup(a: LookupAnswer, onPush: (clientId: string) => void): void {
  const out = byId("lookup-result");
  const what = a.uid !== undefined ? `uid ${a.uid}` : `clientId ${a.clientId}`;
  const parts: El[] = [el("p", { class: "summary" }, a.count === 0 ? `${what}: no connection.` : `${what}: ${a.count} connection${a.count === 1 ? "" : "s"}${a.count > a.connections.length ? ` (first ${a.connections.length} shown)` : ""}.`)];
  for (const f of a.failures) parts.push(el("p", { class: "error" }, `${f.code}: ${f.message}`));
  for (const c of a.connections) parts.push(connCard(c, onPush));
  out.replaceChildren(...parts);
}

function connCard(c: ConnInfo, onPush: (clientId: string) => void): El {
  const rows: [string, El | string][] = [
    ["clientId", el("code", {}, c.clientId)], ["Node", c.node], ["uid", c.uid ?? "— (not bound)"],
    ["Protocol", c.protocol], ["Logged in", c.loggedIn ? "yes" : "no"],
    ["Groups", c.groupCount === 0 ? "none" : c.groups.join(", ") + (c.groupCount > c.groups.length ? ` … (${c.groupCount})` : "")],
    ["Session", c.session === null ? "none" : el("pre", {}, JSON.stringify(c.session, null, 2))],
    ["Address", c.ip], ["Queued", fmtBytes(c.buffered)], ["Token expires", c.expiresAt ? new Date(c.expiresAt).toLocaleString("en-GB") : "never"],
  ];
  const button = el("button", { type: "button", class: "secondary" }, "Push to this connection");
  button.addEventListener("click", () => onPush(c.clientId));
  return el("article", { class: "conn", "aria-label": `connection ${c.clientId}` },
    el("dl", {}, ...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])), button);
}

function merged(maps: Record<string, number>[]): [string, number][] {
  const m = new Map<string, number>();
  for (const o of maps) for (const [k, v] of Object.entries(o)) m.set(k, (m.get(k) ?? 0) + v);
  return [...m].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
}

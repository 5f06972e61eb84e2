// Renders one poll's answer into the page: overview tiles, the nodes table, drops and closes,
// recent events; and a lookup's connections (the wording is figures.ts'). Text only
// (textContent), never markup.
import type { ClusterStats } from "../cluster.ts";
import type { LifecycleEvent } from "../events.ts";
import type { ConnInfo } from "../lookup.ts";
import type { LookupAnswer } from "./api.ts";
import type { El } from "./browser.ts";
import { byId, el, fillTable, fmtBytes, fmtNum, fmtTime } from "./dom.ts";
import { NODE_HEAD, lookupSummary, nodeRows, tileFigures } from "./figures.ts";
import type { Point, Series } from "./series.ts";

const CLOSE_NAMES: Record<string, string> = {
  "1000": "normal", "1001": "going away (shutdown)", "1005": "no status", "1006": "abnormal (lost, or a slow reader cut off)",
  "1007": "invalid UTF-8", "1008": "policy (login, limits, abuse)", "1009": "frame too big", "1011": "internal error",
  "1013": "try again later (backend)", "4001": "token expired", other: "another code (sent by the client)",
};

export function renderTiles(s: ClusterStats, p: Point, api: ReturnType<Series["apiOver"]>): void {
  byId("tiles").replaceChildren(...tileFigures(s, p, api).map((t) => el("div", { class: "tile" }, el("dt", {}, t.label), el("dd", {}, t.value, t.sub ? el("small", {}, t.sub) : null))));
}

export function renderNodes(s: ClusterStats, series: Series): void {
  fillTable(byId("nodes"), NODE_HEAD, nodeRows(s, series), "no node answered", "Per node figures");
  byId("nodes-note").textContent = s.failures.map((f) => `${f.node ?? "?"}: ${f.code}: ${f.message}`).join("\n");
}

export function renderReasons(s: ClusterStats): void {
  // Summed over the nodes that answered: a lower bound while some did not.
  const count = (v: number) => (s.failures.length ? `≥ ${fmtNum(v)}` : fmtNum(v));
  const drops = merged(s.nodes.map((n) => n.drops));
  fillTable(byId("drops"), ["Reason", "Count"], drops.map(([k, v]) => [k, count(v)]), "no drops");
  const closes = merged(s.nodes.map((n) => n.closes));
  fillTable(byId("closes"), ["Code", "Meaning", "Count"],
    closes.map(([k, v]) => [k, CLOSE_NAMES[k] ?? "", count(v)]), "no closes yet");
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
  const k = s.failures.length;
  byId("events-note").textContent = `Newest ${shown.length} of ${k ? "≥ " : ""}${fmtNum(total)} since start (each node keeps its last --admin-events)${k ? `; ${k} node${k === 1 ? "" : "s"} not answering` : ""}.`;
}

function detail(e: LifecycleEvent): string {
  if (e.kind === "close") return `${e.code}${CLOSE_NAMES[String(e.code)] ? ` ${CLOSE_NAMES[String(e.code)]}` : ""}${e.reason ? `: ${e.reason}` : ""}`;
  if (e.kind === "open") return `${e.protocol} from ${e.ip ?? "?"}`;
  return e.protocol;
}

export function renderLookup(a: LookupAnswer, onPush: (clientId: string) => void): void {
  const out = byId("lookup-result");
  const parts: El[] = [el("p", { class: "summary" }, lookupSummary(a))];
  for (const f of a.failures) parts.push(el("p", { class: "error" }, `${f.node ?? "?"}: ${f.code}: ${f.message}`));
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

// The dashboard page: asks for the API key, then polls /admin/api/stats every POLL_MS and
// redraws; lookups and test pushes on demand. The key lives in this tab only (sessionStorage)
// and travels only in an Authorization header. body[data-state] and body[data-polls] say where
// the page is (tests and scripts read them).
import { AdminApi, ApiError, type PushKind } from "./api.ts";
import { type Line, drawChart } from "./chart.ts";
import { type CanvasEl, type InputEl, doc, win } from "./browser.ts";
import { byId, fmtNum } from "./dom.ts";
import { errorText, pushFailure, pushSummary } from "./figures.ts";
import { renderEvents, renderLookup, renderNodes, renderReasons, renderTiles } from "./render.ts";
import { Series, WINDOW_MS } from "./series.ts";
import type { ClusterStats } from "../cluster.ts";

const POLL_MS = 2000;
const EVENTS = 100;
const STORE = "pushgate-admin-key";

class Dashboard {
  private api: AdminApi | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private paused = false;
  private polls = 0;
  private last: ClusterStats | null = null;
  private readonly series = new Series();

  start(): void {
    byId("login-form").addEventListener("submit", (e) => {
      e.preventDefault();
      void this.login(byId<InputEl>("key").value.trim());
    });
    byId("logout").addEventListener("click", () => this.logout(""));
    byId("pause").addEventListener("click", () => this.togglePause());
    byId("lookup-form").addEventListener("submit", (e) => {
      e.preventDefault();
      void this.lookup();
    });
    byId("push-form").addEventListener("submit", (e) => {
      e.preventDefault();
      void this.push();
    });
    const kind = byId<InputEl>("push-kind");
    kind.addEventListener("change", () => this.syncPushTarget());
    this.syncPushTarget();
    let frame = 0;
    win.addEventListener("resize", () => {
      win.cancelAnimationFrame(frame);
      frame = win.requestAnimationFrame(() => this.drawCharts());
    });
    doc.addEventListener("visibilitychange", () => {
      if (!doc.hidden && this.api && !this.paused) this.schedule(0);
    });
    doc.body.dataset.state = "login";
    const saved = win.sessionStorage.getItem(STORE);
    if (saved) void this.login(saved);
    else byId("key").focus();
  }

  private async login(key: string): Promise<void> {
    const error = byId("login-error");
    if (key === "") {
      error.textContent = "Enter the API key.";
      return;
    }
    error.textContent = "";
    const api = new AdminApi(key);
    let stats: ClusterStats;
    try {
      stats = await api.stats(EVENTS);
    } catch (e) {
      const refused = e instanceof ApiError && e.status === 401;
      // Only a refused key is forgotten: a server restarting during a reload keeps the tab's key.
      if (refused) win.sessionStorage.removeItem(STORE);
      error.textContent = refused ? "That key was refused (401). Check --api-key." : `Could not reach the server: ${errorText(e)}`;
      return;
    }
    this.api = api;
    win.sessionStorage.setItem(STORE, key);
    byId<InputEl>("key").value = "";
    byId("login").hidden = true;
    byId("dash").hidden = false;
    byId("session-actions").hidden = false;
    doc.body.dataset.state = "live";
    this.show(stats);
    byId("main").focus();
    this.schedule(POLL_MS);
  }

  private logout(why: string): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.api = null;
    this.last = null;
    this.series.clear();
    win.sessionStorage.removeItem(STORE);
    byId("dash").hidden = true;
    byId("session-actions").hidden = true;
    byId("login").hidden = false;
    byId("login-error").textContent = why;
    byId("status").textContent = "Not logged in";
    doc.body.dataset.state = "login";
    byId("key").focus();
  }

  private togglePause(): void {
    this.paused = !this.paused;
    const b = byId("pause");
    b.setAttribute("aria-pressed", String(this.paused));
    b.textContent = this.paused ? "Resume updates" : "Pause updates";
    if (this.paused) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      byId("status").textContent = "Paused";
    } else this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), ms);
  }

  private async poll(): Promise<void> {
    this.timer = null;
    const api = this.api;
    if (!api || this.paused) return;
    if (doc.hidden) return; // resumed by visibilitychange
    try {
      const stats = await api.stats(EVENTS);
      if (api !== this.api) return;
      byId("poll-error").textContent = "";
      this.show(stats);
    } catch (e) {
      if (api !== this.api) return;
      if (e instanceof ApiError && e.status === 401) return this.logout("The server refused the key (401): log in again.");
      byId("poll-error").textContent = `Update failed: ${errorText(e)} (retrying)`;
    }
    if (!this.paused && this.api === api) this.schedule(POLL_MS);
  }

  private show(s: ClusterStats): void {
    this.last = s;
    const p = this.series.add(s);
    renderTiles(s, p, this.series.apiOver(60_000));
    renderNodes(s, this.series);
    renderReasons(s);
    renderEvents(s, EVENTS);
    this.drawCharts();
    const k = s.failures.length;
    const nodes = s.cluster ? `${s.nodes.length} node${s.nodes.length === 1 ? "" : "s"}${k ? ` answering, ${k} not` : ""}` : `node ${s.nodeId}`;
    byId("status").textContent = `Live · ${nodes} · updated ${new Date().toLocaleTimeString("en-GB", { hour12: false })}`;
    doc.body.dataset.polls = String(++this.polls);
  }

  private drawCharts(): void {
    if (!this.last) return;
    const pts = this.series.points;
    const t = pts.map((p) => p.t);
    const now = Date.now();
    // The window grows with the data (at least a minute), up to WINDOW_MS.
    const span = Math.min(WINDOW_MS, Math.max(60_000, now - (pts[0]?.t ?? now)));
    const line = (label: string, color: string, dash: number[], values: (number | null)[], format?: Line["format"]): Line => ({ label, color, dash, values, format });
    drawChart(byId<CanvasEl>("chart-conns"), byId("chart-conns-d"), t, [
      line("connections", "--c1", [], pts.map((p) => p.connections), fmtNum),
      line("uids", "--c2", [6, 4], pts.map((p) => p.uids), fmtNum),
      // Not counted distinct (too many to move every node's list): the sum over nodes, as its own line.
      ...(pts.some((p) => p.uidsSum !== null) ? [line("uids ≤ (summed over nodes)", "--c3", [2, 3], pts.map((p) => p.uidsSum), fmtNum)] : []),
    ], span, now);
    drawChart(byId<CanvasEl>("chart-frames"), byId("chart-frames-d"), t, [
      line("in / s", "--c1", [], pts.map((p) => p.framesIn)),
      line("out / s", "--c2", [6, 4], pts.map((p) => p.framesOut)),
    ], span, now);
    drawChart(byId<CanvasEl>("chart-api"), byId("chart-api-d"), t, [
      line("API avg ms", "--c1", [], pts.map((p) => p.apiAvg)),
      line("API p95 ms", "--c2", [6, 4], pts.map((p) => p.apiP95)),
      line("drops / s", "--c3", [2, 3], pts.map((p) => p.drops)),
    ], span, now);
  }

  private async lookup(): Promise<void> {
    const api = this.api;
    if (!api) return;
    const checked = doc.querySelector('input[name="by"]:checked') as InputEl | null;
    const by = checked?.value === "clientId" ? "clientId" : "uid";
    const value = byId<InputEl>("lookup-value").value.trim();
    const out = byId("lookup-result");
    if (value === "") return void (out.textContent = "Enter a uid or a clientId.");
    out.textContent = "Looking up…";
    try {
      renderLookup(await api.lookup(by, value), (clientId) => this.pushTo(clientId));
    } catch (e) {
      out.textContent = `Lookup failed: ${errorText(e)}`;
    }
  }

  private pushTo(clientId: string): void {
    byId<InputEl>("push-kind").value = "clientId";
    this.syncPushTarget();
    byId<InputEl>("push-target").value = clientId;
    byId("push-data").focus();
  }

  private syncPushTarget(): void {
    const all = byId<InputEl>("push-kind").value === "all";
    const target = byId<InputEl>("push-target");
    target.disabled = all;
    target.required = !all;
  }

  private async push(): Promise<void> {
    const api = this.api;
    if (!api) return;
    const kind = byId<InputEl>("push-kind").value as PushKind;
    const target = byId<InputEl>("push-target").value.trim();
    const text = byId<InputEl>("push-data").value;
    const out = byId("push-result");
    let data: unknown = text;
    if (byId<InputEl>("push-json").checked) {
      try {
        data = JSON.parse(text);
      } catch {
        out.textContent = "The message is not valid JSON.";
        return;
      }
    }
    out.textContent = "Sending…";
    try {
      out.textContent = pushSummary(await api.push(kind, target, data));
    } catch (e) {
      out.textContent = pushFailure(e);
    }
  }
}

new Dashboard().start();

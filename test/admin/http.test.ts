// /admin over plain HTTP: off without an API key (404 that says why), the page and its assets,
// the admin endpoints' key check (401 JSON), the lifecycle event ring (bounded by
// --admin-events) and lookups; the application's own events still fire with the ring on.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Pushgate, startPushgate } from "../../src/server.ts";
import { RecordingEvents } from "../../src/admin/events.ts";
import { TestClient, api, metricValue, metrics, startTestServer, waitFor } from "../helpers.ts";

const KEY = "admin-test-key";
const auth = { authorization: `Bearer ${KEY}` };

async function get(pg: Pushgate, path: string, headers: Record<string, string> = {}, method = "GET") {
  const res = await fetch(pg.url + path, { method, headers });
  const text = await res.text();
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, type: res.headers.get("content-type") ?? "", headers: res.headers, text, body };
}

describe("without an API key", () => {
  test("/admin and everything under it answer 404 JSON saying it needs an API key", async () => {
    await using pg = startTestServer();
    for (const path of ["/admin", "/admin/", "/admin/app.js", "/admin/api/stats"]) {
      const r = await get(pg, path, auth);
      expect(r.status).toBe(404);
      expect(r.type).toContain("application/json");
      expect(r.body.error.code).toBe("E_NOT_FOUND");
      expect(r.body.error.message).toContain("needs an API key");
    }
    // Not a prefix match: /administrator is an ordinary unknown route.
    const other = await get(pg, "/administrator");
    expect(other.status).toBe(404);
    expect(other.body.error.message).not.toContain("API key");
  });
});

describe("with an API key", () => {
  let pg: Pushgate;
  beforeAll(() => {
    pg = startTestServer({ apiKey: KEY, adminEvents: 5 });
  });
  afterAll(() => pg?.shutdown());

  test("the page is served without the key, with a strict CSP; its script and stylesheet are built", async () => {
    const page = await get(pg, "/admin");
    expect(page.status).toBe(200);
    expect(page.type).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(page.text).toContain('<label for="key">API key</label>');
    const js = await get(pg, "/admin/app.js");
    expect(js.status).toBe(200);
    expect(js.type).toContain("javascript");
    expect(js.text.length).toBeGreaterThan(2000);
    const css = await get(pg, "/admin/app.css");
    expect(css.status).toBe(200);
    expect(css.type).toContain("text/css");
    expect(css.text).toContain("@media");
  });

  test("admin endpoints: no key or a wrong key → 401 JSON; the right key → 200", async () => {
    for (const path of ["/admin/api/stats", "/admin/api/lookup?uid=x", "/admin/api/nope"]) {
      const none = await get(pg, path);
      expect(none.status).toBe(401);
      expect(none.type).toContain("application/json");
      expect(none.body.error.code).toBe("E_UNAUTHORIZED");
      const wrong = await get(pg, path, { authorization: "Bearer not-the-key" });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe("E_UNAUTHORIZED");
      // The key in a query string is not a key.
      expect((await get(pg, `${path}${path.includes("?") ? "&" : "?"}key=${KEY}`)).status).toBe(401);
    }
    const ok = await get(pg, "/admin/api/stats", auth);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("cache-control")).toBe("no-store");
    expect(ok.body.result.nodes[0].nodeId).toBe(pg.hub.nodeId);
    expect((await get(pg, "/admin/api/nope", auth)).status).toBe(404);
    const post = await get(pg, "/admin/api/stats", auth, "POST");
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  test("every /admin/api/ answer is no-store, errors too; HEAD answers like GET without a body", async () => {
    const cases: [string, Record<string, string>, string, number][] = [
      ["/admin/api/stats", auth, "GET", 200], ["/admin/api/stats", {}, "GET", 401], ["/admin/api/stats?events=x", auth, "GET", 400],
      ["/admin/api/nope", auth, "GET", 404], ["/admin/api/stats", auth, "POST", 405], ["/admin/api/lookup", auth, "GET", 400],
    ];
    for (const [path, headers, method, status] of cases) {
      const r = await get(pg, path, headers, method);
      expect([path, method, r.status, r.headers.get("cache-control")]).toEqual([path, method, status, "no-store"]);
    }
    const head = await get(pg, "/admin/api/stats", auth, "HEAD");
    expect(head.status).toBe(200);
    expect(head.type).toContain("application/json");
    expect(head.text).toBe("");
    expect((await get(pg, "/admin/api/stats", {}, "HEAD")).status).toBe(401);
    expect((await get(pg, "/admin", {}, "HEAD")).status).toBe(200);
  });

  test("?events= is an integer 0..1000, else 400 E_BAD_PARAMS (field events), counted in errors_total", async () => {
    const before = metricValue(await metrics(pg), 'pushgate_errors_total{code="E_BAD_PARAMS"}');
    const bad = ["abc", "-5", "2.5", "1e400", "", "1001", "0x10", " 3"];
    for (const v of bad) {
      const r = await get(pg, `/admin/api/stats?events=${encodeURIComponent(v)}`, auth);
      expect([v, r.status, r.body?.error]).toEqual([v, 400, { code: "E_BAD_PARAMS", message: "events: must be an integer 0..1000", field: "events" }]);
    }
    expect(metricValue(await metrics(pg), 'pushgate_errors_total{code="E_BAD_PARAMS"}')).toBe(before + bad.length);
    using c = await TestClient.login(pg, "evie"); // an open and a login at least
    // The ask, capped by the node's own ring (--admin-events 5 here) and what it has recorded; absent: 50.
    for (const v of ["0", "1", "0003", "1000", null]) {
      const r = await get(pg, `/admin/api/stats${v === null ? "" : `?events=${v}`}`, auth);
      expect(r.status).toBe(200);
      const n = r.body.result.nodes[0];
      expect(n.events.length).toBe(Math.min(v === null ? 50 : Number(v), 5, n.eventsTotal));
    }
    void c;
  });

  test("stats count connections, uids, groups, frames and pushes; events are recorded and bounded", async () => {
    // Its own server: the event counts below start from zero.
    await using pg = startTestServer({ apiKey: KEY, adminEvents: 5 });
    using a = await TestClient.login(pg, "alice");
    using b = await TestClient.login(pg, "bob");
    const ids = (await api(pg, "getClientIdByUid", { uid: "alice" }, auth)).body.result as string[];
    await api(pg, "joinGroup", { clientId: ids[0], group: "room1" }, auth);
    expect((await api(pg, "sendToUid", { uid: "alice", data: "hi" }, auth)).body.result.reached).toBe(1);
    expect(await a.next()).toBe("hi");
    const s = (await get(pg, "/admin/api/stats?events=100", auth)).body.result;
    expect(s.cluster).toBe(false);
    expect(s.uids).toBe(2);
    const n = s.nodes[0];
    expect(n).toMatchObject({ connections: 2, loggedIn: 2, uids: 2, groups: 1 });
    expect(n.framesIn).toBeGreaterThanOrEqual(2);
    expect(n.framesOut).toBeGreaterThanOrEqual(1);
    expect(n.publishes.uid).toBeGreaterThanOrEqual(1);
    expect(n.api.count).toBeGreaterThanOrEqual(3);
    expect(n.api.buckets.length).toBeGreaterThan(0);
    // 2 opens + 2 logins so far; the ring keeps 5.
    expect(n.events.map((e: any) => e.kind)).toEqual(["login", "open", "login", "open"]);
    expect(n.events[0]).toMatchObject({ uid: "bob", protocol: "seed" });
    b.ws.close(4000, "bye now");
    await waitFor(() => pg.hub.clients.size === 1, 2000, "bob's close");
    const after = (await get(pg, "/admin/api/stats", auth)).body.result.nodes[0];
    expect(after.events).toHaveLength(5);
    expect(after.eventsTotal).toBe(5);
    expect(after.events[0]).toMatchObject({ kind: "close", uid: "bob", code: 4000, reason: "bye now" });
    expect(after.closes.other).toBe(1); // closes_total labels codes outside 1000..1015 (and 4001) "other"
    using c = await TestClient.login(pg, "carol");
    const later = (await get(pg, "/admin/api/stats?events=3", auth)).body.result.nodes[0];
    expect(later.eventsTotal).toBe(7);
    expect(later.events.map((e: any) => e.seq)).toEqual([7, 6, 5]);
    expect(later.events[0]).toMatchObject({ kind: "login", uid: "carol" });
    void c;
  });

  test("lookup by uid and by clientId: groups, session, protocol; bad parameters are 400", async () => {
    using a = await TestClient.login(pg, "dave");
    const [id] = (await api(pg, "getClientIdByUid", { uid: "dave" }, auth)).body.result as string[];
    await api(pg, "joinGroup", { clientId: id, group: "g1" }, auth);
    await api(pg, "setSession", { clientId: id, session: { plan: "pro" } }, auth);
    const byUid = (await get(pg, "/admin/api/lookup?uid=dave", auth)).body.result;
    expect(byUid.count).toBe(1);
    expect(byUid.connections[0]).toMatchObject({ clientId: id, uid: "dave", groups: ["g1"], session: { plan: "pro" }, protocol: "seed", loggedIn: true, node: pg.hub.nodeId });
    const byId = (await get(pg, `/admin/api/lookup?clientId=${id}`, auth)).body.result;
    expect(byId.connections[0].clientId).toBe(id);
    const none = (await get(pg, "/admin/api/lookup?uid=nobody", auth)).body.result;
    expect(none).toMatchObject({ count: 0, connections: [] });
    for (const q of ["", "?uid=a&clientId=b", "?uid=all", "?uid=a%3Ab", `?clientId=${"x".repeat(65)}`]) {
      const r = await get(pg, `/admin/api/lookup${q}`, auth);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toMatch(/^E_(BAD_PARAMS|INVALID_UID)$/);
    }
    void a;
  });
});

test("with the dashboard off nothing is recorded: the hub's events are the application's own", async () => {
  await using none = startTestServer();
  expect(none.hub.events).toBeNull();
  await using hooked = startPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", apiKey: "  " }, { hooks: { close: () => {} } });
  expect(hooked.hub.events).not.toBeNull();
  expect(hooked.hub.events).not.toBeInstanceOf(RecordingEvents);
  expect((await get(hooked, "/admin/api/stats", { authorization: "Bearer   " })).status).toBe(404);
});

test("the application's close hook still fires with the event ring on; --admin-events 0 keeps none", async () => {
  const heard: string[] = [];
  await using pg = startPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", apiKey: KEY, adminEvents: 0 }, {
    hooks: { close: (e) => void heard.push(`${e.uid}:${e.code}`) },
  });
  const c = await TestClient.login(pg, "erin");
  c.ws.close(1000);
  await waitFor(() => heard.length === 1, 2000, "the close hook");
  expect(heard).toEqual(["erin:1000"]);
  const n = (await get(pg, "/admin/api/stats", auth)).body.result.nodes[0];
  expect(n.events).toBeNull();
  expect(n.closes["1000"]).toBe(1);
});

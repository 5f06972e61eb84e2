// /admin on a cluster (two nodes in one process, through a Redis this test owns): one node's
// stats list every node with its own figures and events, uids are counted distinct over the
// nodes, and lookups find a connection on the other node (by uid, and by clientId on its owner).
// Then a node that hangs (a subprocess node SIGSTOPped): the stats answer JSON within about one
// --cluster-timeout (past Bun's own 10 s request limit too), list it as not answering by its id,
// count no uids, and the page's figures say "unknown" / "≥ N (1 not answering)"; a lookup and a
// test push through it say their outcome is not fully known.
import { beforeAll, expect, test } from "bun:test";
import { lookupSummary, nodeRows, pushSummary, tileFigures } from "../../src/admin/page/figures.ts";
import { Series } from "../../src/admin/page/series.ts";
import { type Pushgate, createPushgate } from "../../src/server.ts";
import { Node, clusterFixture, inProcessCluster, until } from "../cluster/nodes.ts";
import { TestClient, api, waitFor } from "../helpers.ts";
import { type RedisServer, describeRedis } from "../redis-server.ts";

const KEY = "cluster-admin-key";
const auth = { authorization: `Bearer ${KEY}` };

async function admin(pg: Pushgate, path: string): Promise<any> {
  const res = await fetch(pg.url + path, { headers: auth });
  expect(res.status).toBe(200);
  return ((await res.json()) as { result: unknown }).result;
}

describeRedis("admin dashboard data on a cluster", () => {
  const cluster = inProcessCluster(["a", "b"], { apiKey: KEY });
  let redis: RedisServer, a: Pushgate, b: Pushgate;
  beforeAll(() => void ({ redis, nodes: [a, b] } = cluster));

  test("stats per node, distinct uids, events of every node; lookups across nodes", async () => {
    using onA = await TestClient.login(a, "shared");
    using onB = await TestClient.login(b, "shared");
    using onlyB = await TestClient.login(b, "bee");
    const [idB] = (await api(a, "getClientIdByUid", { uid: "bee" }, auth)).body.result as string[];
    expect(idB!.startsWith(b.hub.nodeId)).toBe(true);
    expect((await api(a, "joinGroup", { clientId: idB, group: "hive" }, auth)).status).toBe(200);

    let s: any;
    await waitFor(async () => {
      s = await admin(a, "/admin/api/stats?events=10");
      return s.nodes.length === 2;
    }, 5000, "both nodes in the stats");
    expect(s.cluster).toBe(true);
    expect(s.failures).toEqual([]);
    expect(s.nodeId).toBe(a.hub.nodeId);
    expect(s.nodes[0].nodeId).toBe(a.hub.nodeId);
    const nb = s.nodes.find((n: any) => n.nodeId === b.hub.nodeId);
    expect(nb).toMatchObject({ connections: 2, uids: 2, groups: 1 });
    expect(s.nodes[0]).toMatchObject({ connections: 1, uids: 1 });
    // "shared" is on both nodes: counted once.
    expect(s.uids).toBe(2);
    expect(nb.events.filter((e: any) => e.kind === "login").map((e: any) => e.uid).sort()).toEqual(["bee", "shared"]);

    const byUid = await admin(a, "/admin/api/lookup?uid=shared");
    expect(byUid.count).toBe(2);
    expect(byUid.connections.map((c: any) => c.node).sort()).toEqual([a.hub.nodeId, b.hub.nodeId].sort());
    const byId = await admin(a, `/admin/api/lookup?clientId=${idB}`);
    expect(byId.connections).toHaveLength(1);
    expect(byId.connections[0]).toMatchObject({ clientId: idB, node: b.hub.nodeId, uid: "bee", groups: ["hive"] });
    // A node whose --api-max-list the uids of all nodes pass does not move every list to count them.
    await using small = await createPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", redisUrl: redis.url, apiKey: KEY, apiMaxList: 2, adminEvents: 1 });
    let t: any;
    await waitFor(async () => {
      t = await admin(small, "/admin/api/stats?events=10");
      return t.nodes.length === 3;
    }, 5000, "three nodes in the stats");
    expect(t.uids).toBeNull();
    expect(t.uidsError).toContain("more than --api-max-list (2)");
    // Each node caps the events by its own --admin-events, not by the asking node's (1 here).
    expect(t.nodes.find((n: any) => n.nodeId === b.hub.nodeId).events.length).toBeGreaterThanOrEqual(4);

    // A clientId of a node that is not in the cluster: no connection, no error.
    const gone = await admin(a, "/admin/api/lookup?clientId=0000abcd000001000000");
    expect(gone).toMatchObject({ count: 0, connections: [], failures: [] });
    void [onA, onB, onlyB];
  });
});

async function timedStats(url: string): Promise<{ ms: number; status: number; type: string; body: any }> {
  const t = performance.now();
  const res = await fetch(`${url}/admin/api/stats`, { headers: auth, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { ms: performance.now() - t, status: res.status, type: res.headers.get("content-type") ?? "", body };
}

async function call(url: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(url + path, {
    method: body === undefined ? "GET" : "POST", headers: { ...auth, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { result: unknown }).result;
}

describeRedis("admin dashboard with a node that does not answer", () => {
  const TIMEOUT = 1500;
  /** Past Bun.serve's own 10 s idle limit for a request. */
  const LONG = 13_000; // Bun cuts an unanswered request at about 12 s (10 s, checked every few seconds)
  const cluster = clusterFixture(["A", "B"], ["--api-key", KEY, "--cluster-timeout", `${TIMEOUT}ms`]);

  test("stats answer JSON in about one --cluster-timeout, name the node, count nothing they do not know", async () => {
    const [a, b] = cluster.nodes;
    // A third node whose --cluster-timeout is longer than Bun's request limit (killed with the others).
    const long = await Node.start("L", cluster.redis.url, ["--api-key", KEY, "--cluster-timeout", `${LONG}ms`]);
    await cluster.login(a, "on-a");
    await cluster.login(b, "on-b");
    const series = new Series();
    for (const n of [a, long]) {
      await until(async () => {
        const s = (await timedStats(n.url)).body.result;
        return s.nodes.length === 3 && s.uids === 2 && s.failures.length === 0;
      }, `three nodes and 2 uids in ${n.name}'s stats`, 10_000, 100);
    }
    series.add((await timedStats(a.url)).body.result);

    b.freeze();
    try {
      const longAnswer = timedStats(long.url);
      // The HTTP API too (api/http.ts allowClusterWait): a 504 JSON answer after the long timeout.
      const t0 = performance.now();
      // Bodiless: Bun cuts such a request at ~12 s unless its timeout was raised (a POST with a body it does not cut).
      const longApi = fetch(`${long.url}/api/getAllUidCount`, { method: "POST", headers: auth, signal: AbortSignal.timeout(30_000) }).then(async (res) => ({ status: res.status, body: await res.json() as any, ms: performance.now() - t0 }));
      const s = await timedStats(a.url);
      // Before: two scatters one after the other waited 2 × --cluster-timeout.
      expect(s.ms).toBeGreaterThanOrEqual(TIMEOUT - 50);
      expect(s.ms).toBeLessThan(TIMEOUT + 1000);
      expect(s.status).toBe(200);
      expect(s.type).toContain("application/json");
      const r = s.body.result;
      expect(r.nodes.map((n: any) => n.nodeId).sort()).toEqual([a.nodeId, long.nodeId].sort());
      expect(r.failures).toEqual([{ code: "E_CLUSTER_TIMEOUT", message: expect.stringContaining(`node ${b.nodeId} did not answer`), node: b.nodeId }]);
      expect(r.uids).toBeNull();
      expect(r.uidsError).toContain("did not answer");
      expect(r.timeoutMs).toBe(TIMEOUT);

      // What the page makes of it.
      const p = series.add(r);
      expect(p).toMatchObject({ connections: null, framesIn: null, uids: null, uidsSum: null });
      const tiles = tileFigures(r, p, series.apiOver(60_000));
      const t = (label: string) => tiles.find((x) => x.label === label)!;
      expect(t("Connections").value).toBe("≥ 1");
      expect(t("Connections").sub).toContain("(1 not answering)");
      expect(t("Uids online").value).toBe("unknown");
      expect(t("Frames in / s").value).toBe("unknown");
      expect(t("API latency").value).toBe("unknown");
      const row = nodeRows(r, series).find((x) => x[0] === b.nodeId)!;
      expect(row.slice(1, 4)).toEqual(["not answering (E_CLUSTER_TIMEOUT)", "unknown", "unknown"]);

      // A lookup and a test push that depend on it: not "no connection", not "reached 0".
      const look = await call(a.url, "/admin/api/lookup?uid=on-b");
      expect(look).toMatchObject({ count: 0, connections: [], failures: [{ code: "E_CLUSTER_TIMEOUT", node: b.nodeId }] });
      expect(lookupSummary(look)).toBe("uid on-b: at least 0 connections; 1 node did not answer, so there may be more.");
      const push = await call(a.url, "/api/sendToUid", { uid: "on-b", data: "x" });
      expect(push.timedOut).toEqual(["on-b"]);
      expect(pushSummary(push)).toStartWith("Sent, outcome partly unknown: reached at least 0 connections; unknown for: on-b (E_CLUSTER_TIMEOUT");

      // A --cluster-timeout past Bun's request limit still gets its JSON answer (it was cut off, empty).
      const l = await longAnswer;
      expect(l.status).toBe(200);
      expect(l.ms).toBeGreaterThanOrEqual(LONG - 50);
      expect(l.ms).toBeLessThan(LONG + 3000);
      expect(l.body.result.failures.map((f: any) => f.node)).toEqual([b.nodeId]);
      expect(l.body.result.uids).toBeNull();
      const api = await longApi;
      expect(api.status).toBe(504);
      expect(api.body.error.code).toBe("E_CLUSTER_TIMEOUT");
      expect(api.ms).toBeGreaterThanOrEqual(LONG - 50);
    } finally {
      b.thaw();
    }
    await until(async () => {
      const s = (await timedStats(a.url)).body.result;
      return s.nodes.length === 3 && s.failures.length === 0 && s.uids === 2;
    }, "node B back in A's stats", 10_000, 100);
  }, 60_000);
});

// The page's figures without a browser (page/series.ts and page/figures.ts are pure): rates and
// totals over successive polls, and what the tiles, the nodes table, a lookup and a test push
// say when a node does not answer — "unknown" or "≥ N (k not answering)", never a partial sum
// shown as exact.
import { describe, expect, test } from "bun:test";
import type { ClusterStats, Failure } from "../../src/admin/cluster.ts";
import type { NodeStats } from "../../src/admin/node-stats.ts";
import { ApiError } from "../../src/admin/page/api.ts";
import { UNKNOWN, lookupSummary, nodeRows, pushFailure, pushSummary, tileFigures } from "../../src/admin/page/figures.ts";
import { Series } from "../../src/admin/page/series.ts";

function node(nodeId: string, at: number, frames: number, conns: number): NodeStats {
  return {
    nodeId, at, uptime: at / 1000, draining: false, connections: conns, loggedIn: conns, uids: conns, groups: 0,
    framesIn: frames, framesOut: 0, opened: 0, logins: 0, publishes: {}, drops: {}, closes: {}, errors: {},
    history: { streams: 0, entries: 0, bytes: 0 }, api: { buckets: [], sum: 0, count: 0 }, rss: 0, events: null, eventsTotal: 0,
  };
}

const timeout = (id: string | null): Failure => ({ code: "E_CLUSTER_TIMEOUT", message: `node ${id} did not answer within 2000 ms`, node: id });

function stats(nodes: NodeStats[], failures: Failure[] = [], uids: number | null = null): ClusterStats {
  return { nodeId: "aaaaaaaa", cluster: true, uids, nodes, failures, timeoutMs: 2000 };
}

const A = "aaaaaaaa";
const B = "bbbbbbbb";
const tile = (s: ClusterStats, p: ReturnType<Series["add"]>, series: Series, label: string) => tileFigures(s, p, series.apiOver(60_000, null, 1e9)).find((t) => t.label === label)!;

describe("Series: a node that does not answer", () => {
  // Each node does 100 frames/s and holds 1000 connections.
  test("the poll it misses is a gap (null), not the other node's figures; its next answer gives a rate again", () => {
    const s = new Series();
    const at = (i: number) => i * 2000;
    const p0 = s.add(stats([node(A, at(0), 0, 1000), node(B, at(0), 0, 1000)]), at(0));
    expect(p0).toMatchObject({ framesIn: null, connections: 2000 });
    const p1 = s.add(stats([node(A, at(1), 200, 1000), node(B, at(1), 200, 1000)]), at(1));
    expect(p1).toMatchObject({ framesIn: 200, connections: 2000 });
    const p2 = s.add(stats([node(A, at(2), 400, 1000)], [timeout(B)]), at(2));
    expect(p2).toMatchObject({ framesIn: null, framesOut: null, drops: null, connections: null, loggedIn: null, uids: null, uidsSum: null });
    expect(s.nodeRates.has(B)).toBe(false);
    // B kept its last snapshot: its rate over the 4 s since is known at once.
    const p3 = s.add(stats([node(A, at(3), 600, 1000), node(B, at(3), 600, 1000)]), at(3));
    expect(p3).toMatchObject({ framesIn: 200, connections: 2000 });
    expect(s.nodeRates.get(B)?.framesIn).toBe(100);
  });

  test("a failure that names no node (Redis unreachable) keeps every missing node's snapshot", () => {
    const s = new Series();
    s.add(stats([node(A, 0, 0, 1), node(B, 0, 0, 1)]), 0);
    s.add(stats([node(A, 2000, 200, 1)], [{ code: "E_CLUSTER_UNAVAILABLE", message: "redis down", node: null }]), 2000);
    expect(s.add(stats([node(A, 4000, 400, 1), node(B, 4000, 400, 1)]), 4000).framesIn).toBe(200);
  });

  test("a node that left (no failure) is dropped; a new or restarted node leaves the cluster rate unknown for one poll", () => {
    const s = new Series();
    s.add(stats([node(A, 0, 0, 1), node(B, 0, 0, 1)]), 0);
    expect(s.add(stats([node(A, 2000, 200, 1)]), 2000)).toMatchObject({ framesIn: 100, connections: 1 });
    // B is back: a new node to the series (its old snapshot was dropped), so no cluster rate yet.
    expect(s.add(stats([node(A, 4000, 400, 1), node(B, 4000, 400, 1)]), 4000).framesIn).toBeNull();
    expect(s.add(stats([node(A, 6000, 600, 1), node(B, 6000, 600, 1)]), 6000).framesIn).toBe(200);
    // B restarted (its counter went down): unknown again for that poll.
    expect(s.add(stats([node(A, 8000, 800, 1), node(B, 8000, 10, 1)]), 8000).framesIn).toBeNull();
  });

  test("uids: the distinct count, or (not counted, every node answered) the sum over nodes as its own figure", () => {
    const s = new Series();
    expect(s.add(stats([node(A, 0, 0, 3), node(B, 0, 0, 4)], [], 5), 0)).toMatchObject({ uids: 5, uidsSum: null });
    expect(s.add(stats([node(A, 2000, 0, 3), node(B, 2000, 0, 4)]), 2000)).toMatchObject({ uids: null, uidsSum: 7 });
    expect(s.add(stats([node(A, 4000, 0, 3)], [timeout(B)]), 4000)).toMatchObject({ uids: null, uidsSum: null });
  });
});

describe("figures: tiles and the nodes table", () => {
  test("every node answered: exact figures", () => {
    const s = new Series();
    s.add(stats([node(A, 0, 0, 1000), node(B, 0, 0, 1000)], [], 2000), 0);
    const st = stats([node(A, 2000, 200, 1000), node(B, 2000, 200, 1000)], [], 2000);
    const p = s.add(st, 2000);
    expect(tile(st, p, s, "Connections")).toMatchObject({ value: "2,000", sub: "2,000 logged in" });
    expect(tile(st, p, s, "Uids online").value).toBe("2,000");
    expect(tile(st, p, s, "Frames in / s").value).toBe("200");
    expect(nodeRows(st, s).map((r) => r[0])).toEqual([`${A} (this)`, B]);
  });

  test("a node not answering: counts are '≥ N (k not answering)', rates, uids and latency 'unknown'; its row names it", () => {
    const s = new Series();
    s.add(stats([node(A, 0, 0, 1000), node(B, 0, 0, 1000)], [], 2000), 0);
    const st = stats([node(A, 2000, 200, 1000)], [timeout(B)]);
    const p = s.add(st, 2000);
    const conns = tile(st, p, s, "Connections");
    expect(conns.value).toBe("≥ 1,000");
    expect(conns.sub).toContain("(1 not answering)");
    expect(tile(st, p, s, "Uids online")).toEqual({ label: "Uids online", value: UNKNOWN, sub: "(1 not answering)" });
    for (const label of ["Frames in / s", "Frames out / s", "API latency"]) expect(tile(st, p, s, label).value).toBe(UNKNOWN);
    expect(tile(st, p, s, "Pushes").value).toBe("≥ 0");
    expect(tile(st, p, s, "Pushes").sub).toContain("unknown / s now");
    expect(tile(st, p, s, "Frames in / s").sub).toContain("≥ 200 in all");
    expect(tile(st, p, s, "Nodes").sub).toContain("1 not answering");
    const rows = nodeRows(st, s);
    expect(rows).toHaveLength(2);
    expect(rows[1]!.slice(0, 3)).toEqual([B, "not answering (E_CLUSTER_TIMEOUT)", UNKNOWN]);
    expect(rows[1]!.slice(2).every((c) => c === UNKNOWN)).toBe(true);
    expect(nodeRows(stats([node(A, 2000, 0, 1)], [timeout(null)]), s)[1]![0]).toBe("unknown node");
  });

  test("uids not counted distinct while every node answered: '≤ sum', labelled", () => {
    const s = new Series();
    const st = stats([node(A, 0, 0, 3), node(B, 0, 0, 4)]);
    expect(tile(st, s.add(st, 0), s, "Uids online")).toMatchObject({ value: "≤ 7", sub: "summed over nodes (a uid on two counts twice)" });
  });
});

describe("figures: lookups and test pushes whose outcome is not fully known", () => {
  const conn = { clientId: `${A}000001000000`, node: A, uid: "u", protocol: "seed" as const, loggedIn: true, groups: [], groupCount: 0, session: null, ip: "", buffered: 0, expiresAt: 0 };

  test("lookup: exact when every node answered, 'at least' (or unknown for a clientId) when not", () => {
    expect(lookupSummary({ uid: "u", connections: [], count: 0, failures: [] })).toBe("uid u: no connection.");
    expect(lookupSummary({ uid: "u", connections: [conn], count: 1, failures: [] })).toBe("uid u: 1 connection.");
    expect(lookupSummary({ uid: "u", connections: [], count: 0, failures: [timeout(B)] })).toBe("uid u: at least 0 connections; 1 node did not answer, so there may be more.");
    expect(lookupSummary({ clientId: `${B}000001000000`, connections: [], count: 0, failures: [timeout(B)] })).toBe(`clientId ${B}000001000000: unknown, its node did not answer.`);
  });

  test("push: 'reached at least N; unknown for …' with timedOut/error; a 202 outcome unknown is not 'Not sent'", () => {
    expect(pushSummary({ reached: 2, offline: [] })).toBe("Sent: reached 2 connections.");
    expect(pushSummary({ reached: 0, offline: ["x"] })).toBe("Sent: reached 0 connections; offline: x.");
    const partly = pushSummary({ reached: 0, offline: [], timedOut: ["bee"], error: { code: "E_CLUSTER_TIMEOUT", message: "reached is a lower bound" } });
    expect(partly).toBe("Sent, outcome partly unknown: reached at least 0 connections; unknown for: bee (E_CLUSTER_TIMEOUT: reached is a lower bound).");
    expect(pushSummary({ reached: 1, offline: [], error: { code: "E_CLUSTER_UNAVAILABLE", message: "delivered on this node only" } })).toBe("Sent, outcome partly unknown: reached at least 1 connection (E_CLUSTER_UNAVAILABLE: delivered on this node only).");
    expect(pushFailure(new ApiError(202, "E_CLUSTER_TIMEOUT", "may have taken effect", "unknown"))).toBe("Outcome unknown, it may have been delivered: E_CLUSTER_TIMEOUT: may have taken effect");
    expect(pushFailure(new ApiError(400, "E_BAD_PARAMS", "uid: is required"))).toBe("Not sent: E_BAD_PARAMS: uid: is required");
  });
});

// The rest of Gateway:: across a 2-node cluster: per-group maps merged key by key (distinct uids
// counted once), session maps, the clientId list, sendToAll to a clientId list on both nodes,
// destoryClient of another node's connection, and --api-max-list charged on the merged answer.
import { beforeAll, expect, test } from "bun:test";
import { TestClient } from "../helpers.ts";
import { describeRedis } from "../redis-server.ts";
import { type Node, clusterFixture, until } from "./nodes.ts";

const T = 30_000;
const sortedValues = (m: Record<string, string[]>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, [...v].sort()]));

describeRedis("Gateway:: maps on a cluster (2 nodes)", () => {
  const cluster = clusterFixture(["A", "B"], ["--api-max-list", "6", "--cluster-max-reply", "4KiB"]);
  const { login } = cluster;
  let A: Node, B: Node;
  beforeAll(() => void ({ nodes: [A, B] } = cluster));
  let a1: string, b1: string, b2: string | undefined;
  let onA: TestClient, onB1: TestClient, onB2: TestClient;

  test("maps asked on either node answer for both", async () => {
    onA = await login(A, "u1");
    onB1 = await login(B, "u1"); // the same uid on both nodes
    onB2 = await login(B, "u2");
    a1 = ((await A.result("getClientIdByUid", { uid: "u1" })) as string[]).find((id) => id.startsWith(A.nodeId))!;
    b1 = ((await B.result("getClientIdByUid", { uid: "u1" })) as string[]).find((id) => id.startsWith(B.nodeId))!;
    [b2] = (await B.result("getClientIdByUid", { uid: "u2" })) as string[];
    expect(await A.result("joinGroup", { uid: "u1", group: "room" })).toBe(2);
    expect(await A.result("joinGroup", { clientId: b2, group: "room" })).toBe(1);
    expect(await B.result("setSession", { clientId: a1, session: { on: "A" } })).toBe(true);

    for (const N of [A, B]) {
      expect(await N.result("getAllGroupClientIdCount")).toEqual({ room: 3 });
      expect(await N.result("getAllGroupUidCount")).toEqual({ room: 2 }); // u1 on two nodes counts once
      expect(sortedValues(await N.result("getAllGroupUidList"))).toEqual({ room: ["u1", "u2"] });
      expect(sortedValues(await N.result("getAllGroupClientIdList"))).toEqual({ room: [a1, b1, b2!].sort() });
      expect(await N.result("getClientSessionsByGroup", { group: "room" })).toEqual({ [a1]: { on: "A" }, [b1]: null, [b2!]: null });
      expect(Object.keys(await N.result("getAllClientSessions")).sort()).toEqual([a1, b1, b2!].sort());
      expect([...(await N.result("getAllClientIdList"))].sort()).toEqual([a1, b1, b2!].sort());
      expect(await N.result("getAllClientIdCount")).toBe(3);
    }
  }, T);

  test("sendToAll with a clientId list reaches each on its own node, minus exclude", async () => {
    expect(await A.result("sendToAll", { data: "listed", clientId: [a1, b2, b1], exclude: [b1] })).toEqual({ reached: 2, offline: [] });
    expect(await onA.next()).toBe("listed");
    expect(await onB2.next()).toBe("listed");
    expect(await onB1.nothingWithin(200)).toBe(true);
  }, T);

  test("--api-max-list is charged on the merged map", async () => {
    // 3 memberships fit 6; 7 do not.
    await A.result("joinGroup", { uid: "u1", group: "second" });
    await A.result("joinGroup", { uid: "u2", group: "second" });
    await A.result("joinGroup", { uid: "u2", group: "third" });
    const r = await A.api("getAllGroupClientIdList");
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("E_LIST_TOO_LARGE");
    // Counts are not lists of members: 3 groups fit; one entry per group is charged.
    expect(await A.result("getAllGroupClientIdCount")).toEqual({ room: 3, second: 3, third: 1 });
    for (const g of ["g4", "g5", "g6", "g7"]) await A.result("joinGroup", { clientId: b2, group: g });
    const counts = await A.api("getAllGroupClientIdCount");
    expect(counts.status).toBe(400);
    expect(counts.body.error.code).toBe("E_LIST_TOO_LARGE");
    for (const g of ["g4", "g5", "g6", "g7"]) await A.result("leaveGroup", { clientId: b2, group: g });
  }, T);

  test("a bad exclude beside a clientId list is refused before any node is asked", async () => {
    for (const exclude of ["abc", [7]]) {
      const r = await A.api("sendToAll", { data: "x", clientId: [b2], exclude });
      expect(r.status).toBe(400);
      expect(r.body.error.field).toStartWith("exclude");
    }
    expect(await onB2.nothingWithin(100)).toBe(true);
  }, T);

  test("a node's part over --cluster-max-reply is refused by that node, and the asker stays connected", async () => {
    const big = { blob: "x".repeat(3000) };
    expect(await A.result("setSession", { clientId: b1, session: big })).toBe(true);
    expect(await A.result("setSession", { clientId: b2, session: big })).toBe(true);
    const r = await A.api("getAllClientSessions");
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("E_LIST_TOO_LARGE");
    expect(r.body.error.message).toContain("--cluster-max-reply");
    // One session fits: the refusal is per answer, and A's Redis connection was never cut.
    expect(await A.result("setSession", { clientId: b2, session: {} })).toBe(true);
    expect(Object.keys(await A.result("getAllClientSessions")).sort()).toEqual([a1, b1, b2!].sort());
    expect(A.logs.lines.some((l) => l.event === "redis_disconnected")).toBe(false);
  }, T);

  test("destoryClient of another node's connection drops it there", async () => {
    expect(await A.result("destoryClient", { clientId: b2 })).toBe(true);
    expect((await onB2.closed).code).toBe(1006);
    await until(async () => (await A.result("isUidOnline", { uid: "u2" })) === false, "u2 offline", 5000);
    expect(await A.result("destoryClient", { clientId: b2 })).toBe(false);
  }, T);
});

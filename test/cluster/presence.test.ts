// Presence across a 3-node cluster: questions asked on one node answer for the whole cluster, and
// calls about one clientId run on the node that owns it, whichever node is asked.
import { beforeAll, expect, test } from "bun:test";
import { TestClient } from "../helpers.ts";
import { type RedisServer, describeRedis } from "../redis-server.ts";
import { type Node, clusterFixture, subscribed, uidChannel, until } from "./nodes.ts";

const T = 30_000;
const sorted = (v: unknown) => [...(v as string[])].sort();

describeRedis("cluster presence (3 nodes)", () => {
  const cluster = clusterFixture(["A", "B", "C"]);
  const { login } = cluster;
  let redis: RedisServer, A: Node, B: Node, C: Node;
  beforeAll(() => void ({ redis, nodes: [A, B, C] } = cluster));
  // uid → clientId, and clientId → its client
  const ids = new Map<string, string>();
  let anonymous: TestClient; // a connection on B that never logs in by itself

  /** The clientId of `uid`'s only connection on `node` (asked of that node). */
  async function clientIdOn(node: Node, uid: string): Promise<string> {
    const list = (await node.result("getClientIdByUid", { uid })) as string[];
    expect(list).toHaveLength(1);
    return list[0]!;
  }

  test("queries asked on A answer for the whole cluster", async () => {
    // A: pa1; B: pb1, pb2 (pb2 twice), one connection that never logs in; C: pc1.
    await login(A, "pa1");
    await login(B, "pb1");
    await login(B, "pb2");
    await login(B, "pb2");
    await login(C, "pc1");
    anonymous = cluster.track(await TestClient.connect(B));

    ids.set("pa1", await clientIdOn(A, "pa1"));
    ids.set("pb1", await clientIdOn(B, "pb1"));
    ids.set("pc1", await clientIdOn(C, "pc1"));
    const pb2 = (await B.result("getClientIdByUid", { uid: "pb2" })) as string[];
    expect(pb2).toHaveLength(2);

    expect(sorted(await A.result("getAllUidList"))).toEqual(["pa1", "pb1", "pb2", "pc1"]);
    expect(await A.result("getAllUidCount")).toBe(4);
    expect(await A.result("getAllClientCount")).toBe(6); // the anonymous connection counts
    expect(await B.result("getAllClientCount")).toBe(6);
    expect(await A.result("isUidOnline", { uid: "pc1" })).toBe(true);
    expect(await A.result("isUidOnline", { uid: "pb2" })).toBe(true);
    expect(await A.result("isUidOnline", { uid: "ghost" })).toBe(false);
    expect(sorted(await A.result("getClientIdByUid", { uid: "pb2" }))).toEqual([...pb2].sort());
    expect(await A.result("getClientIdByUid", { uid: "pc1" })).toEqual([ids.get("pc1")]);
    expect(await A.result("getClientIdByUid", { uid: "ghost" })).toEqual([]);

    // Groups spread over the nodes, joined through A.
    expect(await A.result("joinGroup", { clientId: ids.get("pb1"), group: "g1" })).toBe(1);
    expect(await A.result("joinGroup", { clientId: ids.get("pc1"), group: "g1" })).toBe(1);
    expect(await A.result("joinGroup", { clientId: ids.get("pa1"), group: "g1" })).toBe(1);
    expect(await A.result("joinGroup", { uid: "pb2", group: "g2" })).toBe(2); // uid form: every node
    expect(await A.result("joinGroup", { clientId: ids.get("pc1"), group: "g3" })).toBe(1);

    expect(sorted(await A.result("getClientIdListByGroup", { group: "g1" })))
      .toEqual(["pa1", "pb1", "pc1"].map((u) => ids.get(u)!).sort());
    expect(sorted(await A.result("getUidListByGroup", { group: "g1" }))).toEqual(["pa1", "pb1", "pc1"]);
    expect(await A.result("getUidListByGroup", { group: "g2" })).toEqual(["pb2"]); // merged, no duplicate
    expect(await A.result("getClientCountByGroup", { group: "g2" })).toBe(2);
    expect(sorted(await A.result("getAllGroupIdList"))).toEqual(["g1", "g2", "g3"]);
    expect(await A.result("isOnline", { clientId: ids.get("pc1") })).toBe(true);
    expect(await A.result("getUidByClientId", { clientId: ids.get("pc1") })).toBe("pc1");
  }, T);

  test("bindUid, setSession, getSession on a clientId owned by another node", async () => {
    const pc1 = ids.get("pc1")!;
    // Rebind C's connection from pc1 to pc1-new, asked on A.
    expect(await A.result("bindUid", { clientId: pc1, uid: "pc1-new" })).toBe(true);
    expect(await A.result("isUidOnline", { uid: "pc1" })).toBe(false);
    expect(await A.result("isUidOnline", { uid: "pc1-new" })).toBe(true);
    expect(await B.result("getUidByClientId", { clientId: pc1 })).toBe("pc1-new");
    // C subscribed the new uid's channel: a push from B reaches it.
    await subscribed(redis, uidChannel("pc1-new"), 1);
    expect(await B.result("sendToUid", { uid: "pc1-new", data: "rebound" })).toEqual({ reached: 1, offline: [] });

    expect(await B.result("setSession", { clientId: pc1, session: { role: "admin", n: 1 } })).toBe(true);
    expect(await A.result("getSession", { clientId: pc1 })).toEqual({ role: "admin", n: 1 });
    expect(await A.result("updateSession", { clientId: pc1, session: { n: 2, role: null } })).toBe(true);
    expect(await C.result("getSession", { clientId: pc1 })).toEqual({ n: 2 }); // the owner has it locally

    // An error on the owner comes back as that error.
    const missing = await A.api("getSession", { clientId: C.nodeId + "0000000fffff" });
    expect(missing.body.error?.code).toBe("E_NO_SUCH_CLIENT");
  }, T);

  test("bindUid asked on A logs in a connection on B that never sent its login frame", async () => {
    // clientIds are the node id + 12 hex digits of (slot use count, slot): no connection on B has
    // closed yet, so no slot is reused and the anonymous connection opened right after pb1, pb2
    // took the next slot — the next number after theirs.
    const onB = [ids.get("pb1")!, ...((await B.result("getClientIdByUid", { uid: "pb2" })) as string[])];
    const last = Math.max(...onB.map((id) => parseInt(id.slice(8), 16)));
    const anon = B.nodeId + (last + 1).toString(16).padStart(12, "0");
    expect(await A.result("isOnline", { clientId: anon })).toBe(true);
    expect(await A.result("getUidByClientId", { clientId: anon })).toBeNull();

    expect(await A.result("bindUid", { clientId: anon, uid: "bound-remotely" })).toBe(true);
    expect(await C.result("isUidOnline", { uid: "bound-remotely" })).toBe(true);
    await subscribed(redis, uidChannel("bound-remotely"), 1);
    expect(await C.result("sendToUid", { uid: "bound-remotely", data: "welcome aboard" })).toEqual({ reached: 1, offline: [] });
    expect(await anonymous.next()).toBe("welcome aboard");
  }, T);

  test("closeClient on a clientId owned by another node closes it there", async () => {
    const victim = await login(B, "victim");
    const id = await clientIdOn(B, "victim");
    const count = (await A.result("getAllClientCount")) as number;
    expect(await A.result("closeClient", { clientId: id, message: "bye", reason: "kicked" })).toBe(true);
    expect(await victim.next()).toBe("bye");
    expect(await victim.closed).toEqual({ code: 1000, reason: "kicked" });
    expect(await A.result("isUidOnline", { uid: "victim" })).toBe(false);
    await until(async () => (await A.result("getAllClientCount")) === count - 1, "client count to drop by one", 3000);
    // A second close finds nothing.
    expect(await C.result("closeClient", { clientId: id })).toBe(false);
  }, T);
});

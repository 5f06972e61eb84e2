// Cross-node delivery on a 3-node cluster (real subprocesses, one Redis): seed frames, every API
// send kind routed across nodes, per-publisher order, one offset sequence per stream cluster-wide,
// and the routing cost of a push to a uid (only the nodes holding it receive it).
import { beforeAll, expect, test } from "bun:test";
import type { TestClient } from "../helpers.ts";
import { type RedisServer, describeRedis } from "../redis-server.ts";
import { type Node, clusterFixture, numsub, uidChannel, groupChannel, closeAll } from "./nodes.ts";

const T = 30_000;

describeRedis("cluster delivery (3 nodes)", () => {
  // --rate-limit 0: the order test sends 200 frames right after the login frame (burst is 200).
  const cluster = clusterFixture(["A", "B", "C"], ["--rate-limit", "0"]);
  let redis: RedisServer, A: Node, B: Node, C: Node;
  beforeAll(() => void ({ redis, nodes: [A, B, C] } = cluster));

  // Nodes holding each uid (uids are unique per test). The seed login reply comes once the node is
  // subscribed to the uid's channel, so Redis counts every holder as soon as the reply arrived.
  const held = new Map<string, Set<string>>();
  async function login(node: Node, uid: string): Promise<TestClient> {
    const c = await cluster.login(node, uid);
    const nodes = held.get(uid) ?? new Set<string>();
    held.set(uid, nodes.add(node.nodeId));
    expect(await numsub(redis, uidChannel(uid))).toBe(nodes.size);
    return c;
  }

  async function clientIdOf(node: Node, uid: string): Promise<string> {
    const ids = (await node.result("getClientIdByUid", { uid })) as string[];
    expect(ids).toHaveLength(1);
    return ids[0]!;
  }

  test("seed X:msg and all:msg reach clients on other nodes", async () => {
    const a1 = await login(A, "a1");
    const b1 = await login(B, "b1");
    const c1 = await login(C, "c1");

    a1.send("b1:hello from A");
    expect(await b1.next()).toBe("hello from A");
    b1.send("c1:hello:from:B");
    expect(await c1.next()).toBe("hello:from:B");
    c1.send("a1:hello from C");
    expect(await a1.next()).toBe("hello from C");

    b1.send("all:everyone");
    for (const c of [a1, b1, c1]) expect(await c.next()).toBe("everyone");
    for (const c of [a1, b1, c1]) expect(await c.nothingWithin(200)).toBe(true);
    await closeAll(a1, b1, c1);
  }, T);

  test("API sendToUid on A reaches a uid held by B and C; offline lists a uid held nowhere", async () => {
    const u1 = await login(B, "multi");
    const u2 = await login(B, "multi");
    const u3 = await login(C, "multi");
    expect(await numsub(redis, uidChannel("multi"))).toBe(2);

    const r = await A.result("sendToUid", { uid: ["multi", "nobody-anywhere"], data: { n: 1 } });
    expect(r).toEqual({ reached: 3, offline: ["nobody-anywhere"] });
    for (const c of [u1, u2, u3]) expect(await c.next()).toBe('{"n":1}');

    // The asking node holds the uid too: its own connection counts once, the others still count.
    const u4 = await login(A, "multi");
    expect(await numsub(redis, uidChannel("multi"))).toBe(3);
    expect(await A.result("sendToUid", { uid: "multi", data: "four" })).toEqual({ reached: 4, offline: [] });
    expect(await C.result("sendToUid", { uid: "multi", data: "four again" })).toEqual({ reached: 4, offline: [] });
    for (const c of [u1, u2, u3, u4]) {
      expect(await c.next()).toBe("four");
      expect(await c.next()).toBe("four again");
    }

    // A pushgate.v1 `send` from a client on A: the reply counts every node's connections.
    const { c: j } = await cluster.jsonLogin(A, "json-sender");
    j.send({ type: "send", id: 1, to: "uid:multi", data: "via send" });
    expect(await j.next("reply", 5000)).toEqual({ type: "reply", id: 1, delivered: 4 });
    j.send({ type: "send", id: 2, to: "uid:nobody-anywhere", data: "x" });
    expect(await j.next("reply", 5000)).toEqual({
      type: "reply", id: 2, error: { code: "E_OFFLINE", message: "uid nobody-anywhere has no connection" },
    });
    for (const c of [u1, u2, u3, u4]) expect(await c.next()).toBe("via send");
    await closeAll(u1, u2, u3, u4, j);
  }, T);

  test("sendToClient on A routes a clientId by its node prefix (owned by B)", async () => {
    const b = await login(B, "direct-b");
    const c = await login(C, "direct-c");
    const bId = await clientIdOf(B, "direct-b");
    const cId = await clientIdOf(C, "direct-c");
    expect(bId.slice(0, 8)).toBe(B.nodeId);

    expect(await A.result("sendToClient", { clientId: bId, data: "just you" })).toEqual({ reached: 1, offline: [] });
    expect(await b.next()).toBe("just you");
    expect(await c.nothingWithin(200)).toBe(true);

    // Several owners in one call; an unknown clientId with B's prefix is offline.
    const ghost = B.nodeId + "ffffffffffff";
    const r = await A.result("sendToClient", { clientId: [bId, cId, ghost], data: "both" });
    expect(r.reached).toBe(2);
    expect(r.offline).toEqual([ghost]);
    expect(await b.next()).toBe("both");
    expect(await c.next()).toBe("both");
    await closeAll(b, c);
  }, T);

  test("sendToGroup reaches members on several nodes, joined through nodes that do not own them", async () => {
    const ga = await login(A, "ga");
    const gb = await login(B, "gb");
    const gc = await login(C, "gc");
    const idA = await clientIdOf(A, "ga");
    const idB = await clientIdOf(B, "gb");
    const idC = await clientIdOf(C, "gc");

    // Each join is asked of a node that does not own the clientId.
    expect(await C.result("joinGroup", { clientId: idA, group: "room" })).toBe(1);
    expect(await A.result("joinGroup", { clientId: idB, group: "room" })).toBe(1);
    expect(await B.result("joinGroup", { clientId: idC, group: "room" })).toBe(1);
    expect(await numsub(redis, groupChannel("room"))).toBe(3);

    expect(await A.result("sendToGroup", { group: "room", data: "to the room" })).toEqual({ reached: 3 });
    for (const c of [ga, gb, gc]) expect(await c.next()).toBe("to the room");

    // exclude names a member on another node.
    expect(await C.result("sendToGroup", { group: "room", data: "not gb", exclude: [idB] })).toEqual({ reached: 2 });
    expect(await ga.next()).toBe("not gb");
    expect(await gc.next()).toBe("not gb");
    expect(await gb.nothingWithin(250)).toBe(true);
    await closeAll(ga, gb, gc);
  }, T);

  test("sendToAll with exclude naming a clientId on another node: that one gets nothing", async () => {
    const xa = await login(A, "xa");
    const xb = await login(B, "xb");
    const xc = await login(C, "xc");
    const idB = await clientIdOf(B, "xb");
    const total = (await A.result("getAllClientCount")) as number;
    expect(total).toBeGreaterThanOrEqual(3);

    const r = await A.result("sendToAll", { data: "broadcast", exclude: [idB] });
    expect(r).toEqual({ reached: total - 1 });
    expect(await xa.next()).toBe("broadcast");
    expect(await xc.next()).toBe("broadcast");
    expect(await xb.nothingWithin(250)).toBe(true);
    await closeAll(xa, xb, xc);
  }, T);

  test("per-publisher order: 200 X:n frames from a client on A arrive in order on B", async () => {
    const sender = await login(A, "order-src");
    const receiver = await login(B, "order-dst");
    for (let i = 1; i <= 200; i++) sender.send(`order-dst:${i}`);
    const got: string[] = [];
    for (let i = 1; i <= 200; i++) got.push(await receiver.next(5000));
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => String(i + 1)));
    expect(await receiver.nothingWithin(200)).toBe(true);
    await closeAll(sender, receiver);
  }, T);

  test("a pushgate.v1 client on B sees one offset sequence for its stream, whichever node pushes", async () => {
    const { c: j, welcome } = await cluster.jsonLogin(B, "streamer");
    const pos = (welcome.streams as Array<{ stream: string; epoch: string; offset: number }>).find((s) => s.stream === "uid:streamer")!;
    expect(pos.offset).toBe(0);
    expect(await numsub(redis, uidChannel("streamer"))).toBe(1);
    const seedOnC = await login(C, "streamer-src");

    expect((await A.result("sendToUid", { uid: "streamer", data: "from A" })).reached).toBe(1);
    expect((await C.result("sendToUid", { uid: "streamer", data: { from: "C" } })).reached).toBe(1);
    expect((await B.result("sendToUid", { uid: "streamer", data: "from B" })).reached).toBe(1);
    seedOnC.send("streamer:seed from C");

    const pushes = [];
    for (let i = 0; i < 4; i++) pushes.push(await j.next("push", 5000));
    expect(pushes.map((p) => [p.stream, p.epoch, p.offset, p.data])).toEqual([
      ["uid:streamer", pos.epoch, 1, "from A"],
      ["uid:streamer", pos.epoch, 2, { from: "C" }],
      ["uid:streamer", pos.epoch, 3, "from B"],
      ["uid:streamer", pos.epoch, 4, "seed from C"],
    ]);
    // Redis holds the same position.
    expect(await redis.command("HMGET", ["pushgate:m:uid:streamer", "e", "o"])).toEqual([pos.epoch, "4"]);
    await closeAll(j, seedOnC);
  }, T);

  test("routing cost: a push to a uid held only by B is not received by C (GatewayWorker#19)", async () => {
    const only = await login(B, "only-b");
    expect(await numsub(redis, uidChannel("only-b"))).toBe(1);
    const pub = 'pushgate_publishes_total{kind="uid"}';
    const out = "pushgate_frames_out_total";
    const read = async () => ({
      aPub: await A.metric(pub), cPub: await C.metric(pub), bOut: await B.metric(out), cOut: await C.metric(out),
    });
    const before = await read();

    for (let i = 0; i < 20; i++) expect((await A.result("sendToUid", { uid: "only-b", data: `m${i}` })).reached).toBe(1);
    for (let i = 0; i < 20; i++) expect(await only.next()).toBe(`m${i}`);

    const after = await read();
    expect(after.aPub - before.aPub).toBe(20); // counted once, on the origin
    expect(after.bOut - before.bOut).toBe(20); // delivered on B
    expect(after.cOut - before.cOut).toBe(0); // C never saw them
    expect(after.cPub - before.cPub).toBe(0);
    // Redis published to exactly one node: PUBSUB NUMSUB is still 1 after the pushes.
    expect(await numsub(redis, uidChannel("only-b"))).toBe(1);
    await closeAll(only);
  }, T);
});

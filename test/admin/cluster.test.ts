// /admin on a cluster (two nodes in one process, through a Redis this test owns): one node's
// stats list every node with its own figures and events, uids are counted distinct over the
// nodes, and lookups find a connection on the other node (by uid, and by clientId on its owner).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Pushgate, createPushgate } from "../../src/server.ts";
import { TestClient, api, waitFor } from "../helpers.ts";
import { RedisServer, describeRedis } from "../redis-server.ts";

const KEY = "cluster-admin-key";
const auth = { authorization: `Bearer ${KEY}` };

async function admin(pg: Pushgate, path: string): Promise<any> {
  const res = await fetch(pg.url + path, { headers: auth });
  expect(res.status).toBe(200);
  return ((await res.json()) as { result: unknown }).result;
}

describeRedis("admin dashboard data on a cluster", () => {
  let redis: RedisServer;
  let a: Pushgate;
  let b: Pushgate;
  beforeAll(async () => {
    redis = await RedisServer.start();
    const o = { port: 0, host: "127.0.0.1", logLevel: "silent" as const, redisUrl: redis.url, apiKey: KEY };
    [a, b] = await Promise.all([createPushgate(o), createPushgate(o)]);
  });
  afterAll(async () => {
    await a?.shutdown();
    await b?.shutdown();
    await redis?.stop();
  });

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
    await using small = await createPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", redisUrl: redis.url, apiKey: KEY, apiMaxList: 2 });
    let t: any;
    await waitFor(async () => {
      t = await admin(small, "/admin/api/stats");
      return t.nodes.length === 3;
    }, 5000, "three nodes in the stats");
    expect(t.uids).toBeNull();
    expect(t.uidsError).toContain("more than --api-max-list (2)");

    // A clientId of a node that is not in the cluster: no connection, no error.
    const gone = await admin(a, "/admin/api/lookup?clientId=0000abcd000001000000");
    expect(gone).toMatchObject({ count: 0, connections: [], failures: [] });
    void [onA, onB, onlyB];
  });
});

// Redis's connections dropped while pushes are in flight (CLIENT KILL): a push whose script was
// written may have run, so it is answered as unknown (E_CLUSTER_TIMEOUT) and never delivered a
// second time from the node's own history; only a push never sent is delivered locally
// (E_CLUSTER_UNAVAILABLE). And a uid's cluster-wide count written while Redis was stopped is
// written again when it answers: a uid whose connection closed meanwhile may log in again.
import { beforeAll, expect, test } from "bun:test";
import { TestClient } from "../helpers.ts";
import { type RedisServer, describeRedis } from "../redis-server.ts";
import { type Node, clusterFixture, until } from "../cluster/nodes.ts";

describeRedis("chaos: Redis connections dropped under load", () => {
  const cluster = clusterFixture(["A"], ["--max-connections-per-uid", "1", "--cluster-timeout", "500ms", "--presence-ttl", "1s"]);
  let redis: RedisServer, A: Node;
  beforeAll(() => void ({ redis, nodes: [A] } = cluster));

  test("pushes in flight when the command connection is killed: each delivered at most once, every answer truthful", async () => {
    const r = await cluster.login(A, "drop-r");
    const seen = new Map<string, number>();
    let done = false;
    const reader = (async () => {
      while (!done || !(await r.nothingWithin(300))) {
        const m = await r.next(500).catch(() => null);
        if (m !== null) seen.set(m, (seen.get(m) ?? 0) + 1);
      }
    })();
    const answers: Array<{ data: string; result: any }> = [];
    let n = 0;
    const send = async () => {
      const calls = Array.from({ length: 200 }, () => ({ method: "sendToUid", params: { uid: "drop-r", data: `m${n++}` } }));
      const b = await A.api("batch", { calls });
      (b.body.result as Array<{ result: any }>).forEach((x, i) => answers.push({ data: calls[i]!.params.data, result: x.result }));
    };
    const killer = (async () => {
      await Bun.sleep(60);
      await redis.command("CLIENT", ["KILL", "TYPE", "normal", "SKIPME", "yes"]).catch(() => {});
    })();
    const t0 = performance.now();
    while (performance.now() - t0 < 600) await send();
    await killer;
    await until(async () => (await A.result("sendToUid", { uid: "drop-r", data: "probe" })).error === undefined || undefined, "Redis back", 10_000, 100);
    done = true;
    await reader;
    const twice = [...seen].filter(([, c]) => c > 1).map(([m]) => m);
    expect(twice).toEqual([]);
    const codes = new Set(answers.map((a) => a.result.error?.code ?? "ok"));
    for (const c of codes) expect(["ok", "E_CLUSTER_TIMEOUT", "E_CLUSTER_UNAVAILABLE"]).toContain(c);
    // Reported reached 1 → arrived; "not sent" → delivered here once; unknown → at most once.
    for (const a of answers) {
      if (a.result.reached === 1) expect(seen.get(a.data)).toBe(1);
      if (a.result.error?.code === "E_CLUSTER_TIMEOUT") expect(a.result.timedOut).toEqual(["drop-r"]);
    }
    console.log(`[connection-drop] ${answers.length} pushes, answers ${JSON.stringify(Object.fromEntries([...codes].map((c) => [c, answers.filter((a) => (a.result.error?.code ?? "ok") === c).length])))}`);
  }, 30_000);

  test("a uid whose connection closed while Redis was stopped may log in again once it answers", async () => {
    const first = await cluster.login(A, "paused-u");
    redis.pause();
    try {
      // Past --cluster-timeout a heartbeat went unanswered: the node marks Redis as not
      // answering, so the count after this close cannot be written now.
      await A.logs.nth("redis_not_answering", 1, 5000);
      first.close();
      await first.closed;
      await Bun.sleep(200);
    } finally {
      redis.resume();
    }
    // Only once Redis answers again is the login checked cluster-wide (before, this node decides alone).
    await A.logs.nth("redis_answering", 1, 5000);
    await Bun.sleep(200); // the counts written again on answering
    // The first login after it must get in (a refused one would also rewrite the count: only the first attempt tells).
    const again = await TestClient.connect(A);
    again.send("paused-u");
    expect(await again.next(3000)).toBe("login success, your uid is paused-u");
    cluster.track(again);
  }, 20_000);
});

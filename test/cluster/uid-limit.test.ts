// --max-connections-per-uid counts every node together: a login past the limit is closed with
// 1008 E_UID_CONNECTION_LIMIT whichever node it reaches, concurrent logins never pass it, a
// closed connection frees its place, and a node that dies stops counting once it misses
// --presence-ttl.
import { expect, test } from "bun:test";
import { TestClient } from "../helpers.ts";
import { JsonClient } from "../json-client.ts";
import { describeRedis } from "../redis-server.ts";
import { clusterFixture, until } from "./nodes.ts";

/** Connects and sends the seed login; resolves "ok" or the close (code, reason). */
async function tryLogin(node: { port: number }, uid: string): Promise<{ c: TestClient; outcome: string }> {
  const c = await TestClient.connect(node);
  c.send(uid);
  const outcome = await Promise.race([
    c.next(3000).then((m) => (m === `login success, your uid is ${uid}` ? "ok" : `reply ${m}`)),
    c.closed.then((x) => `closed ${x.code} ${x.reason}`),
  ]).catch((e) => `error ${String(e)}`);
  return { c, outcome };
}

describeRedis("cluster-wide --max-connections-per-uid", () => {
  const cluster = clusterFixture(["A", "B", "C"], ["--max-connections-per-uid", "2", "--presence-ttl", "1s"]);

  test("a third connection of a uid is refused on any node, seed or pushgate.v1; a close frees its place", async () => {
    const [A, B] = cluster.nodes;
    const a1 = cluster.track((await tryLogin(A, "lim")).c);
    const b1 = await tryLogin(B, "lim");
    cluster.track(b1.c);
    expect(b1.outcome).toBe("ok");
    const a2 = await tryLogin(A, "lim");
    cluster.track(a2.c);
    expect(a2.outcome).toMatch(/^closed 1008 .*E_UID_CONNECTION_LIMIT/);
    const v1 = cluster.track(await JsonClient.connect(B));
    v1.send({ type: "auth", uid: "lim" });
    const closed = await v1.closedWithin(3000);
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain("E_UID_CONNECTION_LIMIT");
    a1.close();
    await a1.closed;
    // The freed place is written back within the node's next turn.
    const again = await until(async () => {
      const t = await tryLogin(B, "lim");
      cluster.track(t.c);
      return t.outcome === "ok" ? t : undefined;
    }, "a login after the close", 3000, 50);
    expect(again.outcome).toBe("ok");
  });

  test("concurrent logins over two nodes: exactly the limit gets in", async () => {
    const [A, B] = cluster.nodes;
    const tries = await Promise.all([A, B, A, B, A, B].map((n) => tryLogin(n, "race")));
    for (const t of tries) cluster.track(t.c);
    const outcomes = tries.map((t) => t.outcome);
    // The outcomes are in the failure message (a flake seen once under a full CI run: 1 ok).
    expect({ ok: outcomes.filter((o) => o === "ok").length, outcomes }).toMatchObject({ ok: 2 });
    expect(outcomes.filter((o) => /^closed 1008 .*E_UID_CONNECTION_LIMIT/.test(o)).length).toBe(4);
  });

  test("a node that dies stops counting once it misses --presence-ttl", async () => {
    const [A, B, C] = cluster.nodes;
    for (const node of [C, C]) expect((await tryLogin(node, "gone")).outcome).toBe("ok");
    expect((await tryLogin(A, "gone")).outcome).toMatch(/E_UID_CONNECTION_LIMIT/);
    C.proc.kill("SIGKILL");
    await C.proc.exited;
    const t = await until(async () => {
      const x = await tryLogin(B, "gone");
      cluster.track(x.c);
      return x.outcome === "ok" ? x : undefined;
    }, "a login once the dead node stopped counting", 8000, 200);
    expect(t.outcome).toBe("ok");
  }, 20_000);
});

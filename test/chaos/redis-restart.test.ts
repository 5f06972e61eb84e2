// Chaos: Redis is SIGKILLed and restarted empty while API pushes flow through both nodes of a
// cluster to pushgate.v1 clients (the SDK) on both. Every push is accounted for: one the API
// answered as reaching its target (reached > 0, no error) arrived, exactly once and in order; one
// that did not arrive was reported to the caller (result.error, or reached 0) — none silent — and
// each client was told of the break by a new epoch on its streams.
import { beforeAll, expect, test } from "bun:test";
import { type RedisServer, describeRedis } from "../redis-server.ts";
import { type Node, clusterFixture, subscribed, uidChannel, until } from "../cluster/nodes.ts";
import { Ledger, Receiver, type Sent, audit, complete } from "./ledger.ts";

const T = 30_000;
const PACE_MS = 10; // between API calls (one in flight at a time, so each stream keeps its order)

describeRedis("chaos: Redis restarted while pushes flow", () => {
  const cluster = clusterFixture(["A", "B"], ["--cluster-timeout", "500ms"]);
  let redis: RedisServer, A: Node, B: Node;
  const receivers: Receiver[] = [];
  beforeAll(() => void ({ redis, nodes: [A, B] } = cluster));

  test("every accepted push is delivered, every undelivered one was reported", async () => {
    const on = new Map<Receiver, Node>();
    for (const [node, uids] of [[A, ["ua0", "ua1"]], [B, ["ub0", "ub1"]]] as const) {
      for (const uid of uids) {
        const r = cluster.track(new Receiver(uid, [`uid:${uid}`, "all"], { url: `ws://127.0.0.1:${node.port}/`, uid }));
        receivers.push(r);
        on.set(r, node);
        await r.client.connect();
        await subscribed(redis, uidChannel(uid), 1);
      }
    }
    const streams = [...receivers.map((r) => r.streams[0]!), "all"];
    const nodes = [A, B];

    // Sequential pushes, alternating the node asked, round robin over the streams.
    const ledger = new Ledger();
    const via = new Map<Sent, Node>();
    let publishing = true;
    const publisher = (async () => {
      for (let i = 0; publishing; i++) {
        const node = nodes[i % 2]!;
        via.set(await ledger.push(node.url, streams[i % streams.length]!), node);
        await Bun.sleep(PACE_MS);
      }
    })();
    /** A push from one node to a uid on the other that the API answered as delivered. */
    const crossNodeOkAfter = (from: number) => [...via].some(([s, node], i) => i >= from && s.stream !== "all" &&
      s.outcome === "accepted" && (s.result?.reached ?? 0) > 0 && node !== on.get(receivers.find((r) => r.streams[0] === s.stream)!));

    await until(() => crossNodeOkAfter(0), "cross-node pushes before the crash", 5000);
    await Bun.sleep(500);
    await redis.kill();
    await A.logs.nth("redis_disconnected", 1, 5000);
    await B.logs.nth("redis_disconnected", 1, 5000);
    await Bun.sleep(500); // pushes during the outage
    const restartedAt = via.size;
    await redis.restart();
    await A.logs.nth("redis_reconnected", 1, 10_000);
    await B.logs.nth("redis_reconnected", 1, 10_000);
    await until(() => crossNodeOkAfter(restartedAt), "cross-node pushes after the restart", 10_000);
    await Bun.sleep(500);
    publishing = false;
    await publisher;

    // Had to arrive: a uid push the API said reached its connection (one per uid), with no
    // error; a broadcast that reached all four clients, with no error.
    const mustArrive = (s: Sent) => s.outcome === "accepted" && (s.result?.reached ?? 0) >= (s.stream === "all" ? receivers.length : 1);
    await until(() => complete(ledger, receivers, mustArrive), "every push that had to arrive", 5000, 50).catch(() => {});
    const result = audit(ledger, receivers, mustArrive);
    const tally = ledger.tally();
    // A uid push answered "reached nowhere" without an error must really have reached nowhere.
    const untrueOffline = [...via.keys()].filter((s) => s.stream !== "all" && s.outcome === "accepted" && s.result?.reached === 0 &&
      receivers.find((r) => r.streams[0] === s.stream)!.got.get(s.stream)?.includes(s.n));
    const codes = new Map<string, number>();
    for (const s of via.keys()) if (s.result?.error) codes.set(s.result.error.code, (codes.get(s.result.error.code) ?? 0) + 1);
    const offline = [...via.keys()].filter((s) => s.outcome === "accepted" && s.result?.reached === 0).length;
    console.log(`[redis-restart] pushes ${JSON.stringify(tally)} (errors ${JSON.stringify(Object.fromEntries(codes))}, ${offline} answered reached 0); not arrived and reported: ${result.lostReported}; epochs per client: ${receivers.map((r) => `${r.name} ${r.epochs.get(r.streams[0]!)?.length}`).join(", ")}`);

    expect(result.missing).toEqual([]); // none silent
    expect(result.disorder).toEqual([]);
    expect(result.phantom).toEqual([]);
    expect(untrueOffline.map((s) => `${s.stream}#${s.n}`)).toEqual([]);
    expect(tally.unknown + tally.refused).toBe(0); // the nodes answered every call
    expect(tally.reported).toBeGreaterThan(0); // the outage was seen, and said so
    // The clients were told: each saw its uid stream change epoch (Redis's history was lost).
    for (const r of receivers) expect(r.epochs.get(r.streams[0]!)!.length).toBeGreaterThanOrEqual(2);
    // The nodes stayed up: no client lost its connection.
    expect(receivers.map((r) => r.disconnects)).toEqual([0, 0, 0, 0]);
  }, T);
});

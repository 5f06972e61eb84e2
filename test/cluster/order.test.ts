// One stream, pushed from two nodes at once, read on one of them: a pushgate.v1 connection must get
// the stream's offsets in order (1, 2, 3, …), as docs/protocol.md promises, whichever node placed
// each push. The SDK's duplicate guard drops any push at or below its last offset, so a push that
// overtakes an earlier one makes the SDK lose the earlier one.
import { beforeAll, expect, test } from "bun:test";
import { PushgateClient } from "../../src/client/index.ts";
import { type RedisServer, describeRedis } from "../redis-server.ts";
import { type Node, clusterFixture, subscribed, uidChannel, until } from "./nodes.ts";

const T = 30_000;
const WORKERS = 20;
const PER_WORKER = 40;
const TOTAL = WORKERS * PER_WORKER;

describeRedis("cluster: per-stream order when several nodes push", () => {
  const cluster = clusterFixture(["A", "B"]);
  let redis: RedisServer, A: Node, B: Node;
  beforeAll(() => void ({ redis, nodes: [A, B] } = cluster));

  /** TOTAL sendToUid calls, WORKERS at a time, each worker alternating between A and B. */
  async function pushFromBoth(uid: string): Promise<void> {
    const worker = async (w: number) => {
      for (let i = 0; i < PER_WORKER; i++) {
        const node = (w + i) % 2 === 0 ? A : B;
        const r = await node.result("sendToUid", { uid, data: `${node.name}${w}-${i}` });
        expect(r.reached).toBe(1);
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  }

  function summary(offsets: readonly number[]) {
    const inversions: Array<[number, number]> = [];
    for (let i = 1; i < offsets.length; i++) if (offsets[i]! < offsets[i - 1]!) inversions.push([offsets[i - 1]!, offsets[i]!]);
    return { received: offsets.length, outOfOrder: inversions.length, firstInversions: inversions.slice(0, 5) };
  }

  test("a pushgate.v1 connection on B gets offsets 1..N in order while A and B both push", async () => {
    const { c: j } = await cluster.jsonLogin(B, "ordered");
    await subscribed(redis, uidChannel("ordered"), 1);

    await pushFromBoth("ordered");
    const pushes = () => j.received.filter((f) => f.type === "push");
    await until(() => pushes().length >= TOTAL, `${TOTAL} pushes`, 5000);
    const offsets = pushes().map((f) => f.offset as number);
    console.log(`[order] raw client: ${JSON.stringify(summary(offsets))}`);
    expect(summary(offsets)).toEqual({ received: TOTAL, outOfOrder: 0, firstInversions: [] });
  }, T);

  test("the SDK (PushgateClient) on B loses no message while A and B both push", async () => {
    const sdk = new PushgateClient({ url: `ws://127.0.0.1:${B.port}/`, uid: "sdk-ordered" });
    cluster.track(sdk);
    const got: number[] = [];
    sdk.on("message", (_data, meta) => void got.push(meta.offset ?? -1));
    await sdk.connect();
    await subscribed(redis, uidChannel("sdk-ordered"), 1);

    await pushFromBoth("sdk-ordered");
    // Everything was delivered once every API call returned (B answers A's counts after delivering).
    await until(() => got.length >= TOTAL, `${TOTAL} messages in the SDK`, 3000).catch(() => {});
    console.log(`[order] SDK: ${got.length} of ${TOTAL} messages; position ${JSON.stringify(sdk.positions()["uid:sdk-ordered"])}`);
    expect(got.length).toBe(TOTAL);
    expect(sdk.positions()["uid:sdk-ordered"]?.offset).toBe(TOTAL);
  }, T);
});

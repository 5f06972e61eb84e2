// In-process online / offline hooks on a cluster (two nodes in one process over a real Redis):
// each transition is told once across the nodes — online on the node whose login made it (a
// second node logging the same uid in tells nothing), offline once after the debounce — and a
// reload onto the other node within the debounce is neither.
import { beforeAll, expect, test } from "bun:test";
import type { Hooks } from "../../src/index.ts";
import type { Pushgate } from "../../src/server.ts";
import { TestClient } from "../helpers.ts";
import { inProcessCluster, until } from "../cluster/nodes.ts";
import { describeRedis } from "../redis-server.ts";

describeRedis("in-process presence hooks on a cluster", () => {
  const told: string[] = [];
  const hooksOf = (name: string): Hooks => ({
    online: ({ uid }) => void told.push(`${name} online ${uid}`),
    offline: ({ uid }) => void told.push(`${name} offline ${uid}`),
  });
  const cluster = inProcessCluster(["a", "b"], { webhookDebounceMs: 300, presenceTtlMs: 2000 }, (name) => ({ hooks: hooksOf(name) }));
  let a: Pushgate, b: Pushgate;
  beforeAll(() => void ({ nodes: [a, b] } = cluster));

  test("online once (on the node whose login made it), offline once; a reload onto the other node is neither", async () => {
    const x = await TestClient.login(a, "ip1");
    await until(() => told.length === 1 || undefined, "online", 3000);
    const y = await TestClient.login(b, "ip1");
    await Bun.sleep(300);
    expect(told).toEqual(["a online ip1"]);
    x.close();
    await x.closed;
    y.close();
    await y.closed;
    const z = await TestClient.login(a, "ip1"); // back within the debounce
    await Bun.sleep(1200);
    expect(told).toEqual(["a online ip1"]);
    z.close();
    await z.closed;
    await until(() => told.length === 2 || undefined, "offline", 3000);
    expect(told[1]).toMatch(/^[ab] offline ip1$/);
    await Bun.sleep(800);
    expect(told).toHaveLength(2);
  });
});

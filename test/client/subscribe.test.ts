// The SDK's client.subscribe(group): its own message events; after a forced disconnect the
// client subscribes again and recovers what the group got meanwhile (no loss, no duplicate);
// a refused group rejects `ready` and emits `error`; unsubscribe() stops its pushes.
import { afterAll, afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PushgateError, type Subscription, type SubscriptionEvents } from "../../src/client/index.ts";
import type { Pushgate } from "../../src/server.ts";
import { api, startTestServer, waitFor } from "../helpers.ts";
import { Clients, nextEvent, wsUrl } from "./util.ts";

const dir = mkdtempSync(join(tmpdir(), "pushgate-sdk-subscribe-"));
const rules = join(dir, "rules.json");
writeFileSync(rules, JSON.stringify({ channels: [{ match: "room-*", subscribe: "public" }] }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const clients = new Clients();

/** The first argument of a subscription's next `event`, or a rejection after `ms`. */
function nextSubEvent<K extends keyof SubscriptionEvents>(sub: Subscription, event: K, ms = 3000): Promise<Parameters<SubscriptionEvents[K]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${String(event)}" within ${ms} ms`)), ms);
    sub.once(event, ((a: Parameters<SubscriptionEvents[K]>[0]) => {
      clearTimeout(timer);
      resolve(a);
    }) as SubscriptionEvents[K]);
  });
}
const servers: Pushgate[] = [];
afterEach(async () => {
  clients.closeAll();
  for (const s of servers.splice(0)) await s.shutdown();
});

test("subscribe, a forced disconnect, resubscribe with recovery: every group message once, in order", async () => {
  const pg = startTestServer({ channelRules: rules });
  servers.push(pg);
  const c = clients.make({ url: wsUrl(pg), uid: "sdk1", reconnect: { minDelayMs: 10, maxDelayMs: 20 } });
  await c.connect();
  const sub = c.subscribe("room-s");
  expect(c.subscribe("room-s")).toBe(sub);
  const got: unknown[] = [];
  sub.on("message", (data) => got.push(data));
  const first = await sub.ready;
  expect(first).toMatchObject({ group: "room-s", stream: "group:room-s", offset: 0 });
  await api(pg, "sendToGroup", { group: "room-s", data: "m1" });
  await waitFor(() => got.length === 1);
  // Forced disconnect: the server closes the connection; two messages while it is away.
  const clientId = (await api(pg, "getClientIdByUid", { uid: "sdk1" })).body.result[0];
  const back = nextEvent(c, "connected", 5000);
  const resubscribed = nextSubEvent(sub, "subscribed", 5000); // before the close: the reconnect may be quick
  await api(pg, "closeClient", { clientId });
  await api(pg, "sendToGroup", { group: "room-s", data: "m2" });
  await api(pg, "sendToGroup", { group: "room-s", data: "m3" });
  await back;
  const again = await resubscribed;
  expect(again.group).toBe("room-s");
  await waitFor(() => got.length === 3);
  await api(pg, "sendToGroup", { group: "room-s", data: "m4" });
  await waitFor(() => got.length === 4);
  expect(got).toEqual(["m1", "m2", "m3", "m4"]);
  // unsubscribe: no more pushes for it.
  await sub.unsubscribe();
  expect(sub.state).toBe("closed");
  expect((await api(pg, "sendToGroup", { group: "room-s", data: "m5" })).body.result.reached).toBe(0);
});

test("a group no rule allows: ready rejects with E_FORBIDDEN and the subscription emits error", async () => {
  const pg = startTestServer({ channelRules: rules });
  servers.push(pg);
  const c = clients.make({ url: wsUrl(pg), uid: "sdk2" });
  await c.connect();
  const sub = c.subscribe("secret");
  const errored = nextSubEvent(sub, "error", 3000);
  const e = await sub.ready.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(PushgateError);
  expect((e as PushgateError).code).toBe("E_FORBIDDEN");
  expect((await errored).code).toBe("E_FORBIDDEN");
  expect(sub.state).toBe("closed");
});

test("after unsubscribe the group's position is forgotten: a later subscribe starts afresh (no replay of what it missed while away)", async () => {
  const pg = startTestServer({ channelRules: rules, maxRecoverStreams: 4 });
  servers.push(pg);
  const c = clients.make({ url: wsUrl(pg), uid: "sdk3", reconnect: { minDelayMs: 10, maxDelayMs: 20 } });
  await c.connect();
  for (const g of ["room-a", "room-b", "room-c", "room-d", "room-e"]) {
    const s = c.subscribe(g);
    await s.ready;
    await api(pg, "sendToGroup", { group: g, data: `${g}-1` });
    await waitFor(() => c.positions()[`group:${g}`]?.offset === 1);
    await s.unsubscribe();
  }
  await api(pg, "sendToGroup", { group: "room-a", data: "while-away" });
  const again = c.subscribe("room-a");
  const got: unknown[] = [];
  again.on("message", (d) => got.push(d));
  await again.ready;
  await Bun.sleep(100);
  expect(got).toEqual([]);
  // A reconnect still works: left groups are not sent as recover (--max-recover-streams 4).
  const clientId = (await api(pg, "getClientIdByUid", { uid: "sdk3" })).body.result[0];
  const back = nextEvent(c, "connected", 5000);
  const resubscribed = nextSubEvent(again, "subscribed", 5000);
  await api(pg, "closeClient", { clientId });
  await back;
  await resubscribed;
});

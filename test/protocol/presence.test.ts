// Group presence on one node (--channel-rules "presence": true): join/leave frames to the group's
// pushgate.v1 members exactly once per transition (a uid's first connection in the group / its
// last one gone; a second connection of the same uid is neither), none with "joinLeave": false;
// getPresence lists members with their public info; getUidCountByGroup counts distinct uids.
import { afterAll, afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PushgateClient } from "../../src/client/index.ts";
import type { Pushgate } from "../../src/server.ts";
import { api, metricValue, metrics, startTestServer, waitFor } from "../helpers.ts";
import { JsonClient } from "../json-client.ts";

const dir = mkdtempSync(join(tmpdir(), "pushgate-presence-"));
const rules = join(dir, "rules.json");
writeFileSync(rules, JSON.stringify({ channels: [
  { match: "chat-*", subscribe: "public", presence: true },
  { match: "big-*", subscribe: "public", presence: true, joinLeave: false },
  { match: "staff", presence: true },
] }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const started: Pushgate[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.shutdown();
});

async function member(pg: Pushgate, uid: string, group: string): Promise<JsonClient> {
  const c = await JsonClient.connect(pg);
  c.send({ type: "auth", uid });
  await c.next("welcome");
  c.send({ type: "subscribe", id: 1, group });
  await c.next("reply");
  return c;
}

test("join and leave once per uid transition; a second connection of a uid is neither; the members are told", async () => {
  const pg = startTestServer({ channelRules: rules });
  started.push(pg);
  const watcher = await member(pg, "w", "chat-1");
  expect(await watcher.next("presence")).toEqual({ type: "presence", group: "chat-1", event: "join", uid: "w" }); // its own join
  const a1 = await member(pg, "a", "chat-1");
  expect(await watcher.next("presence")).toMatchObject({ event: "join", uid: "a" });
  const a2 = await member(pg, "a", "chat-1"); // same uid again: no frame
  a1.close();
  await a1.closedWithin();
  // Still there through a2: no leave yet.
  expect((await api(pg, "getUidCountByGroup", { group: "chat-1" })).body.result).toBe(2);
  a2.send({ type: "unsubscribe", id: 9, group: "chat-1" });
  await a2.next("reply");
  expect(await watcher.next("presence")).toMatchObject({ event: "leave", uid: "a" });
  await Bun.sleep(100);
  expect(watcher.received.filter((f) => f.type === "presence")).toHaveLength(3);
  expect((await api(pg, "getUidCountByGroup", { group: "chat-1" })).body.result).toBe(1);
  const m = await metrics(pg);
  expect(metricValue(m, 'pushgate_presence_events_total{event="join"}')).toBe(2);
  expect(metricValue(m, 'pushgate_presence_events_total{event="leave"}')).toBe(1);
  watcher.close();
  a2.close();
});

test("getPresence: each connection's uid, clientId and public info; refused for groups without presence; joinLeave false sends no frames", async () => {
  const pg = startTestServer({ channelRules: rules });
  started.push(pg);
  const b = await member(pg, "b", "big-1");
  const c = await member(pg, "c", "big-1");
  const clientId = (await api(pg, "getClientIdByUid", { uid: "c" })).body.result[0];
  await api(pg, "setSession", { clientId, session: { info: { name: "Cé" }, secret: "not listed" } });
  const p = await api(pg, "getPresence", { group: "big-1" });
  expect(p.status).toBe(200);
  expect(p.body.result).toHaveLength(2);
  expect(p.body.result).toContainEqual({ uid: "c", clientId, info: { name: "Cé" } });
  expect(p.body.result.find((x: { uid: string }) => x.uid === "b").info).toBeNull();
  await Bun.sleep(100);
  expect(b.received.filter((f) => f.type === "presence")).toHaveLength(0); // joinLeave: false
  const no = await api(pg, "getPresence", { group: "room-without-rule" });
  expect(no.status).toBe(400);
  expect(no.body.error.code).toBe("E_BAD_PARAMS");
  // A presence-only rule: the backend's group, clients cannot subscribe to it.
  expect((await api(pg, "joinGroup", { uid: "b", group: "staff" })).status).toBe(200);
  expect((await api(pg, "getPresence", { group: "staff" })).body.result).toHaveLength(1);
  expect(await b.next("presence")).toMatchObject({ group: "staff", event: "join", uid: "b" });
  b.send({ type: "subscribe", id: 2, group: "staff" });
  expect((await b.next("reply")).error).toMatchObject({ code: "E_FORBIDDEN" });
  b.close();
  c.close();
});

test("the SDK: a subscription's presence events", async () => {
  const pg = startTestServer({ channelRules: rules });
  started.push(pg);
  const client = new PushgateClient({ url: `ws://127.0.0.1:${pg.port}/`, uid: "sdkp" });
  try {
    await client.connect();
    const sub = client.subscribe("chat-sdk");
    const seen: string[] = [];
    sub.on("presence", (f) => seen.push(`${f.event} ${f.uid}`));
    await sub.ready;
    const other = await member(pg, "other", "chat-sdk");
    other.close();
    await other.closedWithin();
    await waitFor(() => seen.length === 3);
    expect(seen).toEqual(["join sdkp", "join other", "leave other"]);
  } finally {
    client.close();
  }
});

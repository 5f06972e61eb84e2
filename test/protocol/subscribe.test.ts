// pushgate.v1 `subscribe` / `unsubscribe` under --channel-rules: a public group at once, a hook
// group when the backend (a real Bun.serve) says yes; the reply's position; recovery of what a
// subscription missed while disconnected; refusals with stable codes (no rule, invalid group,
// the backend's no, the backend down, the group limit); groups from the login stay the backend's;
// exact start errors for a bad rules file.
import { afterAll, afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Pushgate, startPushgate } from "../../src/server.ts";
import { api, startTestServer } from "../helpers.ts";
import { JsonClient } from "../json-client.ts";
import { Backend } from "../hooks/backend.ts";

const dir = mkdtempSync(join(tmpdir(), "pushgate-subscribe-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const started: Array<Pushgate | Backend> = [];
afterEach(async () => {
  for (const s of started.splice(0)) s instanceof Backend ? s[Symbol.dispose]() : await s.shutdown();
});

function rulesFile(rules: unknown, name = "rules.json"): string {
  const p = join(dir, name);
  writeFileSync(p, typeof rules === "string" ? rules : JSON.stringify(rules));
  return p;
}

const RULES = { channels: [{ match: "room-*", subscribe: "public" }, { match: "doc-*", subscribe: "hook" }] };

const PUBLIC = { channels: [{ match: "room-*", subscribe: "public" }] };

function node(extra: Record<string, unknown> = {}): Pushgate {
  const pg = startTestServer({ channelRules: rulesFile(extra.hookUrl ? RULES : PUBLIC), ...extra });
  started.push(pg);
  return pg;
}

async function v1(pg: Pushgate, uid: string): Promise<JsonClient> {
  const c = await JsonClient.connect(pg);
  c.send({ type: "auth", uid });
  await c.next("welcome");
  return c;
}

test("a public group: the reply gives its position, pushes arrive, unsubscribe stops them", async () => {
  const pg = node();
  using c = await v1(pg, "s1");
  c.send({ type: "subscribe", id: 1, group: "room-1" });
  const r = await c.next("reply");
  expect(r).toMatchObject({ id: 1, result: { group: "room-1", stream: "group:room-1", offset: 0 } });
  expect(typeof (r.result as { epoch: string }).epoch).toBe("string");
  expect((await api(pg, "sendToGroup", { group: "room-1", data: { n: 1 } })).body.result.reached).toBe(1);
  expect(await c.next("push")).toMatchObject({ stream: "group:room-1", offset: 1, data: { n: 1 } });
  // Again: a member gets its position again, nothing joins twice.
  c.send({ type: "subscribe", id: 2, group: "room-1" });
  expect(await c.next("reply")).toMatchObject({ id: 2, result: { group: "room-1", offset: 1 } });
  expect(Object.keys((await api(pg, "getClientIdListByGroup", { group: "room-1" })).body.result)).toHaveLength(1);
  c.send({ type: "unsubscribe", id: 3, group: "room-1" });
  expect(await c.next("reply")).toEqual({ type: "reply", id: 3, result: { group: "room-1", unsubscribed: true } });
  expect((await api(pg, "sendToGroup", { group: "room-1", data: "gone" })).body.result.reached).toBe(0);
  c.send({ type: "unsubscribe", id: 4, group: "room-1" });
  expect(await c.next("reply")).toEqual({ type: "reply", id: 4, result: { group: "room-1", unsubscribed: false } });
});

test("refusals: no rule (E_FORBIDDEN), an invalid group, a group from the login cannot be left by the client, the group limit", async () => {
  const pg = node({ maxGroupsPerConnection: 1 });
  using c = await v1(pg, "s2");
  c.send({ type: "subscribe", id: 1, group: "secret" });
  expect((await c.next("reply")).error).toMatchObject({ code: "E_FORBIDDEN" });
  c.send({ type: "subscribe", id: 2, group: "" });
  expect((await c.next("reply")).error).toMatchObject({ code: "E_INVALID_GROUP" });
  c.send({ type: "subscribe", id: 3, group: "room-a", recover: { epoch: 5 } });
  expect(await c.next("error")).toMatchObject({ code: "E_BAD_FRAME", id: 3 });
  // The backend joined it into "staff" (no rule): the client may not leave it.
  expect((await api(pg, "joinGroup", { uid: "s2", group: "staff" })).status).toBe(200);
  c.send({ type: "unsubscribe", id: 4, group: "staff" });
  expect((await c.next("reply")).error).toMatchObject({ code: "E_FORBIDDEN" });
  // --max-groups-per-connection 1: staff is its one group.
  c.send({ type: "subscribe", id: 5, group: "room-b" });
  expect((await c.next("reply")).error).toMatchObject({ code: "E_GROUP_LIMIT" });
  c.send({ type: "subscribe", id: 6 });
  expect((await c.next("reply")).error).toMatchObject({ code: "E_INVALID_GROUP" });
});

test("recovery per subscription: what a group got while the client was away is replayed on subscribe with recover", async () => {
  const pg = node();
  const c = await v1(pg, "s3");
  c.send({ type: "subscribe", id: 1, group: "room-r" });
  await c.next("reply");
  await api(pg, "sendToGroup", { group: "room-r", data: "m1" });
  const p1 = await c.next("push");
  c.close();
  await c.closedWithin();
  await api(pg, "sendToGroup", { group: "room-r", data: "m2" });
  await api(pg, "sendToGroup", { group: "room-r", data: "m3" });
  using d = await v1(pg, "s3");
  d.send({ type: "subscribe", id: 2, group: "room-r", recover: { epoch: p1.epoch, offset: p1.offset } });
  expect(await d.next("reply")).toMatchObject({ id: 2, result: { offset: 3 } });
  expect((await d.next("push")).data).toBe("m2");
  expect((await d.next("push")).data).toBe("m3");
  expect(await d.next("recovery")).toMatchObject({ complete: true, streams: [{ stream: "group:room-r", recovered: true, replayed: 2 }] });
  await api(pg, "sendToGroup", { group: "room-r", data: "m4" });
  expect(await d.next("push")).toMatchObject({ data: "m4", offset: 4 });
});

test("a hook group: the backend's yes joins, its no is E_SUBSCRIBE_REFUSED with its reason, a backend down is E_BACKEND_UNAVAILABLE", async () => {
  const b = new Backend((q) => (q.kind !== "subscribe" ? { status: 404 } : q.group === "doc-open" ? { body: {} } : { status: 403, body: { error: { message: `no access to ${String(q.group)}` } } }));
  started.push(b);
  const pg = node({ hookUrl: b.url });
  using c = await v1(pg, "s4");
  c.send({ type: "subscribe", id: 1, group: "doc-open" });
  expect(await c.next("reply")).toMatchObject({ id: 1, result: { group: "doc-open" } });
  expect(b.asked.at(-1)).toMatchObject({ kind: "subscribe", uid: "s4", group: "doc-open" });
  c.send({ type: "subscribe", id: 2, group: "doc-closed" });
  expect((await c.next("reply")).error).toEqual({ code: "E_SUBSCRIBE_REFUSED", message: "no access to doc-closed" });
  b[Symbol.dispose]();
  c.send({ type: "subscribe", id: 3, group: "doc-other" });
  expect((await c.next("reply", 5000)).error).toMatchObject({ code: "E_BACKEND_UNAVAILABLE" });
  // Public groups do not ask the backend at all.
  c.send({ type: "subscribe", id: 4, group: "room-x" });
  expect(await c.next("reply")).toMatchObject({ id: 4, result: { group: "room-x" } });
});

test("start errors name the rules file and what is wrong with it", () => {
  const bad = (rules: unknown, extra: Record<string, unknown> = {}) => {
    try {
      startTestServer({ channelRules: rulesFile(rules, "bad.json"), ...extra }).shutdown();
      return "started";
    } catch (e) {
      return (e as Error).message;
    }
  };
  expect(bad("{not json")).toMatch(/^invalid --channel-rules .*bad\.json: not JSON/);
  expect(bad({ channels: [{ match: "a:*", subscribe: "maybe" }] })).toContain("channels[0].subscribe must be one of public, hook");
  expect(bad({ channels: [{ match: "a:*", subscribe: "public", extra: 1 }] })).toContain('unknown field "extra"');
  expect(bad({ channels: [{ match: "doc-*", subscribe: "hook" }] })).toContain("need --hook-url");
  expect(bad({ rules: [] })).toContain('expected {"channels"');
  let missing = "";
  try {
    startTestServer({ channelRules: join(dir, "nope.json") });
  } catch (e) {
    missing = (e as Error).message;
  }
  expect(missing).toMatch(/^cannot read --channel-rules .*nope\.json/);
});

test("an in-process subscribe hook decides hook groups: true admits, { error } refuses with that reason", async () => {
  const asked: string[] = [];
  const pg = startPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", channelRules: rulesFile(RULES, "inproc.json") }, {
    hooks: {
      subscribe: ({ uid, group }) => {
        asked.push(`${uid} ${group}`);
        return group === "doc-mine" ? true : { error: "not yours" };
      },
    },
  });
  started.push(pg);
  using c = await v1(pg, "s5");
  c.send({ type: "subscribe", id: 1, group: "doc-mine" });
  expect(await c.next("reply")).toMatchObject({ id: 1, result: { group: "doc-mine" } });
  c.send({ type: "subscribe", id: 2, group: "doc-theirs" });
  expect((await c.next("reply")).error).toEqual({ code: "E_SUBSCRIBE_REFUSED", message: "not yours" });
  expect(asked).toEqual(["s5 doc-mine", "s5 doc-theirs"]);
});

test("an unsubscribe while the backend decides cancels the subscribe (answered, not joined); a second subscribe replaces the first", async () => {
  const b = new Backend(async (q) => (q.kind === "subscribe" ? { body: {}, delayMs: 300 } : { status: 404 }));
  started.push(b);
  const pg = node({ hookUrl: b.url });
  using c = await v1(pg, "s6");
  c.send({ type: "subscribe", id: 1, group: "doc-slow" });
  c.send({ type: "unsubscribe", id: 2, group: "doc-slow" });
  const first = await c.next("reply", 3000);
  expect(first).toMatchObject({ id: 1, error: { code: "E_SUBSCRIBE_REFUSED", message: "not subscribed: unsubscribed before it completed" } });
  expect(await c.next("reply", 3000)).toEqual({ type: "reply", id: 2, result: { group: "doc-slow", unsubscribed: false } });
  await Bun.sleep(500); // the backend's late yes joins nothing
  expect((await api(pg, "sendToGroup", { group: "doc-slow", data: "x" })).body.result.reached).toBe(0);
  c.send({ type: "subscribe", id: 3, group: "doc-slow" });
  c.send({ type: "subscribe", id: 4, group: "doc-slow" });
  expect(await c.next("reply", 3000)).toMatchObject({ id: 3, error: { code: "E_SUBSCRIBE_REFUSED" } });
  expect(await c.next("reply", 3000)).toMatchObject({ id: 4, result: { group: "doc-slow" } });
});

// Channel tokens (`"subscribe": "token"` rules, --auth jwt): a JWT signed with the server's key
// naming the connection's uid (`sub`) and the group (`channel`) admits until its `exp`; then the
// subscription ends with an `unsubscribed` frame (E_TOKEN_EXPIRED) unless a new token came
// first (a subscribe again refreshes it). Wrong uid, wrong group, expired, forged: refused.
import { afterAll, afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Pushgate, createPushgate } from "../../src/server.ts";
import { api } from "../helpers.ts";
import { JsonClient } from "../json-client.ts";
import { PushgateClient } from "../../src/client/index.ts";
import { TEST_SECRET, nowSeconds, signHS256 } from "../jwt-sign.ts";

const dir = mkdtempSync(join(tmpdir(), "pushgate-channel-token-"));
const rules = join(dir, "rules.json");
writeFileSync(rules, JSON.stringify({ channels: [{ match: "private-*", subscribe: "token" }] }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const started: Pushgate[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.shutdown();
});

const connToken = (sub: string) => signHS256({ sub, exp: nowSeconds() + 600 }, TEST_SECRET);
const chanToken = (sub: string, channel: string, exp = nowSeconds() + 600) => signHS256({ sub, channel, exp }, TEST_SECRET);

async function v1(pg: Pushgate, uid: string): Promise<JsonClient> {
  const c = await JsonClient.connect(pg);
  c.send({ type: "auth", token: await connToken(uid) });
  await c.next("welcome");
  return c;
}

test("a channel token admits its uid to its group until exp; a fresh one refreshes; refusals name why", async () => {
  const pg = await createPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", auth: "jwt", jwtSecret: TEST_SECRET, channelRules: rules });
  started.push(pg);
  using c = await v1(pg, "alice");
  c.send({ type: "subscribe", id: 1, group: "private-a" });
  expect((await c.next("reply")).error).toMatchObject({ code: "E_AUTH_FAILED" });
  c.send({ type: "subscribe", id: 2, group: "private-a", token: await chanToken("bob", "private-a") });
  expect((await c.next("reply")).error).toEqual({ code: "E_AUTH_FAILED", message: "the channel token is for another uid" });
  c.send({ type: "subscribe", id: 3, group: "private-a", token: await chanToken("alice", "private-b") });
  expect((await c.next("reply")).error).toEqual({ code: "E_AUTH_FAILED", message: "the channel token is not for group private-a" });
  c.send({ type: "subscribe", id: 4, group: "private-a", token: await signHS256({ sub: "alice", channel: "private-a", exp: nowSeconds() + 600 }, "another-secret-0123456789abcdef-xyz") });
  expect((await c.next("reply")).error).toMatchObject({ code: "E_AUTH_FAILED" });
  c.send({ type: "subscribe", id: 5, group: "private-a", token: await chanToken("alice", "private-a", nowSeconds() - 10) });
  expect((await c.next("reply")).error).toMatchObject({ code: "E_TOKEN_EXPIRED" });
  // A good one: subscribed until exp (2 s from now).
  const exp = nowSeconds() + 2;
  c.send({ type: "subscribe", id: 6, group: "private-a", token: await chanToken("alice", "private-a", exp) });
  expect(await c.next("reply")).toMatchObject({ id: 6, result: { group: "private-a", exp } });
  await api(pg, "sendToGroup", { group: "private-a", data: "secret" });
  expect((await c.next("push")).data).toBe("secret");
  // Refreshed before exp with a later token: still subscribed after the first exp.
  const later = nowSeconds() + 4;
  c.send({ type: "subscribe", id: 7, group: "private-a", token: await chanToken("alice", "private-a", later) });
  expect(await c.next("reply")).toMatchObject({ id: 7, result: { exp: later } });
  await Bun.sleep((exp - nowSeconds()) * 1000 + 600);
  expect((await api(pg, "sendToGroup", { group: "private-a", data: "still" })).body.result.reached).toBe(1);
  expect((await c.next("push")).data).toBe("still");
  // Then it ends at the later exp, told with an unsubscribed frame.
  expect(await c.next("unsubscribed", 4000)).toEqual({ type: "unsubscribed", group: "private-a", code: "E_TOKEN_EXPIRED", message: "the channel token expired" });
  expect((await api(pg, "sendToGroup", { group: "private-a", data: "gone" })).body.result.reached).toBe(0);
}, 15_000);

test("token rules need --auth jwt: a start error says so", () => {
  let message = "";
  try {
    createPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", channelRules: rules }).catch((e: Error) => void (message = e.message));
  } catch (e) {
    message = (e as Error).message;
  }
  return Bun.sleep(50).then(() => expect(message).toContain('"subscribe": "token" rules: they need --auth jwt'));
});

test("the SDK refreshes a channel token before its exp: the subscription outlives several tokens", async () => {
  const pg = await createPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", auth: "jwt", jwtSecret: TEST_SECRET, channelRules: rules });
  started.push(pg);
  const client = new PushgateClient({ url: `ws://127.0.0.1:${pg.port}/`, token: () => connToken("carol") });
  try {
    await client.connect();
    let issued = 0;
    const sub = client.subscribe("private-c", { token: () => (issued++, chanToken("carol", "private-c", nowSeconds() + 2)) });
    const got: unknown[] = [];
    sub.on("message", (d) => got.push(d));
    expect(await sub.ready).toMatchObject({ group: "private-c" });
    await Bun.sleep(4500); // past two of its tokens' exp
    expect(issued).toBeGreaterThanOrEqual(3);
    expect((await api(pg, "sendToGroup", { group: "private-c", data: "alive" })).body.result.reached).toBe(1);
    const deadline = performance.now() + 2000;
    while (got.length === 0 && performance.now() < deadline) await Bun.sleep(10);
    expect(got).toEqual(["alive"]);
    expect(sub.state).toBe("subscribed");
  } finally {
    client.close();
  }
}, 15_000);

test("a channel token cannot log in; a token's end does not remove a membership the API gave later", async () => {
  const pg = await createPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", auth: "jwt", jwtSecret: TEST_SECRET, channelRules: rules });
  started.push(pg);
  const bad = await JsonClient.connect(pg);
  bad.send({ type: "auth", token: await chanToken("dave", "private-d") });
  expect((await bad.closedWithin()).reason).toContain("a channel token cannot log in");
  using c = await v1(pg, "dave");
  c.send({ type: "subscribe", id: 1, group: "private-d", token: await chanToken("dave", "private-d", nowSeconds() + 1) });
  await c.next("reply");
  expect((await api(pg, "leaveGroup", { uid: "dave", group: "private-d" })).status).toBe(200);
  expect((await api(pg, "joinGroup", { uid: "dave", group: "private-d" })).status).toBe(200);
  await Bun.sleep(2300); // past the token's exp
  expect((await api(pg, "sendToGroup", { group: "private-d", data: "kept" })).body.result.reached).toBe(1);
  expect((await c.next("push")).data).toBe("kept");
  expect(c.received.some((f) => f.type === "unsubscribed")).toBe(false);
}, 10_000);

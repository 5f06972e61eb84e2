// The pluggable login step with custom (asynchronous, faulty) authenticators.
import { expect, test } from "bun:test";
import type { Authenticator } from "../../src/auth/types.ts";
import { ok } from "../../src/core/result.ts";
import { startPushgate } from "../../src/server.ts";
import { TestClient, metricValue, metrics } from "../helpers.ts";

function serverWith(authenticate: Authenticator["authenticate"], loginTimeoutMs = 10_000) {
  const auth: Authenticator = { mode: "custom", credential: "token", insecure: false, authenticate };
  return startPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", loginTimeoutMs }, { auth });
}

test("an async authenticator logs in when its promise resolves", async () => {
  await using pg = serverWith(async (cred) => { await Bun.sleep(20); return ok({ uid: cred.toUpperCase() }); });
  using c = await TestClient.connect(pg);
  c.send("abc");
  c.send("early frame"); // while deciding: answered, not taken as a second login
  expect(JSON.parse(await c.next()).message).toBe("login in progress");
  expect(await c.next()).toBe("login success, your uid is ABC");
});

test("a never-settling authenticator still hits the login timeout", async () => {
  await using pg = serverWith(() => new Promise(() => {}), 200);
  using c = await TestClient.connect(pg);
  c.send("x");
  expect(await c.closed).toEqual({ code: 1008, reason: "E_LOGIN_TIMEOUT: no login within 200 ms" });
});

for (const [name, fn] of [
  ["throws", () => { throw new Error("boom"); }],
  ["rejects", async () => { throw new Error("boom"); }],
  ["returns no Result", async () => undefined],
] as unknown as Array<[string, Authenticator["authenticate"]]>) {
  test(`an authenticator that ${name} closes 1011, and the server keeps serving`, async () => {
    await using pg = serverWith(fn);
    using c = await TestClient.connect(pg);
    c.send("x");
    expect(await c.closed).toEqual({ code: 1011, reason: "E_INTERNAL: authentication failed" });
    using d = await TestClient.connect(pg);
    expect(d.ws.readyState).toBe(WebSocket.OPEN);
  });
}

test("an identity with an invalid uid is refused", async () => {
  await using pg = serverWith(() => ok({ uid: "bad:uid" }));
  using c = await TestClient.connect(pg);
  c.send("x");
  expect(await c.closed).toEqual({ code: 1008, reason: "E_AUTH_FAILED: identity has an invalid uid" });
});

test("client-chosen close codes do not create unbounded metric series", async () => {
  await using pg = serverWith(() => ok({ uid: "u" }));
  for (const code of [3000, 3001, 4999]) {
    const c = await TestClient.connect(pg);
    c.ws.close(code, "bye");
    await c.closed;
  }
  await Bun.sleep(50);
  const m = await metrics(pg);
  expect(metricValue(m, 'pushgate_closes_total{code="other"}')).toBe(3);
  expect(m).not.toContain('code="3000"');
});

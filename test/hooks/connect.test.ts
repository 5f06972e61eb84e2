// --auth hook against a real backend (Bun.serve): the backend logs sockets in by their cookie
// (seed and pushgate.v1), refuses with its reason, and when it is down, slow, broken or
// answers 500 the login closes 1013 with a stable code — counted, and the server keeps serving.
import { afterEach, expect, test } from "bun:test";
import type { Pushgate } from "../../src/server.ts";
import { api, metricValue, metrics, startTestServer } from "../helpers.ts";
import { JsonClient } from "../json-client.ts";
import { Backend, HeaderClient } from "./backend.ts";

const started: Array<{ shutdown(): Promise<void> } | Disposable> = [];
afterEach(async () => {
  for (const s of started.splice(0)) "shutdown" in s ? await s.shutdown() : s[Symbol.dispose]();
});

function node(hookUrl: string, extra: Record<string, unknown> = {}): Pushgate {
  const pg = startTestServer({ auth: "hook", hookUrl, hookTimeoutMs: 300, ...extra });
  started.push(pg);
  return pg;
}

/** Sessions the backend knows: cookie sid → identity. */
function sessionBackend(): Backend {
  const b = new Backend((q) => {
    if (q.kind !== "connect") return { status: 404, body: { error: "unknown kind" } };
    const cookie = (q.headers as Record<string, string>).cookie ?? "";
    if (cookie === "sid=alice-session") return { body: { uid: "alice", groups: ["staff"], session: { plan: "pro" } } };
    if (cookie === "sid=bad-uid") return { body: { uid: "all" } };
    return { status: 403, body: { error: { message: "no session for this cookie" } } };
  });
  started.push(b);
  return b;
}

test("a seed socket is logged in by its cookie: the backend sees credential, clientId, ip and headers", async () => {
  const b = sessionBackend();
  const pg = node(b.url);
  const c = new HeaderClient(pg.port, { Cookie: "sid=alice-session", "User-Agent": "test-agent", "X-Not-Passed": "1" });
  await c.opened;
  c.send("anything");
  expect(await c.next()).toBe("login success, your uid is alice");
  const q = b.asked[0]!;
  expect(q).toMatchObject({ kind: "connect", credential: "anything", protocol: "seed", ip: "127.0.0.1", headers: { cookie: "sid=alice-session", "user-agent": "test-agent" } });
  expect((q.headers as Record<string, string>)["x-not-passed"]).toBeUndefined();
  const clientId = (await api(pg, "getClientIdByUid", { uid: "alice" })).body.result[0];
  expect(q.clientId).toBe(clientId);
  expect((await api(pg, "getSession", { clientId })).body.result).toEqual({ plan: "pro" });
  expect((await api(pg, "getClientCountByGroup", { group: "staff" })).body.result).toBe(1);
  c.close();
});

test("a pushgate.v1 auth frame's token is the credential; the welcome has the backend's uid", async () => {
  const b = new Backend((q) => ({ body: { uid: `u-${String(q.credential)}` } }));
  started.push(b);
  const pg = node(b.url);
  const j = await JsonClient.connect(pg);
  j.send({ type: "auth", token: "t42" });
  const w = await j.next("welcome");
  expect(w.uid).toBe("u-t42");
  expect(b.asked[0]).toMatchObject({ kind: "connect", credential: "t42", protocol: "v1" });
  j.close();
});

test("a refusal closes 1008 E_AUTH_FAILED with the backend's reason; an invalid identity is refused too", async () => {
  const b = sessionBackend();
  const pg = node(b.url);
  const c = new HeaderClient(pg.port, { Cookie: "sid=nobody" });
  await c.opened;
  c.send("x");
  expect(await c.closed).toEqual({ code: 1008, reason: "E_AUTH_FAILED: no session for this cookie" });
  const d = new HeaderClient(pg.port, { Cookie: "sid=bad-uid" });
  await d.opened;
  d.send("x");
  const closed = await d.closed;
  expect(closed.code).toBe(1008);
  expect(closed.reason).toStartWith("E_AUTH_FAILED: the backend answered no valid uid");
});

test("backend down, slow, 500 or garbage: the login closes 1013 with E_BACKEND_*, counted; other clients are served", async () => {
  const cases: Array<[string, () => Backend | string, string, string]> = [
    ["down", () => "http://127.0.0.1:9/hook", "E_BACKEND_UNAVAILABLE", "unavailable"],
    ["slow", () => new Backend(() => ({ body: { uid: "late" }, delayMs: 1000 })), "E_BACKEND_TIMEOUT", "timeout"],
    ["500", () => new Backend(() => ({ status: 500, body: { uid: "x" } })), "E_BACKEND_UNAVAILABLE", "error"],
    ["garbage", () => new Backend(() => ({ raw: "<html>oops</html>" })), "E_BACKEND_UNAVAILABLE", "error"],
    ["too deep", () => new Backend(() => ({ raw: `{"uid":"x","session":${"[".repeat(100)}${"]".repeat(100)}}` })), "E_BACKEND_UNAVAILABLE", "error"],
  ];
  for (const [name, make, code, outcome] of cases) {
    const made = make();
    if (typeof made !== "string") started.push(made);
    const pg = node(typeof made === "string" ? made : made.url);
    const c = new HeaderClient(pg.port, {});
    await c.opened;
    c.send("x");
    const closed = await c.closed;
    expect({ name, code: closed.code, reason: closed.reason.split(":")[0] }).toEqual({ name, code: 1013, reason: code });
    // The node still answers its API while the backend misbehaves.
    expect((await api(pg, "getAllClientCount", {})).status).toBe(200);
    expect(metricValue(await metrics(pg), `pushgate_hook_requests_total{kind="connect",outcome="${outcome}"}`)).toBe(1);
  }
}, 20_000);

test("--auth hook needs --hook-url; --hook-url must be http(s)", () => {
  expect(() => startTestServer({ auth: "hook" })).toThrow("--auth hook needs --hook-url");
  expect(() => startTestServer({ auth: "hook", hookUrl: "ftp://x" })).toThrow("must be an http:// or https:// URL");
});

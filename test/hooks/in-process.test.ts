// In-process hooks (`startPushgate(config, { hooks })`): `connect` decides logins, `rpc` answers
// rpc frames — the same answers as the HTTP backend; a hook that throws or is too slow answers
// the client with an error (1013 at login, an error reply for an rpc) and the server goes on.
import { afterEach, expect, test } from "bun:test";
import type { Hooks } from "../../src/index.ts";
import { type Pushgate, startPushgate } from "../../src/server.ts";
import { api, metricValue, metrics } from "../helpers.ts";
import { HeaderClient } from "./backend.ts";

const started: Pushgate[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.shutdown();
});

function node(hooks: Hooks): Pushgate {
  const pg = startPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", auth: "hook", hookTimeoutMs: 200 }, { hooks });
  started.push(pg);
  return pg;
}

const hooks: Hooks = {
  async connect(req) {
    if (req.headers.cookie === "sid=bob") return { uid: "bob", session: { via: "cookie" } };
    if (req.credential === "throw") throw new Error("hook bug");
    if (req.credential === "slow") await Bun.sleep(500);
    return { error: "who are you?" };
  },
  rpc(call) {
    if (call.method === "add") return (call.data as number[]).reduce((a, b) => a + b, 0);
    if (call.method === "slow") return Bun.sleep(500).then(() => 1);
    throw new Error(`no method ${call.method}`);
  },
};

test("connect hook: cookie login with a session; a refusal closes 1008 with its reason", async () => {
  const pg = node(hooks);
  const c = new HeaderClient(pg.port, { Cookie: "sid=bob" });
  await c.opened;
  c.send("x");
  expect(await c.next()).toBe("login success, your uid is bob");
  const clientId = (await api(pg, "getClientIdByUid", { uid: "bob" })).body.result[0];
  expect((await api(pg, "getSession", { clientId })).body.result).toEqual({ via: "cookie" });
  const d = new HeaderClient(pg.port, {});
  await d.opened;
  d.send("nobody");
  expect(await d.closed).toEqual({ code: 1008, reason: "E_AUTH_FAILED: who are you?" });
  c.close();
});

test("a connect hook that throws or is too slow closes the login 1013; both counted", async () => {
  const pg = node(hooks);
  for (const [cred, code] of [["throw", "E_BACKEND_UNAVAILABLE"], ["slow", "E_BACKEND_TIMEOUT"]] as const) {
    const c = new HeaderClient(pg.port, {});
    await c.opened;
    c.send(cred);
    const closed = await c.closed;
    expect([closed.code, closed.reason.split(":")[0]]).toEqual([1013, code]);
  }
  const m = await metrics(pg);
  expect(metricValue(m, 'pushgate_hook_requests_total{kind="connect",outcome="error"}')).toBe(1);
  expect(metricValue(m, 'pushgate_hook_requests_total{kind="connect",outcome="timeout"}')).toBe(1);
});

test("rpc hook: a result; a throw is E_BACKEND_ERROR with its message; too slow is E_BACKEND_TIMEOUT", async () => {
  const pg = node(hooks);
  const c = new HeaderClient(pg.port, { Cookie: "sid=bob" }, "pushgate.v1");
  await c.opened;
  c.send(JSON.stringify({ type: "auth", token: "x" }));
  expect(JSON.parse(await c.next()).type).toBe("welcome");
  const call = async (id: number, method: string, data?: unknown) => {
    c.send(JSON.stringify({ type: "rpc", id, method, data }));
    return JSON.parse(await c.next()) as Record<string, unknown>;
  };
  expect(await call(1, "add", [1, 2, 3])).toEqual({ type: "reply", id: 1, result: 6 });
  expect(await call(2, "nope")).toEqual({ type: "reply", id: 2, error: { code: "E_BACKEND_ERROR", message: "the backend refused the call (422)", detail: { message: "no method nope" } } });
  expect(await call(3, "slow")).toMatchObject({ id: 3, error: { code: "E_BACKEND_TIMEOUT" } });
  // The connection and the server are fine afterwards.
  expect(await call(4, "add", [2, 2])).toEqual({ type: "reply", id: 4, result: 4 });
  c.close();
});

test("seedMessages backend: every seed frame after login goes to the message hook, in order; its string comes back", async () => {
  const seen: string[] = [];
  const pg = startPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", seedMessages: "backend", rateLimit: 0 }, {
    hooks: {
      async message({ uid, message }) {
        seen.push(message);
        await Bun.sleep(message === "first" ? 50 : 0); // a slow first one must not be overtaken
        if (message === "boom") throw new Error("bad message");
        return `${uid} said ${message}`;
      },
    },
  });
  started.push(pg);
  const c = new HeaderClient(pg.port, {});
  await c.opened;
  c.send("carol");
  expect(await c.next()).toBe("login success, your uid is carol");
  for (const m of ["first", "bob:not a push", "boom", "last"]) c.send(m);
  expect(await c.next()).toBe("carol said first");
  expect(await c.next()).toBe("carol said bob:not a push");
  expect(JSON.parse(await c.next())).toMatchObject({ type: "error", code: "E_BACKEND_ERROR" });
  expect(await c.next()).toBe("carol said last");
  expect(seen).toEqual(["first", "bob:not a push", "boom", "last"]);
  c.close();
});

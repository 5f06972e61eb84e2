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

function node(hooks: Hooks, extra: Record<string, unknown> = {}): Pushgate {
  const pg = startPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", auth: "hook", hookTimeoutMs: 200, ...extra }, { hooks });
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

test("close, online and offline hooks: told after the fact (debounced presence); a throwing or slow one is counted, the server goes on", async () => {
  const told: string[] = [];
  const pg = node({
    connect: (req) => (req.credential === "a" ? { uid: "a", session: { plan: "pro" } } : { uid: req.credential }),
    close(ev) {
      told.push(`close ${ev.uid} ${ev.code} ${ev.reason} ${JSON.stringify(ev.session)}`);
      if (ev.uid === "boom") throw new Error("close hook bug");
    },
    online: ({ uid }) => void told.push(`online ${uid}`),
    async offline({ uid }) {
      told.push(`offline ${uid}`);
      if (uid === "boom") await Bun.sleep(500); // past --hook-timeout (200 ms)
    },
  }, { webhookDebounceMs: 400 });
  const seed = async (uid: string) => {
    const c = new HeaderClient(pg.port, {});
    await c.opened;
    c.send(uid);
    expect(await c.next()).toBe(`login success, your uid is ${uid}`);
    return c;
  };
  const a1 = await seed("a");
  const a2 = await seed("a");
  a1.ws.close(4001, "bye");
  await a1.closed;
  // A reload: a's last connection goes and a new one comes within the debounce.
  a2.ws.close(1000);
  await a2.closed;
  const a3 = await seed("a");
  const boom = await seed("boom");
  boom.ws.close(1000);
  await boom.closed;
  await Bun.sleep(400 + 200 + 100); // boom's offline is due and then runs past the hook timeout
  expect(told).toEqual([
    "online a", 'close a 4001 bye {"plan":"pro"}', 'close a 1000  {"plan":"pro"}', "online boom", "close boom 1000  null", "offline boom",
  ]);
  const m = await metrics(pg);
  expect(metricValue(m, 'pushgate_hook_requests_total{kind="close",outcome="error"}')).toBe(1);
  expect(metricValue(m, 'pushgate_hook_requests_total{kind="offline",outcome="timeout"}')).toBe(1);
  expect(metricValue(m, 'pushgate_hook_requests_total{kind="online",outcome="ok"}')).toBe(2);
  // The server goes on: a push still arrives.
  expect((await api(pg, "sendToUid", { uid: "a", data: "still here" })).status).toBe(200);
  expect(await a3.next()).toBe("still here");
  a3.ws.close(1000);
  await a3.closed;
  // A graceful stop tells the pending offline at once.
  await pg.shutdown();
  expect(told.slice(6)).toEqual(['close a 1000  {"plan":"pro"}', "offline a"]);
}, 10_000);

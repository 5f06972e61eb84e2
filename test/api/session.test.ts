// setSession / getSession / updateSession and closeClient.
import { afterAll, describe, expect, test } from "bun:test";
import { TestClient, api, startTestServer, waitFor } from "../helpers.ts";
import { UNKNOWN_ID, ok } from "./fixtures.ts";

const MAX = 64;
const pg = startTestServer({ maxSessionBytes: MAX });
afterAll(() => pg.shutdown());


async function idOf(uid: string): Promise<string> {
  const r = await api(pg, "getClientIdByUid", { uid });
  expect(r.body.result).toHaveLength(1);
  return r.body.result[0];
}

describe("sessions", () => {
  test("a new connection has a null session; setSession replaces it; sessions are per connection", async () => {
    using c = await TestClient.login(pg, "s1");
    using other = await TestClient.login(pg, "s1b");
    const id = await idOf("s1");
    const otherId = await idOf("s1b");
    expect(await api(pg, "getSession", { clientId: id })).toEqual(ok(null));
    expect(await api(pg, "setSession", { clientId: id, session: { a: 1, b: "x" } })).toEqual(ok(true));
    expect(await api(pg, "getSession", { clientId: id })).toEqual(ok({ a: 1, b: "x" }));
    expect(await api(pg, "setSession", { clientId: id, session: { c: [1, 2] } })).toEqual(ok(true));
    expect(await api(pg, "getSession", { clientId: id })).toEqual(ok({ c: [1, 2] }));
    expect(await api(pg, "getSession", { clientId: otherId })).toEqual(ok(null));
    expect(await api(pg, "setSession", { clientId: id, session: {} })).toEqual(ok(true));
    expect(await api(pg, "getSession", { clientId: id })).toEqual(ok({}));
    expect(await c.nothingWithin(50)).toBe(true);
    expect(await other.nothingWithin(50)).toBe(true);
  });

  test("updateSession merges shallowly and null removes a key", async () => {
    using _c = await TestClient.login(pg, "s2");
    const id = await idOf("s2");
    // On a connection without a session, update starts from {}.
    expect(await api(pg, "updateSession", { clientId: id, session: { x: 1 } })).toEqual(ok(true));
    expect(await api(pg, "getSession", { clientId: id })).toEqual(ok({ x: 1 }));
    expect(await api(pg, "setSession", { clientId: id, session: { a: 1, b: { deep: 1 } } })).toEqual(ok(true));
    expect(await api(pg, "updateSession", { clientId: id, session: { b: { other: 2 }, c: 3 } })).toEqual(ok(true));
    expect(await api(pg, "getSession", { clientId: id })).toEqual(ok({ a: 1, b: { other: 2 }, c: 3 }));
    expect(await api(pg, "updateSession", { clientId: id, session: { a: null, missing: null } })).toEqual(ok(true));
    expect(await api(pg, "getSession", { clientId: id })).toEqual(ok({ b: { other: 2 }, c: 3 }));
  });

  test("updateSession keeps key order, takes __proto__ as a plain key, and refuses a patch too large to merge before merging", async () => {
    using _c = await TestClient.login(pg, "s2b");
    const id = await idOf("s2b");
    expect(await api(pg, "setSession", { clientId: id, session: { a: 1, b: 2, c: 3 } })).toEqual(ok(true));
    expect(await api(pg, "updateSession", { clientId: id, session: JSON.parse('{"b":null,"a":9,"__proto__":{"x":1},"d":4}') })).toEqual(ok(true));
    const got = await fetch(`${pg.url}/api/getSession`, { method: "POST", body: JSON.stringify({ clientId: id }) }).then((r) => r.text());
    expect(got).toBe('{"result":{"a":9,"c":3,"__proto__":{"x":1},"d":4}}');
    // More non-null keys than could fit in MAX bytes (4 bytes of JSON each at the least): refused outright.
    const many = Object.fromEntries(Array.from({ length: MAX / 4 + 1 }, (_, i) => [`k${i}`, 0]));
    const r = await api(pg, "updateSession", { clientId: id, session: many });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("E_SESSION_TOO_LARGE");
    // Nulls alone never make a session larger: a patch of many deletions is fine.
    const deletions = Object.fromEntries(Array.from({ length: MAX }, (_, i) => [`gone${i}`, null]));
    expect(await api(pg, "updateSession", { clientId: id, session: { ...deletions, c: null } })).toEqual(ok(true));
    expect(await api(pg, "getSession", { clientId: id })).toEqual(ok({ a: 9, __proto__: { x: 1 }, d: 4 }));
  });

  test("updateSession's running size agrees with JSON.stringify over random merges (seeded)", async () => {
    using _c = await TestClient.login(pg, "s2c");
    const id = await idOf("s2c");
    let seed = 99;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
    const value = (): unknown => [null, null, 1, -0.5, "é€", "x".repeat(rand(12)), { n: rand(9) }, [1, "\u0001"], true][rand(9)];
    let model: Record<string, unknown> = {};
    for (let i = 0; i < 150; i++) {
      const patch: Record<string, unknown> = {};
      for (let j = rand(4); j >= 0; j--) patch[["a", "bb", "ü", "k\"q", "__proto__", `r${rand(6)}`][rand(6)]!] = value();
      const next: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(model)) if (!Object.hasOwn(patch, k)) next[k] = v; else if (patch[k] !== null) next[k] = patch[k];
      for (const [k, v] of Object.entries(patch)) if (!Object.hasOwn(model, k) && v !== null) Object.defineProperty(next, k, { value: v, enumerable: true, writable: true, configurable: true });
      const fits = Buffer.byteLength(JSON.stringify(next)) <= MAX;
      const r = await api(pg, "updateSession", { clientId: id, session: JSON.parse(JSON.stringify(patch)) });
      expect({ i, status: r.status }).toEqual({ i, status: fits ? 200 : 400 });
      if (fits) model = next;
      const text = await fetch(`${pg.url}/api/getSession`, { method: "POST", body: JSON.stringify({ clientId: id }) }).then((x) => x.text());
      expect(JSON.parse(text).result ?? {}).toEqual(JSON.parse(JSON.stringify(model)));
    }
  });

  test("a session over maxSessionBytes → 400 E_SESSION_TOO_LARGE and the old session stays", async () => {
    using _c = await TestClient.login(pg, "s3");
    const id = await idOf("s3");
    // {"k":"…"} is 8 bytes of JSON around the value.
    const atLimit = { k: "v".repeat(MAX - 8) };
    expect(Buffer.byteLength(JSON.stringify(atLimit))).toBe(MAX);
    expect(await api(pg, "setSession", { clientId: id, session: atLimit })).toEqual(ok(true));
    const over = await api(pg, "setSession", { clientId: id, session: { k: "v".repeat(MAX - 7) } });
    expect(over).toEqual({ status: 400, body: { error: { code: "E_SESSION_TOO_LARGE", message: `session: ${MAX + 1} bytes as JSON, over the limit of ${MAX} (--max-session-bytes)`, field: "session" } } });
    expect(await api(pg, "getSession", { clientId: id })).toEqual(ok(atLimit));
    // An update whose merge would be too large is refused whole.
    const grow = await api(pg, "updateSession", { clientId: id, session: { more: 1 } });
    expect(grow.status).toBe(400);
    expect(grow.body.error).toMatchObject({ code: "E_SESSION_TOO_LARGE", field: "session" });
    expect(await api(pg, "getSession", { clientId: id })).toEqual(ok(atLimit));
    // Removing the big key and adding a small one fits.
    expect(await api(pg, "updateSession", { clientId: id, session: { k: null, small: 1 } })).toEqual(ok(true));
    expect(await api(pg, "getSession", { clientId: id })).toEqual(ok({ small: 1 }));
  });

  test("session must be a JSON object", async () => {
    using _c = await TestClient.login(pg, "s4");
    const id = await idOf("s4");
    for (const method of ["setSession", "updateSession"]) {
      for (const session of [undefined, null, [1], "str", 5]) {
        const r = await api(pg, method, { clientId: id, session });
        expect(r).toEqual({ status: 400, body: { error: { code: "E_BAD_PARAMS", message: "session: must be a JSON object", field: "session" } } });
      }
    }
    expect(await api(pg, "getSession", { clientId: id })).toEqual(ok(null));
  });

  test("unknown clientId → 404 E_NO_SUCH_CLIENT", async () => {
    for (const [method, params] of [
      ["setSession", { clientId: UNKNOWN_ID, session: {} }],
      ["updateSession", { clientId: UNKNOWN_ID, session: {} }],
      ["getSession", { clientId: UNKNOWN_ID }],
    ] as const) {
      const r = await api(pg, method, params);
      expect(r).toEqual({ status: 404, body: { error: { code: "E_NO_SUCH_CLIENT", message: `clientId: no connection ${UNKNOWN_ID} on this server`, field: "clientId" } } });
    }
  });
});

describe("closeClient", () => {
  test("the final message arrives before a 1000 close with the given reason", async () => {
    using c = await TestClient.login(pg, "k1");
    using bystander = await TestClient.login(pg, "k1b");
    const id = await idOf("k1");
    expect(await api(pg, "closeClient", { clientId: id, message: "bye", reason: "kicked" })).toEqual(ok(true));
    expect(await c.closed).toEqual({ code: 1000, reason: "kicked" });
    expect(c.received).toEqual(["login success, your uid is k1", "bye"]);
    await waitFor(async () => (await api(pg, "isOnline", { clientId: id })).body.result === false, 2000, "k1 offline");
    expect(await api(pg, "isUidOnline", { uid: "k1" })).toEqual(ok(false));
    expect(await bystander.nothingWithin(50)).toBe(true);
    expect(bystander.ws.readyState).toBe(WebSocket.OPEN);
  });

  test("a non-string message is sent as JSON text; no reason → 'closed by server'", async () => {
    using c = await TestClient.login(pg, "k2");
    const id = await idOf("k2");
    expect(await api(pg, "closeClient", { clientId: id, message: { type: "kick", why: 1 } })).toEqual(ok(true));
    expect(await c.closed).toEqual({ code: 1000, reason: "closed by server" });
    expect(c.received).toEqual(["login success, your uid is k2", '{"type":"kick","why":1}']);
  });

  test("without a message nothing is sent before the close", async () => {
    using c = await TestClient.login(pg, "k3");
    const id = await idOf("k3");
    expect(await api(pg, "closeClient", { clientId: id })).toEqual(ok(true));
    expect(await c.closed).toEqual({ code: 1000, reason: "closed by server" });
    expect(c.received).toEqual(["login success, your uid is k3"]);
  });

  test("unknown clientId → result false; a bad reason → 400 and the socket stays open", async () => {
    expect(await api(pg, "closeClient", { clientId: UNKNOWN_ID, message: "x" })).toEqual(ok(false));
    using c = await TestClient.login(pg, "k4");
    const id = await idOf("k4");
    const long = await api(pg, "closeClient", { clientId: id, message: "no", reason: "r".repeat(124) });
    expect(long).toEqual({ status: 400, body: { error: { code: "E_BAD_PARAMS", message: "reason: must be a string of at most 123 characters", field: "reason" } } });
    const notString = await api(pg, "closeClient", { clientId: id, reason: 5 });
    expect(notString.status).toBe(400);
    expect(notString.body.error).toMatchObject({ code: "E_BAD_PARAMS", field: "reason" });
    expect(await c.nothingWithin()).toBe(true);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    expect(await api(pg, "isOnline", { clientId: id })).toEqual(ok(true));
  });

  test("a 123-character ASCII reason arrives intact", async () => {
    using c = await TestClient.login(pg, "k5");
    const id = await idOf("k5");
    const reason = "r".repeat(123);
    expect(await api(pg, "closeClient", { clientId: id, reason })).toEqual(ok(true));
    expect(await c.closed).toEqual({ code: 1000, reason });
  });

  test("a reason a close frame cannot carry (over 123 UTF-8 bytes) is refused, not silently cut", async () => {
    // 100 characters pass the length check, but they are 200 bytes: RFC 6455 allows 123 after the code.
    using c = await TestClient.login(pg, "k6");
    const id = await idOf("k6");
    const reason = "é".repeat(100);
    const r = await api(pg, "closeClient", { clientId: id, message: "not sent", reason });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: "E_BAD_PARAMS", field: "reason" });
    expect(await c.nothingWithin()).toBe(true);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });
});

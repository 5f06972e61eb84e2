// The SDK in jwt mode against a real server: token refresh before expiry, refused tokens,
// fresh tokens from the callback, and the immediate reconnect after a 4001 close.
import { afterEach, describe, expect, test } from "bun:test";
import type { DisconnectInfo } from "../../src/client/index.ts";
import { TEST_SECRET, nowSeconds, signHS256 } from "../jwt-sign.ts";
import { createPushgate } from "../../src/server.ts";
import { api, waitFor } from "../helpers.ts";
import { Clients, nextEvent, recordMessages, wsUrl } from "./util.ts";

const clients = new Clients();
afterEach(() => clients.closeAll());

/** Like startTestServer, in jwt mode (createPushgate builds the verifier); no leeway on `exp`. */
function startJwtServer() {
  return createPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", auth: "jwt", jwtSecret: TEST_SECRET, jwtLeeway: 0 });
}

const token = (sub: string, lifeSec: number, extra: Record<string, unknown> = {}) =>
  signHS256({ sub, exp: nowSeconds() + lifeSec, ...extra }, TEST_SECRET);

describe("jwt mode", () => {
  test("a 3 s token is refreshed before it expires: still connected after 5 s, pushes still arriving", async () => {
    await using pg = await startJwtServer();
    let calls = 0;
    const c = clients.make({
      url: wsUrl(pg),
      token: () => {
        calls++;
        return token("jwt1", 3);
      },
      refreshBeforeMs: 1500,
    });
    const got = recordMessages(c);
    const closes: DisconnectInfo[] = [];
    c.on("disconnected", (d) => closes.push(d));
    const welcome = await c.connect();
    expect(welcome.uid).toBe("jwt1");
    expect(typeof welcome.exp).toBe("number");
    expect(welcome.exp! * 1000).toBeGreaterThan(Date.now());

    for (let i = 1; i <= 10; i++) {
      await Bun.sleep(500);
      await api(pg, "sendToUid", { uid: "jwt1", data: i });
    }
    await waitFor(() => got.length === 10, 2000, "ten pushes");
    expect(got.map((m) => m.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(closes).toEqual([]);
    expect(c.state).toBe("connected");
    expect(c.welcome?.clientId).toBe(welcome.clientId);
    expect(calls).toBeGreaterThanOrEqual(3); // the connect and at least two refreshes
  }, 15_000);

  test("a refused fixed token: connect() rejects with E_AUTH_FAILED and nothing reconnects", async () => {
    await using pg = await startJwtServer();
    const bad = await signHS256({ sub: "x", exp: nowSeconds() + 60 }, "another-secret-0123456789abcdef-xyz");
    const c = clients.make({ url: wsUrl(pg), token: bad, reconnect: { minDelayMs: 10, maxDelayMs: 20 } });
    const closes: DisconnectInfo[] = [];
    c.on("disconnected", (d) => closes.push(d));
    const errors: string[] = [];
    c.on("error", (e) => errors.push(e.code));
    const e = await c.connect().catch((x: unknown) => x);
    expect(e).toMatchObject({ code: "E_AUTH_FAILED" });
    expect(String((e as Error).message)).not.toContain("E_AUTH_FAILED: E_AUTH_FAILED"); // the code once
    // It never connected: no `disconnected` (that event tells the loss of a connection).
    expect(closes).toEqual([]);
    expect(errors).toEqual(["E_AUTH_FAILED"]);
    await Bun.sleep(150);
    expect(closes).toEqual([]);
    expect(c.state).toBe("closed");
  });

  test("with a token callback a refused token is retried with a fresh one", async () => {
    await using pg = await startJwtServer();
    let calls = 0;
    const c = clients.make({
      url: wsUrl(pg),
      token: async () => (++calls === 1 ? "not.a.jwt" : token("jwt2", 60)),
      reconnect: { minDelayMs: 10, maxDelayMs: 20 },
    });
    const closes: DisconnectInfo[] = [];
    c.on("disconnected", (d) => closes.push(d));
    c.on("error", () => {});
    const welcome = await c.connect();
    expect(welcome.uid).toBe("jwt2");
    expect(calls).toBe(2);
    expect(closes).toEqual([]); // the refused attempt was not a connection
  });

  test("a token callback whose tokens are refused twice in a row: connect() rejects, nothing loops", async () => {
    await using pg = await startJwtServer();
    let calls = 0;
    const c = clients.make({ url: wsUrl(pg), token: async () => (++calls, "not.a.jwt"), reconnect: { minDelayMs: 10, maxDelayMs: 20 } });
    const errors: string[] = [];
    c.on("error", (e) => errors.push(e.code));
    await expect(c.connect()).rejects.toMatchObject({ code: "E_AUTH_FAILED" });
    await Bun.sleep(150);
    expect(calls).toBe(2);
    expect(errors).toEqual(["E_AUTH_FAILED"]);
    expect(c.state).toBe("closed");
  });

  test("a token callback that throws is reported and retried", async () => {
    await using pg = await startJwtServer();
    let calls = 0;
    const c = clients.make({
      url: wsUrl(pg),
      token: () => {
        if (++calls < 3) throw new Error("auth backend down");
        return token("jwt5", 60);
      },
      reconnect: { minDelayMs: 10, maxDelayMs: 20 },
    });
    const errors: string[] = [];
    c.on("error", (e) => errors.push(e.code));
    expect((await c.connect()).uid).toBe("jwt5");
    expect(errors).toEqual(["E_TOKEN", "E_TOKEN"]);
  });

  test("a 4001 close (refresh refused) reconnects at once with a fresh token", async () => {
    await using pg = await startJwtServer();
    const c = clients.make({
      url: wsUrl(pg),
      // refreshes (while connected) hand over a token for another uid, which the server refuses
      token: () => token(c.state === "connected" ? "someone-else" : "jwt3", 2),
      refreshBeforeMs: 1000,
      reconnect: { minDelayMs: 5000, maxDelayMs: 5000 },
    });
    const errors: string[] = [];
    c.on("error", (e) => errors.push(e.code));
    const first = await c.connect();
    const closed = nextEvent(c, "disconnected", 4000);
    const reconnected = nextEvent(c, "connected", 6000);
    const d = await closed;
    const at = performance.now();
    expect(d).toMatchObject({ code: 4001, willReconnect: true });
    expect(d.reason).toStartWith("E_TOKEN_EXPIRED");
    const second = await reconnected;
    expect(performance.now() - at).toBeLessThan(1000); // not the 5 s backoff
    expect(second.clientId).not.toBe(first.clientId);
    expect(errors.length).toBeGreaterThanOrEqual(1); // the refused refresh
  }, 15_000);

  test("a fixed token that expires: 4001, one immediate retry, then a 1008 refusal and stop", async () => {
    await using pg = await startJwtServer();
    const c = clients.make({ url: wsUrl(pg), token: await token("jwt4", 2), reconnect: { minDelayMs: 10, maxDelayMs: 20 } });
    const closes: DisconnectInfo[] = [];
    c.on("disconnected", (d) => closes.push(d));
    const errors: string[] = [];
    c.on("error", (e) => errors.push(e.code));
    await c.connect();
    await waitFor(() => errors.length === 1, 5000, "the refusal");
    // One loss of the connection (4001); the retry that was refused is not another one.
    expect(closes).toMatchObject([{ code: 4001, willReconnect: true }]);
    // docs/protocol.md says an expired token in `auth` closes 1008 E_AUTH_FAILED; the server
    // says E_TOKEN_EXPIRED. The client stops on either; its error carries the server's code.
    expect(["E_AUTH_FAILED", "E_TOKEN_EXPIRED"]).toContain(errors[0]!);
    await Bun.sleep(100);
    expect(closes.length).toBe(1);
    expect(c.state).toBe("closed");
  }, 10_000);

  test("groups from the token: the group stream is positioned, pushed to and sendable", async () => {
    await using pg = await startJwtServer();
    const a = clients.make({ url: wsUrl(pg), token: await token("ga", 60, { groups: ["room"] }) });
    const b = clients.make({ url: wsUrl(pg), token: () => token("gb", 60, { groups: ["room"] }) });
    const got = recordMessages(b);
    const [wa] = await Promise.all([a.connect(), b.connect()]);
    expect(wa.streams.map((s) => s.stream)).toContain("group:room");
    await api(pg, "sendToGroup", { group: "room", data: "from api" });
    expect(await a.send("group:room", "from a")).toEqual({ delivered: 2 });
    await waitFor(() => got.length === 2);
    expect(got.map((m) => [m.stream, m.offset, m.data])).toEqual([["group:room", 1, "from api"], ["group:room", 2, "from a"]]);
    expect(b.positions()["group:room"]?.offset).toBe(2);
  });
});

// --auth jwt end to end: real servers on port 0, real sockets, real signed tokens. Login over
// pushgate.v1 `auth` and over the upgrade URL, refusals, groups from the token, expiry (4001),
// refresh, RS256/ES256 key files, and start-up errors (programmatic and the real entry point).
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Pushgate, createPushgate } from "../../src/server.ts";
import { TestClient, api, cleanEnv, metricValue, metrics, startTestServer } from "../helpers.ts";
import { JsonClient } from "../json-client.ts";
import {
  TEST_SECRET, claims, generateEc, generateRsa, nowSeconds, signES256, signHS256, signRS256, unsigned,
} from "../jwt-sign.ts";

const BASE = { port: 0, host: "127.0.0.1", logLevel: "silent" } as const;
const REJECTED_AUTH = 'pushgate_upgrades_rejected_total{reason="auth_failed"}';

/** Sockets opened by a test, closed after it. */
const open: Array<{ close(): void }> = [];
function track<T extends { close(): void }>(c: T): T {
  open.push(c);
  return c;
}
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

let pg: Pushgate;
beforeAll(async () => {
  pg = await createPushgate({ ...BASE, auth: "jwt", jwtSecret: TEST_SECRET });
});
afterAll(async () => {
  await pg.shutdown();
});

const token = (overrides: Record<string, unknown> = {}) => signHS256(claims(overrides), TEST_SECRET);

/** pushgate.v1 connection that sends `auth` with `tok` and returns the welcome. */
async function loginJson(server: { port: number }, tok: string) {
  const c = track(await JsonClient.connect(server));
  c.send({ type: "auth", token: tok });
  const welcome = await c.next("welcome");
  return { c, welcome };
}

/** A token whose payload was changed after signing (the signature no longer matches). */
async function tampered(): Promise<string> {
  const good = await token({ sub: "victim" });
  const [h, , s] = good.split(".");
  const forged = Buffer.from(JSON.stringify(claims({ sub: "attacker" }))).toString("base64url");
  return `${h}.${forged}.${s}`;
}

/** Answer to a WebSocket upgrade request sent with fetch (a refusal is a plain HTTP answer). */
async function upgradeAnswer(server: { url: string }, query: string, json: boolean) {
  const headers: Record<string, string> = {
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64"),
    "Sec-WebSocket-Version": "13",
  };
  if (json) headers["Sec-WebSocket-Protocol"] = "pushgate.v1";
  const res = await fetch(`${server.url}/${query}`, { headers });
  if (res.status === 101) return { status: 101, contentType: null, body: null };
  const text = await res.text();
  let body: any = text;
  try { body = JSON.parse(text); } catch {}
  return { status: res.status, contentType: res.headers.get("content-type"), body };
}

describe("pushgate.v1 auth frame", () => {
  test("a valid token: welcome with uid = sub, exp, clientId and the uid/all streams", async () => {
    const exp = nowSeconds() + 600;
    const { c, welcome } = await loginJson(pg, await token({ sub: "alice", exp }));
    expect(c.protocol).toBe("pushgate.v1");
    expect(welcome.uid).toBe("alice");
    expect(welcome.exp).toBe(exp);
    expect(typeof welcome.clientId).toBe("string");
    expect(welcome.streams.map((s: { stream: string }) => s.stream)).toEqual(["uid:alice", "all"]);
    // The login is real: an API push to the uid arrives as a push frame.
    expect((await api(pg, "sendToUid", { uid: "alice", data: { hi: 1 } })).body).toEqual({ result: { reached: 1, offline: [] } });
    expect(await c.next("push")).toMatchObject({ stream: "uid:alice", data: { hi: 1 } });
    expect(await c.nothingWithin()).toBe(true);
  });

  test("a bad token closes 1008 E_AUTH_FAILED", async () => {
    for (const bad of ["not-a-token", await tampered(), unsigned({ alg: "none", typ: "JWT" }, claims()), await signHS256(claims(), "another-secret-0123456789abcdef-xyz")]) {
      const c = track(await JsonClient.connect(pg));
      c.send({ type: "auth", token: bad });
      const closed = await c.closedWithin();
      expect(closed.code).toBe(1008);
      expect(closed.reason.startsWith("E_AUTH_FAILED")).toBe(true);
    }
  });

  test("an expired token closes 1008 E_TOKEN_EXPIRED", async () => {
    const c = track(await JsonClient.connect(pg));
    c.send({ type: "auth", token: await token({ exp: nowSeconds() - 3600 }) });
    const closed = await c.closedWithin();
    expect(closed.code).toBe(1008);
    expect(closed.reason.startsWith("E_TOKEN_EXPIRED")).toBe(true);
  });

  test("auth without a token (and none on the URL) closes 1008 E_AUTH_FAILED", async () => {
    const c = track(await JsonClient.connect(pg));
    c.send({ type: "auth", uid: "alice" });
    const closed = await c.closedWithin();
    expect(closed.code).toBe(1008);
    expect(closed.reason.startsWith("E_AUTH_FAILED")).toBe(true);
  });
});

describe("token on the upgrade URL", () => {
  test("pushgate.v1: nothing before auth; auth without a token then logs in as sub", async () => {
    const exp = nowSeconds() + 900;
    const c = track(await JsonClient.connect(pg, { token: await token({ sub: "url-json", exp }) }));
    expect(c.protocol).toBe("pushgate.v1");
    expect(await c.nothingWithin(150)).toBe(true);
    c.send({ type: "auth" });
    const welcome = await c.next("welcome");
    expect(welcome).toMatchObject({ uid: "url-json", exp });
  });

  test("pushgate.v1: a token in the auth frame still wins over the URL one", async () => {
    const c = track(await JsonClient.connect(pg, { token: await token({ sub: "from-url" }) }));
    c.send({ type: "auth", token: await token({ sub: "from-frame" }) });
    expect((await c.next("welcome")).uid).toBe("from-frame");
  });

  test("seed protocol: the login reply arrives right after open, no frame needed", async () => {
    const tok = await token({ sub: "url-seed" });
    const c = track(new TestClient(`ws://127.0.0.1:${pg.port}/?token=${tok}`));
    await c.opened;
    expect(await c.next()).toBe("login success, your uid is url-seed");
    expect((await api(pg, "sendToUid", { uid: "url-seed", data: "plain" })).body.result.reached).toBe(1);
    expect(await c.next()).toBe("plain");
  });

  const badTokens: Array<[string, () => Promise<string> | string, string]> = [
    ["a malformed", () => "garbage", "E_AUTH_FAILED"],
    ["an expired", () => token({ exp: nowSeconds() - 3600 }), "E_TOKEN_EXPIRED"],
    ["a tampered", tampered, "E_AUTH_FAILED"],
    ["an alg-none", () => unsigned({ alg: "none", typ: "JWT" }, claims()), "E_AUTH_FAILED"],
  ];
  for (const [name, make, code] of badTokens) {
    test(`${name} token is refused with HTTP 401 JSON before any upgrade (both protocols)`, async () => {
      const tok = await make();
      for (const json of [true, false]) {
        const before = metricValue(await metrics(pg), REJECTED_AUTH);
        const r = await upgradeAnswer(pg, `?token=${encodeURIComponent(tok)}`, json);
        expect(r.status).toBe(401);
        expect(r.contentType).toContain("application/json");
        expect(r.body.error.code).toBe(code);
        expect(typeof r.body.error.message).toBe("string");
        expect(metricValue(await metrics(pg), REJECTED_AUTH)).toBe(before + 1);
      }
    });
  }

  test("a WebSocket with a bad URL token never opens, and the refusal is counted", async () => {
    const before = metricValue(await metrics(pg), REJECTED_AUTH);
    const clients = [
      new JsonClient(`ws://127.0.0.1:${pg.port}/?token=${await tampered()}`),
      new TestClient(`ws://127.0.0.1:${pg.port}/?token=nope`),
    ];
    for (const c of clients) {
      track(c);
      expect(await c.opened.then(() => "open", () => "failed")).toBe("failed");
    }
    expect(metricValue(await metrics(pg), REJECTED_AUTH)).toBe(before + 2);
  });
});

describe("seed protocol in jwt mode", () => {
  test("the first frame is the token; the reply names the sub", async () => {
    const c = track(await TestClient.connect(pg));
    c.send(await token({ sub: "seed-jwt" }));
    expect(await c.next()).toBe("login success, your uid is seed-jwt");
  });

  test("a bad token as the first frame closes 1008 E_AUTH_FAILED", async () => {
    const c = track(await TestClient.connect(pg));
    c.send("seed-jwt"); // a bare uid is not a token in jwt mode
    const closed = await c.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason.startsWith("E_AUTH_FAILED")).toBe(true);
  });
});

describe("groups claim", () => {
  test("joins the listed groups at login: visible to the API and reached by sendToGroup", async () => {
    const { c, welcome } = await loginJson(pg, await token({ sub: "member", groups: ["g-room1", "g-room2"] }));
    const streams = welcome.streams.map((s: { stream: string }) => s.stream);
    expect(streams).toContain("group:g-room1");
    expect(streams).toContain("group:g-room2");
    for (const group of ["g-room1", "g-room2"]) {
      expect(await api(pg, "getClientIdListByGroup", { group })).toEqual({ status: 200, body: { result: [welcome.clientId] } });
    }
    const other = await loginJson(pg, await token({ sub: "outsider" }));
    expect(await api(pg, "sendToGroup", { group: "g-room1", data: { n: 1 } })).toEqual({ status: 200, body: { result: { reached: 1 } } });
    const push = await c.next("push");
    expect(push).toMatchObject({ stream: "group:g-room1", offset: 1, data: { n: 1 } });
    const groupPos = welcome.streams.find((s: { stream: string }) => s.stream === "group:g-room1");
    expect(push.epoch).toBe(groupPos.epoch);
    expect(await other.c.nothingWithin()).toBe(true);
  });

  test("a token without groups joins none", async () => {
    const { welcome } = await loginJson(pg, await token({ sub: "loner" }));
    expect(welcome.streams.map((s: { stream: string }) => s.stream)).toEqual(["uid:loner", "all"]);
  });
});

describe("expiry and refresh", () => {
  let short: Pushgate;
  beforeAll(async () => {
    short = await createPushgate({ ...BASE, auth: "jwt", jwtSecret: TEST_SECRET, jwtLeeway: 0 });
  });
  afterAll(async () => {
    await short.shutdown();
  });

  /** Logs in with a token expiring ~2 s from now (at least 1 s of life left). */
  async function shortLived(sub: string) {
    let exp = nowSeconds() + 2;
    if (exp * 1000 - Date.now() < 1200) exp += 1;
    const { c, welcome } = await loginJson(short, await token({ sub, exp }));
    expect(welcome.exp).toBe(exp);
    return { c, exp };
  }

  test("the connection is closed with 4001 E_TOKEN_EXPIRED shortly after exp", async () => {
    const { c, exp } = await shortLived("expiring");
    const closed = await c.closedWithin(exp * 1000 - Date.now() + 1500);
    const at = Date.now();
    expect(closed).toEqual({ code: 4001, reason: "E_TOKEN_EXPIRED: token expired" });
    expect(at).toBeGreaterThanOrEqual(exp * 1000 - 50);
    expect(at).toBeLessThanOrEqual(exp * 1000 + 1500);
  }, 10_000);

  test("refresh before exp: refreshed with the new exp, and the socket outlives the old exp", async () => {
    const { c, exp } = await shortLived("refresher");
    const newExp = nowSeconds() + 60;
    c.send({ type: "refresh", token: await token({ sub: "refresher", exp: newExp }) });
    expect(await c.next("refreshed")).toEqual({ type: "refreshed", exp: newExp });
    await Bun.sleep(Math.max(0, exp * 1000 - Date.now()) + 1500);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    c.send({ type: "ping", id: "still-here" });
    expect(await c.next("pong")).toEqual({ type: "pong", id: "still-here" });
  }, 10_000);

  test("refresh with a token for another sub: error E_AUTH_FAILED, and the old exp still applies", async () => {
    const { c, exp } = await shortLived("owner");
    c.send({ type: "refresh", id: 7, token: await token({ sub: "someone-else", exp: nowSeconds() + 60 }) });
    const error = await c.next("error");
    expect(error).toMatchObject({ code: "E_AUTH_FAILED", id: 7 });
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    const closed = await c.closedWithin(exp * 1000 - Date.now() + 1500);
    expect(closed).toEqual({ code: 4001, reason: "E_TOKEN_EXPIRED: token expired" });
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000 - 50);
  }, 10_000);

  test("refresh with a bad token: error frame, the connection stays", async () => {
    const { c } = await loginJson(short, await token({ sub: "badrefresh" }));
    c.send({ type: "refresh", token: "garbage" });
    expect(await c.next("error")).toMatchObject({ code: "E_AUTH_FAILED" });
    c.send({ type: "refresh" });
    expect(await c.next("error")).toMatchObject({ code: "E_BAD_FRAME" });
    c.send({ type: "ping" });
    expect(await c.next("pong")).toEqual({ type: "pong" });
  });

  test("refresh in uid mode is E_BAD_FRAME", async () => {
    await using uidPg = startTestServer();
    const c = track(await JsonClient.connect(uidPg));
    c.send({ type: "auth", uid: "plain" });
    const welcome = await c.next("welcome");
    expect(welcome.uid).toBe("plain");
    expect(welcome.exp).toBeUndefined();
    c.send({ type: "refresh", id: 1, token: await token({ sub: "plain" }) });
    expect(await c.next("error")).toMatchObject({ type: "error", code: "E_BAD_FRAME", id: 1 });
    c.close();
  });
});

// A token whose exp has passed but is still inside --jwt-leeway (default 5 s) passes the
// signature/claim check, yet login then refuses it as expired. The refusal must come the
// documented way: HTTP 401 before the upgrade for a URL token, an error frame for refresh.
describe("a token past exp but inside the leeway", () => {
  test("on the URL: HTTP 401 E_TOKEN_EXPIRED before the upgrade, not 101 and then a close", async () => {
    const tok = await token({ sub: "late", exp: nowSeconds() - 2 });
    for (const json of [true, false]) {
      const r = await upgradeAnswer(pg, `?token=${encodeURIComponent(tok)}`, json);
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe("E_TOKEN_EXPIRED");
    }
  });

  test("in refresh: an error frame, not `refreshed` followed by a 4001 close", async () => {
    const { c, welcome } = await loginJson(pg, await token({ sub: "late-refresh" }));
    c.send({ type: "refresh", id: "r1", token: await token({ sub: "late-refresh", exp: nowSeconds() - 2 }) });
    expect(await c.next()).toMatchObject({ type: "error", code: "E_TOKEN_EXPIRED", id: "r1" });
    // The old expiry still applies: the socket stays open past the next expiry sweep.
    await Bun.sleep(700);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    c.send({ type: "ping", id: "alive" });
    expect(await c.next("pong")).toEqual({ type: "pong", id: "alive" });
    expect(welcome.exp).toBeGreaterThan(nowSeconds());
  });
});

describe("public-key algorithms from key files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pushgate-jwt-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("RS256 with a PEM file logs in; an HS256 token is refused on that server", async () => {
    const keys = await generateRsa();
    const path = join(dir, "rsa.pem");
    await Bun.write(path, keys.publicPem);
    await using rsaPg = await createPushgate({ ...BASE, auth: "jwt", jwtPublicKey: path });
    const { welcome } = await loginJson(rsaPg, await signRS256(claims({ sub: "rsa-user" }), keys.privateKey));
    expect(welcome.uid).toBe("rsa-user");

    const c = track(await JsonClient.connect(rsaPg));
    c.send({ type: "auth", token: await token({ sub: "rsa-user" }) });
    const closed = await c.closedWithin();
    expect(closed.code).toBe(1008);
    expect(closed.reason.startsWith("E_AUTH_FAILED")).toBe(true);
  });

  test("ES256 with a JWK file logs in (auth frame and URL token)", async () => {
    const keys = await generateEc();
    const path = join(dir, "ec.jwk");
    await Bun.write(path, keys.publicJwk);
    await using ecPg = await createPushgate({ ...BASE, auth: "jwt", jwtPublicKey: path });
    const tok = await signES256(claims({ sub: "ec-user" }), keys.privateKey);
    expect((await loginJson(ecPg, tok)).welcome.uid).toBe("ec-user");

    const seed = track(new TestClient(`ws://127.0.0.1:${ecPg.port}/?token=${tok}`));
    await seed.opened;
    expect(await seed.next()).toBe("login success, your uid is ec-user");
  });
});

describe("start-up errors", () => {
  test("a missing key file rejects, naming --jwt-public-key", async () => {
    const missing = join(tmpdir(), `pushgate-no-such-key-${crypto.randomUUID()}.pem`);
    const p = createPushgate({ ...BASE, auth: "jwt", jwtPublicKey: missing });
    await expect(p).rejects.toThrow("--jwt-public-key");
    await expect(p).rejects.toThrow(missing);
  });

  test("a too-short secret rejects, naming --jwt-secret", async () => {
    await expect(createPushgate({ ...BASE, auth: "jwt", jwtSecret: "short" })).rejects.toThrow(
      "invalid --jwt-secret (PUSHGATE_JWT_SECRET): secret is 5 bytes; HS256 needs at least 32",
    );
  });

  test("the real entry point exits 2 (a bad value: restarting cannot fix it) with the exact message", async () => {
    const env = cleanEnv();
    const main = new URL("../../src/main.ts", import.meta.url).pathname;
    const p = Bun.spawn(["bun", main, "--auth", "jwt", "--jwt-secret", "short", "--port", "0"], {
      env, stdout: "pipe", stderr: "pipe",
    });
    const [code, stderr] = await Promise.all([p.exited, new Response(p.stderr).text()]);
    expect(code).toBe(2);
    expect(stderr).toBe("pushgate: cannot start: invalid --jwt-secret (PUSHGATE_JWT_SECRET): secret is 5 bytes; HS256 needs at least 32\n");
  }, 15_000);
});

// Fuzz: JWTs against a server in `--auth jwt` mode with an HS256 secret — valid, mutated,
// padded, extra dots, huge parts, alg none / confusion, typ and crit, exp/nbf edges, non-object
// and deep payloads (token-gen.ts says what docs/auth.md promises for each) — given in a
// pushgate.v1 `auth`, on the upgrade URL (`?token=`, seed and pushgate.v1), in a `refresh`, or
// as the seed protocol's first frame.
//
// Oracle per case: a token the rules accept logs in as its `sub` (with its groups); any other
// is refused where docs/auth.md says ("Where each refusal goes": close 1008, HTTP 401, error
// frame) with its code and message. A changed signed token must never log in. Then the canary
// pair must still route and a fresh connection log in. At the end pushgate_errors_total and
// pushgate_upgrades_rejected_total must have moved by exactly the refusals seen.
//
// Replay one case: PUSHGATE_FUZZ_SEED=<seed> PUSHGATE_FUZZ_CASE=<i> bun test --timeout 30000 \
//   test/fuzz/tokens.test.ts -t '<test name>'   (printed by a failure)
import { afterAll, beforeAll, expect } from "bun:test";
import { type Pushgate, createPushgate } from "../../src/server.ts";
import { TestClient } from "../helpers.ts";
import { JSON_PROTOCOL } from "../json-client.ts";
import { TEST_SECRET, claims, signHS256 } from "../jwt-sign.ts";
import { reasonMatches, wireString } from "./app-model.ts";
import { fuzzTest } from "./fuzz-env.ts";
import { Canary, ErrorLog, type Credentials, Tally, closeProblem, delta, jsonFrameProblem, scrape } from "./oracle.ts";
import { nameString, type Rng } from "./prng.ts";
import { Signer, type TokenCase, type TokenOutcome, documentedRefusal, tokenCase } from "./token-gen.ts";
import { rawHttp } from "./ws-cases.ts";

const FILE = "test/fuzz/tokens.test.ts";
let pg: Pushgate;
let canary: Canary;
let signer: Signer;
const serverLog = new ErrorLog();

const JWT_CREDENTIALS: Credentials = {
  seed: (uid) => signHS256(claims({ sub: uid }), TEST_SECRET),
  json: async (uid) => ({ type: "auth", token: await signHS256(claims({ sub: uid }), TEST_SECRET) }),
};

beforeAll(async () => {
  pg = await createPushgate({ port: 0, host: "127.0.0.1", logLevel: "silent", auth: "jwt", jwtSecret: TEST_SECRET }, { logger: serverLog });
  signer = await Signer.create(TEST_SECRET);
  canary = await Canary.start(pg, JWT_CREDENTIALS);
});
afterAll(async () => {
  canary?.close();
  await pg?.shutdown();
});

/** What the server did with the token: logged in (as uid, with streams), or refused (code, message). */
type Seen = { kind: "login"; uid: string; streams: string[] } | { kind: "refused"; code: string; message: string };

/** The next text frame or the close, bounded. */
async function nextOrClose(c: TestClient, ms = 3000): Promise<{ text: string } | { close: { code: number; reason: string } }> {
  const closed = c.closed.then((x) => ({ close: x }));
  return Promise.race([
    c.next(ms).then((text) => ({ text })),
    closed,
  ]).catch(async () => (await Promise.race([closed, Bun.sleep(10).then(() => { throw new Error(`neither a frame nor a close within ${ms} ms`); })])));
}

/** "<E_CODE>: <message>" close reasons (1008) → a refusal. */
function refusalFromClose(close: { code: number; reason: string }): Seen {
  const p = closeProblem(close);
  if (p) throw new Error(p);
  if (close.code !== 1008) throw new Error(`refusal closed ${close.code}, expected 1008: ${close.reason}`);
  const colon = close.reason.indexOf(": ");
  return { kind: "refused", code: close.reason.slice(0, colon), message: close.reason.slice(colon + 2) };
}

function welcomeSeen(text: string): Seen {
  const p = jsonFrameProblem(text);
  if (p) throw new Error(p);
  const f = JSON.parse(text) as Record<string, any>;
  if (f.type !== "welcome") throw new Error(`expected welcome, got ${text.slice(0, 200)}`);
  if (!Array.isArray(f.streams)) throw new Error(`welcome without streams: ${text.slice(0, 200)}`);
  // Every jwt identity expires (exp is required): welcome.exp is its second (docs/protocol.md).
  if (typeof f.exp !== "number") throw new Error(`welcome without a numeric exp: ${text.slice(0, 200)}`);
  return { kind: "login", uid: f.uid, streams: f.streams.map((x: { stream: string }) => x.stream) };
}

const LOGIN_PREFIX = "login success, your uid is ";

async function viaAuth(tc: TokenCase): Promise<Seen> {
  const c = await TestClient.connect(pg, JSON_PROTOCOL);
  try {
    c.send(JSON.stringify({ type: "auth", token: tc.token }));
    const got = await nextOrClose(c);
    return "close" in got ? refusalFromClose(got.close) : welcomeSeen(got.text);
  } finally {
    c.close();
  }
}

async function viaSeed(tc: TokenCase): Promise<Seen> {
  const c = await TestClient.connect(pg);
  try {
    c.send(tc.token);
    const got = await nextOrClose(c);
    if ("close" in got) return refusalFromClose(got.close);
    if (!got.text.startsWith(LOGIN_PREFIX)) throw new Error(`seed login answered ${got.text.slice(0, 200)}`);
    return { kind: "login", uid: got.text.slice(LOGIN_PREFIX.length), streams: [] };
  } finally {
    c.close();
  }
}

const urlRefusals = new Tally();

async function viaUrl(tc: TokenCase, json: boolean): Promise<Seen | null> {
  const path = `/?token=${encodeURIComponent(wireString(tc.token))}`;
  // A raw request, closed right after the answer: an upgraded probe must not linger (it would
  // be logged in, and a token expiring seconds later would close it 4001 behind the tallies).
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const req = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${json ? `Sec-WebSocket-Protocol: ${JSON_PROTOCOL}\r\n` : ""}\r\n`;
  const res = await rawHttp(pg.port, new TextEncoder().encode(req), 5000);
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(res.head)?.[1] ?? 0);
  // Bun refuses a request head over its limit itself (bare 431); a URL that long only comes
  // from a token over 8192 characters, which would be refused anyway.
  if (status === 431 && res.body === "" && path.length > 8000) return null;
  if (status !== 101) {
    if (status !== 401) throw new Error(`?token= answered ${JSON.stringify(res.head.slice(0, 200))} ${res.body.slice(0, 200)}`);
    const body = JSON.parse(res.body) as { error: { code: string; message: string } };
    urlRefusals.add("401");
    return { kind: "refused", code: body.error.code, message: body.error.message };
  }
  // Accepted before the upgrade: a connection with this URL is logged in at once (seed) or
  // needs only an `auth` without a token (pushgate.v1).
  const c = new TestClient(`ws://127.0.0.1:${pg.port}${path}`, json ? JSON_PROTOCOL : undefined);
  try {
    await c.opened;
    if (json) c.send('{"type":"auth"}');
    const got = await nextOrClose(c);
    if ("close" in got) return refusalFromClose(got.close);
    if (json) return welcomeSeen(got.text);
    if (!got.text.startsWith(LOGIN_PREFIX)) throw new Error(`URL-token seed login answered ${got.text.slice(0, 200)}`);
    return { kind: "login", uid: got.text.slice(LOGIN_PREFIX.length), streams: [] };
  } finally {
    c.close();
  }
}

/** Logs in with a good token for `uid`, then refreshes with the case's token. */
async function viaRefresh(tc: TokenCase, uid: string): Promise<Seen> {
  const c = await TestClient.connect(pg, JSON_PROTOCOL);
  try {
    c.send(JSON.stringify({ type: "auth", token: await signHS256(claims({ sub: uid }), TEST_SECRET) }));
    welcomeSeen(await c.next(3000));
    c.send(JSON.stringify({ type: "refresh", id: 7, token: tc.token }));
    const got = await nextOrClose(c);
    if ("close" in got) throw new Error(`refresh closed the connection: ${got.close.code} ${got.close.reason}`);
    const p = jsonFrameProblem(got.text);
    if (p) throw new Error(`refresh answer: ${p}`);
    const f = JSON.parse(got.text) as Record<string, any>;
    if (f.id !== 7) throw new Error(`refresh answer without its id: ${got.text.slice(0, 200)}`);
    // A refresh never closes: the connection keeps answering.
    c.send('{"type":"ping","id":"after"}');
    const pong = await c.next(3000);
    if (pong !== '{"type":"pong","id":"after"}') throw new Error(`after refresh: ${pong.slice(0, 200)}`);
    if (f.type === "refreshed") {
      if (typeof f.exp !== "number") throw new Error(`refreshed without a numeric exp: ${got.text}`);
      return { kind: "login", uid, streams: [] };
    }
    if (f.type !== "error") throw new Error(`refresh answered ${got.text.slice(0, 200)}`);
    return { kind: "refused", code: f.code, message: f.message };
  } finally {
    c.close();
  }
}

/** The documented outcome vs what the server did. */
function judge(outcome: TokenOutcome, seen: Seen, channel: string, uid: string): string | null {
  if (seen.kind === "refused" && !documentedRefusal(seen.code, seen.message) && !(channel === "refresh" && seen.message === "refresh token is for another uid")) {
    return `undocumented refusal ${seen.code}: ${seen.message}`;
  }
  if (outcome.kind === "either") return null;
  if (outcome.kind === "accept") {
    if (channel === "refresh" && outcome.uid !== uid) {
      return seen.kind === "refused" && seen.code === "E_AUTH_FAILED" && seen.message === "refresh token is for another uid"
        ? null : `a valid token for another uid must be refused in a refresh, got ${JSON.stringify(seen)}`;
    }
    if (seen.kind !== "login") return `a valid token was refused: ${seen.code}: ${seen.message}`;
    if (seen.uid !== wireString(outcome.uid)) return `logged in as ${JSON.stringify(seen.uid)}, expected ${JSON.stringify(outcome.uid)}`;
    if (seen.streams.length > 0) {
      const want = [`uid:${seen.uid}`, "all", ...[...new Set(outcome.groups)].map((g) => `group:${wireString(g)}`)];
      if (JSON.stringify(seen.streams) !== JSON.stringify(want)) return `welcome streams ${JSON.stringify(seen.streams)}, expected ${JSON.stringify(want)}`;
    }
    return null;
  }
  if (seen.kind === "login") return `a token the rules refuse (${outcome.messages.join(" | ") || "any"}) logged in as ${JSON.stringify(seen.uid)}`;
  if (seen.code !== outcome.code) return `refused with ${seen.code}: ${seen.message}, expected ${outcome.code}`;
  if (outcome.messages.length > 0 && !outcome.messages.some((m) => seen.message === m || reasonMatches(`${seen.code}: ${seen.message}`, `${seen.code}: ${m}`))) {
    return `refused with "${seen.message}", expected ${outcome.messages.map((m) => `"${m}"`).join(" or ")}`;
  }
  return null;
}

const refusals = new Tally();
const channels = new Tally();

async function tokenFuzzCase(r: Rng, index: number): Promise<void> {
  const uid = `fzt${index}-${nameString(r, 5).replace(/[^a-z0-9]/gi, "x")}`;
  const tc = await tokenCase(r, signer, uid);
  const channel = r.pick(["auth", "url-seed", "url-json", "refresh", "seed"]);
  // A frame over --max-payload is closed 1009 by Bun before any token rule runs.
  if (!channel.startsWith("url") && Buffer.byteLength(wireString(tc.token)) + 100 > pg.hub.config.maxPayload) {
    const c = await TestClient.connect(pg, channel === "seed" ? undefined : JSON_PROTOCOL);
    c.send(channel === "seed" ? tc.token : JSON.stringify({ type: "auth", token: tc.token }));
    const got = await nextOrClose(c);
    c.close();
    if (!("close" in got) || got.close.code !== 1009) throw new Error(`a ${tc.token.length}-character token frame: expected 1009, got ${JSON.stringify(got).slice(0, 200)}`);
    channels.add(`${channel}:1009`);
    serverLog.check();
    await canary.check();
    return;
  }
  let seen: Seen | null;
  try {
    seen = channel === "auth" ? await viaAuth(tc)
      : channel === "seed" ? await viaSeed(tc)
      : channel === "refresh" ? await viaRefresh(tc, uid)
      : await viaUrl(tc, channel === "url-json");
  } catch (e) {
    throw new Error(`${channel}: ${(e as Error).message}\n  token ${tc.recipe}`);
  }
  channels.add(seen === null ? `${channel}:bun-431` : `${channel}:${seen.kind}`);
  if (seen === null) return;
  const p = judge(tc.outcome, seen, channel, uid);
  if (p) throw new Error(`${channel}: ${p}\n  token ${tc.recipe}\n  expected ${JSON.stringify(tc.outcome)}`);
  if (seen.kind === "refused") refusals.add(seen.code);
  serverLog.check();
  await canary.check();
}

fuzzTest(FILE, "random and mutated JWTs on auth, the upgrade URL, refresh and the seed login", 1000, 60, async (run) => {
  const before = await scrape(pg);
  const ran = await run((r, { index }) => tokenFuzzCase(r, index));
  await canary.check(3000, true);
  console.log(`[fuzz] tokens: ${ran} cases, canary checks ${canary.checks}; ${channels}; refusals ${refusals}`);
  expect(ran).toBeGreaterThan(0);
  const after = await scrape(pg);
  expect({
    authFailed: delta(after, before, 'pushgate_errors_total{code="E_AUTH_FAILED"}'),
    expired: delta(after, before, 'pushgate_errors_total{code="E_TOKEN_EXPIRED"}'),
    rejectedUpgrades: delta(after, before, 'pushgate_upgrades_rejected_total{reason="auth_failed"}'),
  }).toEqual({ authFailed: refusals.get("E_AUTH_FAILED"), expired: refusals.get("E_TOKEN_EXPIRED"), rejectedUpgrades: urlRefusals.get("401") });
});

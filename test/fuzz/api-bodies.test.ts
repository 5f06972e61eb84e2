// Fuzz: HTTP API requests for every method of src/api/methods/index.ts plus `batch` — valid
// bodies mutated (wrong types, deep and wide values, huge arrays, duplicate keys, truncation),
// odd content types, chunked, empty and non-UTF-8 bodies, other verbs, misspelt method names.
//
// Oracle per case: the answer is documented (docs/http-api.md): 200 {"result"} (batch: one
// {result}|{error} per call), or {"error":{code,message,field?}} with a code from ErrorCodes and
// the status httpStatusFor(code); never 5xx, never E_INTERNAL. The checks that come before a
// method runs (verb, name, size, JSON) must give exactly their documented code. A few live
// "victim" connections give the methods real clientIds to act on; every frame they get must be
// documented too. The canary pair must still route, a fresh connection log in. At the end
// pushgate_errors_total and pushgate_api_requests_total must have moved by exactly what the
// answers said.
//
// Replay one case: PUSHGATE_FUZZ_SEED=<seed> PUSHGATE_FUZZ_CASE=<i> bun test --timeout 30000 \
//   test/fuzz/api-bodies.test.ts -t '<test name>'   (printed by a failure)
import { afterAll, beforeAll, expect, test } from "bun:test";
import { METHODS } from "../../src/api/methods/index.ts";
import { TestClient, waitFor } from "../helpers.ts";
import { JsonClient } from "../json-client.ts";
import { scanDepth } from "./app-model.ts";
import { type ApiRequest, type Pools, TEMPLATES, chunkedBody, requestFor } from "./api-gen.ts";
import { fuzzTest } from "./fuzz-env.ts";
import { Canary, fuzzServer, Tally, apiAnswerProblem, closeProblem, delta, jsonFrameProblem, scrape } from "./oracle.ts";
import type { Rng } from "./prng.ts";

const FILE = "test/fuzz/api-bodies.test.ts";
// A large backpressure limit: a fuzzed 1 MiB sendToAll must not cut the canary off as a slow reader.
const { pg, log: serverLog } = fuzzServer({ backpressureLimit: 16 * 1024 * 1024 });
let canary: Canary;

/** Connections the fuzzed methods act on (bind, join, sessions, close); replaced when closed. */
interface Victim { uid: string; seed: TestClient | null; json: JsonClient | null; clientId: string; closed: boolean }
const victims: Victim[] = [];
let victimN = 0;
const requestsSeen = new Tally();
/** Set once the metrics baseline is taken: the harness's own API calls count from then on. */
let counting = false;

async function addVictim(json: boolean): Promise<void> {
  const uid = `fzv-${victimN++}`;
  const v: Victim = { uid, seed: null, json: null, clientId: "", closed: false };
  if (json) {
    const c = await JsonClient.connect(pg);
    c.send({ type: "auth", uid });
    v.clientId = (await c.next("welcome", 3000)).clientId as string;
    v.json = c;
    void c.closed.then(() => { v.closed = true; });
  } else {
    const c = await TestClient.login(pg, uid);
    if (counting) requestsSeen.add('pushgate_api_requests_total{method="getClientIdByUid",status="200"}');
    const ids = await fetch(`${pg.url}/api/getClientIdByUid`, { method: "POST", body: JSON.stringify({ uid }) }).then((r) => r.json()) as { result: string[] };
    v.clientId = ids.result[0]!;
    v.seed = c;
    void c.closed.then(() => { v.closed = true; });
  }
  victims.push(v);
}

/** Every frame a victim got is documented; closed victims (closeClient, 1000) are replaced. */
async function tendVictims(destroyable: boolean): Promise<void> {
  for (let i = victims.length - 1; i >= 0; i--) {
    const v = victims[i]!;
    if (v.json) {
      while (!(await v.json.nothingWithin(0))) {
        const f = await v.json.next();
        const p = jsonFrameProblem(JSON.stringify(f));
        if (p) throw new Error(`victim ${v.uid}: ${p}`);
      }
    }
    if (!v.closed) continue;
    const c = await (v.json ?? v.seed)!.closed;
    // destoryClient drops a connection without a close frame: 1006, only after such a call.
    const p = destroyable && c.code === 1006 && c.reason === "" ? null : closeProblem(c);
    if (p) throw new Error(`victim ${v.uid} closed: ${p}`);
    victims.splice(i, 1);
    await addVictim(v.json !== null);
  }
}

beforeAll(async () => {
  canary = await Canary.start(pg);
  for (let i = 0; i < 4; i++) await addVictim(i % 2 === 1);
});
afterAll(async () => {
  canary?.close();
  for (const v of victims) (v.json ?? v.seed)?.close();
  await pg.shutdown();
});

function pools(): Pools {
  return {
    clientIds: victims.map((v) => v.clientId),
    uids: victims.map((v) => v.uid),
    groups: ["fzg-0", "fzg-1", "fzg-2"],
  };
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const showDec = new TextDecoder("utf-8", { ignoreBOM: true }); // for messages: a BOM stays visible

function isKnown(name: string): boolean {
  return name === "batch" || Object.hasOwn(METHODS, name);
}

/**
 * The documented answer of the checks before a method runs, or null when the method decides
 * (docs/http-api.md "Checks run in this order"). Several codes when either is documented.
 */
function earlyCodes(req: ApiRequest, name: string, bytes: Uint8Array | null): string[] | null {
  if (req.verb !== "POST") return ["E_METHOD_NOT_ALLOWED"];
  if (!isKnown(name)) return ["E_UNKNOWN_METHOD"];
  const size = bytes?.length ?? 0;
  if (size > pg.hub.config.apiMaxBody) return ["E_BODY_TOO_LARGE"];
  const text = bytes === null ? "" : dec.decode(bytes);
  let value: unknown;
  let valid = true;
  try {
    value = JSON.parse(text);
  } catch {
    valid = false;
  }
  const maxDepth = (pg.hub.config as unknown as Record<string, unknown>).maxJsonDepth;
  if (typeof maxDepth === "number") {
    // The text's depth, duplicate keys included: checked on the raw text before parsing.
    if (valid && scanDepth(text) > maxDepth) return ["E_TOO_DEEP"];
    if (!valid && scanDepth(text) > maxDepth) return ["E_TOO_DEEP", "E_BAD_JSON"];
  }
  if (!valid) return text.trim() === "" ? null : ["E_BAD_JSON"];
  if (value === null || typeof value !== "object" || Array.isArray(value)) return ["E_BAD_JSON"];
  return null;
}

const errorsSeen = new Tally();
const methodsSeen = new Tally();

async function apiCase(r: Rng): Promise<void> {
  const protectedNames = canary.protectedNames;
  let req = requestFor(r, pools(), [...Object.keys(TEMPLATES), "batch"]);
  // Never aim at the canary (a mutated clientId could land on its slot); draw again.
  for (let i = 0; i < 20; i++) {
    const all = `${req.name} ${typeof req.body === "string" ? req.body : ""}`;
    if (!protectedNames.some((n) => all.includes(n)) && !canaryIds.some((id) => all.includes(id))) break;
    req = requestFor(r, pools(), [...Object.keys(TEMPLATES), "batch"]);
  }
  const bytes = req.body === null ? null : typeof req.body === "string" ? enc.encode(req.body) : req.body;
  const url = `${pg.url}/api/${req.name}${req.query}`;
  const name = new URL(url).pathname.slice("/api/".length);
  methodsSeen.add(isKnown(name) ? name : "unknown");
  const res = await fetch(url, {
    method: req.verb,
    headers: req.headers,
    body: bytes === null ? undefined : req.chunked ? chunkedBody(r, bytes) : bytes,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  const what = () => `${req.verb} ${url.slice(0, 200)} ${req.chunked ? "(chunked) " : ""}${JSON.stringify(req.headers)} body ${bytes === null ? "none" : `${bytes.length} B ${JSON.stringify(showDec.decode(bytes.subarray(0, 400)))}`}`;
  // docs/http-api.md: past 2 × --api-max-body + 64 KiB Bun refuses the body itself, with a bare
  // 413, unseen by the API metrics.
  const bunLimit = pg.hub.config.apiMaxBody * 2 + 65536;
  // Bun's refusal comes before any routing, whatever the verb or path.
  const over = (bytes?.length ?? 0) > bunLimit;
  if (over && res.status === 413 && text === "") {
    methodsSeen.add("bun-413");
    serverLog.check();
    await canary.check();
    return;
  }
  // A chunked body may reach the API's own count (413 E_BODY_TOO_LARGE) before Bun's: checked
  // and counted below like any answer.
  const own = req.chunked && res.status === 413 && text.includes('"code":"E_BODY_TOO_LARGE"');
  if (over && req.verb === "POST" && isKnown(name) && !own) {
    throw new Error(`expected Bun's bare 413, got ${res.status} ${text.slice(0, 200)}\n  request: ${what()}`);
  }
  const { problem, seen } = apiAnswerProblem({ method: req.verb, name }, res.status, text);
  if (problem) throw new Error(`${problem}\n  request: ${what()}`);
  const early = earlyCodes(req, name, bytes);
  if (early !== null && !early.includes(seen.code ?? "200")) {
    throw new Error(`expected ${early.join("|")}, got ${res.status} ${text.slice(0, 300)}\n  request: ${what()}`);
  }
  // A body that is a JSON object is never refused as bad JSON, however it travels (the
  // reference decoding is fetch's: UTF-8 with a leading BOM dropped, as req.text() does).
  if (early === null && seen.code === "E_BAD_JSON") throw new Error(`a JSON object body answered ${text.slice(0, 300)}\n  request: ${what()}`);
  if (req.verb !== "POST" && res.headers.get("allow") !== "POST") throw new Error(`405 without Allow: POST\n  request: ${what()}`);
  if (seen.code) errorsSeen.add(seen.code);
  for (const c of seen.batchCodes) errorsSeen.add(c);
  requestsSeen.add(`pushgate_api_requests_total{method="${isKnown(name) ? name : "unknown"}",status="${res.status}"}`);
  await tendVictims(bytes !== null && /destroyClient|destoryClient/.test(showDec.decode(bytes)) || /destroyClient|destoryClient/.test(name));
  serverLog.check();
  await canary.check();
}

let canaryIds: string[] = [];

test("every method has a body template (a new method must get one here)", () => {
  expect(Object.keys(TEMPLATES).sort()).toEqual(Object.keys(METHODS).sort());
});

fuzzTest(FILE, "random and mutated API requests: documented answers, exact metrics, canary routes", 800, 60, async (run) => {
  // The canary's own clientIds, so that no generated body names them.
  const byUid = async (uid: string) => (await fetch(`${pg.url}/api/getClientIdByUid`, { method: "POST", body: JSON.stringify({ uid }) }).then((x) => x.json()) as { result: string[] }).result;
  canaryIds = [...(await byUid(canary.senderUid)), ...(await byUid(canary.receiverUid))];
  const before = await scrape(pg);
  counting = true;
  const ran = await run(apiCase);
  await canary.check(3000, true);
  console.log(`[fuzz] api: ${ran} cases, canary checks ${canary.checks}; answers ${errorsSeen}; methods ${methodsSeen}`);
  expect(ran).toBeGreaterThan(0);
  // The two setup calls above (getClientIdByUid) ran before `before`; nothing else calls the API.
  const after = await scrape(pg);
  const mismatches: string[] = [];
  for (const [code, n] of errorsSeen.counts) {
    const d = delta(after, before, `pushgate_errors_total{code="${code}"}`);
    if (d !== n) mismatches.push(`errors_total{${code}} moved ${d}, answers said ${n}`);
  }
  for (const [series, n] of requestsSeen.counts) {
    const d = delta(after, before, series);
    if (d !== n) mismatches.push(`${series} moved ${d}, requests said ${n}`);
  }
  for (const series of after.keys()) {
    if (series.startsWith("pushgate_errors_total{") && delta(after, before, series) > 0) {
      const code = /code="([^"]+)"/.exec(series)![1]!;
      if (!errorsSeen.counts.has(code)) mismatches.push(`${series} moved ${delta(after, before, series)} with no such answer`);
    }
  }
  expect(mismatches).toEqual([]);
});

test("the server is still whole afterwards: /healthz, /metrics and the canary", async () => {
  await waitFor(async () => (await fetch(`${pg.url}/healthz`)).status === 200, 3000, "healthz");
  expect((await fetch(`${pg.url}/metrics`)).status).toBe(200);
  await canary.check(3000, true);
});

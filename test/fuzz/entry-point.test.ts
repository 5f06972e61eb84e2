// Fuzz against the real entry point: `bun src/main.ts` as a subprocess (no Redis), so a crash,
// an unhandled rejection or a stray stderr line of the real process is seen — the in-process
// files would die with the test runner instead. A mix of every case kind (raw frames, upgrade
// requests, seed and pushgate.v1 sequences, API requests) runs against it; after each case the
// process must still run, have logged no error line, and the canary pair must still route.
// At the end SIGTERM must drain it to exit code 0 with nothing on stderr.
//
// Replay one case: PUSHGATE_FUZZ_SEED=<seed> PUSHGATE_FUZZ_CASE=<i> bun test --timeout 30000 \
//   test/fuzz/entry-point.test.ts -t '<title as a regex>'   (a failure prints this line)
import type { Subprocess } from "bun";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { defaultConfig } from "../../src/config/parse.ts";
import { Logs, type Line } from "../cluster/nodes.ts";
import { cleanEnv } from "../helpers.ts";
import { requestFor, TEMPLATES, chunkedBody } from "./api-gen.ts";
import { fuzzTest } from "./fuzz-env.ts";
import { Canary, Tally, apiAnswerProblem, delta, scrape, type Samples } from "./oracle.ts";
import type { Rng } from "./prng.ts";
import { type Target, frameCase, jsonCase, modelOptions, seedCase, upgradeCase } from "./ws-cases.ts";

const FILE = "test/fuzz/entry-point.test.ts";
const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;
const FLAGS = ["--port", "0", "--host", "127.0.0.1", "--log-level", "info", "--max-payload", "8KiB"];

let proc: Subprocess<"ignore", "pipe", "pipe">;
let logs: Logs;
let stderr = "";
let node: { port: number; url: string };
let target: Target;
let canary: Canary;
let before: Samples;

beforeAll(async () => {
  // Only flags configure it: PUSHGATE_* variables (the fuzz's own included) are not passed on.
  proc = Bun.spawn(["bun", MAIN, ...FLAGS], { env: cleanEnv(), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  logs = new Logs(proc.stdout);
  void (async () => {
    const d = new TextDecoder();
    for await (const chunk of proc.stderr) stderr += d.decode(chunk, { stream: true });
  })().catch(() => {});
  const hello = await logs.nth("listening", 1, 15_000).catch((e) => {
    throw new Error(`the entry point did not start: ${(e as Error).message}; stderr: ${stderr}`);
  });
  node = { port: hello.port as number, url: `http://127.0.0.1:${hello.port}` };
  // The same options the flags give, for the models (maxJsonDepth where this build has it).
  const config = defaultConfig({ maxPayload: 8192 });
  target = { port: node.port, maxPayload: config.maxPayload, model: modelOptions(config) };
  canary = await Canary.start(node);
  before = await scrape(node);
}, 30_000);

afterAll(async () => {
  canary?.close();
  if (proc && proc.exitCode === null && proc.signalCode === null) {
    proc.kill("SIGKILL"); // by PID: only the process this file started
    await Promise.race([proc.exited, Bun.sleep(5000)]);
  }
});

let errorLines = 0;
/** The process is alive and wrote no error-level log line since the last check. */
function processHealthy(): void {
  if (proc.exitCode !== null || proc.signalCode !== null) {
    throw new Error(`the entry point exited (${proc.exitCode ?? proc.signalCode}); stderr: ${stderr.slice(0, 2000)}`);
  }
  const errors = logs.lines.filter((l: Line) => l.level === "error" || l.event === "(not json)");
  if (errors.length > errorLines) {
    const fresh = errors.slice(errorLines);
    errorLines = errors.length;
    throw new Error(`the entry point logged: ${fresh.map((l) => JSON.stringify(l).slice(0, 1000)).join(" | ")}`);
  }
  if (stderr !== "") throw new Error(`the entry point wrote to stderr: ${stderr.slice(0, 2000)}`);
}

/** An API request without victims: documented answer or Bun's bare 413 for an oversized body. */
async function apiCase(r: Rng): Promise<void> {
  const req = requestFor(r, { clientIds: [], uids: [], groups: ["fzg-0"] }, [...Object.keys(TEMPLATES), "batch"]);
  const bytes = req.body === null ? null : typeof req.body === "string" ? new TextEncoder().encode(req.body) : req.body;
  const url = `${node.url}/api/${req.name}${req.query}`;
  const name = new URL(url).pathname.slice("/api/".length);
  const res = await fetch(url, {
    method: req.verb, headers: req.headers, signal: AbortSignal.timeout(10_000),
    body: bytes === null ? undefined : req.chunked ? chunkedBody(r, bytes) : bytes,
  });
  const text = await res.text();
  // The subprocess runs with the default --api-max-body; past 2 × it + 64 KiB Bun may answer first.
  if ((bytes?.length ?? 0) > 2 * defaultConfig().apiMaxBody + 65536 && res.status === 413 && text === "") return;
  const { problem } = apiAnswerProblem({ method: req.verb, name }, res.status, text);
  if (problem) throw new Error(`${problem}\n  request: ${req.verb} ${url.slice(0, 200)} body ${bytes?.length ?? 0} B`);
}

const kinds = new Tally();

fuzzTest(FILE, "every case kind against the real entry point: alive, no error log, canary routes", 600, 60, async (run) => {
  const outcomes = new Tally();
  const closes = new Tally();
  const ran = await run(async (r, { index }) => {
    const kind = r.weighted<string>([[4, "frames"], [1, "upgrade"], [2, "seed"], [3, "json"], [4, "api"]]);
    kinds.add(kind);
    if (kind === "frames") await frameCase(target, r, index, outcomes);
    else if (kind === "upgrade") await upgradeCase(target, r);
    else if (kind === "seed") await seedCase(target, r, index, closes);
    else if (kind === "json") await jsonCase(target, r, index, closes);
    else await apiCase(r);
    processHealthy();
    await canary.check();
  });
  await canary.check(3000, true);
  console.log(`[fuzz] entry point: ${ran} cases (${kinds}), canary checks ${canary.checks}`);
  expect(ran).toBeGreaterThan(0);
});

test("the real process answers /metrics with the errors it counted, then drains to exit 0 on SIGTERM", async () => {
  const after = await scrape(node);
  // The fuzz made it refuse things, and it counted them (at least the bad-frame class).
  const errors = [...after.keys()].filter((k) => k.startsWith("pushgate_errors_total{")).reduce((s, k) => s + delta(after, before, k), 0);
  if (kinds.counts.size > 0) expect(errors).toBeGreaterThan(0);
  canary.close();
  proc.kill("SIGTERM");
  const code = await Promise.race([proc.exited, Bun.sleep(15_000).then(() => "still running")]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  expect(logs.lines.filter((l: Line) => l.level === "error")).toEqual([]);
}, 30_000);

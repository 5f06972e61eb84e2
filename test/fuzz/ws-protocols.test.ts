// Fuzz: protocol frames over real WebSocket connections — seed frames before and after login,
// and pushgate.v1 frames of every type (auth, send, ping, refresh, unknown types), with wrong
// field types, deep and wide data, huge ids and recover maps, valid or mutated.
//
// Each case is one connection: a sequence of frames, then a sentinel (a pushgate.v1 ping with
// its own id, or a seed message to the connection's own uid). app-model.ts predicts every answer
// from docs/protocol.md — each error frame's code and message, each reply's id, the close and
// its reason — and the case compares, in order. Every frame with a valid id gets exactly one
// answer carrying it. The server must log no error, the canary pair must still route and a
// fresh connection log in.
//
// Replay one case: PUSHGATE_FUZZ_SEED=<seed> PUSHGATE_FUZZ_CASE=<i> bun test --timeout 30000 \
//   test/fuzz/ws-protocols.test.ts -t '<title as a regex>'   (a failure prints this line)
import { expect } from "bun:test";
import { fuzzTest } from "./fuzz-env.ts";
import { Tally, delta, scrape } from "./oracle.ts";
import { jsonCase, seedCase, wsFuzzFixture } from "./ws-cases.ts";

const FILE = "test/fuzz/ws-protocols.test.ts";
const fx = wsFuzzFixture();
const { pg, serverLog, target } = fx;

fuzzTest(FILE, "seed frames before and after login: exact answers, bad-frame limit, canary routes", 500, 50, async (run) => {
  const closes = new Tally();
  const ran = await run(async (r, { index }) => {
    await seedCase(target, r, index, closes);
    serverLog.check();
    await fx.canary.check();
  });
  console.log(`[fuzz] seed: ${ran} cases, closes ${closes}`);
  expect(ran).toBeGreaterThan(0);
});

fuzzTest(FILE, "pushgate.v1 frames of every type, mutated: one answer per frame, documented codes", 800, 50, async (run) => {
  const closes = new Tally();
  const before = await scrape(pg);
  const ran = await run(async (r, { index }) => {
    await jsonCase(target, r, index, closes);
    serverLog.check();
    await fx.canary.check();
  });
  await fx.canary.check(3000, true);
  console.log(`[fuzz] pushgate.v1: ${ran} cases, canary checks ${fx.canary.checks}; closes ${closes}`);
  expect(ran).toBeGreaterThan(0);
  // Depth refusals are counted as a limit too, where the server has one (the 10th bad frame
  // closes as E_BAD_FRAME but still passed the limit, hence ≥).
  const after = await scrape(pg);
  const deep = delta(after, before, 'pushgate_errors_total{code="E_TOO_DEEP"}');
  expect(delta(after, before, 'pushgate_limits_exceeded_total{limit="max_json_depth"}')).toBeGreaterThanOrEqual(deep);
});

// How many cases run and from which seed, and the loop that runs them.
//
//   PUSHGATE_FUZZ_SEED=<n>   base seed (default: today's UTC date as YYYYMMDD, so a red CI run
//                            replays the same day; always printed at start)
//   PUSHGATE_FUZZ_CASES=<n>  cases per test (default: each test's own, sized for a few seconds
//                            in CI); "<k>x" multiplies every test's default instead, e.g. 10x
//   PUSHGATE_FUZZ_CASE=<i>   run only case i (replay); the failure message prints the command
//
// Case i of a test draws from Rng(start + i), start derived from the base seed and the test's
// title: every case is independent of the ones before it, so one case replays alone. Server
// state left by earlier cases (history, sessions, idempotency keys) is not replayed; rerun the
// whole test with the same seed for that.
import { test } from "bun:test";
import { hash32, Rng } from "./prng.ts";

function todaySeed(): number {
  const d = new Date();
  return d.getUTCFullYear() * 10_000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

function readInt(name: string, raw: string | undefined): number | null {
  if (raw === undefined || raw === "") return null;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

const env = process.env;
export const BASE_SEED = (readInt("PUSHGATE_FUZZ_SEED", env.PUSHGATE_FUZZ_SEED) ?? todaySeed()) >>> 0;
const ONLY_CASE = readInt("PUSHGATE_FUZZ_CASE", env.PUSHGATE_FUZZ_CASE);
const CASES_RAW = env.PUSHGATE_FUZZ_CASES ?? "";
const MULTIPLIER = /^\d+(\.\d+)?x$/.test(CASES_RAW) ? Number(CASES_RAW.slice(0, -1)) : null;
const FIXED_CASES = MULTIPLIER === null ? readInt("PUSHGATE_FUZZ_CASES", CASES_RAW) : null;

/** Cases a test runs: PUSHGATE_FUZZ_CASES, or its default (times the multiplier). */
export function caseCount(defaultCases: number): number {
  if (FIXED_CASES !== null) return FIXED_CASES;
  if (MULTIPLIER !== null) return Math.max(1, Math.round(defaultCases * MULTIPLIER));
  return defaultCases;
}

/** A bun test timeout that grows with the case count (the CI default stays far below it). */
function testTimeout(defaultCases: number, msPerCase: number): number {
  return 30_000 + caseCount(defaultCases) * msPerCase;
}

const announced = new Set<string>();
/** Prints the seed once per test file (bun test shows console output of passing tests too). */
export function announce(file: string): void {
  if (announced.has(file)) return;
  announced.add(file);
  const cases = FIXED_CASES !== null ? String(FIXED_CASES) : MULTIPLIER !== null ? `${MULTIPLIER}x defaults` : "defaults";
  const only = ONLY_CASE === null ? "" : `, only case ${ONLY_CASE}`;
  console.log(`[fuzz] ${file}: PUSHGATE_FUZZ_SEED=${BASE_SEED} (cases: ${cases}${only})`);
}

export interface CaseInfo {
  index: number;
  /** The seed this case's Rng was built from (printed on failure). */
  seed: number;
}

export type CaseFn = (r: Rng, info: CaseInfo) => Promise<void>;

/** A regex matching exactly `title` for `bun test -t`. */
function titlePattern(title: string): string {
  return "^" + title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "$";
}

/**
 * Registers a bun test whose body calls `run(fn)` to run every case (or only
 * PUSHGATE_FUZZ_CASE). The first failing case stops the loop; its error is rethrown with the
 * command that replays it. The body may check things before and after `run` (metrics).
 */
export function fuzzTest(
  file: string,
  title: string,
  defaultCases: number,
  msPerCase: number,
  body: (run: (fn: CaseFn) => Promise<number>) => Promise<void>,
): void {
  test(title, async () => {
    announce(file);
    await body((fn) => runCases(file, title, defaultCases, fn));
  }, testTimeout(defaultCases, msPerCase));
}

async function runCases(file: string, title: string, defaultCases: number, fn: CaseFn): Promise<number> {
  const n = caseCount(defaultCases);
  // Spread the bases apart: base b and b+1 must not replay the same cases shifted by one.
  const start = new Rng((BASE_SEED ^ hash32(title)) >>> 0).u32();
  const indices = ONLY_CASE === null ? Array.from({ length: n }, (_, i) => i) : [ONLY_CASE];
  for (const index of indices) {
    const seed = (start + index) >>> 0;
    try {
      await fn(new Rng(seed), { index, seed });
    } catch (e) {
      const replay = `PUSHGATE_FUZZ_SEED=${BASE_SEED} PUSHGATE_FUZZ_CASE=${index} bun test --timeout 30000 ${file} -t '${titlePattern(title)}'`;
      const message = `fuzz case failed: PUSHGATE_FUZZ_SEED=${BASE_SEED} case ${index} (rng seed ${seed})\n  replay: ${replay}\n  ${(e as Error)?.stack ?? String(e)}`;
      console.error(message);
      throw new Error(message);
    }
  }
  return indices.length;
}

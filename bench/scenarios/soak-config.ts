// What the soak orchestrator (soak.ts) hands its load processes (soak-churn.ts, soak-verify.ts),
// the periodic `STAT <json>` lines they print, and the names every part agrees on.

/** Churn uids c<i> (i < uidPool), fresh ones f<proc>x<n>; churn groups cg<i>, fresh fg<proc>x<n>. */
export const CHURN_UID_PREFIX = "c";
export const CHURN_GROUP_PREFIX = "cg";
/** Verifier uids v<i> and the groups the steady verifiers stay in. */
export const VERIFIER_UID_PREFIX = "v";
export const VERIFIER_GROUP_PREFIX = "vg";

export const STAT_PREFIX = "STAT ";

export interface ChurnConfig {
  host: string;
  port: number;
  /** Index of this churn process (fresh uid and group names carry it). */
  proc: number;
  sources: number;
  /** Live churn clients held at once by this process. */
  concurrency: number;
  /** Upper bound on new connections per second (no burst at the start). */
  connectsPerSec: number;
  /** How long a logged-in churn client lives before it closes, uniform in [min, max] ms. */
  lifeMs: [number, number];
  uidPool: number;
  groupPool: number;
  verifierUids: string[];
  verifierGroups: string[];
  /** The server's --login-timeout: the clients that never log in wait this long for its close. */
  loginTimeoutMs: number;
  /** Stops by itself after this long even without SIGUSR1. */
  maxMs: number;
  statEveryMs: number;
}

export interface PublishRates {
  uidPerSec: number;
  groupPerSec: number;
  allPerSec: number;
  /** `batch` requests per second, each of batchSize sendToUid calls. */
  batchPerSec: number;
  batchSize: number;
}

export interface VerifyConfig {
  host: string;
  port: number;
  sources: number;
  /** Verifiers that stay connected the whole run (and in verifier groups). */
  steady: number;
  /** Verifiers that drop and reconnect with `recover` (uid and all streams only). */
  reconnecting: number;
  groups: string[];
  reconnectEveryMs: [number, number];
  offlineMs: [number, number];
  publish: PublishRates;
  churnUidPool: number;
  churnGroupPool: number;
  /** After SIGUSR1: how long to wait for the last messages before judging. */
  drainMs: number;
  maxMs: number;
  statEveryMs: number;
}

/** Uniform integer in [lo, hi]. */
export function between(lo: number, hi: number): number {
  return lo + Math.floor(Math.random() * (hi - lo + 1));
}

export function pick<T>(xs: readonly T[]): T {
  return xs[Math.floor(Math.random() * xs.length)]!;
}

export function printStat(s: Record<string, unknown>): void {
  process.stdout.write(STAT_PREFIX + JSON.stringify(s) + "\n");
}

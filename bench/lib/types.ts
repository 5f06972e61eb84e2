// What the orchestrator (run.ts) hands the load client, and what the load client reports back:
// one stdout line `RESULT <json>` per finished phase, so a killed client still leaves its results.

/** Bursts of `burst` messages, at most `window` undelivered, until all arrived or a timeout. */
export interface BurstOptions { messages: number; burst: number; window: number; timeoutMs: number; idleMs: number }
/** A fixed total rate for a fixed time, then a drain. */
export interface RateOptions { rate: number; seconds: number; drainMs: number }

export interface LoadConfig {
  host: string;
  port: number;
  /** Server process id, for its CPU time and RSS from /proc; null to skip. */
  serverPid: number | null;
  clients: number;
  sources: number;
  connectConcurrency: number;
  connectTimeoutMs: number;
  broadcast: BurstOptions;
  targeted: RateOptions;
  /** Wire format of every client (wire.ts); "json" only against pushgate. Default seed. */
  protocol?: "seed" | "json";
}

export const RESULT_PREFIX = "RESULT ";

/** One phase's flat metrics: numbers (NaN/null when not measured) and a few strings. */
export type PhaseResult = { phase: "setup" | "broadcast" | "targeted" } & Record<string, number | string | null>;

// A fixed workout for a metrics registry: every existing family gets samples (labelled ones,
// a label value needing escapes, fractional histogram sums), with fixed gauge sources, so its
// 0.0.4 text can be compared byte for byte with the text from before OpenMetrics support.
import type { MetricSources } from "../../src/ops/metrics.ts";

export const fixedSources: MetricSources = {
  connections: () => 3,
  loggedIn: () => 2,
  uids: () => 2,
  groups: () => 1,
  history: () => ({ streams: 4, entries: 5, bytes: 600 }),
};

// Structural: also accepts the registry of the code before this change (used to make the fixture).
type Series = { incL(values: readonly string[], n?: number): void };
type Plain = { inc(n?: number): void };
type Hist = { observe(values: readonly string[], v: number): void };
export interface Exercisable {
  registry: { add(m: any): unknown; render(): string };
  recoveries: Series; replayed: Plain; clusterErrors: Plain; idempotentHits: Plain; opened: Plain; logins: Plain;
  framesIn: Plain; framesOut: Plain; publishes: Series; drops: Series; errors: Series; limitsExceeded: Series;
  closes: Series; upgradesRejected: Series; apiRequests: Series; hookRequests: Series; hookDuration: Hist;
  webhookEvents: Series; webhookPosts: Series; presenceEvents: Series; webhookRetries: Plain; apiDuration: Hist;
  hookQueue(read: () => number): unknown; webhookQueue(read: () => number): unknown; redisConnected(read: () => number): unknown;
}

export function exercise(m: Exercisable): void {
  m.recoveries.incL(["recovered"]);
  m.recoveries.incL(["gap"], 2);
  m.replayed.inc(3);
  m.clusterErrors.inc();
  m.idempotentHits.inc();
  m.opened.inc(4);
  m.logins.inc(2);
  m.framesIn.inc(5);
  m.framesOut.inc(7);
  m.publishes.incL(["uid"]);
  m.drops.incL(["offline"], 2);
  m.errors.incL(["E_NOT_FOUND"]);
  m.errors.incL(['odd "code"\\\n']);
  m.limitsExceeded.incL(["max_json_depth"]);
  m.closes.incL(["1000"]);
  m.upgradesRejected.incL(["bad_request"]);
  m.apiRequests.incL(["sendToUid", "200"]);
  m.hookRequests.incL(["rpc", "ok"]);
  m.hookDuration.observe(["rpc"], 0.003);
  m.webhookEvents.incL(["sent"]);
  m.webhookPosts.incL(["200"]);
  m.presenceEvents.incL(["join"]);
  m.webhookRetries.inc();
  m.apiDuration.observe(["sendToUid"], 0.0004);
  m.apiDuration.observe(["sendToUid"], 0.07);
  m.apiDuration.observe(["sendToUid"], 2);
  m.registry.add(m.hookQueue(() => 1));
  m.registry.add(m.webhookQueue(() => 2));
  m.registry.add(m.redisConnected(() => 1));
}

/** The text with the sample values of the gauges that read the clock or the process masked. */
export function maskVolatile(text: string): string {
  return text.replace(/^(pushgate_uptime_seconds|pushgate_resident_memory_bytes|pushgate_js_heap_bytes) .*$/gm, "$1 <volatile>");
}

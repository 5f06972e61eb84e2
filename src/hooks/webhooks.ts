// Event webhooks (--webhook-url): `connection.open` (a login), `connection.close`, and on one
// node (the memory engine) `user.online` / `user.offline` — a uid's first connection / its last
// one gone for --webhook-debounce (a reload is not an offline + online pair). Events are queued
// (at most --webhook-queue; past it an event is dropped, counted and logged — never silently),
// sent in batches of up to --webhook-batch-max every --webhook-batch-ms as
// `{ time_ms, events: [{ id, name, time_ms, … }] }`, signed (X-Pushgate-Timestamp,
// X-Pushgate-Signature: sha256=HMAC(secret, "<timestamp>.<body>")), one batch in flight (so
// events arrive in order), retried with exponential backoff and full jitter until
// --webhook-retry has passed (then dropped, counted and logged). At least once: an event may
// arrive twice after a retry; its `id` is unique for de-duplication. In memory: a crash loses
// what is queued (docs/hooks.md).
import type { Config } from "../config/types.ts";
import { clientIdOf } from "../core/client-table.ts";
import type { Conn } from "../core/conn-data.ts";
import type { NodeEvents } from "../core/node-events.ts";
import type { Logger } from "../ops/log.ts";
import type { Metrics } from "../ops/metrics.ts";

interface Event {
  id: string;
  name: string;
  time_ms: number;
  [field: string]: unknown;
}

const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 30_000;

export class Webhooks implements NodeEvents {
  private queue: Event[] = [];
  private seq = 0;
  private sending = false;
  private timer: Timer | null = null;
  private stopped = false;
  // WebCrypto HMAC: Bun.CryptoHasher's HMAC was seen to throw an OpenSSL error another crypto
  // call had left behind (checked 2026-12-01, Bun 1.4.5).
  private key: Promise<CryptoKey> | null = null;
  private readonly enabled: ReadonlySet<string>;
  /** uids whose user.offline waits for the debounce (a new connection in time cancels it). */
  private readonly leaving = new Map<string, Timer>();

  /** `presence`: user.online/offline may be sent (one node: its counts are the whole truth). */
  constructor(
    private readonly config: Config, private readonly nodeId: string, private readonly metrics: Metrics,
    private readonly log: Logger, presence: boolean,
  ) {
    metrics.registry.add(metrics.webhookQueue(() => this.queue.length));
    const names = config.webhookEvents.split(",").map((e) => e.trim()).filter((e) => e !== "");
    this.enabled = new Set(presence ? names : names.filter((n) => !n.startsWith("user.")));
    if (!presence && names.some((n) => n.startsWith("user."))) {
      log.warn("webhook_presence_off", { message: "user.online/user.offline are not sent by a cluster member yet (cluster-wide presence events: issue 11)" });
    }
  }

  uidConnections(uid: string, n: number): void {
    if (n === 1) {
      const t = this.leaving.get(uid);
      if (t !== undefined) {
        clearTimeout(t); // back within the debounce: neither offline nor online
        this.leaving.delete(uid);
        return;
      }
      return this.add("user.online", { uid });
    }
    if (!this.enabled.has("user.offline")) return;
    const t = setTimeout(() => {
      this.leaving.delete(uid);
      this.add("user.offline", { uid });
    }, this.config.webhookDebounceMs);
    t.unref();
    this.leaving.set(uid, t);
  }

  loggedIn(ws: Conn): void {
    this.add("connection.open", { clientId: clientIdOf(ws.data), uid: ws.data.uid });
  }

  closed(ws: Conn, code: number, reason: string): void {
    const d = ws.data;
    if (!d.loggedIn) return; // it never opened for the application
    this.add("connection.close", { clientId: clientIdOf(d), uid: d.uid, code, reason, session: d.session?.data ?? null });
  }

  /** Sends what is queued now (shutdown); later events are not sent. */
  async stop(): Promise<void> {
    // Pending user.offline events are due now: the node is going away.
    for (const [uid, t] of this.leaving) {
      clearTimeout(t);
      this.add("user.offline", { uid });
    }
    this.leaving.clear();
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.sending && this.queue.length > 0) await this.flush(performance.now() + 2000).catch((e) => this.log.error("webhook_error", { error: String(e) }));
  }

  private add(name: string, fields: Record<string, unknown>): void {
    if (this.stopped || !this.enabled.has(name)) return;
    if (this.queue.length >= this.config.webhookQueue) {
      this.metrics.webhookEvents.incL(["dropped_queue_full"]);
      this.metrics.limitsExceeded.incL(["webhook_queue"]);
      this.log.warn("webhook_dropped", { reason: "queue full (--webhook-queue)", name });
      return;
    }
    this.queue.push({ id: `${this.nodeId}-${(++this.seq).toString(36)}`, name, time_ms: Date.now(), ...fields });
    if (!this.sending && this.timer === null) this.timer = setTimeout(() => this.flushLogged(), this.config.webhookBatchMs);
  }

  private flushLogged(): void {
    this.flush(null).catch((e) => this.log.error("webhook_error", { error: String(e) }));
  }

  /** Sends batches until the queue is empty (one in flight); `until`: give up at this time (stop). */
  private async flush(until: number | null): Promise<void> {
    this.timer = null;
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, this.config.webhookBatchMax);
        const sent = await this.deliver(batch, until);
        this.queue.splice(0, batch.length);
        this.metrics.webhookEvents.incL([sent ? "sent" : "dropped_retries_exhausted"], batch.length);
        if (!sent) this.log.error("webhook_dropped", { reason: `not accepted within ${this.config.webhookRetryMs} ms (--webhook-retry)`, events: batch.length, first: batch[0]!.id });
      }
    } finally {
      this.sending = false;
    }
  }

  private async sign(text: string): Promise<string> {
    const enc = new TextEncoder();
    this.key ??= crypto.subtle.importKey("raw", enc.encode(this.config.webhookSecret ?? ""), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return Buffer.from(await crypto.subtle.sign("HMAC", await this.key, enc.encode(text))).toString("hex");
  }

  /** One batch, retried with backoff and jitter until accepted (2xx) or out of time. */
  private async deliver(events: Event[], until: number | null): Promise<boolean> {
    const giveUp = until ?? performance.now() + this.config.webhookRetryMs;
    for (let attempt = 0; ; attempt++) {
      const ts = Date.now();
      const body = JSON.stringify({ time_ms: ts, events });
      try {
        const signature = await this.sign(`${ts}.${body}`);
        const res = await fetch(this.config.webhookUrl!, {
          method: "POST", body,
          headers: { "content-type": "application/json", "x-pushgate-timestamp": String(ts), "x-pushgate-signature": `sha256=${signature}` },
          signal: AbortSignal.timeout(this.config.hookTimeoutMs),
        });
        await res.arrayBuffer().catch(() => {});
        this.metrics.webhookPosts.incL([String(res.status)]);
        if (res.ok) return true;
      } catch (e) {
        this.metrics.webhookPosts.incL(["failed"]);
        if (!(e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError" || /connect|refused|reset|socket/i.test(e.message)))) {
          this.log.warn("webhook_post_failed", { error: String(e).slice(0, 200) });
        }
      }
      const backoff = Math.random() * Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** attempt);
      if (performance.now() + backoff > giveUp) return false;
      await Bun.sleep(backoff);
    }
  }
}

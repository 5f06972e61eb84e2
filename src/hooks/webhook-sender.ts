// POSTs one batch of webhook events, signed, retried with exponential backoff and full jitter
// until it is accepted (2xx) or --webhook-retry has passed. Both outboxes (memory-outbox.ts,
// redis/outbox.ts) send through it. The body is `{"time_ms":…,"events":[…]}`, built from event
// JSON texts that carry their own `id`, so an outbox never re-encodes what it stored.
import type { Config } from "../config/types.ts";
import type { Logger } from "../ops/log.ts";
import type { Metrics } from "../ops/metrics.ts";

const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 30_000;

export class WebhookSender {
  // WebCrypto HMAC: Bun.CryptoHasher's HMAC was seen to throw an OpenSSL error another crypto
  // call had left behind (checked 2026-12-01, Bun 1.4.5).
  private key: Promise<CryptoKey> | null = null;

  constructor(private readonly config: Config, private readonly metrics: Metrics, private readonly log: Logger) {}

  /**
   * Sends `events` (JSON texts) until accepted; false when not accepted by `until`
   * (performance.now() time; default now + --webhook-retry) or `keepGoing()` turned false.
   */
  async send(events: readonly string[], until: number | null = null, keepGoing: () => boolean = () => true): Promise<boolean> {
    const giveUp = until ?? performance.now() + this.config.webhookRetryMs;
    const list = events.join(",");
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) this.metrics.webhookRetries.inc();
      const ts = Date.now();
      const body = `{"time_ms":${ts},"events":[${list}]}`;
      const t0 = performance.now();
      try {
        const signature = await this.sign(`${ts}.${body}`);
        const res = await fetch(this.config.webhookUrl!, {
          method: "POST", body,
          headers: { "content-type": "application/json", "x-pushgate-timestamp": String(ts), "x-pushgate-signature": `sha256=${signature}` },
          signal: AbortSignal.timeout(this.config.hookTimeoutMs),
        });
        await res.arrayBuffer().catch(() => {});
        this.metrics.hookDuration.observe(["webhook"], (performance.now() - t0) / 1000);
        this.metrics.webhookPosts.incL([String(res.status)]);
        if (res.ok) return true;
      } catch (e) {
        this.metrics.webhookPosts.incL(["failed"]);
        if (!(e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError" || /connect|refused|reset|socket/i.test(e.message)))) {
          this.log.warn("webhook_post_failed", { error: String(e).slice(0, 200) });
        }
      }
      const backoff = Math.random() * Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** attempt);
      if (performance.now() + backoff > giveUp || !keepGoing()) return false;
      await Bun.sleep(backoff);
    }
  }

  private async sign(text: string): Promise<string> {
    const enc = new TextEncoder();
    this.key ??= crypto.subtle.importKey("raw", enc.encode(this.config.webhookSecret ?? ""), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return Buffer.from(await crypto.subtle.sign("HMAC", await this.key, enc.encode(text))).toString("hex");
  }
}

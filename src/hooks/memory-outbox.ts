// The webhook outbox of one node, in memory: at most --webhook-queue events wait; one batch of
// up to --webhook-batch-max is in flight (so events arrive in order), sent --webhook-batch
// after the first event of a batch. A crash loses what is queued (docs/hooks.md).
import type { Config } from "../config/types.ts";
import type { Logger } from "../ops/log.ts";
import type { Metrics } from "../ops/metrics.ts";
import type { Outbox } from "./outbox.ts";
import type { WebhookSender } from "./webhook-sender.ts";

export class MemoryOutbox implements Outbox {
  private queue: string[] = [];
  private seq = 0;
  private sending = false;
  /** The flush in progress (stop waits for it). */
  private flushing: Promise<void> | null = null;
  /** After stop: a send in flight gives up at this time (performance.now()). */
  private deadline = Infinity;
  private timer: Timer | null = null;
  private stopped = false;

  constructor(
    private readonly nodeId: string, private readonly config: Config, private readonly sender: WebhookSender,
    private readonly metrics: Metrics, private readonly log: Logger,
  ) {
    metrics.registry.add(metrics.webhookQueue(() => this.queue.length));
  }

  add(json: string): void {
    if (this.stopped) {
      this.metrics.webhookEvents.incL(["dropped_stopped"]);
      return;
    }
    if (this.queue.length >= this.config.webhookQueue) {
      this.metrics.webhookEvents.incL(["dropped_queue_full"]);
      this.metrics.limitsExceeded.incL(["webhook_queue"]);
      this.log.warn("webhook_dropped", { reason: "queue full (--webhook-queue)", events: 1 });
      return;
    }
    this.queue.push(`{"id":"${this.nodeId}-${(++this.seq).toString(36)}",${json.slice(1)}`);
    if (!this.sending && this.timer === null) this.timer = setTimeout(() => this.flushLogged(null), this.config.webhookBatchMs);
  }

  /** Sends what is queued (the drain's events), waiting for a send in flight, until `until`; what is left then is dropped, counted and logged. */
  async stop(until: number): Promise<void> {
    this.stopped = true;
    this.deadline = until;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.flushing) await this.flushing;
    if (this.queue.length > 0) await this.flushLogged(until);
    if (this.queue.length > 0) {
      this.metrics.webhookEvents.incL(["dropped_stopped"], this.queue.length);
      this.log.error("webhook_dropped", { reason: "not accepted before the stop's bound (2 s)", events: this.queue.length });
      this.queue = [];
    }
  }

  private flushLogged(until: number | null): Promise<void> {
    if (this.flushing) return this.flushing;
    const p: Promise<void> = this.flush(until)
      .catch((e) => this.log.error("webhook_error", { error: String(e) }))
      .finally(() => { if (this.flushing === p) this.flushing = null; });
    this.flushing = p;
    return p;
  }

  /** Sends batches until the queue is empty (one in flight); `until`: give up at this time (stop). */
  private async flush(until: number | null): Promise<void> {
    this.timer = null;
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, this.config.webhookBatchMax);
        const sent = await this.sender.send(batch, until, () => performance.now() < this.deadline);
        if (!sent && this.stopped && performance.now() >= this.deadline) return; // left for stop() to count
        this.queue.splice(0, batch.length);
        this.metrics.webhookEvents.incL([sent ? "sent" : "dropped_retries_exhausted"], batch.length);
        if (!sent) this.log.error("webhook_dropped", { reason: `not accepted within ${this.config.webhookRetryMs} ms (--webhook-retry)`, events: batch.length, first: batch[0]!.slice(7, batch[0]!.indexOf('"', 7)) });
      }
    } finally {
      this.sending = false;
    }
  }
}

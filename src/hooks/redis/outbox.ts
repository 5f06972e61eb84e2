// The cluster's durable webhook outbox: a Redis Stream with a consumer group. Every node
// appends its events (batched per event-loop turn, outbox-add.lua, bounded by --webhook-queue:
// past it an event is refused, counted and logged, never trimmed silently); presence
// transitions are appended by the presence scripts in the same atomic call that decides them.
// The node holding the lease reads the stream in order, POSTs a batch (WebhookSender: signed,
// retried), then XACK + XDEL. An event read but not acknowledged stays pending: a node taking
// the lease over claims it (XAUTOCLAIM) and sends it again — at least once; the entry ID is the
// event's `id`, for de-duplication. What a crash can lose: the events of the turn not yet
// appended, and those held in memory while Redis was unreachable (docs/hooks.md).
import type { Config } from "../../config/types.ts";
import type { Logger } from "../../ops/log.ts";
import type { Metrics } from "../../ops/metrics.ts";
import type { Outbox } from "../outbox.ts";
import type { WebhookSender } from "../webhook-sender.ts";
import { OUTBOX_GROUP, OUTBOX_KEY } from "./keys.ts";
import type { Lease } from "./lease.ts";
import type { Link } from "./link.ts";
import ADD from "./outbox-add.lua" with { type: "text" };

/** Events per outbox-add.lua call. */
const ADD_CHUNK = 500;

type Entry = [id: string, fields: string[] | null];

export class RedisOutbox implements Outbox {
  /** Appends not yet confirmed (this turn's, or held while Redis was unreachable). */
  private pending: string[] = [];
  private adding = false;
  private pumping = false;
  private stopped = false;
  /** The next read starts with this node's own pending entries (after it took the lease). */
  private drainOwn = true;
  private groupReady = false;
  private readonly addScript;

  constructor(
    private readonly link: Link, private readonly nodeId: string, private readonly config: Config, private readonly sender: WebhookSender,
    private readonly lease: Lease, private readonly metrics: Metrics, private readonly log: Logger,
  ) {
    this.addScript = link.script(ADD);
    metrics.registry.add(metrics.webhookQueue(() => this.pending.length));
    link.whenConnected(() => {
      this.groupReady = false;
      this.scheduleAdd();
    });
  }

  add(json: string): void {
    if (this.stopped) return;
    if (this.pending.length >= this.config.webhookQueue) return this.refused(1, "queue full (--webhook-queue): Redis unreachable");
    this.pending.push(json);
    this.scheduleAdd();
  }

  /** The lease is held: read and send until it is lost or the node stops. */
  leaseAcquired(): void {
    this.drainOwn = true;
    if (!this.pumping) void this.pump();
  }

  async stop(until: number): Promise<void> {
    await this.appendPending();
    this.stopped = true;
    // The holder's unsent events stay in the stream: the next holder sends them.
    while (this.pumping && performance.now() < until) await Bun.sleep(20);
  }

  private scheduleAdd(): void {
    if (!this.adding && this.pending.length > 0) {
      this.adding = true;
      setImmediate(() => void this.appendPending());
    }
  }

  private async appendPending(): Promise<void> {
    this.adding = true;
    try {
      while (this.pending.length > 0 && this.link.connected) {
        const chunk = this.pending.slice(0, ADD_CHUNK);
        try {
          const refused = Number(await this.link.run(this.addScript, [OUTBOX_KEY], [String(this.config.webhookQueue), ...chunk]));
          this.pending.splice(0, chunk.length);
          if (refused > 0) this.refused(refused, "outbox full (--webhook-queue events wait in Redis)");
        } catch (e) {
          // Kept and appended again later (at least once: a call that ran but did not answer appends twice).
          this.log.warn("webhook_outbox_unavailable", { events: this.pending.length, error: String(e).slice(0, 200) });
          setTimeout(() => this.scheduleAdd(), 500).unref();
          return;
        }
      }
    } finally {
      this.adding = false;
    }
  }

  private refused(n: number, reason: string): void {
    this.metrics.webhookEvents.incL(["dropped_queue_full"], n);
    this.metrics.limitsExceeded.incL(["webhook_queue"], n);
    this.log.warn("webhook_dropped", { reason, events: n });
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.lease.holding && !this.stopped) {
        const entries = await this.read().catch((e) => {
          this.log.warn("webhook_outbox_read_failed", { error: String(e).slice(0, 200) });
          return null;
        });
        if (entries === null || entries.length === 0) {
          await Bun.sleep(entries === null ? 500 : Math.max(10, this.config.webhookBatchMs));
          continue;
        }
        const ids = entries.map((e) => e[0]);
        // An entry deleted after it was read (acknowledged by a holder that lost its lease meanwhile) has no fields: only acknowledged.
        const events = entries.filter((e) => e[1] !== null).map(([id, fields]) => `{"id":"${id}",${eventText(fields!).slice(1)}`);
        const sent = events.length === 0 || await this.sender.send(events, null, () => this.lease.holding && !this.stopped);
        if (!sent && (!this.lease.holding || this.stopped)) break; // not acknowledged: the next holder sends them
        await this.link.send("XACK", [OUTBOX_KEY, OUTBOX_GROUP, ...ids]).then(() => this.link.send("XDEL", [OUTBOX_KEY, ...ids])).catch((e) => {
          this.log.warn("webhook_outbox_ack_failed", { events: ids.length, error: String(e).slice(0, 200) }); // they are sent again: at least once
        });
        this.metrics.webhookEvents.incL([sent ? "sent" : "dropped_retries_exhausted"], events.length);
        if (!sent) this.log.error("webhook_dropped", { reason: `not accepted within ${this.config.webhookRetryMs} ms (--webhook-retry)`, events: events.length, first: ids[0] });
      }
    } finally {
      this.pumping = false;
    }
  }

  /**
   * The next batch in stream order: first this node's own pending entries and those it claims
   * from other consumers (a holder that died), then new ones.
   */
  private async read(): Promise<Entry[]> {
    const n = String(this.config.webhookBatchMax);
    if (!this.groupReady) {
      await this.link.send("XGROUP", ["CREATE", OUTBOX_KEY, OUTBOX_GROUP, "0", "MKSTREAM"]).catch((e) => {
        if (!String(e).includes("BUSYGROUP")) throw e;
      });
      this.groupReady = true;
      this.drainOwn = true;
    }
    if (this.drainOwn) {
      // Everything pending anywhere in the group becomes this node's (only the holder reads).
      await this.link.send("XAUTOCLAIM", [OUTBOX_KEY, OUTBOX_GROUP, this.nodeId, "0", "0-0", "COUNT", n, "JUSTID"]);
      const own = entriesOf(await this.link.send("XREADGROUP", ["GROUP", OUTBOX_GROUP, this.nodeId, "COUNT", n, "STREAMS", OUTBOX_KEY, "0"]));
      if (own.length > 0) return own;
      // Nothing of this node's pending is left; more may wait with other consumers (claimed COUNT at a time).
      const more = await this.link.send("XPENDING", [OUTBOX_KEY, OUTBOX_GROUP]) as unknown[];
      if (Number(more?.[0] ?? 0) > 0) return [];
      this.drainOwn = false;
    }
    return entriesOf(await this.link.send("XREADGROUP", ["GROUP", OUTBOX_GROUP, this.nodeId, "COUNT", n, "STREAMS", OUTBOX_KEY, ">"]));
  }
}

/** The entries of an XREADGROUP answer (RESP3: a map stream → entries; RESP2: [[stream, entries]]). */
function entriesOf(r: unknown): Entry[] {
  if (r === null || r === undefined) return [];
  if (Array.isArray(r)) return ((r[0] as unknown[] | undefined)?.[1] as Entry[] | undefined) ?? [];
  const v = Object.values(r as Record<string, unknown>)[0];
  return (v as Entry[] | undefined) ?? [];
}

/** The event text of an entry (field "e"). */
function eventText(fields: string[]): string {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === "e") return fields[i + 1]!;
  return `{"name":"unknown"}`;
}

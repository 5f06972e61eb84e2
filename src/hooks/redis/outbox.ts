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
import ACK from "./ack.lua" with { type: "text" };
import ADD from "./outbox-add.lua" with { type: "text" };

/** Events per outbox-add.lua call. */
const ADD_CHUNK = 500;
/** How often the holder also claims what other consumers left pending (a holder that lost its lease mid-POST). */
const CLAIM_EVERY_MS = 10_000;

type Entry = [id: string, fields: string[] | null];

export class RedisOutbox implements Outbox {
  /** Appends not yet confirmed (this turn's, or held while Redis was unreachable). */
  private pending: string[] = [];
  private adding: Promise<void> | null = null;
  private addScheduled = false;
  private lastClaim = 0;
  private pumping = false;
  private stopped = false;
  /** The next read starts with this node's own pending entries (after it took the lease). */
  private drainOwn = true;
  private groupReady = false;
  private readonly addScript;
  private readonly ackScript;

  constructor(
    private readonly link: Link, private readonly nodeId: string, private readonly config: Config, private readonly sender: WebhookSender,
    private readonly lease: Lease, private readonly metrics: Metrics, private readonly log: Logger,
  ) {
    this.addScript = link.script(ADD);
    this.ackScript = link.script(ACK);
    metrics.registry.add(metrics.webhookQueue(() => this.pending.length));
    link.whenConnected(() => {
      this.groupReady = false;
      this.scheduleAdd();
    });
  }

  add(json: string): void {
    if (this.stopped) {
      this.metrics.webhookEvents.incL(["dropped_stopped"]);
      return;
    }
    if (this.pending.length >= this.config.webhookQueue) return this.refused(1, "queue full (--webhook-queue): Redis unreachable");
    this.pending.push(json);
    this.scheduleAdd();
  }

  /** The lease is held: read and send until it is lost or the node stops. */
  leaseAcquired(): void {
    this.drainOwn = true;
    if (!this.pumping) void this.pump();
  }

  /** Appends what is pending (bounded by the caller); what Redis did not take is dropped, counted and logged. */
  async stop(until: number): Promise<void> {
    this.stopped = true;
    if (this.adding) await this.adding;
    await this.append();
    if (this.pending.length > 0) {
      this.metrics.webhookEvents.incL(["dropped_stopped"], this.pending.length);
      this.log.error("webhook_dropped", { reason: "Redis did not take them before the stop", events: this.pending.length });
      this.pending = [];
    }
    // The holder's unsent events stay in the stream: the next holder sends them.
    while (this.pumping && performance.now() < until) await Bun.sleep(20);
  }

  private scheduleAdd(): void {
    if (this.addScheduled || this.adding || this.pending.length === 0) return;
    this.addScheduled = true;
    setImmediate(() => {
      this.addScheduled = false;
      if (!this.adding) void this.append();
    });
  }

  /** One append loop at a time (an event is never appended by two loops at once). */
  private append(): Promise<void> {
    this.adding ??= this.appendPending().then((done) => {
      this.adding = null;
      // Events added while the call ran; after a failure the retry timer or the reconnect goes on.
      if (done && !this.stopped) this.scheduleAdd();
    });
    return this.adding;
  }

  /** false when a call failed or Redis is unreachable (retried later). */
  private async appendPending(): Promise<boolean> {
    while (this.pending.length > 0) {
      if (!this.link.connected) return false;
      const chunk = this.pending.slice(0, ADD_CHUNK);
      try {
        const refused = Number(await this.link.run(this.addScript, [OUTBOX_KEY], [String(this.config.webhookQueue), ...chunk]));
        this.pending.splice(0, chunk.length);
        if (refused > 0) this.refused(refused, "outbox full (--webhook-queue events wait in Redis)");
      } catch (e) {
        // Kept and appended again later (at least once: a call that ran but did not answer appends twice).
        this.log.warn("webhook_outbox_unavailable", { events: this.pending.length, error: String(e).slice(0, 200) });
        if (!this.stopped) setTimeout(() => this.scheduleAdd(), 500).unref();
        return false;
      }
    }
    return true;
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
          if (String(e).includes("NOGROUP")) this.groupReady = false; // Redis lost the stream: created again
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
        await this.link.run(this.ackScript, [OUTBOX_KEY], [OUTBOX_GROUP, ...ids]).catch((e) => {
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
    if (performance.now() - this.lastClaim > CLAIM_EVERY_MS) {
      this.lastClaim = performance.now();
      this.drainOwn = true;
    }
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

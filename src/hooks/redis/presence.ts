// user.online / user.offline across the cluster. Each node writes which uids it holds
// (presence-set.lua, batched per event-loop turn): the first live holder anywhere makes the uid
// online, exactly once (and appends user.online to the outbox in the same atomic call); a uid
// no live node holds is due offline after the debounce. The lease holder sweeps every
// `sweepMs` (presence-sweep.lua): uids of nodes whose heartbeat is older than --presence-ttl are
// healed away, and due uids still held nowhere go offline, once. A node learns that it was
// healed (it was stalled, say) at its next write or check and writes its uids again.
// The listener (in-process hooks) hears the transitions this node's calls made.
import type { Logger } from "../../ops/log.ts";
import type { Metrics } from "../../ops/metrics.ts";
import type { Presence, PresenceListener } from "../presence.ts";
import {
  DUE_KEY, HEALED_KEY, NODES_KEY, ONLINE_KEY, OUTBOX_KEY, PRESENCE_NODES_KEY, holdersKey, nodeUidsKey,
} from "./keys.ts";
import { SerialBatch } from "../../engine/redis/serial-batch.ts";
import type { Link } from "./link.ts";
import EVENT from "./presence-event.lua" with { type: "text" };
import SET from "./presence-set.lua" with { type: "text" };
import SWEEP from "./presence-sweep.lua" with { type: "text" };

/** uids per presence-set.lua call, and per sweep step. */
const CHUNK = 500;

export interface ClusterPresenceOptions {
  nodeId: string;
  presenceTtlMs: number;
  debounceMs: number;
  /** Append user.online / user.offline events to the outbox (the webhook wants them). */
  appendOnline: boolean;
  appendOffline: boolean;
  /** --webhook-queue: the outbox's bound. */
  outboxMax: number;
  /** Every uid this node holds now (written again after Redis lost them or the node was healed). */
  held: () => Iterable<string>;
  /** Whether this node holds `uid` now: what a write sends is read when it is sent, never a stale value. */
  holds: (uid: string) => boolean;
}

export class ClusterPresence implements Presence {
  /** uids whose holding changed (or was not written yet); their 1/0 is read at send time. */
  private readonly writes: SerialBatch;
  private sweeper: Timer | null = null;
  private readonly checker: Timer;
  private readonly setScript;
  private readonly sweepScript;

  constructor(
    private readonly link: Link, private readonly opts: ClusterPresenceOptions, private readonly listener: PresenceListener | null,
    private readonly metrics: Metrics, private readonly log: Logger,
  ) {
    this.setScript = link.script(EVENT + SET);
    this.writes = new SerialBatch((uids) => this.write(uids), () => link.connected);
    this.sweepScript = link.script(EVENT + SWEEP);
    // Redis may have restarted empty: every uid is written again.
    link.whenConnected(() => this.rewrite());
    // An empty write now and then: a node that was healed away while stalled learns it.
    this.checker = setInterval(() => this.writes.schedule(), Math.max(200, Math.floor(opts.presenceTtlMs / 3)));
    this.checker.unref();
  }

  uidConnections(uid: string, _n: number): void {
    this.writes.add(uid);
  }

  /** The lease holder sweeps; another node does not. */
  leaseAcquired(): void {
    this.sweeper ??= setInterval(() => void this.sweep(), Math.min(500, Math.max(50, Math.floor(this.opts.debounceMs / 2))));
    this.sweeper.unref();
  }

  leaseLost(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  async stop(): Promise<void> {
    clearInterval(this.checker);
    this.leaseLost();
    // The drain's closes are written: their uids go offline on the other nodes' sweep (or the
    // next holder's). Bounded by the caller (AppEvents.stop).
    await this.writes.drain();
  }

  private rewrite(): void {
    for (const uid of this.opts.held()) this.writes.add(uid);
    this.writes.schedule();
  }

  /** Writes uids in chunks; answers those not written. */
  private async write(all: string[]): Promise<string[]> {
    const o = this.opts;
    for (let i = 0; i === 0 || i < all.length; i += CHUNK) {
      const part = all.slice(i, i + CHUNK);
      const keys = [NODES_KEY, ONLINE_KEY, DUE_KEY, OUTBOX_KEY, nodeUidsKey(o.nodeId), PRESENCE_NODES_KEY, ...part.map(holdersKey)];
      const args = [o.nodeId, String(o.presenceTtlMs), String(o.debounceMs), flag(o.appendOnline), flag(o.appendOffline), String(o.outboxMax), ...part.map((u) => (o.holds(u) ? "1" : "0"))];
      try {
        const [online, dropped, healed] = (await this.link.run(this.setScript, keys, args)) as [string[], number, number];
        this.dropped(Number(dropped));
        if (this.listener) for (const uid of online) this.listener.online(uid);
        if (Number(healed) === 1) {
          this.log.warn("presence_healed", { nodeId: o.nodeId, message: "this node's uids were taken for offline (its heartbeat was late): written again" });
          this.rewrite();
        }
      } catch (e) {
        this.log.warn("presence_write_failed", { uids: all.length - i, error: String(e).slice(0, 200) });
        return all.slice(i); // this part and the rest: written again later
      }
    }
    return [];
  }

  private async sweep(): Promise<void> {
    const o = this.opts;
    try {
      const [offline, dropped] = (await this.link.run(this.sweepScript, [NODES_KEY, ONLINE_KEY, DUE_KEY, OUTBOX_KEY, PRESENCE_NODES_KEY, HEALED_KEY],
        [o.nodeId, String(o.presenceTtlMs), flag(o.appendOffline), String(o.outboxMax), String(CHUNK)])) as [string[], number];
      this.dropped(Number(dropped));
      if (this.listener) for (const uid of offline) this.listener.offline(uid);
    } catch (e) {
      this.log.warn("presence_sweep_failed", { error: String(e).slice(0, 200) });
    }
  }

  private dropped(n: number): void {
    if (n === 0) return;
    this.metrics.webhookEvents.incL(["dropped_queue_full"], n);
    this.metrics.limitsExceeded.incL(["webhook_queue"], n);
    this.log.warn("webhook_dropped", { reason: "outbox full (--webhook-queue events wait in Redis)", events: n });
  }
}

function flag(b: boolean): string {
  return b ? "1" : "0";
}

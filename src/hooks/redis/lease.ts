// One node of the cluster at a time sends webhooks and sweeps presence: the holder of a lease
// in Redis (SET PX, renewed every third of its ttl). So the outbox is read in one order and
// events of a uid arrive in the order they were appended. When the holder dies its lease runs
// out and another node takes over (and with it what the dead one had read but not sent).
import LEASE from "./lease.lua" with { type: "text" };
import { LEASE_KEY } from "./keys.ts";
import type { Link } from "./link.ts";

export interface LeaseEvents {
  /** This node holds the lease now (it did not a moment ago). */
  acquired(): void;
  /** It lost it (expired, taken, or Redis could not confirm it in time). */
  lost(): void;
}

export class Lease {
  private held = false;
  private timer: Timer | null = null;
  private readonly script;

  constructor(private readonly link: Link, private readonly nodeId: string, private readonly ttlMs: number, private readonly events: LeaseEvents) {
    this.script = link.script(LEASE);
  }

  get holding(): boolean {
    return this.held;
  }

  start(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const was = this.held;
    this.set(false);
    if (was) await this.link.run(this.script, [LEASE_KEY], [this.nodeId, String(this.ttlMs), "release"]).catch(() => {});
  }

  private async tick(): Promise<void> {
    try {
      const r = await this.link.run(this.script, [LEASE_KEY], [this.nodeId, String(this.ttlMs), ""]);
      if (this.timer !== null) this.set(Number(r) === 1);
    } catch {
      // Not confirmed: another node may take it once it expires, so stop acting as the holder.
      this.set(false);
    }
  }

  private set(held: boolean): void {
    if (held === this.held) return;
    this.held = held;
    if (held) this.events.acquired();
    else this.events.lost();
  }
}

// This node's presence in the cluster: a heartbeat in the nodes sorted set on the first shard
// (by Redis's clock, so node clocks need not agree), every third of --presence-ttl and at once
// whenever that shard is reachable again; and the live nodes (heartbeat within the TTL).
import { NODES_KEY } from "./keys.ts";
import { SCRIPTS, Script } from "./scripts.ts";
import type { Shard } from "./shard.ts";

export class Heartbeat {
  private readonly beatScript = new Script(SCRIPTS.beat);
  private readonly liveScript = new Script(SCRIPTS.live);
  private timer: Timer | null = null;
  private stopped = false;

  constructor(private readonly home: Shard, private readonly nodeId: string, private readonly presenceTtlMs: number) {}

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => this.now(), Math.max(200, Math.floor(this.presenceTtlMs / 3)));
    this.timer.unref();
  }

  /** The shard reconnected (Redis may have restarted: scripts and this node forgotten). */
  reconnected(): void {
    this.beatScript.reset();
    this.liveScript.reset();
    this.now();
  }

  /** Beat now (reachable again: present again, not at the next interval). */
  now(): void {
    void this.beat().catch(() => {});
  }

  /** No more beats; this node leaves the set at once (a clean stop). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.home.connected) await this.home.bounded(this.home.cmd.send("ZREM", [NODES_KEY, this.nodeId])).catch(() => {});
  }

  /** Nodes that heartbeated within --presence-ttl, by Redis's clock. */
  async liveNodes(): Promise<string[]> {
    return (await this.home.bounded(this.liveScript.run(this.home.cmd, [NODES_KEY], [String(this.presenceTtlMs)]))) as string[];
  }

  private async beat(): Promise<void> {
    // Not while the node channel is being subscribed again: a node present but not reachable
    // would be taken for one that left (its calls answered as for a node that is gone).
    if (!this.home.connected || this.home.resubscribing || this.stopped) return;
    // Nodes silent for two TTLs are gone: forgotten (queries already skip them after one).
    await this.home.bounded(this.beatScript.run(this.home.cmd, [NODES_KEY], [this.nodeId, String(2 * this.presenceTtlMs)]));
  }
}

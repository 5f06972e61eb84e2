// Cluster-wide group presence (join / leave of a uid in a presence group, issue 12) on the first
// shard. Each node writes which (group, uid) pairs it holds — batched per event-loop turn, one
// write at a time, each pair's value read when it is sent (group-presence.lua decides the
// transitions atomically). Every node tries a sweep lock once a second; the holder heals the
// pairs of nodes whose heartbeat is older than --presence-ttl (group-sweep.lua). The scripts
// publish the frames themselves on the presence channel (atomic with the decision: in Redis's
// order, never lost with a reply); transitions are also told through handlers.presence (sent),
// once, on the node whose call made them, for its metrics.
import type { Logger } from "../../ops/log.ts";
import type { EngineHandlers } from "../types.ts";
import SET from "./group-presence.lua" with { type: "text" };
import TRANSITION from "./group-transition.lua" with { type: "text" };
import SWEEP from "./group-sweep.lua" with { type: "text" };
import { NODES_KEY } from "./keys.ts";
import { Script } from "./scripts.ts";
import { SerialBatch } from "./serial-batch.ts";
import type { Shard } from "./shard.ts";

const P = "pushgate:";
const pairKey = (pair: string) => `${P}gu:${pair}`;
const NODES_WITH_PAIRS = `${P}gnodes`;
const SWEEP_LOCK = `${P}gsweep`;
/** Pairs per script call, and per sweep. */
const CHUNK = 500;

export class GroupPresence {
  private readonly writes: SerialBatch;
  private stopped = false;
  private readonly timer: Timer;
  private readonly setScript = new Script(TRANSITION + SET);
  private readonly sweepScript = new Script(TRANSITION + SWEEP);
  private ticks = 0;

  constructor(
    private readonly home: Shard, private readonly nodeId: string, private readonly presenceTtlMs: number,
    private readonly h: () => EngineHandlers, private readonly log: Logger,
  ) {
    // Once a second: try the sweep; every third of the ttl also an empty write (a node healed
    // away while stalled learns it).
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
    this.writes = new SerialBatch((pairs) => this.write(pairs), () => this.home.connected);
  }

  edge(group: string, uid: string): void {
    this.writes.add(`${group}:${uid}`);
  }

  /**
   * Redis may have lost everything (it restarted) or come back from an older state, or this
   * node was healed away: every pair it holds is written again, and every pair Redis lists for
   * it that it no longer holds is written as gone (so a stale entry cannot keep a uid present).
   */
  rewrite(): void {
    for (const [g, u] of this.h().members()) this.writes.add(`${g}:${u}`);
    this.writes.schedule();
    void this.reconcile();
  }

  /** Pairs Redis has for this node: those it no longer holds are queued (their value is read as 0). */
  private async reconcile(): Promise<void> {
    let cursor = "0";
    const h = this.h();
    try {
      do {
        const [next, pairs] = (await this.home.bounded(this.home.cmd.send("SSCAN", [`${P}gn:${this.nodeId}`, cursor, "COUNT", "500"]))) as [string, string[]];
        cursor = String(next);
        for (const pair of pairs) {
          const colon = pair.indexOf(":");
          if (!h.holdsMember(pair.slice(0, colon), pair.slice(colon + 1))) this.writes.add(pair);
        }
      } while (cursor !== "0" && !this.stopped);
    } catch (e) {
      this.log.warn("group_presence_write_failed", { reconcile: true, error: String(e).slice(0, 200) });
    }
  }

  /** Distinct uids of a presence group held anywhere (kept by the scripts with the transitions). */
  async uidCount(group: string): Promise<number> {
    if (!this.home.connected) throw new Error("redis unavailable");
    return Number((await this.home.bounded(this.home.cmd.send("HGET", [`${P}gcount`, group]))) ?? 0);
  }

  resetScripts(): void {
    this.setScript.reset();
    this.sweepScript.reset();
  }

  /** A graceful stop: the drain's leaves are written and told before the shards close (bounded). */
  async stop(boundMs: number): Promise<void> {
    clearInterval(this.timer);
    this.stopped = true;
    const last = (async () => {
      await this.writes.drain();
      // The transitions' frames go out through microtasks and the shard's pipeline: one more turn.
      await Bun.sleep(30);
    })().catch(() => {});
    await Promise.race([last, Bun.sleep(boundMs)]);
  }

  private tick(): void {
    if (++this.ticks % Math.max(1, Math.round(this.presenceTtlMs / 3000)) === 0) this.writes.schedule();
    void this.sweep();
  }

  /** Writes pairs in chunks; answers those not written. */
  private async write(all: string[]): Promise<string[]> {
    const h = this.h();
    for (let i = 0; i === 0 || i < all.length; i += CHUNK) {
      const part = all.slice(i, i + CHUNK);
      // Per pair: held now (read at send time) and announced (its group has join/leave frames).
      const holds = part.map((pair) => {
        const colon = pair.indexOf(":");
        const group = pair.slice(0, colon);
        return `${h.holdsMember(group, pair.slice(colon + 1)) ? 1 : 0}${h.joinLeave(group) ? 1 : 0}`;
      });
      try {
        const r = (await this.home.bounded(this.setScript.run(this.home.cmd, [`${P}gn:${this.nodeId}`, NODES_WITH_PAIRS, ...part.map(pairKey)], [this.nodeId, ...holds]))) as [number[], number];
        const [changes, healed] = r;
        for (let k = 0; k + 1 < changes.length; k += 2) this.tell(part[Number(changes[k]) - 1]!, Number(changes[k + 1]) === 1);
        if (Number(healed) === 1) {
          this.log.warn("group_presence_healed", { nodeId: this.nodeId, message: "this node's group members were taken away (its heartbeat was late): written again" });
          this.rewrite();
        }
      } catch (e) {
        this.log.warn("group_presence_write_failed", { pairs: all.length - i, error: String(e).slice(0, 200) });
        return all.slice(i);
      }
    }
    return [];
  }

  private async sweep(): Promise<void> {
    if (!this.home.connected || this.stopped) return;
    try {
      const got = await this.home.bounded(this.home.cmd.send("SET", [SWEEP_LOCK, this.nodeId, "NX", "PX", "900"]));
      if (got !== "OK") return;
      // Chunks of 500 pairs while there are more (a dead node with many pairs), within the lock's time.
      const until = performance.now() + 700;
      for (;;) {
        const r = (await this.home.bounded(this.sweepScript.run(this.home.cmd, [NODES_KEY, NODES_WITH_PAIRS], [this.nodeId, String(this.presenceTtlMs), String(CHUNK)]))) as [string[], number];
        const [left, taken] = r;
        for (const pair of left) this.tell(pair, false);
        if (Number(taken) < CHUNK || performance.now() > until) break;
      }
    } catch (e) {
      this.log.warn("group_presence_sweep_failed", { error: String(e).slice(0, 200) });
    }
  }

  /** A transition the script decided (and, for join/leave groups, published). */
  private tell(pair: string, joined: boolean): void {
    const colon = pair.indexOf(":");
    this.h().presence(pair.slice(0, colon), pair.slice(colon + 1), joined, true);
  }
}

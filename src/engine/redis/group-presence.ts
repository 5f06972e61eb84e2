// Cluster-wide group presence (join / leave of a uid in a presence group, issue 12) on the first
// shard. Each node writes which (group, uid) pairs it holds — batched per event-loop turn, one
// write at a time, each pair's value read when it is sent (group-presence.lua decides the
// transitions atomically). Every node tries a sweep lock once a second; the holder heals the
// pairs of nodes whose heartbeat is older than --presence-ttl (group-sweep.lua). Transitions are
// told through handlers.presence, once, on the node whose call made them.
import type { Logger } from "../../ops/log.ts";
import type { EngineHandlers } from "../types.ts";
import SET from "./group-presence.lua" with { type: "text" };
import SWEEP from "./group-sweep.lua" with { type: "text" };
import { NODES_KEY } from "./keys.ts";
import { Script } from "./scripts.ts";
import type { Shard } from "./shard.ts";

const P = "pushgate:";
const pairKey = (pair: string) => `${P}gu:${pair}`;
const NODES_WITH_PAIRS = `${P}gnodes`;
const SWEEP_LOCK = `${P}gsweep`;
/** Pairs per script call, and per sweep. */
const CHUNK = 500;

export class GroupPresence {
  private batch = new Set<string>();
  private scheduled = false;
  private flushing: Promise<void> | null = null;
  private readonly timer: Timer;
  private readonly setScript = new Script(SET);
  private readonly sweepScript = new Script(SWEEP);
  private ticks = 0;

  constructor(
    private readonly home: Shard, private readonly nodeId: string, private readonly presenceTtlMs: number,
    private readonly h: () => EngineHandlers, private readonly log: Logger,
  ) {
    // Once a second: try the sweep; every third of the ttl also an empty write (a node healed
    // away while stalled learns it).
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  edge(group: string, uid: string): void {
    this.batch.add(`${group}:${uid}`);
    this.schedule();
  }

  /** Redis may have lost everything (it restarted), or this node was healed away: every pair again. */
  rewrite(): void {
    for (const [g, u] of this.h().members()) this.batch.add(`${g}:${u}`);
    this.schedule();
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

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    if (++this.ticks % Math.max(1, Math.round(this.presenceTtlMs / 3000)) === 0) this.schedule();
    void this.sweep();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.flushing) {
        void this.flushing.then(() => this.schedule());
        return;
      }
      this.flushing = this.flush().finally(() => { this.flushing = null; });
    });
  }

  private async flush(): Promise<void> {
    const all = [...this.batch];
    this.batch = new Set();
    if (!this.home.connected) return this.keep(all);
    const h = this.h();
    for (let i = 0; i === 0 || i < all.length; i += CHUNK) {
      const part = all.slice(i, i + CHUNK);
      const holds = part.map((pair) => {
        const colon = pair.indexOf(":");
        return h.holdsMember(pair.slice(0, colon), pair.slice(colon + 1)) ? "1" : "0";
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
        return this.keep(all.slice(i));
      }
    }
  }

  /** Not written: kept (values are read again when sent), written again in half a second or after a reconnect. */
  private keep(pairs: string[]): void {
    for (const p of pairs) this.batch.add(p);
    if (pairs.length > 0) setTimeout(() => this.schedule(), 500).unref();
  }

  private async sweep(): Promise<void> {
    if (!this.home.connected) return;
    try {
      const got = await this.home.bounded(this.home.cmd.send("SET", [SWEEP_LOCK, this.nodeId, "NX", "PX", "900"]));
      if (got !== "OK") return;
      const left = (await this.home.bounded(this.sweepScript.run(this.home.cmd, [NODES_KEY, NODES_WITH_PAIRS], [this.nodeId, String(this.presenceTtlMs), String(CHUNK)]))) as string[];
      for (const pair of left) this.tell(pair, false);
    } catch (e) {
      this.log.warn("group_presence_sweep_failed", { error: String(e).slice(0, 200) });
    }
  }

  private tell(pair: string, joined: boolean): void {
    const colon = pair.indexOf(":");
    this.h().presence(pair.slice(0, colon), pair.slice(colon + 1), joined);
  }
}

// --max-connections-per-uid across the cluster. Each uid's hash lives on the first shard, beside
// the presence set, so one script reads both atomically. It holds one field per node: its
// connections of the uid plus its logins admitted but not yet bound. A login first reserves a
// place (admit.lua: never more than the limit on the live nodes together), then binds; after
// the bind (or its failure) and after every bind or unbind the node writes its absolute count
// back (uid-counts.lua), so lost updates heal. A node whose heartbeat is older than
// --presence-ttl stops counting. Both calls are batched per event-loop turn. While that shard
// is unreachable, logins are checked on this node only (the registry's own check still holds)
// and the counts are written again once it answers.
import type { Logger } from "../../ops/log.ts";
import { NODES_KEY, uidCountKey } from "./keys.ts";
import type { Shard } from "./shard.ts";

interface Ask {
  uid: string;
  resolve(admitted: boolean): void;
}

export class UidLimit {
  private readonly admitting = new Map<string, number>();
  /** uids with an admit.lua call in flight: their count is written after it answers (else it would count the login twice). */
  private readonly asking = new Map<string, number>();
  private asks: Ask[] = [];
  private readonly dirty = new Set<string>();
  /** Counts not written (the shard was down or the write failed): written with the next rewrite. */
  private readonly unsent = new Set<string>();

  constructor(
    private readonly max: number, private readonly nodeId: string, private readonly presenceTtlMs: number,
    private readonly home: Shard, private readonly connections: (uid: string) => number, private readonly log: Logger,
  ) {}

  admit(uid: string): Promise<boolean> {
    bump(this.admitting, uid, 1);
    if (!this.home.connected) return Promise.resolve(true);
    const { promise, resolve } = Promise.withResolvers<boolean>();
    if (this.asks.length === 0) setImmediate(() => this.sendAsks());
    this.asks.push({ uid, resolve });
    return promise;
  }

  /** The login admitted for `uid` has bound, or failed. */
  admitted(uid: string): void {
    bump(this.admitting, uid, -1);
    this.changed(uid);
  }

  /** This node's count of `uid` may have changed: written back within the turn. */
  changed(uid: string): void {
    if (this.dirty.size === 0) setImmediate(() => this.sendCounts());
    this.dirty.add(uid);
  }

  /** Every uid this node holds, and every count not yet written, written again (the shard came back, maybe empty). */
  rewrite(uids: Iterable<string>): void {
    for (const u of uids) this.changed(u);
    for (const u of this.unsent) this.changed(u);
    this.unsent.clear();
  }

  private sendAsks(): void {
    const list = this.asks;
    this.asks = [];
    const shard = this.home;
    const keys = [NODES_KEY, ...list.map((a) => uidCountKey(a.uid))];
    for (const a of list) bump(this.asking, a.uid, 1);
    const answered = () => {
      for (const a of list) {
        bump(this.asking, a.uid, -1);
        this.changed(a.uid);
      }
    };
    shard.bounded(shard.admitScript.run(shard.cmd, keys, [this.nodeId, String(this.max), String(this.presenceTtlMs)])).then(
      (r) => {
        answered();
        list.forEach((a, i) => a.resolve(Number((r as number[])[i]) === 1));
      },
      (e) => {
        answered();
        // Not known cluster-wide: this node's own check decides (logged, never a refusal by guess).
        this.log.warn("uid_limit_unchecked", { logins: list.length, error: String(e) });
        for (const a of list) a.resolve(true);
      },
    );
  }

  private sendCounts(): void {
    // A uid with an admission in flight is written once it answers (answered() marks it again).
    const uids = [...this.dirty].filter((u) => !this.asking.has(u));
    this.dirty.clear();
    const shard = this.home;
    if (!shard.connected) {
      for (const u of uids) this.unsent.add(u);
      return;
    }
    for (let i = 0; i < uids.length; i += 1000) {
      const part = uids.slice(i, i + 1000);
      const counts = part.map((u) => String(this.connections(u) + (this.admitting.get(u) ?? 0)));
      void shard.bounded(shard.uidCountsScript.run(shard.cmd, part.map(uidCountKey), [this.nodeId, ...counts])).catch(() => {
        for (const u of part) this.unsent.add(u);
      });
    }
  }
}

/** A per-uid count; an entry that reaches 0 is removed (nothing kept per uid at rest). */
function bump(counts: Map<string, number>, uid: string, by: 1 | -1): void {
  const n = (counts.get(uid) ?? 0) + by;
  if (n > 0) counts.set(uid, n);
  else counts.delete(uid);
}

// Connection membership: who is which uid, in which group, who has not logged in yet.
// These maps serve presence queries, limits and cleanup on close; delivery itself is native
// topic publish (hub.ts). Subscriptions change here with the maps, and each one is reported to
// the registry's owner (the hub passes it on to the engine).
import type { Config } from "../config/types.ts";
import type { Metrics } from "../ops/metrics.ts";
import { type ClientTable, clientIdOf } from "./client-table.ts";
import type { Conn } from "./conn-data.ts";
import { ConnIndex } from "./conn-index.ts";
import { type Err, type Result, err, ok } from "./result.ts";
import { TOPIC_ALL, groupTopic, uidTopic, wireTopic } from "./topics.ts";

/** What the registry tells its owner, given to its constructor. */
export interface RegistryEvents {
  /** A connection here now subscribes to `stream` / no longer does (once per connection: the engine refcounts). */
  watch(stream: string): void;
  unwatch(stream: string): void;
  /** Membership changed: an API call that throws after this had taken effect (api/guard.ts). */
  changed(): void;
  /** `uid` got its first connection in `group` on this node (`joined`), or lost its last. */
  member(group: string, uid: string, joined: boolean): void;
}

export class Registry {
  readonly pending = new Set<Conn>();
  readonly uids = new ConnIndex();
  readonly groups = new ConnIndex();
  /** Per group, its uids' connections in it (distinct uid counts in O(1), join/leave edges). */
  private readonly groupUids = new Map<string, Map<string, number>>();
  loggedIn = 0;
  /** Open pushgate.v1 sockets: with none, a push skips the pushgate.v1 topic family entirely. */
  v1Conns = 0;

  constructor(
    private readonly config: Config, private readonly metrics: Metrics,
    private readonly clients: ClientTable, private readonly events: RegistryEvents,
  ) {}

  attach(ws: Conn): void {
    this.clients.add(ws);
    if (ws.data.v1) this.v1Conns++;
    if (!ws.data.loggedIn) this.pending.add(ws);
    this.metrics.opened.inc();
  }

  detach(ws: Conn, code: number): void {
    const d = ws.data;
    this.clients.delete(ws);
    if (d.v1) this.v1Conns--;
    this.pending.delete(ws);
    if (d.uid !== null) {
      this.uids.delete(d.uid, ws);
      this.events.unwatch(uidTopic(d.uid));
    }
    if (d.loggedIn) this.loggedIn--;
    if (d.groups) {
      for (const g of d.groups) {
        this.groups.delete(g, ws);
        if (d.uid !== null) this.bumpMember(g, d.uid, -1);
        this.events.unwatch(groupTopic(g));
      }
    }
    this.metrics.closes.incL([closeLabel(code)]);
  }

  /** Bind a connection to a uid (login when it had none). Re-binding replaces the old uid. */
  bindUid(ws: Conn, uid: string): Result<void> {
    const d = ws.data;
    if (d.uid === uid) return ok(undefined);
    const max = this.config.maxConnectionsPerUid;
    if (max > 0 && this.uids.count(uid) >= max) {
      return err("E_UID_CONNECTION_LIMIT", `uid already has ${max} connection${max === 1 ? "" : "s"} (--max-connections-per-uid)`);
    }
    if (d.uid !== null) this.unbindUid(ws);
    this.events.changed();
    this.uids.add(uid, ws);
    d.uid = uid;
    if (d.groups) for (const g of d.groups) this.bumpMember(g, uid, 1);
    ws.subscribe(wireTopic(d.v1, uidTopic(uid)));
    this.events.watch(uidTopic(uid));
    if (!d.loggedIn) {
      d.loggedIn = true;
      this.loggedIn++;
      this.pending.delete(ws);
      ws.subscribe(wireTopic(d.v1, TOPIC_ALL));
      this.metrics.logins.inc();
    }
    return ok(undefined);
  }

  /** Remove the uid binding; the connection stays open, logged in and in its groups. */
  unbindUid(ws: Conn): void {
    const uid = ws.data.uid;
    if (uid === null) return;
    this.events.changed();
    this.uids.delete(uid, ws);
    if (ws.data.groups) for (const g of ws.data.groups) this.bumpMember(g, uid, -1);
    ws.unsubscribe(wireTopic(ws.data.v1, uidTopic(uid)));
    this.events.unwatch(uidTopic(uid));
    ws.data.uid = null;
  }

  /** Null when `ws` may join `group` (already a member counts as may). */
  checkJoin(ws: Conn, group: string): Err | null {
    const groups = ws.data.groups;
    if (groups?.has(group) || (groups?.size ?? 0) < this.config.maxGroupsPerConnection) return null;
    return err("E_GROUP_LIMIT", `connection ${clientIdOf(ws.data)} is already in ${this.config.maxGroupsPerConnection} groups (--max-groups-per-connection)`);
  }

  /** Join; answers true when the connection was not a member before. */
  joinGroup(ws: Conn, group: string): Result<boolean> {
    const refused = this.checkJoin(ws, group);
    if (refused) return refused;
    const d = ws.data;
    if (d.groups?.has(group)) return ok(false);
    this.events.changed();
    (d.groups ??= new Set()).add(group);
    this.groups.add(group, ws);
    ws.subscribe(wireTopic(d.v1, groupTopic(group)));
    this.events.watch(groupTopic(group));
    if (d.uid !== null) this.bumpMember(group, d.uid, 1);
    return ok(true);
  }

  leaveGroup(ws: Conn, group: string): void {
    const d = ws.data;
    if (!d.groups?.delete(group)) return;
    d.subs?.expiry?.delete(group); // a channel token's end no longer applies (its wheel entry goes stale)
    this.events.changed();
    if (d.groups.size === 0) d.groups = null;
    this.groups.delete(group, ws);
    ws.unsubscribe(wireTopic(d.v1, groupTopic(group)));
    this.events.unwatch(groupTopic(group));
    if (d.uid !== null) this.bumpMember(group, d.uid, -1);
  }

  /** Whether `uid` has a connection in `group` on this node. */
  holdsMember(group: string, uid: string): boolean {
    return this.groupUids.get(group)?.has(uid) ?? false;
  }

  /** Every (group, uid) with a connection here, for the groups `wanted` picks. */
  *memberPairs(wanted: (group: string) => boolean): Iterable<[string, string]> {
    for (const [group, uids] of this.groupUids) {
      if (!wanted(group)) continue;
      for (const uid of uids.keys()) yield [group, uid];
    }
  }

  /** Per group with a connection here: its uids (each with a connection in it here). */
  *groupUidLists(): Iterable<[string, Iterable<string>, number]> {
    for (const [group, uids] of this.groupUids) yield [group, uids.keys(), uids.size];
  }

  /** Distinct (group, uid) pairs here: the size of groupUidLists' answer. */
  get groupUidPairs(): number {
    let n = 0;
    for (const uids of this.groupUids.values()) n += uids.size;
    return n;
  }

  /** Distinct uids with a connection in `group` on this node. */
  uidCountInGroup(group: string): number {
    return this.groupUids.get(group)?.size ?? 0;
  }

  private bumpMember(group: string, uid: string, by: 1 | -1): void {
    let m = this.groupUids.get(group);
    if (m === undefined) {
      if (by < 0) return;
      this.groupUids.set(group, (m = new Map()));
    }
    const n = (m.get(uid) ?? 0) + by;
    if (n > 0) m.set(uid, n);
    else {
      m.delete(uid);
      if (m.size === 0) this.groupUids.delete(group);
    }
    if (n === 1 && by > 0) this.events.member(group, uid, true);
    else if (n === 0) this.events.member(group, uid, false);
  }

  /** Dissolve a group: every member leaves it. Returns how many connections left. */
  ungroup(group: string): number {
    const members = this.groups.conns(group);
    for (const ws of members) this.leaveGroup(ws, group);
    return members.length;
  }
}

/** Close codes are client-chosen: only known ones become label values (bounded cardinality). */
function closeLabel(code: number): string {
  return (code >= 1000 && code <= 1015) || code === 4001 ? String(code) : "other";
}

// The engine contract: how a node places pushes in stream history, delivers them wherever their
// subscribers are, serves a login its positions and recovery, and reaches other nodes. Two
// implementations: memory.ts (one process, the embedded default) and redis/ (nodes joined
// through Redis). The node (core/hub.ts, the API, both wire protocols) has one path for both.
//
// Rules every engine MUST keep (the conformance suite, test/engine/, checks them on both):
// - Per stream, every node's subscribers get pushes in one order, each once, and a position
//   (epoch, offset) handed out for a stream only ever grows within its epoch.
// - A push to a stream some pushgate.v1 reader observed is placed (has an offset) so that reader
//   can recover it; a push to a stream nobody observed MAY be unplaced (epoch "", offset 0).
// - A login's recovery source and its live subscription join without gap or duplicate: every
//   push placed after the source's position reaches the connection live.
// - An outcome the engine does not know is reported (`error`, an Err with E_CLUSTER_TIMEOUT or
//   E_CLUSTER_UNAVAILABLE), never a definite "reached nobody". Methods MUST NOT throw for
//   infrastructure faults: they answer them.
import type { Err, Result } from "../core/result.ts";
import type { RecoverySource } from "../history/recover.ts";
import type { Payload, StreamPosition } from "../history/types.ts";

/** Where a push landed in its stream's history ("" / 0 when unplaced). */
export interface Placed {
  epoch: string;
  offset: number;
  ts: number;
}

/** A publish whose outcome came back later (an engine that reaches other nodes). */
export interface Published {
  /** Connections reached: on every node when counts were asked for, else on this node only. */
  reached: number;
  /**
   * Set when the outcome is not fully known or other nodes were not reached: E_CLUSTER_TIMEOUT
   * (sent, not confirmed: `reached` is a lower bound) or E_CLUSTER_UNAVAILABLE (delivered on
   * this node only).
   */
  error: Err | null;
}

/** What the node gives its engine (registered once, before start). */
export interface EngineHandlers {
  /**
   * Delivers a push to this node's local subscribers of `stream`, leaving out `excludeIds`;
   * answers how many connections it reached. MUST NOT throw.
   */
  deliver(stream: string, payload: Payload, at: Placed, excludeIds: readonly string[] | null): number;
  /** Whether a pushgate.v1 reader on this node subscribes to `stream` now. */
  observed(stream: string): boolean;
  /** Runs an API method on this node for a call that came from another node. */
  call(method: string, params: Record<string, unknown>): Promise<Result<unknown>>;
  /** This node's connections bound to `uid`, and every uid it holds (--max-connections-per-uid). */
  connections(uid: string): number;
  uids(): Iterable<string>;
  /**
   * A cluster-wide group presence transition (`uid`'s first connection in `group` anywhere, or
   * its last one gone anywhere), told once, on one node. `sent`: the engine published its frame
   * already to every node (atomically with the decision); else (one node) the node sends it to its
   * own members. MUST NOT throw.
   */
  presence(group: string, uid: string, joined: boolean, sent: boolean): void;
  /** Whether a presence group's transitions are told to its members (join/leave frames on). */
  joinLeave(group: string): boolean;
  /** Whether this node holds `uid` in `group` now, and every (group, uid) it holds (presence groups). */
  holdsMember(group: string, uid: string): boolean;
  members(): Iterable<[group: string, uid: string]>;
  /** A raw pushgate.v1 frame for this node's pushgate.v1 subscribers of `stream` (a presence frame from the bus). MUST NOT throw. */
  signal(stream: string, frame: string): void;
}

/** A login's view while it is being completed: positions and recovery, then release(). */
export interface LoginView {
  source: RecoverySource;
  /** Ends the login's hold on its streams (the connection's own subscriptions remain). */
  release(): void;
}

export interface Engine {
  readonly kind: "memory" | "redis";
  /** True when a push or call may involve other nodes (a fault after it began is then unknown). */
  readonly distributed: boolean;
  /** False while the engine cannot reach other nodes (always true for memory). */
  readonly connected: boolean;
  /**
   * Installs the node's handlers, once. Until then deliveries reach nobody and calls from other
   * nodes are refused (a node may join the cluster before its server listens).
   */
  register(handlers: EngineHandlers): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** This node gained its first / lost its last local subscriber of `stream`. */
  watch(stream: string): void;
  unwatch(stream: string): void;
  /**
   * Places and delivers a push. A number: delivered everywhere it can go, synchronously (that
   * many connections). A promise: delivered later, by every node holding the stream (this one
   * included); with `count`, `reached` sums every node's connections.
   */
  publish(stream: string, payload: Payload, excludeIds: readonly string[] | null, count: boolean): number | Promise<Published>;
  /**
   * Holds `streams` for a login: null when nothing needs waiting for, else a promise that
   * settles once pushes from every node reach this one (it never rejects; release() follows).
   */
  hold(streams: readonly string[]): Promise<void> | null;
  release(streams: readonly string[]): void;
  /**
   * Reserves a place for one more connection of `uid` under --max-connections-per-uid on every
   * node together: true when admitted, false when the uid holds that many already. null when
   * there is nothing beyond this node to ask (the registry's own check is the whole check).
   * After a promise, admitted(uid) MUST follow once the login has bound the uid or failed.
   */
  admitUid(uid: string): Promise<boolean> | null;
  admitted(uid: string): void;
  /** A pushgate.v1 login's positions and recovery (holding its streams until release()). */
  login(streams: readonly string[], recover: ReadonlyMap<string, StreamPosition> | null): LoginView | Promise<LoginView>;
  /** Runs an API method on `node` (the owner of a clientId). */
  call(node: string, method: string, params: Record<string, unknown>): Promise<Result<unknown>>;
  /**
   * Runs an API method on every other live node. A node that left is missing; one that did not
   * answer in time is an E_CLUSTER_TIMEOUT entry (its part is unknown, never "not there").
   */
  scatter(method: string, params: Record<string, unknown>): readonly Result<unknown>[] | Promise<Result<unknown>[]>;
  /**
   * This node's holding of `uid` in a presence `group` went from none to some (`joined`) or
   * back. The engine decides the cluster-wide transitions and tells them through
   * handlers.presence — at once on one node; on a cluster once per transition, also for the
   * members of a node that died (healed within --presence-ttl).
   */
  memberEdge(group: string, uid: string, joined: boolean): void;
  /**
   * Distinct uids in a presence group with join/leave across every node, kept counted (no
   * member list loaded); null when the engine has no such count (one node: the registry's).
   */
  groupUidCount(group: string): Promise<Result<number>> | null;
}

// The cluster interface the hub and the API use. One implementation: redis.ts (Bun.RedisClient).
// A standalone node has no Cluster at all; nothing here runs on its hot path.
import type { Err, Result } from "../core/result.ts";
import type { HistoryEntry, Payload, StreamPosition } from "../history/types.ts";

/** Where a push landed in its stream's cluster-wide history. */
export interface Placed {
  epoch: string;
  offset: number;
  ts: number;
}

export interface RemotePush extends Placed {
  /** Connections reached on every node, this one included (only when counts were asked for). */
  remote: number;
  /**
   * Set when the outcome is not fully known: Redis got the push but did not answer in time
   * (epoch "", nothing delivered here now; Redis may still run it), or a node that received it
   * did not report its count (`remote` is a lower bound). Either way not "offline".
   */
  error?: Err;
}

/** A stream's cluster-wide history after a position, for recovery. */
export interface StreamHistory {
  position: StreamPosition;
  /** Entries after the asked-for offset that Redis still holds (oldest first). */
  entries: HistoryEntry[];
}

export interface Cluster {
  readonly nodeId: string;
  /** True while the Redis connections are up. */
  readonly connected: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** This node gained its first / lost its last local subscriber of `stream`. */
  watch(stream: string): void;
  unwatch(stream: string): void;
  /** watch() each stream and wait until this node is subscribed to all of them (a login). */
  hold(streams: readonly string[]): Promise<void>;
  release(streams: readonly string[]): void;
  /**
   * Records the push in Redis history and publishes it to the other nodes holding the stream.
   * With `countRemote`, waits (bounded) for their delivery counts. Rejects when Redis is down or
   * not answering (nothing was sent); resolves with `error` when the outcome is unknown.
   */
  push(stream: string, payload: Payload, excludeIds: readonly string[] | null, countRemote: boolean): Promise<RemotePush>;
  /** Current positions of streams, and history after `from` where given. */
  read(streams: readonly string[], from: ReadonlyMap<string, StreamPosition> | null): Promise<Map<string, StreamHistory>>;
  /** Runs an API method on one node (the owner of a clientId). */
  call(node: string, method: string, params: Record<string, unknown>): Promise<Result<unknown>>;
  /** Runs an API method on every other live node; nodes that left or did not answer are left out. */
  scatter(method: string, params: Record<string, unknown>): Promise<Result<unknown>[]>;
  /** The error API results carry when Redis is unreachable. */
  unavailable(): Err;
}

/** Runs an API method locally for a remote caller. */
export type LocalCall = (method: string, params: Record<string, unknown>) => Promise<Result<unknown>>;

/** Delivers a push that came from another node. */
export type RemoteDelivery = (stream: string, payload: Payload, at: Placed, excludeIds: readonly string[] | null) => number;

// Redis key and channel names. Everything lives under one prefix so a shared Redis stays tidy.

const P = "pushgate:";

/** Pub/sub channel of a stream: nodes with local subscribers of the stream subscribe to it. */
export const streamChannel = (stream: string) => `${P}c:${stream}`;
/** A node's own channel: RPC requests, replies and delivery counts. */
export const nodeChannel = (node: string) => `${P}n:${node}`;
/** Hash {e: epoch, o: last offset} of a stream. */
export const metaKey = (stream: string) => `${P}m:${stream}`;
/** Present while some pushgate.v1 reader observes the stream (pushes to it are then placed in history). */
export const markerKey = (stream: string) => `${P}v:${stream}`;
/** Redis Stream holding a stream's recent messages, entry IDs "<offset>-0". */
export const historyKey = (stream: string) => `${P}h:${stream}`;
/** Hash node → that node's connections of a uid (cluster-wide --max-connections-per-uid; on the first shard). */
export const uidCountKey = (uid: string) => `${P}u:${uid}`;
/** Channel (first shard) every node subscribes: group presence frames, published by the presence scripts themselves. */
export const PRESENCE_CHANNEL = `${P}presence`;
/** Sorted set of live nodes scored by their last heartbeat (ms). */
export const NODES_KEY = `${P}nodes`;

export const STREAM_CHANNEL_PREFIX = `${P}c:`;

// Redis keys of the cluster's webhook outbox and uid presence (on the first --redis shard,
// beside the engine's nodes set, whose heartbeats say which nodes are alive).
export { NODES_KEY } from "../../engine/redis/keys.ts";

const P = "pushgate:";

/** Redis Stream of webhook events not yet accepted; entry IDs are the events' ids. */
export const OUTBOX_KEY = `${P}wh`;
/** Its consumer group: the node holding the lease reads, posts, then XACK + XDEL. */
export const OUTBOX_GROUP = "pushgate";
/** Which node sends now (SET PX; lease.lua). */
export const LEASE_KEY = `${P}wh:lease`;
/** Hash uid → when it went online: the uids online somewhere (one user.online per transition). */
export const ONLINE_KEY = `${P}online`;
/** Sorted set uid → when its user.offline is due (no live node holds it; the debounce runs). */
export const DUE_KEY = `${P}offline-due`;
/** Set of nodes that hold presence entries (the sweep heals the dead ones). */
export const PRESENCE_NODES_KEY = `${P}pnodes`;
/** Prefix of "healed:<node>" marks (expiring): a node healed away that comes back writes its uids again. */
export const HEALED_KEY = `${P}healed`;
/** Hash node → 1 for every node with a connection of `uid` (presence-set.lua reads the uid back from the name). */
export const holdersKey = (uid: string) => `${P}o:${uid}`;
/** Set of the uids `node` holds (what the sweep heals when the node dies). */
export const nodeUidsKey = (node: string) => `${P}ou:${node}`;

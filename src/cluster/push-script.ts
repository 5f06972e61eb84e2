// One EVALSHA per push: assign the next offset in the stream's epoch, append to the bounded
// Redis Stream, publish to the nodes holding the stream. Atomic, so history order = offset order
// = delivery order, and a node that subscribed before the publish sees it live while one that
// reads history after it sees it there.
//
// KEYS: meta, history       ARGV: channel, newEpoch, ts, historySize, ttlMs, message-body, counted
// Published message: "<epoch>|<offset>|<message-body>"; returns { epoch, offset, receivers }.
// `receivers` (when counted) is the channel's plain subscribers — the nodes that will report a
// delivery count — not PUBLISH's answer, which also counts pattern subscribers (e.g. a monitor).
//
// The keys' TTLs are refreshed at most every ttl/2 by Redis's clock (the meta hash's `r` = time
// of the last refresh), not on every push: 5 inner commands per push instead of 6 (6 and 7 with the
// EVALSHA itself). So that no message
// can expire before its own TTL, the history key then lives 2 × ttl from a refresh (every message
// is pushed within ttl/2 of one, so it keeps at least 1.5 × ttl), the meta hash 12 × ttl.
// Readers drop entries older than ttl themselves (read.ts), so a longer-lived key only holds
// them longer.
export const PUSH_SCRIPT = `
local meta = redis.call('HMGET', KEYS[1], 'e', 'r')
local epoch = meta[1]
if not epoch then
  epoch = ARGV[2]
  redis.call('HSET', KEYS[1], 'e', epoch)
end
local offset = redis.call('HINCRBY', KEYS[1], 'o', 1)
if offset == 1 then
  -- A new epoch (the meta key was lost or is new): history of the old epoch is void, and its
  -- higher entry IDs would make XADD fail.
  redis.call('DEL', KEYS[2])
end
local ttl = tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local size = tonumber(ARGV[4])
if size > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', size, offset .. '-0', 'b', ARGV[6], 't', ARGV[3])
end
local refreshed = tonumber(meta[2])
if offset == 1 or not refreshed or now - refreshed >= ttl / 2 then
  redis.call('HSET', KEYS[1], 'r', now)
  redis.call('PEXPIRE', KEYS[1], ttl * 12)
  if size > 0 then redis.call('PEXPIRE', KEYS[2], ttl * 2) end
end
local receivers = redis.call('PUBLISH', ARGV[1], epoch .. '|' .. offset .. '|' .. ARGV[6])
if ARGV[7] == '1' then
  receivers = redis.call('PUBSUB', 'NUMSUB', ARGV[1])[2]
end
return { epoch, offset, receivers }
`;

/** Heartbeat by Redis's clock. KEYS: nodes; ARGV: node id, forget-after ms. */
export const BEAT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
return now
`;

/** Nodes seen within ARGV[1] ms by Redis's clock. KEYS: nodes. */
export const LIVE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[1]), '+inf')
`;

// One EVALSHA per push: assign the next offset in the stream's epoch, append to the bounded
// Redis Stream, publish to the nodes holding the stream. Atomic, so history order = offset order
// = delivery order, and a node that subscribed before the publish sees it live while one that
// reads history after it sees it there.
//
// KEYS: meta, history       ARGV: channel, newEpoch, ts, historySize, ttlMs, message-body
// Published message: "<epoch>|<offset>|<message-body>"; returns { epoch, offset, receivers }.
export const PUSH_SCRIPT = `
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[2]
  redis.call('HSET', KEYS[1], 'e', epoch)
end
local offset = redis.call('HINCRBY', KEYS[1], 'o', 1)
local ttl = tonumber(ARGV[5])
redis.call('PEXPIRE', KEYS[1], ttl * 12)
local size = tonumber(ARGV[4])
if size > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', size, offset .. '-0', 'b', ARGV[6], 't', ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ttl)
end
local receivers = redis.call('PUBLISH', ARGV[1], epoch .. '|' .. offset .. '|' .. ARGV[6])
return { epoch, offset, receivers }
`;

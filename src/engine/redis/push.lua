-- Places and publishes a batch of pushes (every push made on this node in one event-loop turn),
-- in order, atomically per push: a node subscribed before a PUBLISH gets it live, one that reads
-- history after it finds it there, and history order = offset order = delivery order.
--
-- KEYS, per push i (3 each): observed marker, meta hash {e: epoch, o: last offset, r: last TTL
-- refresh}, history (a Redis Stream, entry IDs "<offset>-0").
-- ARGV: historySize, ttlMs, a new epoch (used by a stream that has none; unique per call), then per push (3 each): channel, body,
-- counted ("1": answer the channel's plain subscriber count, the nodes that will report).
-- Published: "<epoch>|<offset>|<body>"; epoch "" and offset 0 when unplaced.
-- Returns a flat array: per push epoch, offset, receivers.
--
-- A push to a stream no pushgate.v1 reader observed (no marker: engine.ts marks at a v1 login
-- and while held) is only published: nobody holds a position to recover it from.
-- TTLs are refreshed at most every ttl/2 by Redis's clock, not per push; the history key then
-- lives 2 x ttl from a refresh (every entry keeps at least 1.5 x ttl), the meta hash 12 x ttl.
-- Readers drop entries older than ttl themselves.
local size = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, #KEYS / 3 do
  local marker, mk, hk = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local channel, body = ARGV[3 * i + 1], ARGV[3 * i + 2]
  local epoch, offset = '', 0
  if redis.call('EXISTS', marker) == 1 then
    local meta = redis.call('HMGET', mk, 'e', 'r')
    epoch = meta[1]
    if not epoch then
      epoch = ARGV[3]
      redis.call('HSET', mk, 'e', epoch)
    end
    offset = redis.call('HINCRBY', mk, 'o', 1)
    -- A new epoch (the meta key was lost or is new): the old epoch's history is void, and its
    -- higher entry IDs would make XADD fail.
    if offset == 1 then redis.call('DEL', hk) end
    if size > 0 then redis.call('XADD', hk, 'MAXLEN', '~', size, offset .. '-0', 'b', body) end
    local refreshed = tonumber(meta[2])
    if offset == 1 or not refreshed or now - refreshed >= ttl / 2 then
      redis.call('HSET', mk, 'r', now)
      redis.call('PEXPIRE', mk, ttl * 12)
      if size > 0 then redis.call('PEXPIRE', hk, ttl * 2) end
    end
  end
  local receivers = redis.call('PUBLISH', channel, epoch .. '|' .. offset .. '|' .. body)
  if ARGV[3 * i + 3] == '1' then receivers = redis.call('PUBSUB', 'NUMSUB', channel)[2] end
  out[3 * i - 2] = epoch
  out[3 * i - 1] = offset
  out[3 * i] = receivers
end
return out

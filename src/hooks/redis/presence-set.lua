-- Cluster-wide user.online / user.offline: this node's holdings of some uids changed. A uid's
-- hash (KEYS[6+k]) holds one field per node that has a connection of it. A uid online nowhere
-- before becomes online (HSETNX on the online hash: exactly one caller wins) and, when the
-- webhook wants it, its user.online event is appended to the outbox stream in the same atomic
-- call (a node that dies right after cannot lose it). A uid held by no live node is scheduled
-- offline (the due set, score = now + debounce); a connection in time cancels that.
-- KEYS: nodes, online, due, outbox, this node's uid set, presence nodes, then one hash per uid.
-- ARGV: me, presence ttl ms, debounce ms, append online (1/0), append offline (1/0) [unused
-- here], outbox max length, then one 1/0 per uid (holds it / not).
-- Returns: { online uids (a transition made here), events dropped (outbox full), healed (1/0) }.
local me = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local oldest = now - tonumber(ARGV[2])
local debounce = tonumber(ARGV[3])
local appendOnline = ARGV[4] == '1'
local maxlen = tonumber(ARGV[6])
local live = { [me] = true }
local function holders(hk)
  local h = redis.call('HKEYS', hk)
  local n = 0
  for i = 1, #h do
    local node = h[i]
    if live[node] == nil then
      local beat = redis.call('ZSCORE', KEYS[1], node)
      live[node] = beat ~= false and tonumber(beat) >= oldest
    end
    if live[node] then n = n + 1 end
  end
  return n
end
redis.call('SADD', KEYS[6], me)
local online, dropped = {}, 0
for k = 7, #KEYS do
  local hk = KEYS[k]
  local uid = string.sub(hk, #'pushgate:o:' + 1)
  if ARGV[k] == '1' then
    redis.call('HSET', hk, me, 1)
    redis.call('SADD', KEYS[5], uid)
  else
    redis.call('HDEL', hk, me)
    redis.call('SREM', KEYS[5], uid)
  end
  if holders(hk) > 0 then
    redis.call('ZREM', KEYS[3], uid)
    if redis.call('HSETNX', KEYS[2], uid, now) == 1 then
      online[#online + 1] = uid
      if appendOnline then dropped = dropped + presenceEvent(KEYS[4], maxlen, 'user.online', now, uid) end
    end
  elseif redis.call('HEXISTS', KEYS[2], uid) == 1 then
    redis.call('ZADD', KEYS[3], 'NX', now + debounce, uid)
  end
end
local healed = redis.call('DEL', 'pushgate:healed:' .. me)
return { online, dropped, healed }

-- Cluster-wide --max-connections-per-uid: reserves a place for one more connection of each uid,
-- in order. A uid's hash holds one field per node: that node's connections of the uid (plus its
-- logins admitted but not yet bound). A field of a node whose heartbeat is older than the
-- presence TTL (Redis's clock) no longer counts and is dropped: a node that died heals.
-- KEYS: the nodes sorted set, then one hash per uid. ARGV: this node, max, presence ttl ms.
-- Returns per uid 1 (admitted: this node's field +1) or 0 (at the limit).
local me, max = ARGV[1], tonumber(ARGV[2])
local t = redis.call('TIME')
local oldest = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[3])
local live = { [me] = true }
local out = {}
for k = 2, #KEYS do
  local h = redis.call('HGETALL', KEYS[k])
  local sum = 0
  for i = 1, #h, 2 do
    local node = h[i]
    if live[node] == nil then
      local beat = redis.call('ZSCORE', KEYS[1], node)
      live[node] = beat ~= false and tonumber(beat) >= oldest
    end
    if live[node] then sum = sum + tonumber(h[i + 1]) else redis.call('HDEL', KEYS[k], node) end
  end
  if sum < max then
    redis.call('HINCRBY', KEYS[k], me, 1)
    out[k - 1] = 1
  else
    out[k - 1] = 0
  end
end
return out

-- Heals group presence of nodes whose heartbeat is older than the presence ttl: their pairs are
-- taken away, and those no other node holds are left (returned, to be announced once). Run by
-- the node holding the sweep lock (one at a time); bounded by `limit` pairs per run. A node
-- healed while it was only stalled learns it at its next write (the healed set) and writes its
-- pairs again. Key names are built from the prefix (one Redis, not Redis Cluster).
-- A leave is published here (presence channel) unless its group is listed in `quiet` (a hash:
-- groups without join/leave frames, kept by the nodes).
-- KEYS: nodes (heartbeats), presence nodes. ARGV: me, presence ttl ms, limit.
-- Returns: { the "<group>:<uid>" pairs that left, how many pairs were taken }.
local P = 'pushgate:'
local me = ARGV[1]
local t = redis.call('TIME')
local oldest = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local budget = limit
local left = {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if budget <= 0 then break end
  local beat = redis.call('ZSCORE', KEYS[1], node)
  if node ~= me and (beat == false or tonumber(beat) < oldest) then
    local setk = P .. 'gn:' .. node
    local pairs_ = redis.call('SPOP', setk, budget)
    budget = budget - #pairs_
    for _, pair in ipairs(pairs_) do
      local hk = P .. 'gu:' .. pair
      if redis.call('HDEL', hk, node) == 1 and redis.call('HLEN', hk) == 0 then
        redis.call('DEL', hk)
        left[#left + 1] = pair
        transition(pair, false, redis.call('SISMEMBER', P .. 'gquiet', string.match(pair, '^[^:]*')) == 0)
      end
    end
    -- Marked (per node, expiring): a node that comes back learns it was healed away.
    if #pairs_ > 0 then redis.call('SET', P .. 'ghealed:' .. node, 1, 'PX', 86400000) end
    if redis.call('SCARD', setk) == 0 then redis.call('SREM', KEYS[2], node) end
  end
end
return { left, limit - budget }

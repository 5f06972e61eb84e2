-- Run by the node holding the webhook lease (one at a time): heals the uids of nodes whose
-- heartbeat is older than the presence ttl (they count as gone: due offline now; the node is
-- marked healed, so if it comes back it writes its holdings again), then sends user.offline for
-- every uid whose debounce is over and that no live node holds. Each step is bounded by `limit`.
-- Key names of uids and nodes are built here from the prefix (one Redis, not Redis Cluster).
-- KEYS: nodes, online, due, outbox, presence nodes, the healed-mark prefix (marks are "<prefix>:<node>").
-- ARGV: me, presence ttl ms, append offline (1/0), outbox max length, limit.
-- Returns: { offline uids, events dropped (outbox full) }.
local P = 'pushgate:'
local me = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local oldest = now - tonumber(ARGV[2])
local appendOffline = ARGV[3] == '1'
local maxlen = tonumber(ARGV[4])
local limit = tonumber(ARGV[5])
local live = { [me] = true }
local function isLive(node)
  if live[node] == nil then
    local beat = redis.call('ZSCORE', KEYS[1], node)
    live[node] = beat ~= false and tonumber(beat) >= oldest
  end
  return live[node]
end
local budget = limit
for _, node in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  if budget <= 0 then break end
  if not isLive(node) then
    local setk = P .. 'ou:' .. node
    local uids = redis.call('SPOP', setk, budget)
    budget = budget - #uids
    for _, uid in ipairs(uids) do
      redis.call('HDEL', P .. 'o:' .. uid, node)
      if redis.call('HEXISTS', KEYS[2], uid) == 1 then redis.call('ZADD', KEYS[3], 'NX', now, uid) end
    end
    -- Marked at the first uid taken (not once all are): a node that comes back halfway learns it.
    -- One key per node with its own expiry (a set of every node ever healed would only grow).
    if #uids > 0 then redis.call('SET', KEYS[6] .. ':' .. node, 1, 'PX', 86400000) end
    if redis.call('SCARD', setk) == 0 then redis.call('SREM', KEYS[5], node) end
  end
end
local offline, dropped = {}, 0
for _, uid in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, limit)) do
  redis.call('ZREM', KEYS[3], uid)
  local hk = P .. 'o:' .. uid
  local held = 0
  for _, node in ipairs(redis.call('HKEYS', hk)) do
    if isLive(node) then held = held + 1 else redis.call('HDEL', hk, node) end
  end
  if held == 0 and redis.call('HDEL', KEYS[2], uid) == 1 then
    offline[#offline + 1] = uid
    if appendOffline then dropped = dropped + presenceEvent(KEYS[4], maxlen, 'user.offline', now, uid) end
  end
end
return { offline, dropped }

-- Shared by group-presence.lua and group-sweep.lua (prepended to each, group-presence.ts): the
-- bookkeeping of one cluster-wide transition of a (group, uid) pair — the group's distinct-uid
-- count ("pushgate:gcount") and, when `say`, its frame published on the presence channel.
local function transition(pair, joined, say)
  local colon = string.find(pair, ':', 1, true)
  local g = string.sub(pair, 1, colon - 1)
  if joined then
    redis.call('HINCRBY', 'pushgate:gcount', g, 1)
  elseif redis.call('HINCRBY', 'pushgate:gcount', g, -1) <= 0 then
    redis.call('HDEL', 'pushgate:gcount', g)
  end
  if say then
    redis.call('PUBLISH', 'pushgate:presence', '{"type":"presence","group":' .. cjson.encode(g) ..
      ',"event":"' .. (joined and 'join' or 'leave') .. '","uid":' .. cjson.encode(string.sub(pair, colon + 1)) .. '}')
  end
end

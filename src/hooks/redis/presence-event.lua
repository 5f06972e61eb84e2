-- Shared by presence-set.lua and presence-sweep.lua (prepended to each, presence.ts): appends a
-- user.online / user.offline event for `uid` to the outbox unless it holds `maxlen` events
-- already (then it is refused — counted by the caller, never trimmed). Returns 1 when refused.
local function presenceEvent(outbox, maxlen, name, now, uid)
  if redis.call('XLEN', outbox) >= maxlen then return 1 end
  redis.call('XADD', outbox, '*', 'e', '{"name":"' .. name .. '","time_ms":' .. now .. ',"uid":' .. cjson.encode(uid) .. '}')
  return 0
end

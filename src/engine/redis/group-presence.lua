-- Group presence (issue 12): this node's holding of some (group, uid) pairs changed. A pair's
-- hash (KEYS[3+k], "pushgate:gu:<group>:<uid>") has one field per node holding it. Only a change
-- of this node's field counts: a pair held by no node before becomes held (join), one held by no
-- other node any more stops (leave) — exactly once, whatever the other nodes do meanwhile. A
-- dead node's fields still count until the sweep heals them (group-sweep.lua), so a uid that
-- stayed through a dead node is never announced twice.
-- The frame of each announced transition (pairs of groups with join/leave) is published here,
-- in the same atomic call, on the presence channel: members hear transitions in the order Redis
-- decided them, and a lost reply loses no frame.
-- KEYS: this node's pair set, the presence nodes set, then one hash per pair.
-- ARGV: me, then per pair "<holds 1/0><announce 1/0>".
-- "pushgate:gcount" (group → distinct uids held anywhere) moves with the transitions.
-- Returns: { {index, 1 | 0, …} of the pairs whose change was a transition, healed (1/0) }.
local me = ARGV[1]
redis.call('SADD', KEYS[2], me)
local out = {}
for k = 3, #KEYS do
  local hk = KEYS[k]
  local pair = string.sub(hk, #'pushgate:gu:' + 1)
  local had = redis.call('HEXISTS', hk, me) == 1
  local others = redis.call('HLEN', hk) - (had and 1 or 0)
  local flags = ARGV[k - 1]
  local say = string.sub(flags, 2, 2) == '1'
  if string.sub(flags, 1, 1) == '1' then
    if not had then
      if not say then redis.call('SADD', 'pushgate:gquiet', string.match(pair, '^[^:]*')) end
      redis.call('HSET', hk, me, 1)
      redis.call('SADD', KEYS[1], pair)
      if others == 0 then
        out[#out + 1] = k - 2; out[#out + 1] = 1
        transition(pair, true, say)
      end
    end
  elseif had then
    redis.call('HDEL', hk, me)
    redis.call('SREM', KEYS[1], pair)
    if others == 0 then
      redis.call('DEL', hk)
      out[#out + 1] = k - 2; out[#out + 1] = 0
      transition(pair, false, say)
    end
  end
end
return { out, redis.call('DEL', 'pushgate:ghealed:' .. me) }

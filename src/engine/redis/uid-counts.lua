-- Sets this node's field of each uid's hash to its connections of that uid (and admitted logins
-- not yet bound): absolute values, so repeats and lost updates heal. KEYS: one hash per uid.
-- ARGV: this node, then one count per key.
for k = 1, #KEYS do
  local n = tonumber(ARGV[k + 1])
  if n > 0 then redis.call('HSET', KEYS[k], ARGV[1], n) else redis.call('HDEL', KEYS[k], ARGV[1]) end
end
return #KEYS

-- The webhook sender's lease: taken when free, renewed when held by this node, or released.
-- KEYS: lease. ARGV: me, ttl ms, "release" to give it up. Returns 1 when this node holds it now, else 0.
local holder = redis.call('GET', KEYS[1])
if ARGV[3] == 'release' then
  if holder == ARGV[1] then redis.call('DEL', KEYS[1]) end
  return 0
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0

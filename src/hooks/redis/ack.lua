-- Acknowledges and deletes sent outbox entries in one atomic step (an entry acknowledged but not
-- deleted would count against the bound forever). KEYS: outbox. ARGV: group, then entry IDs.
local ids = {}
for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
return redis.call('XDEL', KEYS[1], unpack(ids))

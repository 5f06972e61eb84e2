-- Keeps streams marked observed while a pushgate.v1 reader holds them. KEYS: markers; ARGV: ttl ms.
for i = 1, #KEYS do redis.call('SET', KEYS[i], '1', 'PX', ARGV[1]) end
return #KEYS

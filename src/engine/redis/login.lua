-- A pushgate.v1 login's streams in one call: marks each observed (so every later push to it is
-- placed), gives a new stream its epoch (a client positioned before the first push can still
-- recover it), and answers its position and the history after the client's position.
-- A stream whose mark had run out (no v1 reader for longer than the mark lives) may have had
-- pushes that were only published, never placed: its history cannot vouch for what a returning
-- client missed, so it starts a new epoch, and that client is told "epoch" rather than
-- "recovered".
--
-- KEYS, per stream i (3 each): observed marker, meta hash, history.
-- ARGV: marker ttl ms, meta ttl ms, a new random epoch, then per stream (2 each): the
-- client's epoch and offset ("" "" when it asked for none).
-- Returns per stream { epoch, offset, XRANGE entries after the client's offset }.
local out = {}
for i = 1, #KEYS / 3 do
  local marker, mk, hk = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  if redis.call('EXISTS', marker) == 0 then redis.call('DEL', mk, hk) end
  redis.call('SET', marker, '1', 'PX', ARGV[1])
  if redis.call('HSETNX', mk, 'e', ARGV[3]) == 1 then redis.call('PEXPIRE', mk, ARGV[2]) end
  local meta = redis.call('HMGET', mk, 'e', 'o')
  local offset = tonumber(meta[2] or '0')
  local fromEpoch, fromOffset = ARGV[2 * i + 2], tonumber(ARGV[2 * i + 3])
  local entries = {}
  if fromEpoch == meta[1] and fromOffset and fromOffset < offset then
    entries = redis.call('XRANGE', hk, (fromOffset + 1) .. '-0', offset .. '-0')
  end
  out[i] = { meta[1], offset, entries }
end
return out

-- Appends events (JSON objects without an id: the entry ID is the event id) to the webhook
-- outbox, refusing past the bound (never trimming silently). KEYS: outbox. ARGV: max length,
-- then one event per argument. Returns how many were refused.
local maxlen = tonumber(ARGV[1])
local room = maxlen - redis.call('XLEN', KEYS[1])
local refused = 0
for i = 2, #ARGV do
  if room > 0 then
    redis.call('XADD', KEYS[1], '*', 'e', ARGV[i])
    room = room - 1
  else
    refused = refused + 1
  end
end
return refused

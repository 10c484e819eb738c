-- SendMessageBatch of 10 x 100-byte messages per request.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
local entries = {}
for i = 1, 10 do
  entries[i] = string.format('{"Id":"m%d","MessageBody":"%s"}', i, body100)
end
local req = sqs_request("SendMessageBatch",
  string.format('{"QueueUrl":"%s","Entries":[%s]}', queue_url, table.concat(entries, ",")))
function request() return req end

-- SendMessage of one 100-byte message per request.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
local req = sqs_request("SendMessage",
  string.format('{"QueueUrl":"%s","MessageBody":"%s"}', queue_url, body100))
function request() return req end

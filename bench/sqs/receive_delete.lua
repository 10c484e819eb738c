-- Alternates ReceiveMessage (up to BATCH, default 10) and DeleteMessageBatch of what came back;
-- counts deleted messages in the `deleted` global of each thread, reported in done().
dofile(os.getenv("BENCH_DIR") .. "/common.lua")
local batch = tonumber(os.getenv("BATCH") or "10")
local receive = sqs_request("ReceiveMessage",
  string.format('{"QueueUrl":"%s","MaxNumberOfMessages":%d,"WaitTimeSeconds":1}', queue_url, batch))
local pending = nil
deleted = 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function request()
  if pending then
    local p = pending
    pending = nil
    return p
  end
  return receive
end
function response(status, headers, body)
  local entries = {}
  local i = 0
  for handle in string.gmatch(body, '"ReceiptHandle":"([^"]+)"') do
    i = i + 1
    entries[i] = string.format('{"Id":"%d","ReceiptHandle":"%s"}', i, handle)
  end
  if i > 0 then
    if batch == 1 then
      pending = sqs_request("DeleteMessage", string.format('{"QueueUrl":"%s","ReceiptHandle":"%s"}',
        queue_url, string.match(body, '"ReceiptHandle":"([^"]+)"')))
    else
      pending = sqs_request("DeleteMessageBatch",
        string.format('{"QueueUrl":"%s","Entries":[%s]}', queue_url, table.concat(entries, ",")))
    end
    deleted = deleted + i
  end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + (t:get("deleted") or 0) end
  io.stderr:write(string.format("DELETED %d\n", total))
end

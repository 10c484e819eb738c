-- wrk script: BatchWriteItem of 25 new items per request (throughput in items = 25 x requests).
-- Partition keys are "batch-<thread>-<counter>" (keys arriving in order, like counters or
-- time-ordered ids); with KEY_ORDER=random they are random hex (like UUIDs), which land on a
-- random B-tree leaf each whatever the table's key layout (docs/dynamodb.md "Performance").
local table_name = os.getenv("TABLE") or "bench"
local random_keys = os.getenv("KEY_ORDER") == "random"
local counter = 0
local thread_id = 0
local auth = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, " ..
             "SignedHeaders=host;x-amz-date;x-amz-target, Signature=" .. string.rep("0", 64)
function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end
function init(args)
  math.randomseed(os.time() + (tid or 0))
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
  wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.BatchWriteItem"
  wrk.headers["X-Amz-Date"] = "20240101T000000Z"
  wrk.headers["Authorization"] = auth
end
function request()
  local puts = {}
  for i = 1, 25 do
    counter = counter + 1
    local pk
    if random_keys then
      pk = string.format("%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
    else
      pk = string.format("batch-%d-%d", tid or 0, counter)
    end
    puts[i] = string.format(
      '{"PutRequest":{"Item":{"pk":{"S":"%s"},"sk":{"N":"%d"},"name":{"S":"some name here"},' ..
      '"score":{"N":"%d"}}}}', pk, counter % 100, counter)
  end
  local body = string.format('{"RequestItems":{"%s":[%s]}}', table_name, table.concat(puts, ","))
  return wrk.format(nil, "/", nil, body)
end
function response(status, headers, body)
  if status ~= 200 then
    errors_seen = (errors_seen or 0) + 1
    if errors_seen < 5 then io.stderr:write(status .. " " .. body .. "\n") end
  end
end

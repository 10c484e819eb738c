-- wrk script: durable single-item PutItem requests with unique keys (DynamoDB json 1.0).
-- Usage: wrk -t1 -c64 -d10s -s put_item.lua http://127.0.0.1:PORT  (TABLE env var, default "bench")
local table_name = os.getenv("TABLE") or "bench"
local counter = 0
local thread_id = 0
local auth = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, " ..
             "SignedHeaders=host;x-amz-date;x-amz-target, Signature=" .. string.rep("0", 64)

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
  wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.PutItem"
  wrk.headers["X-Amz-Date"] = "20240101T000000Z"
  wrk.headers["Authorization"] = auth
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"TableName":"%s","Item":{"pk":{"S":"user-%d-%d"},"sk":{"N":"%d"},' ..
    '"name":{"S":"some name here"},"score":{"N":"%d"},"tags":{"SS":["a","b"]}}}',
    table_name, tid or 0, counter, counter % 100, counter)
  return wrk.format(nil, "/", nil, body)
end

function response(status, headers, body)
  if status ~= 200 then
    errors_seen = (errors_seen or 0) + 1
    if errors_seen < 5 then io.stderr:write(status .. " " .. body .. "\n") end
  end
end

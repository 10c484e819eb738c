-- wrk script: GetItem of random existing keys written by put_item.lua (KEYS env var: how many).
local table_name = os.getenv("TABLE") or "bench"
local keys = tonumber(os.getenv("KEYS") or "10000")
local auth = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, " ..
             "SignedHeaders=host;x-amz-date;x-amz-target, Signature=" .. string.rep("0", 64)
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
  wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.GetItem"
  wrk.headers["X-Amz-Date"] = "20240101T000000Z"
  wrk.headers["Authorization"] = auth
  math.randomseed(os.time())
end
function request()
  local n = math.random(1, keys)
  local body = string.format('{"TableName":"%s","Key":{"pk":{"S":"user-1-%d"},"sk":{"N":"%d"}}}',
                             table_name, n, n % 100)
  return wrk.format(nil, "/", nil, body)
end
function response(status, headers, body)
  if status ~= 200 then
    errors_seen = (errors_seen or 0) + 1
    if errors_seen < 5 then io.stderr:write(status .. " " .. body .. "\n") end
  end
end

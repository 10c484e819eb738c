-- wrk script: Query of one partition's sort-key range (10 of its 100 items), partition "q".
local table_name = os.getenv("TABLE") or "bench"
local auth = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, " ..
             "SignedHeaders=host;x-amz-date;x-amz-target, Signature=" .. string.rep("0", 64)
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
  wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.Query"
  wrk.headers["X-Amz-Date"] = "20240101T000000Z"
  wrk.headers["Authorization"] = auth
  math.randomseed(os.time())
end
function request()
  local lo = math.random(0, 89)
  local body = string.format(
    '{"TableName":"%s","KeyConditionExpression":"pk = :p AND sk BETWEEN :lo AND :hi",' ..
    '"ExpressionAttributeValues":{":p":{"S":"q"},":lo":{"N":"%d"},":hi":{"N":"%d"}}}',
    table_name, lo, lo + 9)
  return wrk.format(nil, "/", nil, body)
end
function response(status, headers, body)
  if status ~= 200 then
    errors_seen = (errors_seen or 0) + 1
    if errors_seen < 5 then io.stderr:write(status .. " " .. body .. "\n") end
  end
end

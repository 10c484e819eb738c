-- SNS PublishBatch (query protocol) of 10 x 100-byte messages per request to $TOPIC_ARN.
local auth = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sns/aws4_request, " ..
             "SignedHeaders=host;x-amz-date, Signature=0000"
local topic = os.getenv("TOPIC_ARN"):gsub(":", "%%3A")
local parts = {"Action=PublishBatch", "Version=2010-03-31", "TopicArn=" .. topic}
for i = 1, 10 do
  table.insert(parts, string.format("PublishBatchRequestEntries.member.%d.Id=m%d", i, i))
  table.insert(parts, string.format("PublishBatchRequestEntries.member.%d.Message=%s", i, string.rep("x", 100)))
end
local req = wrk.format("POST", "/", {
  ["Content-Type"] = "application/x-www-form-urlencoded",
  ["X-Amz-Date"] = "20240101T000000Z",
  ["Authorization"] = auth,
}, table.concat(parts, "&"))
function request() return req end

-- Shared by the SQS wrk scripts: json-protocol requests with a parseable (unverified) SigV4
-- Authorization header, so the front door routes them as a real SDK's would.
auth = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sqs/aws4_request, " ..
       "SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000"
function sqs_request(target, body)
  return wrk.format("POST", "/", {
    ["Content-Type"] = "application/x-amz-json-1.0",
    ["X-Amz-Target"] = "AmazonSQS." .. target,
    ["X-Amz-Date"] = "20240101T000000Z",
    ["Authorization"] = auth,
  }, body)
end
queue_url = os.getenv("QUEUE_URL")
body100 = string.rep("x", 100)

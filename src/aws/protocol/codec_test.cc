// Codec behaviour on the embedded models: SQS over json and query, S3 routes and errors,
// Lambda's rest-json payloads, DynamoDB validation messages.
#include <gtest/gtest.h>

#include "aws/protocol/codec.h"
#include "core/strings.h"

namespace stratus::aws {
namespace {

HttpRequest Request(std::string method, std::string target, std::string body = {},
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  size_t q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  r.body = std::move(body);
  for (auto& [k, v] : headers) r.headers.Add(k, v);
  return r;
}

struct Decoded {
  const Operation* op = nullptr;
  DecodedRequest request;
};

Decoded MustDecode(const Codec& codec, HttpRequest request) {
  auto op = codec.Resolve(request);
  EXPECT_TRUE(op.ok()) << (op.ok() ? "" : op.error().code + ": " + op.error().message);
  if (!op.ok()) return {};
  auto d = codec.Decode(**op, request);
  EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().code + ": " + d.error().message);
  if (!d.ok()) return {*op, {}};
  return {*op, std::move(d).value()};
}

TEST(SqsQuery, DecodesSendMessageWithAttributes) {
  const ServiceModel* model = FindEmbeddedModel("sqs", Protocol::kQuery);
  auto codec = MakeCodec(Protocol::kQuery, *model);
  auto d = MustDecode(*codec, Request("POST", "/",
      "Action=SendMessage&Version=2012-11-05&QueueUrl=http%3A%2F%2Flocalhost%2F000000000000%2Fq"
      "&MessageBody=hello+world&DelaySeconds=5"
      "&MessageAttribute.1.Name=color&MessageAttribute.1.Value.DataType=String"
      "&MessageAttribute.1.Value.StringValue=red"
      "&MessageAttribute.2.Name=n&MessageAttribute.2.Value.DataType=Number"
      "&MessageAttribute.2.Value.StringValue=7",
      {{"Content-Type", "application/x-www-form-urlencoded"}}));
  ASSERT_NE(d.op, nullptr);
  EXPECT_EQ(d.op->name, "SendMessage");
  const Json& in = d.request.input;
  EXPECT_EQ(in["QueueUrl"], "http://localhost/000000000000/q");
  EXPECT_EQ(in["MessageBody"], "hello world");
  EXPECT_EQ(in["DelaySeconds"], 5);
  EXPECT_EQ(in["MessageAttributes"]["color"]["StringValue"], "red");
  EXPECT_EQ(in["MessageAttributes"]["n"]["DataType"], "Number");
}

TEST(SqsQuery, DecodesOldStyleListsAndMaps) {
  const ServiceModel* model = FindEmbeddedModel("sqs", Protocol::kQuery);
  auto codec = MakeCodec(Protocol::kQuery, *model);
  auto d = MustDecode(*codec, Request("POST", "/",
      "Action=CreateQueue&QueueName=q&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=40"
      "&Tag.1.Key=team&Tag.1.Value=core"));
  EXPECT_EQ(d.request.input["Attributes"]["VisibilityTimeout"], "40");
  EXPECT_EQ(d.request.input["tags"]["team"], "core");
  auto r = MustDecode(*codec, Request("GET", "/?Action=ReceiveMessage&QueueUrl=u&AttributeName.1=All"
                                             "&MessageAttributeName.1=color&MaxNumberOfMessages=3"));
  EXPECT_EQ(r.request.input["AttributeNames"], Json::array({"All"}));
  EXPECT_EQ(r.request.input["MessageAttributeNames"], Json::array({"color"}));
  EXPECT_EQ(r.request.input["MaxNumberOfMessages"], 3);
}

TEST(SqsQuery, EncodesReceiveMessageAsTheQueryApiDoes) {
  const ServiceModel* model = FindEmbeddedModel("sqs", Protocol::kQuery);
  auto codec = MakeCodec(Protocol::kQuery, *model);
  OperationOutput out;
  out.body = Json::parse(R"({"Messages":[{"MessageId":"m1","ReceiptHandle":"r<1>","Body":"b&",
      "Attributes":{"SenderId":"000000000000"},
      "MessageAttributes":{"color":{"StringValue":"red","DataType":"String"}}}]})");
  HttpResponse r = codec->Encode(*model->FindOperation("ReceiveMessage"), out, {"req-1", ""});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.GetOr("Content-Type"), "text/xml");
  EXPECT_EQ(r.body,
            "<ReceiveMessageResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\">"
            "<ReceiveMessageResult><Message><MessageId>m1</MessageId>"
            "<ReceiptHandle>r&lt;1&gt;</ReceiptHandle><Body>b&amp;</Body>"
            "<Attribute><Name>SenderId</Name><Value>000000000000</Value></Attribute>"
            "<MessageAttribute><Name>color</Name><Value><StringValue>red</StringValue>"
            "<DataType>String</DataType></Value></MessageAttribute></Message>"
            "</ReceiveMessageResult><ResponseMetadata><RequestId>req-1</RequestId>"
            "</ResponseMetadata></ReceiveMessageResponse>");
}

TEST(SqsQuery, ErrorsUseTheQueryCode) {
  const ServiceModel* model = FindEmbeddedModel("sqs", Protocol::kQuery);
  auto codec = MakeCodec(Protocol::kQuery, *model);
  HttpResponse r = codec->EncodeError(nullptr, Error("QueueDoesNotExist", "The specified queue does not exist."), {"id-9", ""});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            "<ErrorResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\"><Error><Type>Sender</Type>"
            "<Code>AWS.SimpleQueueService.NonExistentQueue</Code>"
            "<Message>The specified queue does not exist.</Message></Error>"
            "<RequestId>id-9</RequestId></ErrorResponse>");
  auto unknown = codec->Resolve(Request("POST", "/", "Action=Frobnicate"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, "InvalidAction");
  auto missing = codec->Resolve(Request("POST", "/", "QueueName=x"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "MissingAction");
}

TEST(SqsJson, RoundTripAndQueryCompatibleErrors) {
  const ServiceModel* model = FindEmbeddedModel("sqs");
  auto codec = MakeCodec(Protocol::kJson, *model);
  auto d = MustDecode(*codec, Request("POST", "/", R"({"QueueUrl":"u","MessageBody":"hi","DelaySeconds":2})",
                                      {{"X-Amz-Target", "AmazonSQS.SendMessage"},
                                       {"Content-Type", "application/x-amz-json-1.0"}}));
  EXPECT_EQ(d.request.input["MessageBody"], "hi");
  HttpResponse ok = codec->Encode(*d.op, {Json{{"MessageId", "m"}, {"MD5OfMessageBody", "x"}}}, {"r1", ""});
  EXPECT_EQ(ok.body, R"({"MD5OfMessageBody":"x","MessageId":"m"})");
  EXPECT_EQ(ok.headers.GetOr("x-amzn-RequestId"), "r1");
  EXPECT_EQ(ok.headers.GetOr("Content-Type"), "application/x-amz-json-1.0");
  HttpResponse err = codec->EncodeError(d.op, Error("AWS.SimpleQueueService.NonExistentQueue", "gone"), {"r2", ""});
  EXPECT_EQ(err.status, 400);
  EXPECT_EQ(err.headers.GetOr("x-amzn-query-error"), "AWS.SimpleQueueService.NonExistentQueue;Sender");
  EXPECT_EQ(err.body, R"({"__type":"QueueDoesNotExist","message":"gone"})");
  auto unknown = codec->Resolve(Request("POST", "/", "{}", {{"X-Amz-Target", "AmazonSQS.Nope"}}));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, "UnknownOperationException");
}

// Bodies of plain string members skip nlohmann's lexer (json_sax.cc): each must decode exactly as
// the same body does through the full parser (forced here by spelling one character as \u00XX).
TEST(SqsJson, FlatStringBodiesDecodeAsTheFullParserDoes) {
  const ServiceModel* model = FindEmbeddedModel("sqs");
  auto codec = MakeCodec(Protocol::kJson, *model);
  auto decode = [&](const std::string& body) -> std::string {
    HttpRequest r = Request("POST", "/", body, {{"X-Amz-Target", "AmazonSQS.SendMessage"},
                                                {"Content-Type", "application/x-amz-json-1.0"}});
    auto op = codec->Resolve(r);
    if (!op.ok()) return "resolve: " + op.error().code;
    auto d = codec->Decode(**op, r);
    return d.ok() ? DumpJson(d->input) : d.error().code + ": " + d.error().message;
  };
  struct Case {
    std::string flat;  // in the fast path's subset (or a malformed body it must leave alone)
    std::string full;  // the same body through the full parser
  };
  const Case cases[] = {
      {R"({"QueueUrl":"u","MessageBody":"hi"})", R"({"QueueUrl":"\u0075","MessageBody":"hi"})"},
      {" {\t\"QueueUrl\" : \"u\" ,\r\n \"MessageBody\":\"hi\" }\n", R"({"QueueUrl":"u","MessageBody":"h\u0069"})"},
      {R"({})", R"({ })"},
      {R"({"Nope":"x","QueueUrl":"u","MessageBody":"hi"})", R"({"Nope":"\u0078","QueueUrl":"u","MessageBody":"hi"})"},
      {R"({"MessageBody":"a","MessageBody":"b","QueueUrl":"u"})", R"({"MessageBody":"a","MessageBody":"\u0062","QueueUrl":"u"})"},
      {R"({"QueueUrl":"u","MessageBody":"hi","DelaySeconds":"2"})", R"({"QueueUrl":"u","MessageBody":"hi","DelaySeconds":"\u0032"})"},
      {R"({"QueueUrl":"u","MessageBody":"hi","MessageAttributes":"x"})", R"({"QueueUrl":"u","MessageBody":"hi","MessageAttributes":"\u0078"})"},
      {R"({"QueueUrl":"u"} x)", R"({"QueueUrl":"\u0075"} x)"},
      {R"({"QueueUrl":"u")", R"({"QueueUrl":"\u0075")"},
      {R"({"QueueUrl":"u",})", R"({"QueueUrl":"\u0075",})"},
      {R"({"QueueUrl" "u"})", R"({"QueueUrl" "\u0075"})"},
  };
  for (const Case& c : cases) EXPECT_EQ(decode(c.flat), decode(c.full)) << c.flat;
  EXPECT_EQ(decode(R"({"QueueUrl":"u","MessageBody":"hi"})"), R"({"QueueUrl":"u","MessageBody":"hi"})");
  EXPECT_EQ(decode(R"({"QueueUrl":"u","MessageBody":"hi","DelaySeconds":"2"})").rfind("SerializationException", 0), 0u);
  // Outside the subset (numbers, escapes, non-ASCII, nesting) the full parser reads it.
  EXPECT_EQ(decode(R"({"QueueUrl":"u","MessageBody":"h\"i","DelaySeconds":2})"),
            R"({"QueueUrl":"u","MessageBody":"h\"i","DelaySeconds":2})");
  EXPECT_EQ(decode("{\"QueueUrl\":\"u\",\"MessageBody\":\"h\xC3\xA9\"}"),
            "{\"QueueUrl\":\"u\",\"MessageBody\":\"h\xC3\xA9\"}");
}

TEST(DetectProtocol, PicksJsonOrQueryForSqs) {
  auto protocols = EmbeddedModelProtocols("sqs");
  EXPECT_EQ(DetectProtocol(Request("POST", "/", "{}", {{"X-Amz-Target", "AmazonSQS.ListQueues"},
                                                       {"Content-Type", "application/x-amz-json-1.0"}}),
                           protocols), Protocol::kJson);
  EXPECT_EQ(DetectProtocol(Request("POST", "/", "Action=ListQueues",
                                   {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}}),
                           protocols), Protocol::kQuery);
  EXPECT_EQ(DetectProtocol(Request("GET", "/?Action=ListQueues&Version=2012-11-05", ""), protocols),
            Protocol::kQuery);
  EXPECT_EQ(DetectProtocol(Request("POST", "/", ""), protocols), Protocol::kJson);
  EXPECT_EQ(DetectProtocol(Request("POST", "/", "Action=X", {{"Content-Type", "application/x-www-form-urlencoded"}}),
                           {Protocol::kJson}), Protocol::kJson);
}

TEST(S3, RoutesByMethodPathAndQueryLiterals) {
  const ServiceModel* model = FindEmbeddedModel("s3");
  auto codec = MakeCodec(Protocol::kRestXml, *model);
  struct Case {
    const char* method;
    const char* target;
    const char* op;
  } cases[] = {
      {"GET", "/", "ListBuckets"},
      {"PUT", "/bucket", "CreateBucket"},
      {"GET", "/bucket", "ListObjects"},
      {"GET", "/bucket?list-type=2&prefix=a", "ListObjectsV2"},
      {"GET", "/bucket?location", "GetBucketLocation"},
      {"GET", "/bucket?tagging", "GetBucketTagging"},
      {"PUT", "/bucket/a/b/c.txt", "PutObject"},
      {"GET", "/bucket/a/b/c.txt", "GetObject"},
      {"GET", "/bucket/a/b/c.txt?x-id=GetObject", "GetObject"},
      {"HEAD", "/bucket/key", "HeadObject"},
      {"POST", "/bucket/key?uploads", "CreateMultipartUpload"},
      {"PUT", "/bucket/key?partNumber=1&uploadId=u", "UploadPart"},
      {"GET", "/bucket/key?tagging", "GetObjectTagging"},
      {"DELETE", "/bucket/key", "DeleteObject"},
      {"POST", "/bucket?delete", "DeleteObjects"},
  };
  for (const auto& c : cases) {
    auto op = codec->Resolve(Request(c.method, c.target));
    ASSERT_TRUE(op.ok()) << c.method << " " << c.target;
    EXPECT_EQ((*op)->name, c.op) << c.method << " " << c.target;
  }
  auto bad = codec->Resolve(Request("PATCH", "/bucket"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "MethodNotAllowed");
  EXPECT_EQ(bad.error().http_status, 405);
}

TEST(S3, PutObjectHeadersAndPayload) {
  const ServiceModel* model = FindEmbeddedModel("s3");
  auto codec = MakeCodec(Protocol::kRestXml, *model);
  auto d = MustDecode(*codec, Request("PUT", "/bucket/dir/my%20file.txt", "hello",
                                      {{"Content-Type", "text/plain"},
                                       {"x-amz-meta-Owner", "me"},
                                       {"Content-Length", "5"}}));
  EXPECT_EQ(d.op->name, "PutObject");
  EXPECT_EQ(d.request.input["Bucket"], "bucket");
  EXPECT_EQ(d.request.input["Key"], "dir/my file.txt");
  EXPECT_EQ(d.request.input["ContentType"], "text/plain");
  EXPECT_EQ(d.request.input["ContentLength"], 5);
  EXPECT_EQ(d.request.input["Metadata"]["Owner"], "me");
  EXPECT_EQ(d.request.payload, "hello");
  EXPECT_EQ(d.request.payload_member, "Body");
  // Folder markers keep their trailing slash; empty segments stay.
  auto folder = MustDecode(*codec, Request("PUT", "/bucket/photos/2024/", ""));
  EXPECT_EQ(folder.request.input["Key"], "photos/2024/");
  auto odd = MustDecode(*codec, Request("GET", "/bucket//a%2Fb", ""));
  EXPECT_EQ(odd.op->name, "GetObject");
  EXPECT_EQ(odd.request.input["Key"], "/a/b");
}

TEST(S3, ErrorsAreS3Shaped) {
  const ServiceModel* model = FindEmbeddedModel("s3");
  auto codec = MakeCodec(Protocol::kRestXml, *model);
  Error e("NoSuchKey", "The specified key does not exist.", 404);
  e.fields["Key"] = "k";
  HttpResponse r = codec->EncodeError(model->FindOperation("GetObject"), e, {"rid", "hid"});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.headers.GetOr("x-amz-request-id"), "rid");
  EXPECT_EQ(r.headers.GetOr("x-amz-id-2"), "hid");
  EXPECT_EQ(r.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
                    "<Message>The specified key does not exist.</Message><Key>k</Key>"
                    "<RequestId>rid</RequestId><HostId>hid</HostId></Error>");
  HttpResponse head = codec->EncodeError(model->FindOperation("HeadObject"), e, {"rid", "hid"});
  EXPECT_EQ(head.status, 404);
  EXPECT_TRUE(head.body.empty());
}

TEST(S3, ContentLengthOnlyForHead) {
  const ServiceModel* model = FindEmbeddedModel("s3");
  auto codec = MakeCodec(Protocol::kRestXml, *model);
  OperationOutput out;
  out.body = {{"ContentLength", 5}, {"ETag", "\"e\""}, {"ContentType", "text/plain"}};
  out.payload = "hello";
  HttpResponse get = codec->Encode(*model->FindOperation("GetObject"), out, {"rid", ""});
  EXPECT_FALSE(get.headers.Has("Content-Length"));
  EXPECT_EQ(get.headers.GetOr("Content-Type"), "text/plain");
  EXPECT_EQ(get.body, "hello");
  out.payload.reset();
  HttpResponse head = codec->Encode(*model->FindOperation("HeadObject"), out, {"rid", ""});
  EXPECT_EQ(head.headers.GetOr("Content-Length"), "5");
  EXPECT_EQ(head.headers.GetOr("ETag"), "\"e\"");
  EXPECT_TRUE(head.body.empty());
}

TEST(S3, EncodesListObjectsV2) {
  const ServiceModel* model = FindEmbeddedModel("s3");
  auto codec = MakeCodec(Protocol::kRestXml, *model);
  OperationOutput out;
  out.body = Json::parse(R"({"Name":"b","KeyCount":1,"IsTruncated":false,
      "Contents":[{"Key":"a.txt","Size":3,"LastModified":1700000000}]})");
  HttpResponse r = codec->Encode(*model->FindOperation("ListObjectsV2"), out, {"rid", ""});
  EXPECT_NE(r.body.find("<Contents><Key>a.txt</Key><LastModified>2023-11-14T22:13:20Z</LastModified>"
                        "<Size>3</Size></Contents>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""), std::string::npos);
}

TEST(S3, RootElementsAsS3SendsThem) {
  const ServiceModel* model = FindEmbeddedModel("s3");
  auto codec = MakeCodec(Protocol::kRestXml, *model);
  HttpResponse loc = codec->Encode(*model->FindOperation("GetBucketLocation"),
                                   {Json{{"LocationConstraint", "eu-west-1"}}}, {"rid", ""});
  EXPECT_EQ(loc.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint "
                      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">eu-west-1</LocationConstraint>");
  HttpResponse list = codec->Encode(*model->FindOperation("ListBuckets"),
                                    {Json{{"Buckets", Json::array({{{"Name", "b"}}})}}}, {"rid", ""});
  EXPECT_NE(list.body.find("<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                           "<Buckets><Bucket><Name>b</Name></Bucket></Buckets>"), std::string::npos) << list.body;
  HttpResponse init = codec->Encode(*model->FindOperation("CreateMultipartUpload"),
                                    {Json{{"Bucket", "b"}, {"Key", "k"}, {"UploadId", "u"}}}, {"rid", ""});
  EXPECT_NE(init.body.find("<InitiateMultipartUploadResult"), std::string::npos) << init.body;
}

TEST(Lambda, InvokeRouteHeadersAndPayload) {
  const ServiceModel* model = FindEmbeddedModel("lambda");
  auto codec = MakeCodec(Protocol::kRestJson, *model);
  auto d = MustDecode(*codec, Request("POST", "/2015-03-31/functions/my-fn/invocations?Qualifier=live",
                                      R"({"x":1})", {{"X-Amz-Invocation-Type", "Event"}}));
  EXPECT_EQ(d.op->name, "Invoke");
  EXPECT_EQ(d.request.input["FunctionName"], "my-fn");
  EXPECT_EQ(d.request.input["Qualifier"], "live");
  EXPECT_EQ(d.request.input["InvocationType"], "Event");
  EXPECT_EQ(d.request.payload, R"({"x":1})");
  OperationOutput out;
  out.body = {{"StatusCode", 202}, {"ExecutedVersion", "$LATEST"}};
  out.payload = "";
  HttpResponse r = codec->Encode(*d.op, out, {"rid", ""});
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.headers.GetOr("X-Amz-Executed-Version"), "$LATEST");
  HttpResponse err = codec->EncodeError(d.op, Error("ResourceNotFoundException", "Function not found", 404), {"rid", ""});
  EXPECT_EQ(err.status, 404);
  EXPECT_EQ(err.headers.GetOr("x-amzn-ErrorType"), "ResourceNotFoundException");
  HttpResponse deleted = codec->Encode(*model->FindOperation("DeleteAlias"), {}, {"rid", ""});
  EXPECT_EQ(deleted.status, 204);
  EXPECT_TRUE(deleted.body.empty());
  EXPECT_FALSE(deleted.headers.Has("Content-Type"));
  auto list = codec->Resolve(Request("GET", "/2015-03-31/functions/"));
  ASSERT_TRUE(list.ok());
  EXPECT_EQ((*list)->name, "ListFunctions");
  auto get = codec->Resolve(Request("GET", "/2015-03-31/functions/my-fn"));
  ASSERT_TRUE(get.ok());
  EXPECT_EQ((*get)->name, "GetFunction");
}

TEST(Validation, DynamoDbMessages) {
  const ServiceModel* model = FindEmbeddedModel("dynamodb");
  const Shape& put = *model->FindOperation("PutItem")->input;
  auto v = ValidateInput(put, Json::object());
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(ValidationMessage({v[0]}),
            "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: "
            "Member must not be null");
  EXPECT_EQ(ValidationMessage(v),
            "2 validation errors detected: Value null at 'tableName' failed to satisfy constraint: "
            "Member must not be null; Value null at 'item' failed to satisfy constraint: Member must "
            "not be null");
  auto bad = ValidateInput(put, Json::parse(R"({"TableName":"","Item":{},"ReturnValues":"SOME"})"));
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0].path, "tableName");
  EXPECT_EQ(bad[0].value, "''");
  EXPECT_EQ(bad[0].constraint, "Member must have length greater than or equal to 1");
  EXPECT_EQ(bad[1].path, "returnValues");
  EXPECT_EQ(bad[1].constraint, "Member must satisfy enum value set: [NONE, ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATED_NEW]");
  // Violations come in the shape's member order whatever the value's order, a null member is an
  // absent one, and a value setting few members (matched member by member to the shape) reports
  // exactly what one setting more members than the shape has (each member looked up) does.
  auto reversed = ValidateInput(put, Json::parse(R"({"ReturnValues":"SOME","Item":{},"TableName":""})"));
  ASSERT_EQ(reversed.size(), 2u);
  EXPECT_EQ(reversed[0].path, "tableName");
  EXPECT_EQ(reversed[1].path, "returnValues");
  Json wide = Json::parse(R"({"ReturnValues":"SOME","Item":{},"TableName":""})");
  for (int i = 0; i < 12; ++i) wide["Unmodelled" + std::to_string(i)] = i;
  auto dense = ValidateInput(put, wide);
  ASSERT_EQ(dense.size(), 2u);
  EXPECT_EQ(ValidationMessage(dense), ValidationMessage(reversed));
  auto null_name = ValidateInput(put, Json::parse(R"({"TableName":null,"Item":{"a":{"S":"x"}}})"));
  ASSERT_EQ(null_name.size(), 1u);
  EXPECT_EQ(ValidationMessage(null_name),
            "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: "
            "Member must not be null");
}

TEST(Validation, NestedPathsPatternsAndRanges) {
  const ServiceModel* model = FindEmbeddedModel("dynamodb");
  const Shape& create = *model->FindOperation("CreateTable")->input;
  auto v = ValidateInput(create, Json::parse(R"({"TableName":"a!","KeySchema":[{"KeyType":"HASH"}],
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"})"));
  std::string message = ValidationMessage(v);
  EXPECT_NE(message.find("Value null at 'keySchema.1.member.attributeName' failed to satisfy constraint: "
                         "Member must not be null"), std::string::npos) << message;
  const ServiceModel* lambda = FindEmbeddedModel("lambda");
  const Shape& invoke = *lambda->FindOperation("Invoke")->input;
  auto bad = ValidateInput(invoke, Json::parse(R"({"FunctionName":"has space"})"));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].path, "functionName");
  EXPECT_EQ(bad[0].value, "'has space'");
  EXPECT_EQ(bad[0].constraint.rfind("Member must satisfy regular expression pattern: ", 0), 0u);
  const Shape& list = *lambda->FindOperation("ListFunctions")->input;
  auto range = ValidateInput(list, Json::parse(R"({"MaxItems":0})"));
  ASSERT_EQ(range.size(), 1u);
  EXPECT_EQ(ValidationMessage(range),
            "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1");
}

// Patterns that are one bracket expression repeated are checked against a character set for
// ASCII strings (validate.cc); the verdicts must be RE2's.
TEST(Validation, BracketRepeatPatternsAgreeWithRe2) {
  struct Case {
    std::string pattern;
    std::string value;
    bool matches;
  };
  const Case cases[] = {
      {"[A-Za-z0-9-_=.]+", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln-_=", true},
      {"[A-Za-z0-9-_=.]+", "", false},
      {"[A-Za-z0-9-_=.]+", "has space", false},
      {"[A-Za-z0-9-_=.]+", "a+b", false},
      {"[A-Za-z0-9-_=.]+", "caf\xC3\xA9", false},
      {"^[\\w+=,.@-]*$", "", true},
      {"^[\\w+=,.@-]*$", "a.b@c+d=e,f-g_h", true},
      {"^[\\w+=,.@-]*$", "a/b", false},
      {"[^x]+", "abc\n", true},
      {"[^x]+", "axb", false},
      {"[^x]+", "\xC3\xA9", true},
      {"[]a]+", "]a]", true},
      {"[]a]+", "b", false},
      {"[\\]a]+", "a]", true},
      {"[[:alpha:]]+", "abc", true},
      {"[[:alpha:]]+", "a1", false},
      {"[a-z]+[0-9]+", "ab12", true},
      {"[a-z]+[0-9]+", "ab", false},
      {"[0-9]+", "0123456789", true},
      {"[0-9]+", "12a", false},
  };
  for (const Case& c : cases) {
    Shape value;
    value.name = "V";
    value.pattern = c.pattern;
    Shape input;
    input.name = "In";
    input.type = ShapeType::kStructure;
    Member m;
    m.name = "V";
    m.shape = &value;
    input.members.push_back(std::move(m));
    auto v = ValidateInput(input, Json{{"V", c.value}});
    EXPECT_EQ(v.empty(), c.matches) << c.pattern << " on '" << c.value << "'";
  }
}

TEST(Validation, MapKeyAndValuePathsAreBuiltOnlyForViolations) {
  const ServiceModel* model = FindEmbeddedModel("dynamodb");
  const Shape& batch = *model->FindOperation("BatchWriteItem")->input;
  auto ok = ValidateInput(batch, Json::parse(R"({"RequestItems":{"t":[{"PutRequest":{"Item":{"k":{"S":"x"}}}}]}})"));
  EXPECT_TRUE(ok.empty());
  auto v = ValidateInput(batch, Json::parse(R"({"RequestItems":{"t":[{"PutRequest":{"Item":{"k":{"S":"x"}}}}],"u":[]}})"));
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].path, "requestItems.value");
  EXPECT_EQ(v[0].value, "'[]'");
  const Shape& tx = *model->FindOperation("TransactWriteItems")->input;
  auto t = ValidateInput(tx, Json::parse(R"({"TransactItems":[{"Put":{"TableName":"x","Item":{}}},
      {"Update":{"TableName":"x","Key":{},"UpdateExpression":"SET a = :a","ReturnValuesOnConditionCheckFailure":"BAD"}}]})"));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].path, "transactItems.2.member.update.returnValuesOnConditionCheckFailure");
  EXPECT_EQ(t[0].value, "'BAD'");
}

}  // namespace
}  // namespace stratus::aws

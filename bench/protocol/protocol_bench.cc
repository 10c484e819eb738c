// Decode and encode of typical requests per protocol, on the embedded models (the models are
// loaded before timing). Run: build/bench/protocol/bench_protocol
#include <benchmark/benchmark.h>

#include "aws/protocol/codec.h"

namespace stratus::aws {
namespace {

HttpRequest Request(std::string method, std::string target, std::string body,
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

void RunDecode(benchmark::State& state, const ServiceModel* model, Protocol protocol,
               const HttpRequest& seed) {
  auto codec = MakeCodec(protocol, *model);
  for (auto _ : state) {
    HttpRequest r = seed;
    auto op = codec->Resolve(r);
    auto d = codec->Decode(**op, r);
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * seed.body.size());
}

void BM_LoadModelS3(benchmark::State& state) {
  // Parse cost of the largest embedded model (what the first S3 request pays once); runs first,
  // before any other benchmark loads it.
  for (auto _ : state) {
    auto m = FindEmbeddedModel("s3");
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_LoadModelS3)->Iterations(1);

void BM_SqsSendMessageJsonDecode(benchmark::State& state) {
  RunDecode(state, FindEmbeddedModel("sqs"), Protocol::kJson,
            Request("POST", "/",
                    R"({"QueueUrl":"http://localhost:4566/000000000000/orders","MessageBody":"{\"order\":42,\"items\":[1,2,3]}","DelaySeconds":0,"MessageAttributes":{"source":{"DataType":"String","StringValue":"web"}}})",
                    {{"X-Amz-Target", "AmazonSQS.SendMessage"}, {"Content-Type", "application/x-amz-json-1.0"}}));
}
BENCHMARK(BM_SqsSendMessageJsonDecode);

void BM_SqsSendMessageQueryDecode(benchmark::State& state) {
  RunDecode(state, FindEmbeddedModel("sqs", Protocol::kQuery), Protocol::kQuery,
            Request("POST", "/",
                    "Action=SendMessage&Version=2012-11-05&QueueUrl=http%3A%2F%2Flocalhost%3A4566%2F000000000000%2Forders"
                    "&MessageBody=%7B%22order%22%3A42%2C%22items%22%3A%5B1%2C2%2C3%5D%7D&DelaySeconds=0"
                    "&MessageAttribute.1.Name=source&MessageAttribute.1.Value.DataType=String"
                    "&MessageAttribute.1.Value.StringValue=web",
                    {{"Content-Type", "application/x-www-form-urlencoded"}}));
}
BENCHMARK(BM_SqsSendMessageQueryDecode);

void BM_DynamoPutItemDecode(benchmark::State& state) {
  RunDecode(state, FindEmbeddedModel("dynamodb"), Protocol::kJson,
            Request("POST", "/",
                    R"json({"TableName":"users","Item":{"pk":{"S":"user#42"},"sk":{"S":"profile"},"name":{"S":"Ada"},"age":{"N":"36"},"tags":{"SS":["a","b"]},"address":{"M":{"city":{"S":"London"},"zip":{"S":"N1"}}}},"ConditionExpression":"attribute_not_exists(pk)","ReturnValues":"NONE"})json",
                    {{"X-Amz-Target", "DynamoDB_20120810.PutItem"}, {"Content-Type", "application/x-amz-json-1.0"}}));
}
BENCHMARK(BM_DynamoPutItemDecode);

void BM_S3PutObjectDecode(benchmark::State& state) {
  RunDecode(state, FindEmbeddedModel("s3"), Protocol::kRestXml,
            Request("PUT", "/my-bucket/photos/2024/cat.jpg", std::string(1024, 'x'),
                    {{"Content-Type", "image/jpeg"}, {"Content-Length", "1024"},
                     {"Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="}, {"x-amz-meta-owner", "ada"},
                     {"x-amz-storage-class", "STANDARD"}, {"x-amz-server-side-encryption", "AES256"},
                     {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}}));
}
BENCHMARK(BM_S3PutObjectDecode);

void BM_LambdaInvokeDecode(benchmark::State& state) {
  RunDecode(state, FindEmbeddedModel("lambda"), Protocol::kRestJson,
            Request("POST", "/2015-03-31/functions/my-function/invocations?Qualifier=live",
                    R"({"key1":"value1","key2":"value2"})",
                    {{"X-Amz-Invocation-Type", "RequestResponse"}, {"X-Amz-Log-Type", "None"}}));
}
BENCHMARK(BM_LambdaInvokeDecode);

void BM_SqsReceiveMessageJsonEncode(benchmark::State& state) {
  const ServiceModel* model = FindEmbeddedModel("sqs");
  auto codec = MakeCodec(Protocol::kJson, *model);
  const Operation* op = model->FindOperation("ReceiveMessage");
  OperationOutput out;
  out.body = Json::parse(R"({"Messages":[{"MessageId":"5fea7756-0ea4-451a-a703-a558b933e274","ReceiptHandle":"MbZj6wDWli+JvwwJaBV+3dcjk2YW2vA3+STFFljTM8tJJg6HRG6PYSasuWXPJB","MD5OfBody":"fafb00f5732ab283681e124bf8747ed1","Body":"This is a test message","Attributes":{"SenderId":"195004372649","SentTimestamp":"1238099229000","ApproximateReceiveCount":"5"}}]})");
  for (auto _ : state) {
    HttpResponse r = codec->Encode(*op, out, {"b6633655-283d-45b4-aee4-4e84e0ae6afa", ""});
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_SqsReceiveMessageJsonEncode);

void BM_SqsReceiveMessageQueryEncode(benchmark::State& state) {
  const ServiceModel* model = FindEmbeddedModel("sqs", Protocol::kQuery);
  auto codec = MakeCodec(Protocol::kQuery, *model);
  const Operation* op = model->FindOperation("ReceiveMessage");
  OperationOutput out;
  out.body = Json::parse(R"({"Messages":[{"MessageId":"5fea7756-0ea4-451a-a703-a558b933e274","ReceiptHandle":"MbZj6wDWli+JvwwJaBV+3dcjk2YW2vA3+STFFljTM8tJJg6HRG6PYSasuWXPJB","MD5OfBody":"fafb00f5732ab283681e124bf8747ed1","Body":"This is a test message","Attributes":{"SenderId":"195004372649","SentTimestamp":"1238099229000","ApproximateReceiveCount":"5"}}]})");
  for (auto _ : state) {
    HttpResponse r = codec->Encode(*op, out, {"b6633655-283d-45b4-aee4-4e84e0ae6afa", ""});
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_SqsReceiveMessageQueryEncode);

void BM_S3ListObjectsV2Encode(benchmark::State& state) {
  const ServiceModel* model = FindEmbeddedModel("s3");
  auto codec = MakeCodec(Protocol::kRestXml, *model);
  const Operation* op = model->FindOperation("ListObjectsV2");
  OperationOutput out;
  out.body = {{"Name", "my-bucket"}, {"KeyCount", 100}, {"MaxKeys", 1000}, {"IsTruncated", false}};
  Json contents = Json::array();
  for (int i = 0; i < 100; ++i) {
    contents.push_back({{"Key", "photos/2024/img" + std::to_string(i) + ".jpg"},
                        {"LastModified", 1700000000 + i},
                        {"ETag", "\"d41d8cd98f00b204e9800998ecf8427e\""},
                        {"Size", 1024 * i},
                        {"StorageClass", "STANDARD"}});
  }
  out.body["Contents"] = std::move(contents);
  for (auto _ : state) {
    HttpResponse r = codec->Encode(*op, out, {"rid", "hid"});
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_S3ListObjectsV2Encode);

void BM_DynamoErrorEncode(benchmark::State& state) {
  const ServiceModel* model = FindEmbeddedModel("dynamodb");
  auto codec = MakeCodec(Protocol::kJson, *model);
  Error e("ResourceNotFoundException", "Requested resource not found");
  for (auto _ : state) {
    HttpResponse r = codec->EncodeError(nullptr, e, {"rid", ""});
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_DynamoErrorEncode);

void BM_ValidatePutItem(benchmark::State& state) {
  const ServiceModel* model = FindEmbeddedModel("dynamodb");
  const Shape& shape = *model->FindOperation("PutItem")->input;
  Json input = Json::parse(R"({"TableName":"users","Item":{"pk":{"S":"user#42"},"name":{"S":"Ada"}},"ReturnValues":"NONE"})");
  for (auto _ : state) {
    auto v = ValidateInput(shape, input);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_ValidatePutItem);


}  // namespace
}  // namespace stratus::aws

BENCHMARK_MAIN();

// A distributed Map's S3 I/O, through OperationCaller like every other integration: the
// ItemReader's s3:getObject / s3:listObjectsV2 read and the ResultWriter's puts.
#include <fstream>

#include "core/crypto.h"
#include "services/stepfunctions/integrations.h"
#include "services/stepfunctions/map_io.h"
#include "trace/context.h"

namespace stratus::services::stepfunctions {

namespace {

// A ListObjectsV2 walk stops after this many pages even when MaxItems is unset (100 M keys).
constexpr int kMaxListPages = 100000;

TaskResult Failed(const std::string& error, const std::string& cause) {
  TaskResult r;
  r.kind = TaskResult::Kind::kFailed;
  r.error = error;
  r.cause = cause;
  return r;
}

TaskResult S3Failure(const Error& e) {
  return Failed("S3." + e.code, e.message + " (Service: S3, Status Code: " + std::to_string(e.http_status) +
                                    ", Request ID: " + NewUuid() + ")");
}

// The object's bytes: inline, or the file region S3 answers large objects with.
Result<std::string> BodyOf(const aws::OperationOutput& out) {
  if (out.payload) return *out.payload;
  if (!out.payload_file) return std::string();
  const FileBody& fb = *out.payload_file;
  std::ifstream in(fb.path, std::ios::binary);
  std::string data(fb.length, '\0');
  if (!in.seekg(static_cast<std::streamoff>(fb.offset)) ||
      !in.read(data.data(), static_cast<std::streamsize>(fb.length))) {
    return Error("InternalError", "The object's body could not be read");
  }
  return data;
}

}  // namespace

Result<aws::OperationOutput> Integrations::CallS3(const ExecutionInfo& info, const std::string& operation,
                                                  Json input, std::string payload) {
  if (!context_.clients.operations) return Error("ServiceUnavailable", "In-process service calls are not available.");
  aws::InternalCall ic;
  ic.service = "s3";
  ic.operation = operation;
  ic.input = std::move(input);
  ic.payload = std::move(payload);
  ic.account = info.account;
  ic.region = info.region;
  ic.principal_arn = info.role_arn;
  if (!info.trace_header.empty()) ic.trace = trace::BeginHop(info.trace_header, context_.clock.NowMillis() / 1000);
  return context_.clients.operations->CallAndWait(std::move(ic));
}

TaskResult Integrations::RunMapIo(const ExecutionInfo& info, const TaskCall& call) {
  if (call.purpose == TaskCall::Purpose::kResultWriter) {
    const std::string bucket = call.parameters.value("Bucket", "");
    for (const Json& file : call.parameters.value("Files", Json::array())) {
      Json input{{"Bucket", bucket}, {"Key", file.value("Key", "")}, {"ContentType", "application/json"}};
      auto out = CallS3(info, "PutObject", std::move(input), file.value("Body", ""));
      if (!out.ok()) return S3Failure(out.error());
    }
    TaskResult r;
    r.output = Json::object();
    return r;
  }
  Json params = call.parameters.value("Parameters", Json::object());
  if (!params.is_object()) return Failed("States.ItemReaderFailed", "The ItemReader Parameters must be an object");
  TaskResult r;
  if (call.resource == kS3GetObject) {
    auto out = CallS3(info, "GetObject", params, "");
    if (!out.ok()) return S3Failure(out.error());
    auto body = BodyOf(*out);
    if (!body.ok()) return Failed("States.ItemReaderFailed", body.error().message);
    r.output = Json{{"Body", std::move(*body)}};
    return r;
  }
  if (call.resource != kS3ListObjectsV2) {
    return Failed("States.Runtime", "The ItemReader resource '" + call.resource + "' is not supported by stratus");
  }
  const Json config = call.parameters.value("ReaderConfig", Json::object());
  const int64_t max_items = config.is_object() && config.value("MaxItems", Json()).is_number_integer()
                                ? config["MaxItems"].get<int64_t>()
                                : 0;
  Json contents = Json::array();
  Json page = params;
  for (int pages = 0; pages < kMaxListPages; ++pages) {
    auto out = CallS3(info, "ListObjectsV2", page, "");
    if (!out.ok()) return S3Failure(out.error());
    for (auto& o : out->body.value("Contents", Json::array())) contents.push_back(std::move(o));
    if (max_items > 0 && static_cast<int64_t>(contents.size()) >= max_items) break;
    std::string next = out->body.value("NextContinuationToken", "");
    if (!out->body.value("IsTruncated", false) || next.empty()) break;
    page["ContinuationToken"] = next;
  }
  r.output = Json{{"Contents", std::move(contents)}};
  return r;
}

}  // namespace stratus::services::stepfunctions

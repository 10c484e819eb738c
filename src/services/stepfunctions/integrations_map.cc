// A distributed Map's S3 I/O, through OperationCaller like every other integration: the
// ItemReader's s3:getObject / s3:listObjectsV2 read and the ResultWriter's puts.
#include <fstream>
#include <functional>
#include <optional>

#include "core/crypto.h"
#include "services/stepfunctions/integrations.h"
#include "services/stepfunctions/map_io.h"
#include "services/stepfunctions/parquet_reader.h"
#include "services/stepfunctions/s3_inventory.h"
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
  // Every region: a multipart object's parts are separate files.
  std::optional<std::string> data = ReadFileBody(*out.payload_file);
  if (!data) return Error("InternalError", "The object's body could not be read");
  return std::move(*data);
}

// Reads one object's bytes; errors are the TaskResult to fail with.
using ObjectGetter = std::function<Result<std::string>(Json request)>;

Json WithMaxItems(Json config, size_t max) {
  if (max > 0) config["MaxItems"] = max;
  else config.erase("MaxItems");
  return config;
}

// The items of the readers that read more than one object or a binary one: InputType
// MANIFEST (an S3 Inventory manifest.json and its gzip CSV files), ManifestType ATHENA_DATA
// (an Athena manifest and its CSV, JSONL or Parquet data files) and InputType PARQUET.
Result<Json> ReadDatasetItems(const Json& params, const Json& config, const ObjectGetter& get) {
  const std::string input_type = StringMember(config, "InputType");
  const std::string manifest_type = StringMember(config, "ManifestType");
  const Json max_json = config.value("MaxItems", Json());
  const size_t max = max_json.is_number() && max_json.get<double>() > 0 ? static_cast<size_t>(max_json.get<double>()) : 0;
  auto remaining = [&](const Json& items) { return max == 0 ? 0 : max - items.size(); };
  auto full = [&](const Json& items) { return max > 0 && items.size() >= max; };
  STRATUS_ASSIGN_OR_RETURN(std::string body, get(params));
  Json items = Json::array();
  auto append = [&](Json more) {
    for (auto& v : more) items.push_back(std::move(v));
  };
  if (manifest_type == "ATHENA_DATA") {
    if (input_type != "CSV" && input_type != "JSONL" && input_type != "PARQUET") {
      return Error("States.ItemReaderFailed", "ManifestType ATHENA_DATA needs InputType CSV, JSONL or PARQUET but was '" +
                                                  input_type + "'");
    }
    STRATUS_ASSIGN_OR_RETURN(auto files, ParseAthenaManifest(body));
    for (const S3Location& loc : files) {
      if (full(items)) break;
      STRATUS_ASSIGN_OR_RETURN(std::string data, get(Json{{"Bucket", loc.bucket}, {"Key", loc.key}}));
      if (input_type == "PARQUET") {
        STRATUS_ASSIGN_OR_RETURN(Json rows, ParquetRows(data, remaining(items)));
        append(std::move(rows));
      } else {
        STRATUS_ASSIGN_OR_RETURN(Json rows, ItemsFromObject(WithMaxItems(config, remaining(items)), data));
        append(std::move(rows));
      }
    }
    return items;
  }
  if (!manifest_type.empty() && manifest_type != "S3_INVENTORY") {
    return Error("States.ItemReaderFailed", "ReaderConfig ManifestType must be S3_INVENTORY or ATHENA_DATA but was '" +
                                                manifest_type + "'");
  }
  if (input_type == "PARQUET") return ParquetRows(body, max);
  STRATUS_ASSIGN_OR_RETURN(InventoryManifest manifest, ParseInventoryManifest(body, StringMember(params, "Bucket")));
  for (const S3Location& loc : manifest.files) {
    if (full(items)) break;
    STRATUS_ASSIGN_OR_RETURN(std::string data, get(Json{{"Bucket", loc.bucket}, {"Key", loc.key}}));
    if (data.size() >= 2 && static_cast<uint8_t>(data[0]) == 0x1f && static_cast<uint8_t>(data[1]) == 0x8b) {
      STRATUS_ASSIGN_OR_RETURN(data, Gunzip(data));
    }
    STRATUS_ASSIGN_OR_RETURN(Json rows, InventoryItems(manifest.columns, data, remaining(items)));
    append(std::move(rows));
  }
  return items;
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
  const Json config = call.parameters.value("ReaderConfig", Json::object());
  if (call.resource == kS3GetObject && config.is_object() &&
      (StringMember(config, "InputType") == "MANIFEST" || StringMember(config, "InputType") == "PARQUET" ||
       config.contains("ManifestType"))) {
    std::optional<TaskResult> s3_failure;
    ObjectGetter get = [&](Json request) -> Result<std::string> {
      auto out = CallS3(info, "GetObject", std::move(request), "");
      if (!out.ok()) {
        s3_failure = S3Failure(out.error());
        return out.error();
      }
      return BodyOf(*out);
    };
    auto items = ReadDatasetItems(params, config, get);
    if (s3_failure) return *s3_failure;
    if (!items.ok()) return Failed("States.ItemReaderFailed", items.error().message);
    r.output = Json{{"Items", std::move(*items)}};
    return r;
  }
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

#include "services/stepfunctions/integrations.h"

#include <cctype>

#include "core/crypto.h"
#include "core/strings.h"
#include "core/time_format.h"
#include "trace/context.h"

namespace stratus::services::stepfunctions {

namespace {

// Error name prefixes AWS uses for aws-sdk integrations ("SecretsManager.ResourceNotFoundException").
std::string ServiceErrorPrefix(std::string_view sdk_service) {
  static const std::pair<std::string_view, std::string_view> kNames[] = {
      {"sfn", "Sfn"},         {"s3", "S3"},           {"dynamodb", "DynamoDb"},
      {"sqs", "Sqs"},         {"sns", "Sns"},         {"lambda", "Lambda"},
      {"secretsmanager", "SecretsManager"},           {"logs", "CloudWatchLogs"},
      {"sts", "Sts"},         {"apigateway", "ApiGateway"}};
  for (const auto& [k, v] : kNames) {
    if (k == sdk_service) return std::string(v);
  }
  std::string out(sdk_service);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::string ServiceTitle(std::string_view service) {
  if (service == "stepfunctions") return "Sfn";
  return ServiceErrorPrefix(service);
}

Json ParsePayload(const std::string& payload) {
  if (payload.empty()) return Json();
  Json j = ParseJsonOrDiscarded(payload);
  if (j.is_discarded()) return Json(payload);
  return j;
}

std::string NewRequestIdForCause();

}  // namespace

std::string PascalCase(std::string_view action) {
  std::string out(action);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::string StratusServiceName(std::string_view sdk_service) {
  if (sdk_service == "sfn" || sdk_service == "states") return "stepfunctions";
  if (sdk_service == "cloudwatchlogs") return "logs";
  return std::string(sdk_service);
}

TaskResult Integrations::CallService(const ExecutionInfo& info, const TaskCall& call,
                                     const std::string& service, const std::string& operation,
                                     Json input, std::string payload, const std::string& error_prefix) {
  TaskResult r;
  if (!context_.clients.operations) {
    r.kind = TaskResult::Kind::kFailed;
    r.error = "States.TaskFailed";
    r.cause = "In-process service calls are not available.";
    return r;
  }
  aws::InternalCall ic;
  ic.service = service;
  ic.operation = operation;
  ic.input = std::move(input);
  ic.payload = std::move(payload);
  ic.account = info.account;
  ic.region = info.region;
  ic.principal_arn = info.role_arn;
  if (!info.trace_header.empty()) {
    // Each task call is a hop of the execution's trace.
    ic.trace = trace::BeginHop(info.trace_header, context_.clock.NowMillis() / 1000);
    // When the execution traces its states, the call is a child of its state's subsegment.
    if (!call.trace_parent.empty()) ic.trace.segment_id = call.trace_parent;
  }
  auto out = context_.clients.operations->CallAndWait(std::move(ic));
  if (!out.ok()) {
    const Error& e = out.error();
    r.kind = TaskResult::Kind::kFailed;
    if (e.code == "UnknownOperationException" || e.code == "NotImplemented") {
      r.error = "States.TaskFailed";
      r.cause = "The " + service + " service (" + operation + ") required by resource '" + call.resource +
                "' is not available in this stratus: " + e.message;
      return r;
    }
    r.error = error_prefix + "." + e.code;
    if (service == "lambda") {
      r.cause = e.message + " (Service: AWSLambda; Status Code: " + std::to_string(e.http_status) +
                "; Error Code: " + e.code + "; Request ID: " + NewRequestIdForCause() + "; Proxy: null)";
    } else {
      r.cause = e.message + " (Service: " + ServiceTitle(service) + ", Status Code: " + std::to_string(e.http_status) +
                ", Request ID: " + NewRequestIdForCause() + ")";
    }
    return r;
  }
  r.kind = TaskResult::Kind::kSucceeded;
  r.output = std::move(out->body);
  if (out->payload) r.output["Payload"] = ParsePayload(*out->payload);
  if (service == "lambda" && r.output.contains("FunctionError")) {
    // A function error: the cause is the payload exactly as the runtime wrote it.
    Json payload = r.output.value("Payload", Json());
    r.kind = TaskResult::Kind::kFailed;
    r.error = payload.is_object() ? payload.value("errorType", "Exception") : "Exception";
    r.cause = out->payload ? *out->payload : DumpJson(payload);
    r.output = Json();
  }
  return r;
}

void Integrations::Run(const ExecutionInfo& info, const TaskCall& call, std::function<void(TaskResult)> done) {
  context_.workers.Submit([this, info, call, done = std::move(done)]() {
    if (call.purpose != TaskCall::Purpose::kTask) return done(RunMapIo(info, call));
    const std::string& res = call.resource;
    bool wait_token = res.ends_with(".waitForTaskToken");
    std::string base = res;
    for (const char* suffix : {".waitForTaskToken", ".sync:2", ".sync"}) {
      if (base.ends_with(suffix)) {
        base.resize(base.size() - std::string_view(suffix).size());
        break;
      }
    }
    TaskResult r;
    Json params = call.parameters;
    auto finish = [&](TaskResult result) {
      if (wait_token && result.kind == TaskResult::Kind::kSucceeded) {
        result.kind = TaskResult::Kind::kSubmitted;
      }
      done(std::move(result));
    };
    // Legacy Lambda ARN: the parameters are the payload; the result is the function's output.
    if (res.find(":function:") != std::string::npos && res.find(":lambda:") != std::string::npos) {
      TaskResult out = CallService(info, call, "lambda", "Invoke", Json{{"FunctionName", res}}, DumpJson(params), "Lambda");
      if (out.kind == TaskResult::Kind::kSucceeded) {
        if (out.output.contains("FunctionError")) {
          Json payload = out.output.value("Payload", Json());
          out.kind = TaskResult::Kind::kFailed;
          out.error = payload.is_object() ? payload.value("errorType", "Exception") : "Exception";
          out.cause = DumpJson(payload);
        } else {
          out.output = out.output.value("Payload", Json());
        }
      }
      return done(std::move(out));
    }
    auto pos = base.find(":::");
    std::string tail = pos == std::string::npos ? "" : base.substr(pos + 3);
    if (tail == "lambda:invoke") {
      Json in = params.is_object() ? params : Json::object();
      std::string payload;
      if (in.contains("Payload")) {
        if (!in["Payload"].is_null()) {
          payload = in["Payload"].is_string() ? in["Payload"].get<std::string>() : DumpJson(in["Payload"]);
        }
        in.erase("Payload");
      }
      if (payload.empty()) payload = "{}";
      TaskResult out = CallService(info, call, "lambda", "Invoke", std::move(in), std::move(payload), "Lambda");
      if (out.kind == TaskResult::Kind::kSucceeded && out.output.contains("FunctionError")) {
        Json payload_json = out.output.value("Payload", Json());
        out.kind = TaskResult::Kind::kFailed;
        out.error = payload_json.is_object() ? payload_json.value("errorType", "Exception") : "Exception";
        out.cause = DumpJson(payload_json);
      } else if (out.kind == TaskResult::Kind::kSucceeded) {
        Json shaped = Json::object();
        std::string version = out.output.value("ExecutedVersion", "$LATEST");
        Json payload_json = out.output.value("Payload", Json());
        std::string length = std::to_string(payload_json.is_null() ? 0 : DumpJson(payload_json).size());
        std::string request_id = NewRequestIdForCause();
        std::string date = FormatHttpDate(static_cast<double>(context_.clock.NowMillis()) / 1000.0);
        std::string trace = "Root=" + trace::NewTraceId(context_.clock.NowMillis() / 1000) + ";Sampled=0";
        shaped["ExecutedVersion"] = version;
        shaped["Payload"] = std::move(payload_json);
        shaped["SdkHttpMetadata"] = Json{
            {"AllHttpHeaders", Json{{"X-Amz-Executed-Version", Json::array({version})},
                                    {"x-amzn-Remapped-Content-Length", Json::array({"0"})},
                                    {"Connection", Json::array({"keep-alive"})},
                                    {"x-amzn-RequestId", Json::array({request_id})},
                                    {"Content-Length", Json::array({length})},
                                    {"Date", Json::array({date})},
                                    {"X-Amzn-Trace-Id", Json::array({trace})},
                                    {"Content-Type", Json::array({"application/json"})}}},
            {"HttpHeaders", Json{{"Connection", "keep-alive"},
                                 {"Content-Length", length},
                                 {"Content-Type", "application/json"},
                                 {"Date", date},
                                 {"X-Amz-Executed-Version", version},
                                 {"x-amzn-Remapped-Content-Length", "0"},
                                 {"x-amzn-RequestId", request_id},
                                 {"X-Amzn-Trace-Id", trace}}},
            {"HttpStatusCode", 200}};
        shaped["SdkResponseMetadata"] = Json{{"RequestId", request_id}};
        shaped["StatusCode"] = out.output.value("StatusCode", 200);
        out.output = std::move(shaped);
      }
      return finish(std::move(out));
    }
    if (tail.starts_with("aws-sdk:")) {
      auto parts = Split(tail, ':');
      if (parts.size() != 3) {
        r.kind = TaskResult::Kind::kFailed;
        r.error = "States.Runtime";
        r.cause = "Invalid resource: " + res;
        return done(std::move(r));
      }
      return finish(CallService(info, call, StratusServiceName(parts[1]), PascalCase(parts[2]), params, "",
                                ServiceErrorPrefix(parts[1])));
    }
    auto colon = tail.find(':');
    std::string service = colon == std::string::npos ? tail : tail.substr(0, colon);
    std::string action = colon == std::string::npos ? "" : tail.substr(colon + 1);
    if (service == "sqs" || service == "sns" || service == "dynamodb" || service == "s3") {
      if (service == "sqs" && params.contains("MessageBody") && !params["MessageBody"].is_string()) {
        params["MessageBody"] = DumpJson(params["MessageBody"]);
      }
      if (service == "sns" && params.contains("Message") && !params["Message"].is_string()) {
        params["Message"] = DumpJson(params["Message"]);
      }
      return finish(CallService(info, call, service, PascalCase(action), params, "", ServiceErrorPrefix(service)));
    }
    if (service == "apigateway" && action == "invoke") {
      // Completes later, on another thread: capture by value what `finish` refers to.
      return InvokeApi(info, params, [wait_token, done](TaskResult result) {
        if (wait_token && result.kind == TaskResult::Kind::kSucceeded) result.kind = TaskResult::Kind::kSubmitted;
        done(std::move(result));
      });
    }
    if (service == "states" && action == "startExecution") {
      Json in = params;
      if (in.contains("Input") && !in["Input"].is_string()) in["Input"] = DumpJson(in["Input"]);
      TaskResult out = CallService(info, call, "stepfunctions", "StartExecution", in, "", "Sfn");
      bool sync = res.ends_with(".sync") || res.ends_with(".sync:2");
      if (!sync || out.kind != TaskResult::Kind::kSucceeded || !watch_execution) return finish(std::move(out));
      bool v2 = res.ends_with(".sync:2");
      std::string child = out.output.value("executionArn", "");
      watch_execution(child, [done, v2](Json desc) {
        TaskResult fin;
        std::string status = desc.value("status", "");
        if (status == "SUCCEEDED") {
          fin.kind = TaskResult::Kind::kSucceeded;
          if (v2 && desc.contains("output") && desc["output"].is_string()) {
            desc["output"] = ParseJsonOrDiscarded(desc["output"].get<std::string>());
          }
          fin.output = std::move(desc);
        } else {
          fin.kind = TaskResult::Kind::kFailed;
          fin.error = "States.TaskFailed";
          fin.cause = DumpJson(desc);
        }
        done(std::move(fin));
      });
      return;
    }
    r.kind = TaskResult::Kind::kFailed;
    r.error = "States.TaskFailed";
    r.cause = "The resource '" + res + "' is not supported by stratus (see docs/stepfunctions.md).";
    done(std::move(r));
  });
}

namespace {
std::string NewRequestIdForCause() { return NewUuid(); }

}  // namespace

Integrations::Integrations(aws::ServiceContext& context) : context_(context) {}
Integrations::~Integrations() = default;

}  // namespace stratus::services::stepfunctions

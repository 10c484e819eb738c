#include "services/lambda/lambda_service.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/lambda/async_invoker.h"
#include "services/lambda/code_cache.h"
#include "services/lambda/errors.h"
#include "services/lambda/event_sources.h"
#include "services/lambda/executor.h"
#include "services/lambda/function_url.h"
#include "services/lambda/log_shipper.h"
#include "services/lambda/registry.h"
#include "services/lambda/runtimes.h"

namespace stratus::services::lambda {

namespace {

namespace fs = std::filesystem;

// Invoke payload quotas (bytes).
constexpr size_t kMaxSyncPayload = 6 * 1024 * 1024;
constexpr size_t kMaxAsyncPayload = 1024 * 1024;
constexpr size_t kMaxClientContextBytes = 3583;

Scope ScopeOf(const aws::CallContext& c) { return Scope{c.caller.account_id, c.region}; }

// The directory for node-local lambda data: <data-dir>/lambda, or a private temporary directory
// when nothing may be written to the data directory (--in-memory).
std::string LambdaDir(const Config& config) {
  std::error_code ec;
  if (!config.in_memory) {
    fs::path dir = fs::absolute(fs::path(config.data_dir) / "lambda", ec);
    return dir.lexically_normal().string();
  }
  std::string tmpl = (fs::temp_directory_path(ec) / "stratus-lambda-XXXXXX").string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data())) return std::string(buf.data());
  return (fs::temp_directory_path(ec) / ("stratus-lambda-" + std::to_string(::getpid()))).string();
}

// Requests carry the target function as FunctionName (+ Qualifier).
Result<FunctionRef> RefFrom(const Json& in, bool allow_qualifier = true) {
  std::string q = in.value("Qualifier", "");
  STRATUS_ASSIGN_OR_RETURN(FunctionRef ref, ParseFunctionRef(in.value("FunctionName", ""), q));
  if (!allow_qualifier && !ref.qualifier.empty()) {
    return InvalidParameterValue("This operation does not accept a qualified function name.");
  }
  return ref;
}

// An ARN's account and region override the caller's (they name where the function lives).
Scope ScopeFor(const aws::CallContext& c, const FunctionRef& ref) {
  Scope s = ScopeOf(c);
  if (!ref.account.empty()) s.account = ref.account;
  if (!ref.region.empty()) s.region = ref.region;
  return s;
}

class LambdaService final : public aws::Service {
 public:
  explicit LambdaService(aws::ServiceContext& context)
      : aws::Service(Descriptor{.name = "lambda",
                                .model = "lambda-2015-03-31",
                                .protocol = aws::Protocol::kRestJson,
                                .signing_name = "lambda",
                                .path_prefixes = {"/2015-03-31/", "/2016-08-19/", "/2017-03-31/",
                                                  "/2017-10-31/", "/2018-10-31/", "/2019-09-25/",
                                                  "/2019-09-30/", "/2020-04-22/", "/2020-06-30/",
                                                  "/2021-07-20/", "/2021-10-31/", "/2021-11-15/",
                                                  "/2014-11-13/", "/2024-08-31/", "/2025-11-30/",
                                                  "/2025-12-01/"},
                                .validation_error = "InvalidParameterValueException"}),
        ctx_(context),
        lambda_dir_(LambdaDir(context.config)),
        logs_(context.clients.logs),
        code_(lambda_dir_, [this](const std::string& sha) { return registry_.LoadZip(sha); }),
        registry_(context.store, context.clock, code_,
                  [this](const std::string& key, const std::string& keep) { executor_.Retire(key, keep); }),
        executor_(MakeExecutorOptions(context, lambda_dir_), context.clock, context.listeners, context.tracer,
                  logs_, code_),
        async_(AsyncInvoker::Deps{context.store, context.clock, context.workers, registry_,
                                  executor_, context.clients, context.external_url}),
        sources_(EventSources::Deps{context.store, context.clock, context.workers, registry_,
                                    executor_, context.clients, context.external_url}) {
    Register();
  }

  ~LambdaService() override { Stop(); }

  Status Start() override {
    STRATUS_RETURN_IF_ERROR(WriteBootstraps(lambda_dir_ + "/runtime"));
    std::error_code ec;
    fs::create_directories(lambda_dir_ + "/scratch", ec);
    ::chmod(lambda_dir_.c_str(), 0755);
    logs_.Start();
    STRATUS_RETURN_IF_ERROR(executor_.Start());
    async_.Start();
    sources_.Start();
    if (spdlog::should_log(spdlog::level::info)) {  // the interpreter search is for this line only
      auto interp = FindInterpreters();
      spdlog::info("lambda: code cache in {}; sandbox {}; python {}; node {}", lambda_dir_,
                   ::geteuid() == 0 ? "isolated (mount namespace, own uid per instance)"
                                    : "not isolated (not root: data directory visible to functions)",
                   interp.python.empty() ? "missing" : interp.python,
                   interp.node.empty() ? "missing" : interp.node);
    }
    return Status::Ok();
  }

  void Quiesce() override { executor_.Quiesce(); }

  void Stop() override {
    if (stopped_) return;
    stopped_ = true;
    sources_.Stop();
    async_.Stop();
    executor_.Stop();
    logs_.Stop();
    if (ctx_.config.in_memory) {
      std::error_code ec;
      fs::remove_all(lambda_dir_, ec);
    }
  }

  bool MatchDataPlane(const HttpRequest& request) const override {
    if (Executor::IsInstanceTag(request.listener_tag)) return true;
    return request.listener_tag == 0 && !UrlIdFromHost(request.Host()).empty();
  }

  void HandleDataPlane(HttpRequest request, Responder responder) override {
    if (Executor::IsInstanceTag(request.listener_tag)) {
      executor_.HandleRuntimeApi(std::move(request), std::move(responder));
      return;
    }
    // Function URLs: the URL and its target come from the registry's caches (a miss reads the
    // store, which never waits on writers), and the invocation answers later: no blocking here.
    ServeUrl(std::move(request), std::move(responder));
  }

 private:
  using Call = aws::CallContext;
  using Mode = aws::Mode;

  // Under IAM enforcement a function's SDK calls must be signed by its execution role: each
  // instance assumes the role in-process as lambda.amazonaws.com (the role's trust policy must
  // allow that, as on AWS), for the longest session the role allows.
  static std::function<Result<ExecutorOptions::RoleCredentials>(const FunctionSpec&)>
  RoleCredentialsVia(aws::ServiceContext& context) {
    return [&context](const FunctionSpec& s) -> Result<ExecutorOptions::RoleCredentials> {
      aws::OperationCaller* ops = context.clients.operations;
      if (!ops) return Error("ServiceException", "no in-process STS");
      std::string session = s.name.size() >= 2 ? s.name.substr(0, 64) : s.name + "-fn";
      aws::OperationResult out = Error("ValidationError", "not tried");
      for (int seconds : {43200, 3600}) {  // the role's MaxSessionDuration is not known here
        aws::InternalCall call;
        call.service = "sts";
        call.operation = "AssumeRole";
        call.input = Json{{"RoleArn", s.role}, {"RoleSessionName", session}, {"DurationSeconds", seconds}};
        call.account = s.account;
        call.region = s.region;
        call.principal_arn = "lambda.amazonaws.com";
        out = ops->CallAndWait(std::move(call));
        if (out.ok() || out.error().code != "ValidationError") break;
      }
      if (!out.ok()) return std::move(out).error();
      const Json& c = out->body.value("Credentials", Json::object());
      return ExecutorOptions::RoleCredentials{c.value("AccessKeyId", ""), c.value("SecretAccessKey", ""),
                                              c.value("SessionToken", "")};
    };
  }

  static ExecutorOptions MakeExecutorOptions(aws::ServiceContext& context, const std::string& dir) {
    ExecutorOptions o;
    o.runtime_dir = dir + "/runtime";
    o.scratch_dir = dir + "/scratch";
    o.sandbox.isolate = ::geteuid() == 0;
    o.sandbox.runtime_dir = o.runtime_dir;
    std::error_code ec;
    if (!context.config.in_memory) {
      o.sandbox.hide_dirs.push_back(fs::absolute(context.config.data_dir, ec).lexically_normal().string());
    }
    o.sandbox.hide_dirs.push_back(dir);
    o.interpreters = FindInterpreters();
    o.endpoint_url = context.external_url;
    if (context.config.enforce_iam) o.role_credentials = RoleCredentialsVia(context);
    if (const char* idle = std::getenv("STRATUS_LAMBDA_IDLE_SECONDS")) {
      o.idle_timeout_ms = ParseInt64(idle).value_or(600) * 1000;
    }
    return o;
  }

  std::string BaseHost() const {
    std::string url = ctx_.external_url ? ctx_.external_url() : "http://localhost:4566";
    auto pos = url.find("://");
    return pos == std::string::npos ? url : url.substr(pos + 3);
  }

  // Reads the code package of CreateFunction / UpdateFunctionCode / PublishLayerVersion:
  // inline (ZipFile, base64 in canonical JSON) or from S3 through the s3 service.
  Result<std::string> ReadCode(const Call& c, const Json& code) {
    if (code.contains("ZipFile")) {
      auto zip = Base64Decode(code["ZipFile"].get<std::string>());
      if (!zip) return InvalidParameterValue("ZipFile is not valid base64.");
      return std::move(*zip);
    }
    if (code.contains("S3Bucket") && code.contains("S3Key")) {
      if (!ctx_.clients.operations) return ServiceError("No in-process service caller.");
      aws::InternalCall ic;
      ic.service = "s3";
      ic.operation = "GetObject";
      ic.input = Json{{"Bucket", code["S3Bucket"]}, {"Key", code["S3Key"]}};
      if (code.contains("S3ObjectVersion")) ic.input["VersionId"] = code["S3ObjectVersion"];
      ic.account = c.caller.account_id;
      ic.region = c.region;
      ic.trace = c.trace;
      auto r = ctx_.clients.operations->CallAndWait(std::move(ic));
      if (!r.ok()) {
        if (r.error().code == "UnknownOperationException") {
          return InvalidParameterValue("S3 code locations need the s3 service, which this stratus does not have yet; upload the zip with ZipFile.");
        }
        return InvalidParameterValue("Error occurred while GetObject. S3 Error Code: " +
                                     r.error().code + ". S3 Error Message: " + r.error().message);
      }
      if (r->payload) return std::move(*r->payload);
      if (r->payload_file) {
        // Every region: a multipart object's parts are separate files.
        return ReadFileBody(*r->payload_file).value_or(std::string());
      }
      return std::string();
    }
    if (code.contains("ImageUri")) return NotSupported("ImageUri (container images)");
    return InvalidParameterValue("Please provide a source for function code.");
  }

  void Register();
  void RegisterInvoke();
  void ServeUrl(HttpRequest request, Responder responder);

  aws::ServiceContext& ctx_;
  const std::string lambda_dir_;
  LogShipper logs_;
  CodeCache code_;
  Registry registry_;
  Executor executor_;
  AsyncInvoker async_;
  EventSources sources_;
  bool stopped_ = false;
};

Json Empty() { return Json::object(); }

void LambdaService::Register() {
  // ---- functions ----
  On("CreateFunction", [this](Call& c, const Json& in) -> Result<Json> {
    if (!in.contains("Code")) return InvalidParameterValue("Please provide a source for function code.");
    STRATUS_ASSIGN_OR_RETURN(std::string zip, ReadCode(c, in["Code"]));
    return registry_.CreateFunction(ScopeOf(c), in, zip);
  });
  On("GetFunction", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in));
    return registry_.GetFunction(ScopeFor(c, ref), ref);
  });
  On("GetFunctionConfiguration", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in));
    return registry_.GetFunctionConfiguration(ScopeFor(c, ref), ref);
  });
  On("ListFunctions", [this](Call& c, const Json& in) -> Result<Json> {
    return registry_.ListFunctions(ScopeOf(c), in);
  });
  On("DeleteFunction", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in));
    STRATUS_RETURN_IF_ERROR(registry_.DeleteFunction(ScopeFor(c, ref), ref));
    return Empty();
  });
  On("UpdateFunctionCode", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in, false));
    STRATUS_ASSIGN_OR_RETURN(std::string zip, ReadCode(c, in));
    return registry_.UpdateFunctionCode(ScopeFor(c, ref), ref, in, zip);
  });
  On("UpdateFunctionConfiguration", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in, false));
    return registry_.UpdateFunctionConfiguration(ScopeFor(c, ref), ref, in);
  });

  // ---- versions and aliases ----
  On("PublishVersion", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in, false));
    return registry_.PublishVersion(ScopeFor(c, ref), ref, in);
  });
  On("ListVersionsByFunction", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in, false));
    return registry_.ListVersions(ScopeFor(c, ref), ref, in);
  });
  On("CreateAlias", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in, false));
    return registry_.CreateAlias(ScopeFor(c, ref), ref, in);
  });
  On("GetAlias", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in, false));
    return registry_.GetAlias(ScopeFor(c, ref), ref, in.value("Name", ""));
  });
  On("UpdateAlias", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in, false));
    return registry_.UpdateAlias(ScopeFor(c, ref), ref, in.value("Name", ""), in);
  });
  On("DeleteAlias", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in, false));
    STRATUS_RETURN_IF_ERROR(registry_.DeleteAlias(ScopeFor(c, ref), ref, in.value("Name", "")));
    return Empty();
  });
  On("ListAliases", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in, false));
    return registry_.ListAliases(ScopeFor(c, ref), ref, in);
  });

  // ---- concurrency ----
  On("PutFunctionConcurrency", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in, false));
    return registry_.PutConcurrency(ScopeFor(c, ref), ref,
                                    in.value("ReservedConcurrentExecutions", int64_t{0}));
  });
  On("GetFunctionConcurrency", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in, false));
    return registry_.GetConcurrency(ScopeFor(c, ref), ref);
  });
  On("DeleteFunctionConcurrency", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in, false));
    STRATUS_RETURN_IF_ERROR(registry_.DeleteConcurrency(ScopeFor(c, ref), ref));
    return Empty();
  });
  On("GetAccountSettings", [this](Call& c, const Json&) -> Result<Json> {
    return registry_.AccountSettings(ScopeOf(c));
  });

  // ---- policies ----
  On("AddPermission", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in));
    return registry_.AddPermission(ScopeFor(c, ref), ref, in);
  });
  On("RemovePermission", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in));
    STRATUS_RETURN_IF_ERROR(registry_.RemovePermission(ScopeFor(c, ref), ref,
                                                       in.value("StatementId", ""),
                                                       in.value("RevisionId", "")));
    return Empty();
  });
  On("GetPolicy", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in));
    return registry_.GetPolicy(ScopeFor(c, ref), ref);
  });

  // ---- tags ----
  On("TagResource", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_RETURN_IF_ERROR(registry_.TagResource(ScopeOf(c), in.value("Resource", ""),
                                                  in.value("Tags", Json::object())));
    return Empty();
  });
  On("UntagResource", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_RETURN_IF_ERROR(registry_.UntagResource(ScopeOf(c), in.value("Resource", ""),
                                                    in.value("TagKeys", Json::array())));
    return Empty();
  });
  On("ListTags", [this](Call& c, const Json& in) -> Result<Json> {
    return registry_.ListTags(ScopeOf(c), in.value("Resource", ""));
  });

  // ---- layers ----
  On("PublishLayerVersion", [this](Call& c, const Json& in) -> Result<Json> {
    if (!in.contains("Content")) return InvalidParameterValue("Please provide a source for layer code.");
    STRATUS_ASSIGN_OR_RETURN(std::string zip, ReadCode(c, in["Content"]));
    return registry_.PublishLayerVersion(ScopeOf(c), in.value("LayerName", ""), in, zip);
  });
  On("GetLayerVersion", [this](Call& c, const Json& in) -> Result<Json> {
    return registry_.GetLayerVersion(ScopeOf(c), in.value("LayerName", ""),
                                     in.value("VersionNumber", int64_t{0}));
  });
  On("GetLayerVersionByArn", [this](Call& c, const Json& in) -> Result<Json> {
    return registry_.GetLayerVersionByArn(ScopeOf(c), in.value("Arn", ""));
  });
  On("ListLayerVersions", [this](Call& c, const Json& in) -> Result<Json> {
    return registry_.ListLayerVersions(ScopeOf(c), in.value("LayerName", ""), in);
  });
  On("ListLayers", [this](Call& c, const Json& in) -> Result<Json> {
    return registry_.ListLayers(ScopeOf(c), in);
  });
  On("DeleteLayerVersion", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_RETURN_IF_ERROR(registry_.DeleteLayerVersion(ScopeOf(c), in.value("LayerName", ""),
                                                         in.value("VersionNumber", int64_t{0})));
    return Empty();
  });

  // ---- function URLs ----
  On("CreateFunctionUrlConfig", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in));
    return registry_.CreateUrlConfig(ScopeFor(c, ref), ref, in, BaseHost());
  });
  On("GetFunctionUrlConfig", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in));
    return registry_.GetUrlConfig(ScopeFor(c, ref), ref, BaseHost());
  });
  On("UpdateFunctionUrlConfig", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in));
    return registry_.UpdateUrlConfig(ScopeFor(c, ref), ref, in, BaseHost());
  });
  On("DeleteFunctionUrlConfig", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in));
    STRATUS_RETURN_IF_ERROR(registry_.DeleteUrlConfig(ScopeFor(c, ref), ref));
    return Empty();
  });
  On("ListFunctionUrlConfigs", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in, false));
    return registry_.ListUrlConfigs(ScopeFor(c, ref), ref, BaseHost());
  });

  // ---- event invoke configs ----
  On("PutFunctionEventInvokeConfig", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in));
    return registry_.PutEventInvokeConfig(ScopeFor(c, ref), ref, in, false);
  });
  On("UpdateFunctionEventInvokeConfig", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in));
    return registry_.PutEventInvokeConfig(ScopeFor(c, ref), ref, in, true);
  });
  On("GetFunctionEventInvokeConfig", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in));
    return registry_.GetEventInvokeConfig(ScopeFor(c, ref), ref);
  });
  On("DeleteFunctionEventInvokeConfig", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in));
    STRATUS_RETURN_IF_ERROR(registry_.DeleteEventInvokeConfig(ScopeFor(c, ref), ref));
    return Empty();
  });
  On("ListFunctionEventInvokeConfigs", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in, false));
    return registry_.ListEventInvokeConfigs(ScopeFor(c, ref), ref);
  });

  // ---- event source mappings ----
  On("CreateEventSourceMapping", [this](Call& c, const Json& in) -> Result<Json> {
    return sources_.Create(ScopeOf(c), in);
  });
  On("GetEventSourceMapping", [this](Call& c, const Json& in) -> Result<Json> {
    return sources_.Get(ScopeOf(c), in.value("UUID", ""));
  });
  On("UpdateEventSourceMapping", [this](Call& c, const Json& in) -> Result<Json> {
    return sources_.Update(ScopeOf(c), in.value("UUID", ""), in);
  });
  On("DeleteEventSourceMapping", [this](Call& c, const Json& in) -> Result<Json> {
    return sources_.Delete(ScopeOf(c), in.value("UUID", ""));
  });
  On("ListEventSourceMappings", [this](Call& c, const Json& in) -> Result<Json> {
    return sources_.List(ScopeOf(c), in);
  });

  RegisterInvoke();
}

void LambdaService::RegisterInvoke() {
  // Starts on the io thread (kAsyncInline): a warm invoke never blocks — the target comes from
  // the registry's cache and the executor hands the event to a parked `next`; an Event invoke
  // moves to the worker pool for its durable enqueue.
  OnAsync("Invoke", [this](std::shared_ptr<Call> c, Json in, aws::Completion done) {
    auto ref = RefFrom(in);
    if (!ref.ok()) return done(ref.error());
    std::string type = in.value("InvocationType", "RequestResponse");
    std::string payload = std::move(c->payload);
    if (payload.empty()) payload = "{}";
    if (type == "Event" && payload.size() > kMaxAsyncPayload) {
      return done(RequestTooLarge("Request must be smaller than " + std::to_string(kMaxAsyncPayload) +
                                  " bytes for the InvokeFunction operation"));
    }
    if (payload.size() > kMaxSyncPayload) {
      return done(RequestTooLarge("Request must be smaller than " + std::to_string(kMaxSyncPayload) +
                                  " bytes for the InvokeFunction operation"));
    }
    // An in-process caller that wrote the payload with a JSON writer (the gateway's proxy
    // events) vouches for it; everything else is checked.
    if (!c->payload_is_json && !Json::accept(payload)) {
      return done(InvalidRequestContent(
          "Could not parse request body into json: Could not parse payload into json: Unexpected "
          "character or end of input: was expecting a JSON value"));
    }
    Scope scope = ScopeFor(*c, *ref);
    auto target = registry_.Resolve(scope, *ref);
    if (!target.ok()) return done(target.error());

    if (type == "DryRun") {
      aws::OperationOutput out;
      out.body = Json{{"StatusCode", 204}};
      return done(std::move(out));
    }
    if (type == "Event") {
      // The enqueue blocks until durable: not on the io thread this handler starts on.
      ctx_.workers.Submit([this, c, scope, ref = *ref, payload = std::move(payload),
                           done = std::move(done)]() mutable {
        Status st = async_.Enqueue(AsyncEvent{scope, ref.name, ref.qualifier, std::move(payload),
                                              c->request_id, c->trace_header});
        if (!st.ok()) return done(st.error());
        aws::OperationOutput out;
        out.body = Json{{"StatusCode", 202}};
        done(std::move(out));
      });
      return;
    }

    InvokeRequest req;
    req.request_id = c->request_id;
    req.payload = std::move(payload);
    req.invoked_arn = std::move(target->invoked_arn);
    req.trace = c->trace.Child();
    req.tail = in.value("LogType", "None") == "Tail";
    if (in.contains("ClientContext")) {
      std::string cc = in["ClientContext"].get<std::string>();
      auto decoded = Base64Decode(cc);
      if (!decoded || decoded->size() > kMaxClientContextBytes) {
        return done(InvalidRequestContent("Client context must be a valid Base64-encoded JSON object."));
      }
      req.client_context = std::move(*decoded);
    }
    std::string executed = std::move(target->executed_version);
    executor_.Invoke(target->spec, std::move(req),
                     [done = std::move(done),
                      executed = std::move(executed)](Result<InvokeOutcome> r) mutable {
                       if (!r.ok()) return done(r.error());
                       aws::OperationOutput out;
                       // Member by member into room for all four: an initializer list
                       // copies each value twice, and a growing object copies its members.
                       out.body.get_ref<Json::object_t&>().reserve(4);
                       out.body.emplace("StatusCode", 200);
                       out.body.emplace("ExecutedVersion", std::move(executed));
                       if (!r->function_error.empty()) out.body["FunctionError"] = r->function_error;
                       if (!r->log_tail.empty()) out.body["LogResult"] = Base64Encode(r->log_tail);
                       out.payload = std::move(r->payload);
                       done(std::move(out));
                     });
  }, Mode::kAsyncInline);

  // The legacy asynchronous invoke.
  On("InvokeAsync", [this](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(auto ref, RefFrom(in));
    std::string payload = c.payload.empty() ? "{}" : c.payload;
    if (payload.size() > kMaxAsyncPayload) {
      return RequestTooLarge("Request must be smaller than " + std::to_string(kMaxAsyncPayload) +
                             " bytes for the InvokeAsync operation");
    }
    Scope scope = ScopeFor(c, ref);
    STRATUS_ASSIGN_OR_RETURN(auto target, registry_.Resolve(scope, ref));
    (void)target;
    STRATUS_RETURN_IF_ERROR(async_.Enqueue(
        AsyncEvent{scope, ref.name, ref.qualifier, payload, c.request_id, c.trace_header}));
    return Json{{"Status", 202}};
  });
}

void LambdaService::ServeUrl(HttpRequest request, Responder responder) {
  auto plain = [](int status, std::string message) {
    HttpResponse r;
    r.status = status;
    r.headers.Set("Content-Type", "application/json");
    r.body = DumpJson(Json{{"Message", message}});
    return r;
  };
  std::string id = UrlIdFromHost(request.Host());
  auto url = registry_.FindUrl(id);
  if (!url.ok()) {
    responder.Send(plain(404, "Not Found"));
    return;
  }
  Json cors = url->cors;
  std::string origin(request.headers.GetOr("origin"));
  auto add_cors = [cors, origin](HttpResponse& r) {
    if (!cors.is_object()) return;
    auto origins = cors.value("AllowOrigins", Json::array());
    for (const auto& o : origins) {
      if (o == "*" || (!origin.empty() && o == origin)) {
        r.headers.Set("Access-Control-Allow-Origin", o == "*" ? "*" : origin);
        break;
      }
    }
    if (cors.value("AllowCredentials", false)) r.headers.Set("Access-Control-Allow-Credentials", "true");
    auto expose = cors.value("ExposeHeaders", std::vector<std::string>{});
    if (!expose.empty()) r.headers.Set("Access-Control-Expose-Headers", Join(expose, ","));
  };
  if (request.method == "OPTIONS" && cors.is_object() && request.headers.Has("origin")) {
    HttpResponse r;
    r.status = 200;
    add_cors(r);
    auto methods = cors.value("AllowMethods", std::vector<std::string>{});
    auto headers = cors.value("AllowHeaders", std::vector<std::string>{});
    if (!methods.empty()) r.headers.Set("Access-Control-Allow-Methods", Join(methods, ","));
    if (!headers.empty()) r.headers.Set("Access-Control-Allow-Headers", Join(headers, ","));
    if (cors.contains("MaxAge")) r.headers.Set("Access-Control-Max-Age", cors["MaxAge"].dump());
    responder.Send(std::move(r));
    return;
  }
  if (url->auth_type == "AWS_IAM" && !request.headers.Has("authorization") &&
      request.query.find("X-Amz-Signature=") == std::string::npos) {
    responder.Send(plain(403, "Forbidden"));
    return;
  }
  FunctionRef ref{url->name, url->qualifier, {}, {}};
  auto target = registry_.Resolve(url->scope, ref);
  if (!target.ok()) {
    responder.Send(plain(404, "Not Found"));
    return;
  }
  std::string request_id = NewUuid();
  int64_t now = ctx_.clock.NowMillis();
  InvokeRequest req;
  req.request_id = request_id;
  req.payload = DumpJson(UrlEvent(request, id, url->scope.region, url->scope.account, request_id, now));
  if (req.payload.size() > kMaxSyncPayload) {
    responder.Send(plain(413, "Request must be smaller than 6291456 bytes for the InvokeFunction operation"));
    return;
  }
  req.invoked_arn = target->invoked_arn;
  req.trace = trace::BeginHop(request.headers.Get("x-amzn-trace-id"), now / 1000);
  std::string trace_header = req.trace.DownstreamHeader();
  executor_.Invoke(target->spec, std::move(req),
                   [responder, plain, add_cors, request_id, trace_header](Result<InvokeOutcome> r) mutable {
                     HttpResponse out;
                     if (!r.ok()) {
                       spdlog::info("lambda: function URL request {} failed: {} {}", request_id,
                                    r.error().code, r.error().message);
                       out = r.error().code == "TooManyRequestsException"
                                 ? plain(429, "Rate Exceeded.")
                                 : plain(502, "Internal Server Error");
                     } else if (!r->function_error.empty()) {
                       spdlog::info("lambda: function URL request {}: the function failed: {}",
                                    request_id, r->payload.substr(0, 512));
                       out = plain(502, "Internal Server Error");
                     } else {
                       out = UrlResponse(r->payload);
                     }
                     add_cors(out);
                     out.headers.Set("x-amzn-RequestId", request_id);
                     out.headers.Set("X-Amzn-Trace-Id", trace_header);
                     responder.Send(std::move(out));
                   });
}

}  // namespace

std::unique_ptr<aws::Service> MakeLambdaService(aws::ServiceContext& context) {
  return std::make_unique<LambdaService>(context);
}

}  // namespace stratus::services::lambda

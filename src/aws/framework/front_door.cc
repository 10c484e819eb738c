#include "aws/framework/front_door.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "aws/framework/authorizer.h"
#include "aws/framework/service_registry.h"
#include "aws/model/model.h"
#include "aws/protocol/wire_json.h"
#include "aws/sigv4/sigv4.h"
#include "core/crypto.h"
#include "core/strings.h"
#include "trace/context.h"
#include "trace/recorder.h"

namespace stratus::aws {

namespace {

using internal::PlainJson;
using internal::QueryAction;
using internal::ServiceEntry;

constexpr std::string_view kInternalPrefix = "/_stratus/";
// Tooling written for LocalStack probes its health path; answer it the same way.
constexpr std::string_view kLocalstackHealth = "/_localstack/health";

std::string RegionFromHost(std::string_view host) {
  // sqs.eu-west-1.amazonaws.com, sqs.eu-west-1.localhost.localstack.cloud
  auto parts = Split(host.substr(0, host.find(':')), '.');
  for (const auto& p : parts) {
    auto dash = std::count(p.begin(), p.end(), '-');
    if (dash >= 2 && p.size() >= 9 && p.size() <= 20 &&
        std::isdigit(static_cast<unsigned char>(p.back()))) {
      return p;
    }
  }
  return {};
}

// The SigV4 error dialect of a service's protocol (sigv4.h "Errors").
SigV4Dialect DialectFor(Protocol protocol, const std::string& service) {
  switch (protocol) {
    case Protocol::kJson:
    case Protocol::kRestJson:
      return SigV4Dialect::kJson;
    case Protocol::kRestXml:
      return service == "s3" ? SigV4Dialect::kS3 : SigV4Dialect::kQuery;
    default:
      return SigV4Dialect::kQuery;
  }
}

// In-process callers repeat their inputs: the gateway invokes one function with the same two
// members on every request. ValidateInput is a pure function of the shape (the embedded models
// live as long as the program) and the input, so each thread remembers the last few small
// inputs it found valid and does not check an equal one again: a compare of a few members
// instead of the pattern matches.
class ValidInputMemo {
 public:
  // Whether `input` is one this thread found valid for `shape`.
  bool Known(const Shape& shape, const Json& input) const {
    for (const auto& e : entries_) {
      if (e.shape == &shape && e.input == input) return true;
    }
    return false;
  }
  // Remembers a valid input if it is small (copying and comparing it must stay cheap) and holds
  // only strings and booleans: Json's == takes 1 and 1.0 as equal, which validation does not.
  void Remember(const Shape& shape, const Json& input) {
    if (!Small(input)) return;
    Entry& e = entries_[next_];
    next_ = (next_ + 1) % kEntries;
    e.shape = &shape;
    e.input = input;
  }

 private:
  static constexpr size_t kEntries = 4;
  static constexpr size_t kMaxMembers = 8;
  static constexpr size_t kMaxStringBytes = 512;
  static bool Small(const Json& input) {
    if (!input.is_object() || input.size() > kMaxMembers) return false;
    for (const auto& [name, value] : input.items()) {
      if (value.is_boolean()) continue;
      if (!value.is_string() || value.get_ref<const std::string&>().size() > kMaxStringBytes) {
        return false;
      }
    }
    return true;
  }
  struct Entry {
    const Shape* shape = nullptr;
    Json input;
  };
  std::array<Entry, kEntries> entries_;
  size_t next_ = 0;
};

std::vector<Violation> ValidateInternalInput(const Shape& shape, const Json& input) {
  thread_local ValidInputMemo memo;
  if (memo.Known(shape, input)) return {};
  std::vector<Violation> violations = ValidateInput(shape, input);
  if (violations.empty()) memo.Remember(shape, input);
  return violations;
}

}  // namespace

struct FrontDoor::Impl : internal::ServiceRegistry {
  ServiceContext& ctx;
  std::string version;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // Pieces of the health document that never change: the version and the service names, as
  // JSON strings.
  std::string health_version;
  std::vector<std::string> health_names;  // parallel to entries

  Impl(ServiceContext& c, std::vector<ServiceSlot> slots, std::string v)
      : ServiceRegistry(std::move(slots)), ctx(c), version(std::move(v)) {
    health_version = Json(version).dump();
    for (const auto& e : entries) health_names.push_back(Json(e->descriptor.name).dump());
  }
};

namespace {

std::vector<ServiceSlot> AllBuilt(std::vector<std::unique_ptr<Service>> services) {
  std::vector<ServiceSlot> slots;
  slots.reserve(services.size());
  for (auto& s : services) slots.push_back(ServiceSlot::Built(std::move(s)));
  return slots;
}

}  // namespace

FrontDoor::FrontDoor(ServiceContext& context, std::vector<std::unique_ptr<Service>> services,
                     std::string version)
    : FrontDoor(context, AllBuilt(std::move(services)), std::move(version)) {}

FrontDoor::FrontDoor(ServiceContext& context, std::vector<ServiceSlot> slots, std::string version)
    : impl_(std::make_unique<Impl>(context, std::move(slots), std::move(version))) {
  context.clients.operations = this;
}

FrontDoor::~FrontDoor() = default;

Status FrontDoor::StartServices(const std::function<bool(const Service::Descriptor&)>& start_now) {
  size_t deferred = 0;
  for (auto& e : impl_->entries) {
    if (start_now && !start_now(e->descriptor)) {
      ++deferred;
      continue;
    }
    STRATUS_RETURN_IF_ERROR(e->EnsureStarted());
  }
  if (deferred > 0) {
    spdlog::debug("{} of {} services start on first use", deferred, impl_->entries.size());
  }
  return Status::Ok();
}

void FrontDoor::QuiesceServices() {
  for (auto& e : impl_->entries) {
    if (e->started.load()) e->Get()->Quiesce();
  }
}

void FrontDoor::StopServices() {
  // No service starts once shutdown begins; those never started have nothing to stop.
  for (auto& e : impl_->entries) {
    std::lock_guard lock(e->start_mu);
    e->stopping = true;
  }
  for (auto it = impl_->entries.rbegin(); it != impl_->entries.rend(); ++it) {
    if ((*it)->started.load()) (*it)->Get()->Stop();
  }
}

bool FrontDoor::Started(std::string_view name) const {
  auto it = impl_->by_name.find(std::string(name));
  return it != impl_->by_name.end() && it->second->started.load();
}

bool FrontDoor::Built(std::string_view name) const {
  auto it = impl_->by_name.find(std::string(name));
  return it != impl_->by_name.end() && it->second->IfBuilt() != nullptr;
}

std::string FrontDoor::HealthBody() const {
  // The same document as Health().dump(), written directly: this is the path load balancers and
  // benchmarks hit, and building then serialising the DOM cost ~25 000 instructions.
  const Impl& d = *impl_;
  double uptime =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - d.started).count();
  std::string out;
  out.reserve(64 + d.health_version.size() + d.entries.size() * 32);
  out += R"({"status":"ok","version":)";
  out += d.health_version;
  out += R"(,"uptime_seconds":)";
  out += Json(uptime).dump();
  out += R"(,"services":{)";
  for (size_t i = 0; i < d.entries.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += d.health_names[i];
    out += d.entries[i]->loaded.load() ? R"(:"running")" : R"(:"available")";
  }
  out += "}}";
  return out;
}

Json FrontDoor::Health() const {
  Json services = Json::object();
  for (const auto& e : impl_->entries) {
    services[e->descriptor.name] = e->loaded.load() ? "running" : "available";
  }
  double uptime =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - impl_->started).count();
  return Json{{"status", "ok"},
              {"version", impl_->version},
              {"uptime_seconds", uptime},
              {"services", std::move(services)}};
}

HttpResponse FrontDoor::FormatReject(const HttpRequest& request, int status, std::string_view code,
                                     std::string_view message) const {
  std::string request_id = NewUuid();
  ServiceEntry* entry = impl_->Route(request, std::nullopt);
  if (entry && entry->Load()) {
    if (const Codec* codec = entry->CodecFor(request)) {
      Error e{std::string(code), std::string(message), status};
      return codec->EncodeError(nullptr, e, ResponseMeta{request_id, {}});
    }
  }
  return JsonErrorResponse(status, code, message, request_id);
}

namespace {

// The response to a request for which no service could be identified.
HttpResponse UnknownService(const HttpRequest& r, const std::string& request_id) {
  if (auto target = r.headers.Get("x-amz-target")) {
    return JsonErrorResponse(400, "UnknownOperationException",
                             "Unknown operation " + std::string(*target) +
                                 ": no stratus service has this X-Amz-Target prefix.",
                             request_id);
  }
  std::string action = QueryAction(r);
  if (!action.empty()) {
    HttpResponse resp;
    resp.status = 400;
    resp.headers.Set("Content-Type", "text/xml");
    resp.headers.Set("x-amzn-RequestId", request_id);
    resp.body = "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>" +
                XmlEscape("The action " + action + " is not valid for this web service.") +
                "</Message></Error><RequestId>" + request_id + "</RequestId></ErrorResponse>";
    return resp;
  }
  return JsonErrorResponse(400, "UnknownOperationException",
                           "Stratus could not tell which AWS service " + r.method + " " + r.path +
                               " is for: no signature scope, X-Amz-Target or Action names one.",
                           request_id);
}

}  // namespace

std::shared_ptr<BodySink> FrontDoor::OpenBodySink(const HttpRequest& head) {
  Impl& d = *impl_;
  auto length = ParseInt64(head.headers.GetOr("content-length"));
  if (!length || *length < static_cast<int64_t>(kStreamedBodyMinBytes)) return nullptr;
  if (StartsWith(head.path, kInternalPrefix) || head.path == kLocalstackHealth) return nullptr;
  if (d.AnyDataPlane(head)) return nullptr;
  auto claim = ParseSigV4(head);
  if (!claim.ok()) return nullptr;  // answered with the signature error once the body is in
  std::optional<SigV4Claim> parsed = std::move(claim).value();
  ServiceEntry* entry = d.Route(head, parsed);
  if (!entry) return nullptr;
  // A sink needs the started service (S3's blob store); a failed start is answered by Handle.
  if (!entry->EnsureStarted().ok()) return nullptr;
  return entry->Get()->OpenBodySink(head, parsed ? &*parsed : nullptr);
}

void FrontDoor::Handle(HttpRequest request, Responder responder) {
  Impl& d = *impl_;
  // Internal endpoints: cheap, inline.
  if (StartsWith(request.path, kInternalPrefix) || request.path == kLocalstackHealth) {
    if (request.path == "/_stratus/health" || request.path == kLocalstackHealth) {
      HttpResponse r;
      r.body = HealthBody();
      r.headers.Set("Content-Type", "application/json");
      responder.Send(std::move(r));
      return;
    }
    if (request.path == "/_stratus/metrics") {
      HttpResponse r;
      r.body = d.ctx.metrics.RenderPrometheus();
      r.headers.Set("Content-Type", "text/plain; version=0.0.4");
      responder.Send(std::move(r));
      return;
    }
    // The segments held for one trace, as X-Ray's BatchGetTraces shapes a trace:
    // {"Id", "Segments": [{"Id", "Document"}]} (404 when none is held).
    if (StartsWith(request.path, "/_stratus/traces/") && request.method == "GET") {
      std::string id = request.path.substr(std::string_view("/_stratus/traces/").size());
      Json segments = Json::array();
      for (const auto& seg : d.ctx.tracer.TraceSegments(id)) {
        segments.push_back(Json{{"Id", seg.id}, {"Document", trace::SegmentDocumentJson(seg)}});
      }
      if (segments.empty()) {
        responder.Send(PlainJson(404, Json{{"message", "no segments held for trace " + id}}));
      } else {
        responder.Send(PlainJson(200, Json{{"Id", id}, {"Segments", std::move(segments)}}));
      }
      return;
    }
    // Other /_stratus/<service>/... paths belong to a service's data plane (SNS serves its
    // signing certificate and the recorded email/sms messages there).
    if (d.OfferDataPlane(request, responder)) return;
    responder.Send(PlainJson(404, Json{{"message", "no such stratus endpoint: " + request.path}}));
    return;
  }

  if (d.OfferDataPlane(request, responder)) return;

  auto started = std::chrono::steady_clock::now();
  auto call = std::make_shared<CallContext>();
  call->request_id = NewUuid();
  call->now_ms = d.ctx.clock.NowMillis();
  call->trace = trace::BeginHop(request.headers.Get("x-amzn-trace-id"), call->now_ms / 1000);
  call->trace_header = call->trace.DownstreamHeader();

  // Finishes the call: adds common headers, records metrics, logs, sends.
  auto finish = [&d, call, responder, started](HttpResponse response, std::string_view service,
                                               std::string_view operation,
                                               const Error* error) mutable {
    response.headers.Set("X-Amzn-Trace-Id", call->trace_header);
    if (!response.headers.Has("x-amzn-RequestId") && !response.headers.Has("x-amz-request-id")) {
      response.headers.Set("x-amzn-RequestId", call->request_id);
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    d.ctx.metrics.Observe(service, operation, response.status, secs);
    if (call->trace.sampled) {
      double start = static_cast<double>(call->now_ms) / 1000.0;
      trace::Segment seg = trace::NewSegment(call->trace, std::string(service), "", start);
      seg.end_time = start + secs;
      // Built member by member: an initializer list copies every value twice.
      seg.aws = Json::object();
      seg.aws.emplace("operation", operation);
      seg.aws.emplace("request_id", call->request_id);
      if (!call->region.empty()) seg.aws.emplace("region", call->region);
      trace::SetHttpStatus(seg, response.status);
      d.ctx.tracer.Record(std::move(seg));
    }
    if (error) {
      if (response.status >= 500) {
        spdlog::error("{}.{} {} {}: {} ({})", service, operation, response.status, error->code,
                      error->message, call->request_id);
      } else {
        spdlog::info("{}.{} {} {}: {}", service, operation, response.status, error->code,
                     error->message);
      }
    } else {
      spdlog::debug("{}.{} {} {:.2f}ms", service, operation, response.status, secs * 1000);
    }
    responder.Send(std::move(response));
  };

  // Services that provide ServiceClients (IAM's authorizer) exist before any call reads them.
  d.EnsureClients();
  // Who is calling, from the SigV4 claim. A malformed signature is answered in the protocol of
  // the service it was meant for.
  auto claim = ParseSigV4(request);
  std::optional<SigV4Claim> parsed_claim;
  if (claim.ok()) parsed_claim = std::move(claim).value();  // `claim` is only asked ok() later
  ServiceEntry* entry = d.Route(request, parsed_claim);
  if (!entry) {
    Error e("UnknownOperationException", "no service");
    finish(UnknownService(request, call->request_id), "unknown", "unknown", &e);
    return;
  }
  const auto& desc = entry->descriptor;
  if (!entry->Load()) {
    Error e = InternalFailure("The model of service " + desc.name + " is not available.");
    finish(JsonErrorResponse(500, e.code, e.message, call->request_id), desc.name, "unknown", &e);
    return;
  }
  const Codec* codec = entry->CodecFor(request);
  ResponseMeta meta{call->request_id, {}};
  auto fail = [&](const Operation* op, Error e) {
    finish(codec->EncodeError(op, e, meta), desc.name, op ? op->name : "unknown", &e);
  };
  // A service deferred at boot starts on its first request (once; later requests skip this).
  if (Status st = entry->EnsureStarted(); !st.ok()) {
    fail(nullptr, std::move(st).error());
    return;
  }
  if (!claim.ok()) {
    // Re-parse in the dialect of the service it was meant for, so the error has that
    // service's code, status and message.
    SigV4Dialect dialect = DialectFor(codec->protocol(), desc.name);
    auto again = ParseSigV4(request, dialect);
    Error e = again.ok() ? claim.error() : again.error();
    // rest-json services (Lambda, API Gateway) answer signature failures with 403.
    if (codec->protocol() == Protocol::kRestJson) e.http_status = 403;
    fail(nullptr, std::move(e));
    return;
  }

  // Who is calling: the access key's account root, unless the authorizer (IAM) knows the key.
  // It verifies the signature (when enforcing) before PrepareRequest may rewrite the request.
  Caller& caller = call->caller;
  if (parsed_claim) {
    caller.access_key_id = parsed_claim->access_key_id;
    caller.account_id = AccountForAccessKey(parsed_claim->access_key_id);
    caller.session_token = parsed_claim->security_token;
    call->region = parsed_claim->region;
  } else {
    caller.anonymous = true;
    caller.account_id = d.ctx.config.account_id;
  }
  if (caller.account_id.empty()) caller.account_id = d.ctx.config.account_id;
  caller.arn = "arn:aws:iam::" + caller.account_id + ":root";
  caller.user_id = caller.account_id;
  if (call->region.empty()) call->region = RegionFromHost(request.Host());
  if (call->region.empty()) call->region = d.ctx.config.region;
  Authorizer* authorizer = d.ctx.clients.authorizer;
  if (authorizer) {
    Status authenticated =
        authorizer->Authenticate(request, parsed_claim ? &*parsed_claim : nullptr,
                                 DialectFor(codec->protocol(), desc.name), call->now_ms, caller);
    if (!authenticated.ok()) {
      Error e = std::move(authenticated).error();
      if (codec->protocol() == Protocol::kRestJson && e.http_status == 400) e.http_status = 403;
      fail(nullptr, std::move(e));
      return;
    }
  }

  if (Status prepared = entry->Get()->PrepareRequest(
          request, parsed_claim ? &*parsed_claim : nullptr, call->now_ms);
      !prepared.ok()) {
    fail(nullptr, std::move(prepared).error());
    return;
  }
  auto resolved = codec->Resolve(request);
  if (!resolved.ok()) {
    fail(nullptr, resolved.error());
    return;
  }
  const Operation* op = resolved.value();
  const Service::Handler* handler = entry->Get()->FindHandler(op->name);
  if (!handler) {
    fail(op, Error("NotImplemented",
                   "Operation " + op->name + " of " + desc.name +
                       " is not implemented in stratus yet (see docs/" + desc.name + ".md).",
                   501, false));
    return;
  }

  call->service = desc.name;
  call->operation = op;

  // Content-Encoding: gzip request bodies (SDKs compress some operations' requests). The
  // Content-Encoding of a blob payload describes the payload itself (S3 stores it with the
  // object), so such bodies are left as they are.
  const Member* payload_member = op->input ? op->input->PayloadMember() : nullptr;
  bool blob_payload = payload_member && payload_member->shape->type == ShapeType::kBlob;
  if (auto enc = request.headers.Get("content-encoding");
      enc && !blob_payload && ToLower(*enc) == "gzip") {
    auto plain = GzipDecompress(request.body, d.ctx.config.max_body_bytes);
    if (!plain) {
      fail(op, Error("SerializationException",
                     "The request body is not valid gzip or expands beyond the size limit."));
      return;
    }
    request.body = std::move(*plain);
    request.headers.Remove("content-encoding");
  }
  auto decoded = codec->Decode(*op, request);
  if (!decoded.ok()) {
    fail(op, decoded.error());
    return;
  }
  call->payload = std::move(decoded.value().payload);
  Json input = std::move(decoded.value().input);
  if (op->input) {
    auto violations = ValidateInput(*op->input, input);
    // A blob payload travels beside the JSON input (call->payload): a required one is present
    // when the body is not empty (API Gateway's ImportRestApi body).
    if (blob_payload && !call->payload.empty()) {
      std::erase_if(violations, [&](const Violation& v) { return v.path == payload_member->name; });
    }
    if (!violations.empty()) {
      fail(op, Error(desc.validation_error, ValidationMessage(violations)));
      return;
    }
  }
  call->http = std::move(request);

  // Encodes the handler's result; runs on whichever thread the handler answered from.
  auto complete = [codec, op, meta, finish,
                   service_name = desc.name](OperationResult result) mutable {
    if (result.ok()) {
      finish(codec->Encode(*op, std::move(result).value(), meta), service_name, op->name, nullptr);
    } else {
      Error e = std::move(result).error();
      finish(codec->EncodeError(op, e, meta), service_name, op->name, &e);
    }
  };

  auto dispatch = [&d, handler, call, complete](Json input) mutable {
    switch (handler->mode) {
      case Mode::kInline:
        complete(handler->sync(*call, input));
        break;
      case Mode::kWorker:
        d.ctx.workers.Submit([handler, call, input = std::move(input), complete]() mutable {
          complete(handler->sync(*call, input));
        });
        break;
      case Mode::kAsync:
        d.ctx.workers.Submit([handler, call, input = std::move(input), complete]() mutable {
          handler->async(call, std::move(input), Completion(complete));
        });
        break;
      case Mode::kAsyncInline:
        handler->async(call, std::move(input), Completion(complete));
        break;
    }
  };
  if (authorizer && authorizer->Enforcing()) {
    auto held = std::make_shared<Json>(std::move(input));
    AuthorizationRequest ar{call, held.get(), codec->protocol(), false};
    authorizer->Authorize(std::move(ar), [held, dispatch, complete](Status st) mutable {
      if (!st.ok()) {
        complete(std::move(st).error());
        return;
      }
      dispatch(std::move(*held));
    });
    return;
  }
  dispatch(std::move(input));
}

void FrontDoor::Call(InternalCall ic, Completion done) {
  Impl& d = *impl_;
  d.EnsureClients();
  auto it = d.by_name.find(ic.service);
  if (it == d.by_name.end()) {
    done(Error("UnknownOperationException", "No service named " + ic.service + " in stratus."));
    return;
  }
  ServiceEntry* entry = it->second;
  if (!entry->Load()) {
    done(InternalFailure("The model of service " + ic.service + " is not available."));
    return;
  }
  if (Status st = entry->EnsureStarted(); !st.ok()) {
    done(std::move(st).error());
    return;
  }
  const Operation* op = entry->model->FindOperation(ic.operation);
  if (!op) {
    done(Error("UnknownOperationException",
               "Service " + ic.service + " has no operation " + ic.operation + "."));
    return;
  }
  const Service::Handler* handler = entry->Get()->FindHandler(op->name);
  if (!handler) {
    done(
        Error("NotImplemented",
              "Operation " + op->name + " of " + ic.service + " is not implemented in stratus yet.",
              501, false));
    return;
  }
  const auto& desc = entry->descriptor;
  auto call = std::make_shared<CallContext>();
  call->request_id = NewUuid();
  call->service = desc.name;
  call->operation = op;
  call->now_ms = d.ctx.clock.NowMillis();
  call->region = ic.region.empty() ? d.ctx.config.region : ic.region;
  call->caller.account_id = ic.account.empty() ? d.ctx.config.account_id : ic.account;
  call->caller.arn = ic.principal_arn.empty() ? "arn:aws:iam::" + call->caller.account_id + ":root"
                                              : ic.principal_arn;
  call->caller.user_id = call->caller.account_id;
  call->trace = ic.trace.trace_id.empty() ? trace::BeginHop(std::nullopt, call->now_ms / 1000)
                                          : ic.trace.Child();
  call->trace_header = call->trace.DownstreamHeader();
  call->payload = std::move(ic.payload);
  call->payload_is_json = ic.payload_is_json;
  call->http.method = "POST";
  call->http.headers.Set("X-Amzn-Trace-Id", call->trace_header);

  if (op->input) {
    auto violations = ValidateInternalInput(*op->input, ic.input);
    if (!violations.empty()) {
      done(Error(desc.validation_error, ValidationMessage(violations)));
      return;
    }
  }
  auto started = std::chrono::steady_clock::now();
  Completion complete = [&d, call, started, done = std::move(done)](OperationResult r) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    int status = r.ok() ? 200 : r.error().http_status;
    d.ctx.metrics.Observe(call->service, call->operation->name, status, secs);
    if (call->trace.sampled) {
      double start = static_cast<double>(call->now_ms) / 1000.0;
      trace::Segment seg = trace::NewSegment(call->trace, call->service, "", start);
      seg.end_time = start + secs;
      // The same "aws" members as a Json object would give, without building one (recorder.h).
      seg.aws_strings.reserve(3);
      seg.aws_strings.push_back({"operation", call->operation->name});
      seg.aws_strings.push_back({"request_id", call->request_id});
      seg.aws_strings.push_back({"region", call->region});
      trace::SetHttpStatus(seg, status);
      d.ctx.tracer.Record(std::move(seg));
    }
    // In-process callers get canonical JSON: pre-encoded members (wire_json.h) parsed back.
    if (r.ok() && r.value().body.is_object()) {
      for (auto& [name, member] : r.value().body.items()) {
        if (IsWireJson(member)) member = ParseJsonOrDiscarded(WireJsonText(member));
      }
    }
    done(std::move(r));
  };
  auto dispatch = [handler, call](Json input, Completion complete) {
    switch (handler->mode) {
      case Mode::kInline:
      case Mode::kWorker:
        complete(handler->sync(*call, input));
        break;
      case Mode::kAsync:
      case Mode::kAsyncInline:
        handler->async(call, std::move(input), std::move(complete));
        break;
    }
  };
  Authorizer* authorizer = d.ctx.clients.authorizer;
  if (authorizer && authorizer->Enforcing()) {
    auto held = std::make_shared<Json>(std::move(ic.input));
    AuthorizationRequest ar{call, held.get(), entry->model->metadata().protocol, true};
    authorizer->Authorize(std::move(ar), [held, dispatch, complete](Status st) mutable {
      if (!st.ok()) {
        complete(std::move(st).error());
        return;
      }
      dispatch(std::move(*held), std::move(complete));
    });
    return;
  }
  dispatch(std::move(ic.input), std::move(complete));
}

}  // namespace stratus::aws

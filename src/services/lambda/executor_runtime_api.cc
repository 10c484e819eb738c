// The Runtime API an instance's bootstrap talks to: next, response, error, init/error.
#include "services/lambda/executor_internal.h"

#include <optional>

#include <spdlog/spdlog.h>

#include "core/strings.h"
#include "services/lambda/errors.h"

namespace stratus::services::lambda {

namespace {

constexpr size_t kMaxResponseBytes = 6 * 1024 * 1024;

constexpr std::string_view kRuntimePrefix = "/2018-06-01/runtime/";

HttpResponse JsonResponse(int status, const std::string& body) {
  HttpResponse r;
  r.status = status;
  r.body = body;
  r.headers.Set("Content-Type", "application/json");
  return r;
}

}  // namespace

HttpResponse RuntimeError(int status, std::string_view type, std::string_view message) {
  return JsonResponse(status, DumpJson(Json{{"errorMessage", message}, {"errorType", type}}));
}

void Executor::HandleRuntimeApi(HttpRequest request, Responder responder) {
  Impl& d = *impl_;
  std::string_view path = request.path;
  if (!StartsWith(path, kRuntimePrefix)) {
    responder.Send(RuntimeError(404, "NotFound", "No such Runtime API path: " + request.path));
    return;
  }
  path.remove_prefix(kRuntimePrefix.size());
  Impl::Completions after;
  std::optional<HttpResponse> reply;  // 202 {"status":"OK"} unless set; `next` answers later
  HttpResponse dispatch;
  Responder to_send;
  {
    std::lock_guard lock(d.mu);
    auto it = d.instances.find(request.listener_tag);
    if (it == d.instances.end() || it->second->dead) {
      HttpResponse r = RuntimeError(410, "InstanceStopped", "This instance has stopped.");
      r.close = true;
      responder.Send(std::move(r));
      return;
    }
    std::shared_ptr<Instance> inst = it->second;
    Instance& in = *inst;
    in.io_thread = std::this_thread::get_id();
    if (path == "invocation/next" && request.method == "GET") {
      if (!in.ready) {
        in.ready = true;
        in.init_ms = static_cast<double>(d.NowNs() - in.spawned_ns) / 1e6;
      }
      if (in.parked) {
        // A runtime that reconnected: the newer request supersedes the parked one.
        spdlog::debug("lambda: {} instance sent a second `next`; answering the first",
                      in.spec->name);
        in.parked.Send(RuntimeError(400, "InvalidStateTransition", "A newer `next` replaced this one."));
        in.parked = Responder();
      }
      if (in.current && !in.current->dispatched) {
        to_send = responder;
        dispatch = d.Dispatch(in);
      } else {
        in.parked = std::move(responder);
        if (!in.current) in.idle_since_ns = d.NowNs();
        return;
      }
    } else if (path == "init/error" && request.method == "POST") {
      d.DrainPipes(in);
      if (in.current) {
        Json body = ParseJsonOrDiscarded(request.body);
        std::string type = std::string(request.headers.GetOr("Lambda-Runtime-Function-Error-Type",
                                                             "Runtime.Unknown"));
        if (body.is_object() && body.contains("errorType") && body["errorType"].is_string()) {
          type = body["errorType"].get<std::string>();
        }
        InvokeOutcome o;
        o.function_error = "Unhandled";
        o.payload = body.is_object() ? request.body : ErrorPayload(type, "Runtime failed to initialize");
        in.current->logs.push_back({d.NowMs(), "INIT_REPORT Init Duration: " +
                                                   TwoDecimals(static_cast<double>(d.NowNs() - in.spawned_ns) / 1e6) +
                                                   " ms\tPhase: init\tStatus: error\tError Type: " + type});
        after.push_back(d.Complete(in, std::move(o), "error", type));
      }
      d.Kill(in);
    } else if (StartsWith(path, "invocation/") && request.method == "POST") {
      std::string_view rest = path.substr(std::string_view("invocation/").size());
      size_t slash = rest.find('/');
      std::string_view id = rest.substr(0, slash);
      std::string_view verb = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
      if (!in.current || !in.current->dispatched || in.current->request.request_id != id) {
        reply = RuntimeError(400, "InvalidRequestID", "Invalid request ID");
      } else if (verb == "response") {
        d.DrainPipes(in);
        InvokeOutcome o;
        if (request.body.size() > kMaxResponseBytes) {
          o.function_error = "Unhandled";
          o.payload = ErrorPayload("Function.ResponseSizeTooLarge",
                                   "Response payload size exceeded maximum allowed payload size (" +
                                       std::to_string(kMaxResponseBytes) + " bytes).");
          reply = RuntimeError(413, "RequestEntityTooLarge",
                               "Exceeded maximum allowed payload size (6291556 bytes).");
          after.push_back(d.Complete(in, std::move(o), "error", "Function.ResponseSizeTooLarge"));
        } else {
          o.payload = std::move(request.body);
          after.push_back(d.Complete(in, std::move(o), "", ""));
        }
      } else if (verb == "error") {
        d.DrainPipes(in);
        InvokeOutcome o;
        o.function_error = "Unhandled";
        Json body = ParseJsonOrDiscarded(request.body);
        std::string type(request.headers.GetOr("Lambda-Runtime-Function-Error-Type", "Unhandled"));
        if (body.is_object()) {
          o.payload = std::move(request.body);
          if (body.contains("errorType") && body["errorType"].is_string()) {
            type = body["errorType"].get<std::string>();
          }
        } else {
          o.payload = ErrorPayload(type, request.body.empty() ? "Unhandled" : request.body);
        }
        after.push_back(d.Complete(in, std::move(o), "error", type));
      } else {
        reply = RuntimeError(404, "NotFound", "No such Runtime API path: " + request.path);
      }
    } else {
      reply = RuntimeError(404, "NotFound", "No such Runtime API path: " + request.path);
    }
  }
  if (to_send) {
    to_send.Send(std::move(dispatch));
    return;
  }
  responder.Send(reply ? std::move(*reply) : JsonResponse(202, R"({"status":"OK"})"));
  for (auto& f : after) f();
}

}  // namespace stratus::services::lambda

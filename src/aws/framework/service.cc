#include "aws/framework/service.h"

#include <algorithm>
#include <future>

#include "core/worker_pool.h"

namespace stratus::aws {

const Service::Handler* Service::FindHandler(std::string_view operation) const {
  auto it = handlers_.find(std::string(operation));
  return it == handlers_.end() ? nullptr : &it->second;
}

std::vector<std::string> Service::HandledOperations() const {
  std::vector<std::string> names;
  names.reserve(handlers_.size());
  for (const auto& [name, h] : handlers_) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

void Service::On(std::string operation, std::function<Result<Json>(CallContext&, const Json&)> fn,
                 Mode mode) {
  Handler h;
  h.mode = mode;
  h.sync = [fn = std::move(fn)](CallContext& ctx, const Json& input) -> OperationResult {
    Result<Json> r = fn(ctx, input);
    if (!r.ok()) return std::move(r).error();
    OperationOutput out;
    out.body = std::move(r).value();
    return out;
  };
  handlers_[std::move(operation)] = std::move(h);
}

void Service::OnOutput(std::string operation,
                       std::function<OperationResult(CallContext&, const Json&)> fn, Mode mode) {
  Handler h;
  h.mode = mode;
  h.sync = std::move(fn);
  handlers_[std::move(operation)] = std::move(h);
}

void Service::OnAsync(std::string operation,
                      std::function<void(std::shared_ptr<CallContext>, Json, Completion)> fn,
                      Mode mode) {
  Handler h;
  h.mode = mode == Mode::kAsyncInline ? Mode::kAsyncInline : Mode::kAsync;
  h.async = std::move(fn);
  handlers_[std::move(operation)] = std::move(h);
}

OperationResult OperationCaller::CallAndWait(InternalCall call) {
  std::promise<OperationResult> promise;
  auto future = promise.get_future();
  // The callee may answer from a pool task (DynamoDB's answers, SNS's encoders): a pool thread
  // that waits here must not count against the pool's limit, or enough waiting callers (a Map
  // state's concurrent iterations) would starve the tasks that answer them.
  WorkerPool::BlockingScope waiting;
  Call(std::move(call), [&promise](OperationResult r) { promise.set_value(std::move(r)); });
  return future.get();
}

std::string GetString(const Json& input, std::string_view name, std::string_view fallback) {
  auto it = input.find(name);
  if (it == input.end() || !it->is_string()) return std::string(fallback);
  return it->get<std::string>();
}

int64_t GetInt(const Json& input, std::string_view name, int64_t fallback) {
  auto it = input.find(name);
  if (it == input.end() || !it->is_number()) return fallback;
  return it->get<int64_t>();
}

bool GetBool(const Json& input, std::string_view name, bool fallback) {
  auto it = input.find(name);
  if (it == input.end() || !it->is_boolean()) return fallback;
  return it->get<bool>();
}

bool Has(const Json& input, std::string_view name) {
  auto it = input.find(name);
  return it != input.end() && !it->is_null();
}

}  // namespace stratus::aws

#include "services/logs/logs_service.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "services/logs/log_store.h"

namespace stratus::services::logs {

namespace {

// How often expired events (past a group's retention) are swept.
constexpr auto kSweepInterval = std::chrono::minutes(5);

Scope ScopeOf(const aws::CallContext& call) { return Scope{call.caller.account_id, call.region}; }

Result<std::vector<InputEvent>> EventsFrom(const Json& input) {
  std::vector<InputEvent> events;
  for (const auto& e : input.value("logEvents", Json::array())) {
    events.push_back(InputEvent{e.value("timestamp", int64_t{0}), e.value("message", "")});
  }
  return events;
}

// The group name of a log group ARN (TagResource and friends); log streams are not taggable.
Result<std::string> GroupFromArn(const std::string& arn) {
  auto pos = arn.find(":log-group:");
  if (!arn.starts_with("arn:") || pos == std::string::npos) {
    return InvalidParameter("Invalid resource ARN: " + arn);
  }
  std::string name = arn.substr(pos + 11);
  if (name.ends_with(":*")) name.resize(name.size() - 2);
  if (name.find(":log-stream:") != std::string::npos) {
    return InvalidParameter("Tagging is supported for log groups only: " + arn);
  }
  return name;
}

class LogsService final : public aws::Service, public aws::LogSink {
 public:
  explicit LogsService(aws::ServiceContext& context)
      : aws::Service(Descriptor{.name = "logs",
                                .model = "logs-2014-03-28",
                                .protocol = aws::Protocol::kJson,
                                .target_prefix = "Logs_20140328",
                                .signing_name = "logs",
                                .validation_error = "InvalidParameterException"}),
        logs_(context.store, context.clock) {
    context.clients.logs = this;
    Register();
  }

  ~LogsService() override { Stop(); }

  Status Start() override {
    sweeper_ = std::thread([this] { SweepLoop(); });
    return Status::Ok();
  }

  void Stop() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
  }

  Status Append(const std::string& account, const std::string& region, const std::string& group,
                const std::string& stream, const std::vector<Event>& events) override {
    std::vector<InputEvent> in;
    in.reserve(events.size());
    for (const auto& e : events) in.push_back(InputEvent{e.timestamp_ms, e.message});
    auto r = logs_.PutEvents(Scope{account, region}, group, stream, in, /*create_missing=*/true);
    if (!r.ok()) return r.error();
    return Status::Ok();
  }

  std::vector<Status> AppendMany(const std::vector<StreamEvents>& batches) override {
    std::vector<LogStore::StreamBatch> in;
    in.reserve(batches.size());
    for (const auto& b : batches) {
      LogStore::StreamBatch& sb = in.emplace_back();
      sb.scope = Scope{b.account, b.region};
      sb.group = b.group;
      sb.stream = b.stream;
      sb.events.reserve(b.events.size());
      for (const auto& e : b.events) sb.events.push_back(InputEvent{e.timestamp_ms, e.message});
    }
    return logs_.PutEventsMany(in);
  }

 private:
  using Call = aws::CallContext;
  static Json Empty() { return Json::object(); }

  void Register() {
    On("CreateLogGroup", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(logs_.CreateGroup(ScopeOf(c), in));
      return Empty();
    });
    On("DeleteLogGroup", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(logs_.DeleteGroup(ScopeOf(c), in.value("logGroupName", "")));
      return Empty();
    });
    On("DescribeLogGroups", [this](Call& c, const Json& in) -> Result<Json> {
      return logs_.DescribeGroups(ScopeOf(c), in);
    });
    On("PutRetentionPolicy", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(logs_.PutRetention(ScopeOf(c), in.value("logGroupName", ""),
                                                 in.value("retentionInDays", int64_t{0})));
      return Empty();
    });
    On("DeleteRetentionPolicy", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(logs_.DeleteRetention(ScopeOf(c), in.value("logGroupName", "")));
      return Empty();
    });
    On("CreateLogStream", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(logs_.CreateStream(ScopeOf(c), in.value("logGroupName", ""),
                                                 in.value("logStreamName", "")));
      return Empty();
    });
    On("DeleteLogStream", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(logs_.DeleteStream(ScopeOf(c), in.value("logGroupName", ""),
                                                 in.value("logStreamName", "")));
      return Empty();
    });
    On("DescribeLogStreams", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(std::string group, LogStore::GroupNameFrom(in));
      return logs_.DescribeStreams(ScopeOf(c), group, in);
    });
    On("PutLogEvents", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(auto events, EventsFrom(in));
      return logs_.PutEvents(ScopeOf(c), in.value("logGroupName", ""),
                             in.value("logStreamName", ""), events);
    });
    On("GetLogEvents", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(std::string group, LogStore::GroupNameFrom(in));
      return logs_.GetEvents(ScopeOf(c), group, in.value("logStreamName", ""), in);
    });
    On("FilterLogEvents", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(std::string group, LogStore::GroupNameFrom(in));
      return logs_.FilterEvents(ScopeOf(c), group, in);
    });
    On("TagLogGroup", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(logs_.TagGroup(ScopeOf(c), in.value("logGroupName", ""),
                                             in.value("tags", Json::object())));
      return Empty();
    });
    On("UntagLogGroup", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(logs_.UntagGroup(ScopeOf(c), in.value("logGroupName", ""),
                                               in.value("tags", std::vector<std::string>{})));
      return Empty();
    });
    On("ListTagsLogGroup", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(Json tags,
                               logs_.ListGroupTags(ScopeOf(c), in.value("logGroupName", "")));
      return Json{{"tags", std::move(tags)}};
    });
    On("TagResource", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(std::string group, GroupFromArn(in.value("resourceArn", "")));
      STRATUS_RETURN_IF_ERROR(logs_.TagGroup(ScopeOf(c), group, in.value("tags", Json::object())));
      return Empty();
    });
    On("UntagResource", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(std::string group, GroupFromArn(in.value("resourceArn", "")));
      STRATUS_RETURN_IF_ERROR(logs_.UntagGroup(ScopeOf(c), group,
                                               in.value("tagKeys", std::vector<std::string>{})));
      return Empty();
    });
    On("ListTagsForResource", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(std::string group, GroupFromArn(in.value("resourceArn", "")));
      STRATUS_ASSIGN_OR_RETURN(Json tags, logs_.ListGroupTags(ScopeOf(c), group));
      return Json{{"tags", std::move(tags)}};
    });
  }

  void SweepLoop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, kSweepInterval, [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      auto n = logs_.SweepExpired();
      if (!n.ok()) {
        spdlog::warn("logs: retention sweep failed: {}", n.error().message);
      } else if (*n > 0) {
        spdlog::info("logs: retention sweep deleted {} expired events", *n);
      }
      lock.lock();
    }
  }

  LogStore logs_;
  std::mutex mu_;  // guards stopping_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread sweeper_;
};

}  // namespace

std::unique_ptr<aws::Service> MakeLogsService(aws::ServiceContext& context) {
  return std::make_unique<LogsService>(context);
}

}  // namespace stratus::services::logs

#include "services/s3/events.h"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "core/strings.h"
#include "core/time_format.h"
#include "services/s3/errors.h"
#include "services/s3/keys.h"

namespace stratus::services::s3 {

namespace {

constexpr size_t kLeaseBatch = 16;
constexpr int64_t kLeaseMs = 60'000;
constexpr int64_t kMaxBackoffMs = 300'000;
constexpr auto kIdlePoll = std::chrono::seconds(5);
constexpr std::string_view kEventTopic = "s3/events";

constexpr std::string_view kEventNames[] = {
    "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated", "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete",
    "s3:ReducedRedundancyLostObject", "s3:Replication:*", "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:LifecycleTransition", "s3:IntelligentTiering", "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete", "s3:ObjectAcl:Put"};

struct Destination {
  const char* list;    // member of NotificationConfiguration
  const char* arn;     // member holding the destination ARN
  const char* type;    // "sqs", "sns", "lambda"
};
constexpr Destination kDestinations[] = {{"QueueConfigurations", "QueueArn", "sqs"},
                                         {"TopicConfigurations", "TopicArn", "sns"},
                                         {"LambdaFunctionConfigurations", "LambdaFunctionArn",
                                          "lambda"}};

bool FilterMatches(const Json& config, const std::string& key) {
  auto filter = config.find("Filter");
  if (filter == config.end()) return true;
  Json rules = filter->value("Key", Json::object()).value("FilterRules", Json::array());
  for (const auto& r : rules) {
    std::string name = ToLower(r.value("Name", ""));
    std::string value = r.value("Value", "");
    if (name == "prefix" && !StartsWith(key, value)) return false;
    if (name == "suffix" && !EndsWith(key, value)) return false;
  }
  return true;
}

// S3 writes event keys form-encoded (a space is '+').
std::string EventKey(const std::string& key) {
  return ReplaceAll(UrlEncode(key, true), "%20", "+");
}

std::string Iso8601Millis(int64_t ms) {
  return FormatIso8601(static_cast<double>(ms) / 1000.0, true);
}

}  // namespace

bool EventMatches(const std::string& pattern, const std::string& event_name) {
  std::string p = pattern;
  if (StartsWith(p, "s3:")) p = p.substr(3);
  if (EndsWith(p, ":*")) return StartsWith(event_name, p.substr(0, p.size() - 1));
  return p == event_name;
}

Status ValidateNotificationConfiguration(const Json& config) {
  for (const auto& d : kDestinations) {
    for (const auto& c : config.value(d.list, Json::array())) {
      std::string arn = c.value(d.arn, "");
      std::string expect = std::string("arn:aws:") + d.type + ":";
      if (!StartsWith(arn, expect) || Split(arn, ':').size() < 6) {
        return InvalidArgument("The ARN is not well formed", d.arn, arn);
      }
      Json events = c.value("Events", Json::array());
      if (events.empty()) return MalformedXml();
      for (const auto& e : events) {
        std::string name = e.is_string() ? e.get<std::string>() : "";
        if (std::find(std::begin(kEventNames), std::end(kEventNames), name) ==
            std::end(kEventNames)) {
          return InvalidArgument("The event is not supported for notifications", "Event", name);
        }
      }
      if (auto f = c.find("Filter"); f != c.end()) {
        for (const auto& r : f->value("Key", Json::object()).value("FilterRules", Json::array())) {
          std::string n = ToLower(r.value("Name", ""));
          if (n != "prefix" && n != "suffix") {
            return InvalidArgument("filter rule name must be either prefix or suffix",
                                   "FilterRule", r.value("Name", ""));
          }
        }
      }
    }
  }
  return Status::Ok();
}

Json EventRecord(const Bucket& b, const std::string& event_name, const std::string& key,
                 const ObjectRecord& rec, const RequestInfo& req, const std::string& config_id) {
  char sequencer[24];
  std::snprintf(sequencer, sizeof(sequencer), "%016llX",
                static_cast<unsigned long long>(req.now_ms) * 1000 + rec.seq % 1000);
  Json object{{"key", EventKey(key)}, {"sequencer", sequencer}};
  if (StartsWith(event_name, "ObjectCreated")) {
    object["size"] = rec.size;
    object["eTag"] = rec.etag;
  }
  if (rec.version_id != "null") object["versionId"] = rec.version_id;
  return Json{
      {"eventVersion", "2.1"},
      {"eventSource", "aws:s3"},
      {"awsRegion", b.region},
      {"eventTime", Iso8601Millis(req.now_ms)},
      {"eventName", event_name},
      {"userIdentity", {{"principalId", "AWS:" + req.account}}},
      {"requestParameters", {{"sourceIPAddress", req.source_ip.empty() ? "127.0.0.1" : req.source_ip}}},
      {"responseElements", {{"x-amz-request-id", req.request_id}, {"x-amz-id-2", req.request_id}}},
      {"s3",
       {{"s3SchemaVersion", "1.0"},
        {"configurationId", config_id},
        {"bucket",
         {{"name", b.name},
          {"ownerIdentity", {{"principalId", CanonicalUserId(b.owner)}}},
          {"arn", "arn:aws:s3:::" + b.name}}},
        {"object", std::move(object)}}}};
}

Status QueueEvents(store::WriteTxn& txn, const Bucket& b, const std::string& event_name,
                   const std::string& key, const ObjectRecord& rec, const RequestInfo& req) {
  auto it = b.config.find("notification");
  if (it == b.config.end() || !it->is_object()) return Status::Ok();
  bool queued = false;
  for (const auto& d : kDestinations) {
    for (const auto& c : it->value(d.list, Json::array())) {
      bool wanted = false;
      for (const auto& e : c.value("Events", Json::array())) {
        if (e.is_string() && EventMatches(e.get<std::string>(), event_name)) wanted = true;
      }
      if (!wanted || !FilterMatches(c, key)) continue;
      Json item{{"type", d.type},
                {"arn", c.value(d.arn, "")},
                {"account", b.owner},
                {"region", b.region},
                {"message", Json{{"Records", Json::array({EventRecord(b, event_name, key, rec, req,
                                                                      c.value("Id", ""))})}}}};
      auto id = txn.Enqueue(keys::kEventQueue, item.dump());
      if (!id.ok()) return std::move(id).error();
      queued = true;
    }
  }
  if (queued) txn.Notify(kEventTopic);
  return Status::Ok();
}

Status QueueTestEvents(store::WriteTxn& txn, const Bucket& b, const Json& config,
                       const RequestInfo& req) {
  Json test{{"Service", "Amazon S3"},
            {"Event", "s3:TestEvent"},
            {"Time", Iso8601Millis(req.now_ms)},
            {"Bucket", b.name},
            {"RequestId", req.request_id},
            {"HostId", req.request_id}};
  bool queued = false;
  for (const auto& d : kDestinations) {
    if (std::string_view(d.type) == "lambda") continue;
    for (const auto& c : config.value(d.list, Json::array())) {
      Json item{{"type", d.type}, {"arn", c.value(d.arn, "")}, {"account", b.owner},
                {"region", b.region}, {"message", test}};
      auto id = txn.Enqueue(keys::kEventQueue, item.dump());
      if (!id.ok()) return std::move(id).error();
      queued = true;
    }
  }
  if (queued) txn.Notify(kEventTopic);
  return Status::Ok();
}

EventDelivery::EventDelivery(store::Store& store, aws::ServiceClients& clients, const Clock& clock)
    : store_(store), clients_(clients), clock_(clock) {}

EventDelivery::~EventDelivery() { Stop(); }

void EventDelivery::Start() {
  watch_ = store_.Subscribe(std::string(kEventTopic), [this] {
    {
      std::lock_guard lock(mu_);
      wake_ = true;
    }
    cv_.notify_all();
  });
  thread_ = std::thread([this] { Loop(); });
}

void EventDelivery::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  watch_.reset();
}

Status EventDelivery::Deliver(const Json& item) {
  aws::OperationCaller* calls = clients_.operations;
  if (calls == nullptr) return ServiceUnavailable("no in-process operation caller");
  std::string type = item.value("type", "");
  std::string arn = item.value("arn", "");
  auto parts = Split(arn, ':');
  if (parts.size() < 6) return InvalidArgument("malformed destination ARN " + arn);
  aws::InternalCall call;
  call.account = parts[4];
  call.region = parts[3];
  call.principal_arn = "s3.amazonaws.com";
  std::string message = item.value("message", Json::object()).dump();
  if (type == "sqs") {
    aws::InternalCall get = call;
    get.service = "sqs";
    get.operation = "GetQueueUrl";
    get.input = Json{{"QueueName", parts[5]}, {"QueueOwnerAWSAccountId", parts[4]}};
    auto url = calls->CallAndWait(get);
    if (!url.ok()) return std::move(url).error();
    call.service = "sqs";
    call.operation = "SendMessage";
    call.input = Json{{"QueueUrl", url->body.value("QueueUrl", "")}, {"MessageBody", message}};
  } else if (type == "sns") {
    call.service = "sns";
    call.operation = "Publish";
    call.input = Json{{"TopicArn", arn}, {"Message", message}, {"Subject", "Amazon S3 Notification"}};
  } else {
    call.service = "lambda";
    call.operation = "Invoke";
    call.input = Json{{"FunctionName", arn}, {"InvocationType", "Event"}};
    call.payload = message;
  }
  auto r = calls->CallAndWait(std::move(call));
  if (!r.ok()) return std::move(r).error();
  return Status::Ok();
}

int64_t EventDelivery::DeliverDue() {
  int64_t delivered = 0;
  while (true) {
    int64_t now = clock_.NowMillis();
    auto items = store_.Lease(keys::kEventQueue, kLeaseBatch, now, kLeaseMs);
    if (!items.ok()) {
      spdlog::warn("s3: cannot lease notification events: {}", items.error().message);
      return delivered;
    }
    for (const auto& item : *items) {
      Json payload = ParseJsonOrDiscarded(item.payload);
      Status st = payload.is_object() ? Deliver(payload) : InternalFailure("corrupt event");
      if (st.ok()) {
        ++delivered;
        (void)store_.Ack(item.id, item.lease_token);
        continue;
      }
      if (item.attempts >= kMaxDeliveryAttempts || !payload.is_object()) {
        spdlog::error("s3: giving up on a notification to {} after {} attempts: {} {}",
                      payload.value("arn", "?"), item.attempts, st.error().code,
                      st.error().message);
        (void)store_.Ack(item.id, item.lease_token);
        continue;
      }
      int64_t backoff = std::min<int64_t>(kMaxBackoffMs, int64_t{1000} << std::min(item.attempts, 8));
      spdlog::warn("s3: notification to {} failed (attempt {}), retrying in {} s: {} {}",
                   payload.value("arn", "?"), item.attempts, backoff / 1000, st.error().code,
                   st.error().message);
      (void)store_.Release(item.id, item.lease_token, now + backoff);
    }
    if (items->size() < kLeaseBatch) return delivered;
  }
}

void EventDelivery::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_ = false;
    lock.unlock();
    DeliverDue();
    auto next = store_.NextVisibleAt(keys::kEventQueue);
    lock.lock();
    auto wait = std::chrono::milliseconds(std::chrono::duration_cast<std::chrono::milliseconds>(kIdlePoll));
    if (next.ok() && next->has_value()) {
      int64_t delta = **next - clock_.NowMillis();
      wait = std::chrono::milliseconds(std::clamp<int64_t>(delta, 10, 5000));
    }
    cv_.wait_for(lock, wait, [this] { return stopping_ || wake_; });
  }
}

}  // namespace stratus::services::s3

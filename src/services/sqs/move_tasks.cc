// Dead-letter queue redrive: StartMessageMoveTask and friends. A task moves the messages of a
// dead-letter queue back to their source queues (or to a given destination) in the background,
// at most MaxNumberOfMessagesPerSecond, one store Write per step.
#include <mutex>

#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/sqs/engine.h"
#include "services/sqs/errors.h"
#include "services/sqs/records.h"

namespace stratus::services::sqs {

namespace {
constexpr size_t kMoveStep = 100;  // messages per step and store Write

Json TaskJson(const std::string& handle, const std::string& source, const std::string& dest,
              int64_t rate, const std::string& status, int64_t moved, int64_t to_move,
              int64_t started, const std::string& failure) {
  Json j{{"TaskHandle", handle}, {"Status", status}, {"SourceArn", source}};
  if (!dest.empty()) j["DestinationArn"] = dest;
  if (rate > 0) j["MaxNumberOfMessagesPerSecond"] = rate;
  j["ApproximateNumberOfMessagesMoved"] = moved;
  j["ApproximateNumberOfMessagesToMove"] = to_move;
  if (!failure.empty()) j["FailureReason"] = failure;
  j["StartedTimestamp"] = started;
  return j;
}
}  // namespace

Status Engine::SaveTask(const MoveTask& t) {
  std::string value = TaskJson(t.handle, t.source_arn, t.destination_arn, t.max_per_second,
                               t.status, t.moved, t.to_move, t.started_ms, t.failure)
                          .dump();
  std::string key = std::string(records::kTaskPrefix) + t.handle;
  return store_.Write([&](store::WriteTxn& txn) { return txn.Put(key, value); });
}

Status Engine::LoadMoveTasks() {
  auto rows = store_.Scan(store::PrefixScan(records::kTaskPrefix));
  if (!rows.ok()) return rows.error();
  std::unique_lock lock(mu_);
  for (const auto& row : *rows) {
    Json j = ParseJsonOrDiscarded(row.value);
    if (!j.is_object()) continue;
    auto t = std::make_shared<MoveTask>();
    t->handle = j.value("TaskHandle", "");
    t->source_arn = j.value("SourceArn", "");
    t->destination_arn = j.value("DestinationArn", "");
    t->max_per_second = j.value("MaxNumberOfMessagesPerSecond", int64_t{0});
    t->status = j.value("Status", "COMPLETED");
    t->moved = j.value("ApproximateNumberOfMessagesMoved", int64_t{0});
    t->to_move = j.value("ApproximateNumberOfMessagesToMove", int64_t{0});
    t->started_ms = j.value("StartedTimestamp", int64_t{0});
    t->failure = j.value("FailureReason", "");
    tasks_[t->handle] = std::move(t);
  }
  return Status::Ok();
}

Result<Json> Engine::StartMessageMoveTask(const Scope& s, const Json& in) {
  std::string source = in.value("SourceArn", "");
  std::string dest = in.value("DestinationArn", "");
  QueuePtr src = FindByArn(source);
  if (!src) return Error("ResourceNotFoundException", "The resource that you specified for the SourceArn parameter doesn't exist.", 404);
  bool is_dlq = false;
  {
    std::shared_lock lock(mu_);
    for (const auto& [_, q] : queues_) {
      std::lock_guard ql(q->mu);
      if (q->config.dlq_arn == src->arn) is_dlq = true;
    }
    for (const auto& [_, t] : tasks_) {
      if (t->source_arn == src->arn && t->status == "RUNNING") {
        return InvalidParameterValue("There is already a task running. Only one active task is "
                                     "allowed for a source queue arn at a given time.");
      }
    }
  }
  if (!is_dlq) {
    return InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.");
  }
  if (!dest.empty() && !FindByArn(dest)) {
    return Error("ResourceNotFoundException", "The resource that you specified for the DestinationArn parameter doesn't exist.", 404);
  }
  auto t = std::make_shared<MoveTask>();
  t->handle = Base64Encode(Json{{"taskId", NewUuid()}, {"sourceArn", src->arn}}.dump());
  t->source_arn = src->arn;
  t->destination_arn = dest;
  t->max_per_second = in.value("MaxNumberOfMessagesPerSecond", int64_t{0});
  t->started_ms = clock_.NowMillis();
  {
    std::lock_guard ql(src->mu);
    t->to_move = static_cast<int64_t>(src->messages.size());
  }
  STRATUS_RETURN_IF_ERROR(SaveTask(*t));
  {
    std::unique_lock lock(mu_);
    tasks_[t->handle] = t;
  }
  return Json{{"TaskHandle", t->handle}};
}

Result<Json> Engine::ListMessageMoveTasks(const Scope& s, const Json& in) {
  std::string source = in.value("SourceArn", "");
  if (!FindByArn(source)) {
    return Error("ResourceNotFoundException", "The resource that you specified for the SourceArn parameter doesn't exist.", 404);
  }
  int64_t max = in.value("MaxResults", int64_t{1});
  std::vector<std::shared_ptr<MoveTask>> list;
  {
    std::shared_lock lock(mu_);
    for (const auto& [_, t] : tasks_) {
      if (t->source_arn == source) list.push_back(t);
    }
  }
  std::sort(list.begin(), list.end(),
            [](const auto& a, const auto& b) { return a->started_ms > b->started_ms; });
  Json results = Json::array();
  for (const auto& t : list) {
    if (static_cast<int64_t>(results.size()) >= max) break;
    std::shared_lock lock(mu_);
    Json j = TaskJson(t->status == "RUNNING" ? t->handle : "", t->source_arn, t->destination_arn,
                      t->max_per_second, t->status, t->moved, t->to_move, t->started_ms,
                      t->failure);
    if (t->status != "RUNNING") j.erase("TaskHandle");
    results.push_back(std::move(j));
  }
  return Json{{"Results", std::move(results)}};
}

Result<Json> Engine::CancelMessageMoveTask(const Scope& s, const Json& in) {
  std::string handle = in.value("TaskHandle", "");
  std::shared_ptr<MoveTask> t;
  {
    std::unique_lock lock(mu_);
    auto it = tasks_.find(handle);
    if (it == tasks_.end() || it->second->status != "RUNNING") {
      return Error("ResourceNotFoundException", "Task does not exist.", 404);
    }
    t = it->second;
    t->status = "CANCELLED";
  }
  STRATUS_RETURN_IF_ERROR(SaveTask(*t));
  return Json{{"ApproximateNumberOfMessagesMoved", t->moved}};
}

void Engine::RunMoveTasks() {
  std::vector<std::shared_ptr<MoveTask>> running;
  {
    std::shared_lock lock(mu_);
    for (const auto& [_, t] : tasks_) {
      if (t->status == "RUNNING") running.push_back(t);
    }
  }
  int64_t now = clock_.NowMillis();
  for (auto& t : running) {
    QueuePtr src = FindByArn(t->source_arn);
    if (!src) {
      std::unique_lock lock(mu_);
      t->status = "FAILED";
      t->failure = "AWS.SimpleQueueService.NonExistentQueue";
      lock.unlock();
      (void)SaveTask(*t);
      continue;
    }
    size_t budget = kMoveStep;
    if (t->max_per_second > 0) budget = std::min<size_t>(budget, static_cast<size_t>(t->max_per_second));
    // Take visible messages, grouped by destination.
    std::unordered_map<std::string, std::vector<std::unique_ptr<Message>>> by_dest;
    size_t taken = 0;
    {
      std::lock_guard ql(src->mu);
      src->Promote(now);
      while (taken < budget && !src->available.empty()) {
        uint64_t seq = *src->available.begin();
        src->available.erase(src->available.begin());
        auto it = src->messages.find(seq);
        if (it == src->messages.end()) continue;
        std::string dest = t->destination_arn.empty() ? it->second->dlq_source_arn : t->destination_arn;
        by_dest[dest].push_back(std::move(it->second));
        src->messages.erase(it);
        ++taken;
      }
    }
    bool failed = false;
    for (auto& [dest, msgs] : by_dest) {
      QueuePtr dst = dest.empty() ? nullptr : FindByArn(dest);
      if (!dst) {
        // Nowhere to go: put them back and fail the task.
        std::lock_guard ql(src->mu);
        for (auto& m : msgs) {
          src->Index(*m, now);
          uint64_t seq = m->seq;
          src->messages.emplace(seq, std::move(m));
        }
        failed = true;
        continue;
      }
      size_t n = msgs.size();
      // Moved messages start over in their destination: the receive count resets.
      for (auto& m : msgs) {
        m->receive_count = 0;
        m->first_receive_ms = 0;
        m->dlq_source_arn.clear();
      }
      Status st = MoveMessages(src, dst, std::move(msgs), /*from_redrive=*/false);
      if (!st.ok()) {
        spdlog::warn("sqs: move task {} step failed: {}", t->handle, st.error().message);
        failed = true;
        continue;
      }
      std::unique_lock lock(mu_);
      t->moved += static_cast<int64_t>(n);
    }
    bool done = false;
    {
      std::lock_guard ql(src->mu);
      done = src->available.empty();
    }
    if (failed || done) {
      {
        std::unique_lock lock(mu_);
        if (t->status == "RUNNING") {
          t->status = failed ? "FAILED" : "COMPLETED";
          if (failed) t->failure = "AWS.SimpleQueueService.NonExistentQueue";
        }
      }
      (void)SaveTask(*t);
    }
  }
}

}  // namespace stratus::services::sqs

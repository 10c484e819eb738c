// The SQS engine: queues (create, delete, attributes, tags, listing), loading and sweeping.
// Message operations are in messages.cc, move tasks in move_tasks.cc.
#include "services/sqs/engine.h"

#include <algorithm>
#include <future>
#include <mutex>

#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/sqs/errors.h"
#include "services/sqs/md5.h"
#include "services/sqs/records.h"

namespace stratus::services::sqs {

namespace {

std::string RegistryKey(const QueueRef& r) { return r.account + "/" + r.region + "/" + r.name; }

uint64_t NewQueueId() {
  uint64_t id = 0;
  while (id == 0) {
    std::string b = RandomBytes(8);
    for (char c : b) id = (id << 8) | static_cast<unsigned char>(c);
  }
  return id;
}

// Attribute values arrive as strings (query) or strings in JSON (json protocol).
Json StringMap(const Json& in) {
  Json out = Json::object();
  if (!in.is_object()) return out;
  for (const auto& [k, v] : in.items()) out[k] = v.is_string() ? v.get<std::string>() : v.dump();
  return out;
}

constexpr int64_t kPurgeIntervalMs = 60'000;

}  // namespace

Engine::Engine(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}
Engine::~Engine() = default;

std::string Engine::UrlOf(const Scope& s, const Queue& q) const { return QueueUrl(s.base_url, q.ref); }

Result<Engine::QueuePtr> Engine::Find(const Scope& s, const Json& in) const {
  std::string url = in.value("QueueUrl", "");
  auto ref = ParseQueueRef(url, s.region, s.account);
  if (!ref) return QueueDoesNotExist();
  std::shared_lock lock(mu_);
  auto it = queues_.find(RegistryKey(*ref));
  if (it == queues_.end()) return QueueDoesNotExist();
  return it->second;
}

Engine::QueuePtr Engine::FindByArn(const std::string& arn) const {
  auto ref = ParseQueueRef(arn, "", "");
  if (!ref) return nullptr;
  std::shared_lock lock(mu_);
  auto it = queues_.find(RegistryKey(*ref));
  return it == queues_.end() ? nullptr : it->second;
}

Status Engine::CheckDeadLetterAllows(Queue& dlq, const std::string& dlq_arn,
                                     const std::string& redrive_policy,
                                     const std::string& source_arn) {
  std::string allow;
  {
    std::lock_guard lock(dlq.mu);
    allow = dlq.attributes.value("RedriveAllowPolicy", "");
  }
  return CheckRedriveAllowed(redrive_policy, dlq_arn, allow, source_arn);
}

Status Engine::SaveQueueLocked(std::unique_lock<std::mutex>& lock, Queue& q) {
  std::string key = records::QueueKey(q.ref);
  std::string value = records::EncodeQueue(q);
  auto saved = std::make_shared<std::promise<Status>>();
  std::future<Status> result = saved->get_future();
  store_.WriteAsync(
      [key = std::move(key), value = std::move(value)](store::WriteTxn& txn) {
        return txn.Put(key, value);
      },
      [saved](Status st) { saved->set_value(std::move(st)); });
  lock.unlock();
  return result.get();
}

Status Engine::SaveNewQueue(const Queue& q) {
  std::string key = records::QueueKey(q.ref);
  std::string value = records::EncodeQueue(q);
  return store_.Write([&](store::WriteTxn& txn) { return txn.Put(key, value); });
}

Status Engine::Load() {
  auto rows = store_.Scan(store::PrefixScan(records::kQueuePrefix));
  if (!rows.ok()) return rows.error();
  int64_t now = clock_.NowMillis();
  size_t total = 0;
  for (const auto& row : *rows) {
    auto q = std::make_shared<Queue>();
    if (!records::DecodeQueue(row.value, *q)) {
      spdlog::warn("sqs: unreadable queue record {}", row.key);
      continue;
    }
    q->arn = QueueArn(q->ref);
    auto msgs = store_.Scan(store::PrefixScan(records::MessagePrefix(q->id)));
    if (!msgs.ok()) return msgs.error();
    auto states = store_.Scan(store::PrefixScan(records::StatePrefix(q->id)));
    if (!states.ok()) return states.error();
    std::unordered_map<uint64_t, const std::string*> state_by_seq;
    size_t prefix = records::StatePrefix(q->id).size();
    for (const auto& st : *states) {
      if (auto seq = records::ParseHex16(std::string_view(st.key).substr(prefix))) {
        state_by_seq[*seq] = &st.value;
      }
    }
    prefix = records::MessagePrefix(q->id).size();
    for (const auto& mr : *msgs) {
      auto seq = records::ParseHex16(std::string_view(mr.key).substr(prefix));
      auto m = std::make_unique<Message>();
      if (!seq || !records::DecodeMessage(mr.value, *m)) continue;
      m->seq = *seq;
      if (auto it = state_by_seq.find(*seq); it != state_by_seq.end()) {
        records::DecodeState(*it->second, *m);
      }
      if (m->in_flight && m->visible_at_ms <= now) m->in_flight = false;
      m->md5_body = Md5OfBody(m->body);
      m->md5_attributes = Md5OfAttributes(m->attributes);
      q->next_seq = std::max(q->next_seq, *seq + 1);
      q->Index(*m, now);
      q->messages.emplace(*seq, std::move(m));
    }
    auto dedups = store_.Scan(store::PrefixScan(records::DedupPrefix(q->id)));
    if (!dedups.ok()) return dedups.error();
    prefix = records::DedupPrefix(q->id).size();
    for (const auto& d : *dedups) {
      Json j = ParseJsonOrDiscarded(d.value);
      if (!j.is_object()) continue;
      DedupEntry e{j.value("e", int64_t{0}), j.value("m", ""), j.value("s", uint64_t{0})};
      if (e.expires_ms > now) q->dedup[d.key.substr(prefix)] = e;
    }
    // Sequence numbers stay unique across restarts even when every message was deleted.
    q->next_seq = std::max<uint64_t>(q->next_seq, static_cast<uint64_t>(now) << 12);
    total += q->messages.size();
    std::unique_lock lock(mu_);
    queues_[RegistryKey(q->ref)] = std::move(q);
  }
  STRATUS_RETURN_IF_ERROR(LoadMoveTasks());
  spdlog::info("sqs: loaded {} queues, {} messages", queues_.size(), total);
  return Status::Ok();
}

Result<Json> Engine::CreateQueue(const Scope& s, const Json& in) {
  std::string name = in.value("QueueName", "");
  Json attributes = StringMap(in.value("Attributes", Json::object()));
  bool fifo = attributes.value("FifoQueue", "false") == "true";
  if (!IsValidQueueName(name, fifo)) {
    if (fifo) {
      return InvalidParameterValue(
          "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
          "underscores, must end with .fifo suffix and be 1 to 80 in length.");
    }
    return InvalidParameterValue(
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length");
  }
  STRATUS_RETURN_IF_ERROR(ValidateAttributes(attributes, fifo, /*creating=*/true));
  if (attributes.contains("FifoQueue") && attributes["FifoQueue"] == "false") {
    attributes.erase("FifoQueue");
  }
  QueueConfig config = ParseConfig(attributes);
  if (!config.dlq_arn.empty()) {
    auto dlq = FindByArn(config.dlq_arn);
    if (!dlq) {
      return InvalidParameterValue("Value " + attributes.value("RedrivePolicy", "") +
                                   " for parameter RedrivePolicy is invalid. Reason: Dead-letter "
                                   "target does not exist.");
    }
    if (dlq->config.fifo != fifo) {
      return InvalidParameterValue("Value " + attributes.value("RedrivePolicy", "") +
                                   " for parameter RedrivePolicy is invalid. Reason: Dead-letter "
                                   "queue must be same type of queue as the source..");
    }
    STRATUS_RETURN_IF_ERROR(CheckDeadLetterAllows(*dlq, config.dlq_arn,
                                                  attributes.value("RedrivePolicy", ""),
                                                  QueueArn(QueueRef{s.account, s.region, name})));
  }
  QueueRef ref{s.account, s.region, name};
  std::unique_lock lock(mu_);
  if (auto it = queues_.find(RegistryKey(ref)); it != queues_.end()) {
    Queue& q = *it->second;
    std::lock_guard ql(q.mu);
    Json current = WithDefaults(q.attributes, q.config.fifo);
    for (const auto& [k, v] : attributes.items()) {
      if (current.value(k, "") != v.get<std::string>()) {
        return Error("QueueNameExists",
                     "A queue already exists with the same name and a different value for "
                     "attribute " + k);
      }
    }
    return Json{{"QueueUrl", UrlOf(s, q)}};
  }
  auto q = std::make_shared<Queue>();
  q->id = NewQueueId();
  q->ref = ref;
  q->arn = QueueArn(ref);
  q->attributes = attributes;
  q->tags = StringMap(in.value("tags", Json::object()));
  q->config = config;
  q->created_s = clock_.NowMillis() / 1000;
  q->modified_s = q->created_s;
  q->next_seq = static_cast<uint64_t>(clock_.NowMillis()) << 12;
  // Holding the registry lock across the commit keeps two creates of one name from racing;
  // queue creation is rare.
  STRATUS_RETURN_IF_ERROR(SaveNewQueue(*q));
  std::string url = UrlOf(s, *q);
  queues_[RegistryKey(ref)] = std::move(q);
  return Json{{"QueueUrl", url}};
}

Status Engine::DeleteQueue(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(QueuePtr q, Find(s, in));
  uint64_t id = q->id;
  std::string key = records::QueueKey(q->ref);
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(txn.Delete(key));
    for (const std::string& p : {records::MessagePrefix(id), records::StatePrefix(id),
                                 records::DedupPrefix(id)}) {
      auto n = txn.DeleteRange(p, store::PrefixEnd(p));
      if (!n.ok()) return n.error();
    }
    return Status::Ok();
  }));
  {
    std::unique_lock lock(mu_);
    queues_.erase(RegistryKey(q->ref));
  }
  std::vector<std::shared_ptr<Waiter>> waiters;
  {
    std::lock_guard ql(q->mu);
    q->deleted = true;
    waiters = q->TakeWaiters();
  }
  for (auto& w : waiters) w->wake();
  return Status::Ok();
}

Result<Json> Engine::GetQueueUrl(const Scope& s, const Json& in) {
  std::string account = in.value("QueueOwnerAWSAccountId", s.account);
  QueueRef ref{account, s.region, in.value("QueueName", "")};
  std::shared_lock lock(mu_);
  auto it = queues_.find(RegistryKey(ref));
  if (it == queues_.end()) return QueueDoesNotExist();
  return Json{{"QueueUrl", UrlOf(s, *it->second)}};
}

Result<Json> Engine::ListQueues(const Scope& s, const Json& in) {
  std::string prefix = in.value("QueueNamePrefix", "");
  int64_t max = in.value("MaxResults", int64_t{0});
  if (in.contains("MaxResults") && (max < 1 || max > 1000)) {
    return InvalidParameterValue("Value for parameter MaxResults is invalid. Reason: MaxResults "
                                 "must be an integer between 1 and 1000.");
  }
  std::string after;
  if (in.contains("NextToken")) {
    auto t = Base64Decode(in.value("NextToken", ""));
    if (!t) return InvalidParameterValue("Invalid NextToken value.");
    after = *t;
  }
  std::vector<std::string> names;
  {
    std::shared_lock lock(mu_);
    for (const auto& [_, q] : queues_) {
      if (q->ref.account != s.account || q->ref.region != s.region) continue;
      if (!StartsWith(q->ref.name, prefix) || (!after.empty() && q->ref.name <= after)) continue;
      names.push_back(q->ref.name);
    }
  }
  std::sort(names.begin(), names.end());
  size_t limit = max > 0 ? static_cast<size_t>(max) : 1000;
  Json urls = Json::array();
  for (size_t i = 0; i < names.size() && i < limit; ++i) {
    urls.push_back(QueueUrl(s.base_url, QueueRef{s.account, s.region, names[i]}));
  }
  Json out = Json::object();
  if (!urls.empty()) out["QueueUrls"] = std::move(urls);
  if (max > 0 && names.size() > limit) out["NextToken"] = Base64Encode(names[limit - 1]);
  return out;
}

Result<Json> Engine::GetQueueAttributes(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(QueuePtr q, Find(s, in));
  std::vector<std::string> wanted;
  for (const auto& n : in.value("AttributeNames", Json::array())) {
    std::string name = n.get<std::string>();
    if (!IsKnownAttributeName(name)) return InvalidAttributeName(name);
    wanted.push_back(name);
  }
  bool all = std::find(wanted.begin(), wanted.end(), "All") != wanted.end();
  int64_t now = clock_.NowMillis();
  std::lock_guard ql(q->mu);
  q->Promote(now);
  Json a = WithDefaults(q->attributes, q->config.fifo);
  int64_t in_flight = 0;
  int64_t delayed = 0;
  for (const auto& [_, seq] : q->pending) {
    auto it = q->messages.find(seq);
    if (it == q->messages.end()) continue;
    (it->second->in_flight ? in_flight : delayed)++;
  }
  a["ApproximateNumberOfMessages"] = std::to_string(q->available.size());
  a["ApproximateNumberOfMessagesNotVisible"] = std::to_string(in_flight);
  a["ApproximateNumberOfMessagesDelayed"] = std::to_string(delayed);
  a["CreatedTimestamp"] = std::to_string(q->created_s);
  a["LastModifiedTimestamp"] = std::to_string(q->modified_s);
  a["QueueArn"] = q->arn;
  Json out = Json::object();
  if (!all) {
    for (const auto& n : wanted) {
      if (a.contains(n)) out[n] = a[n];
    }
  } else {
    out = std::move(a);
  }
  if (out.empty()) return Json::object();
  return Json{{"Attributes", std::move(out)}};
}

Status Engine::SetQueueAttributes(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(QueuePtr q, Find(s, in));
  Json attributes = StringMap(in.value("Attributes", Json::object()));
  STRATUS_RETURN_IF_ERROR(ValidateAttributes(attributes, q->config.fifo, /*creating=*/false));
  QueueConfig probe = ParseConfig(attributes);
  if (!probe.dlq_arn.empty()) {
    auto dlq = FindByArn(probe.dlq_arn);
    if (!dlq) {
      return InvalidParameterValue("Value " + attributes.value("RedrivePolicy", "") +
                                   " for parameter RedrivePolicy is invalid. Reason: Dead-letter "
                                   "target does not exist.");
    }
    STRATUS_RETURN_IF_ERROR(CheckDeadLetterAllows(*dlq, probe.dlq_arn,
                                                  attributes.value("RedrivePolicy", ""),
                                                  QueueArn(q->ref)));
  }
  std::vector<std::shared_ptr<Waiter>> waiters;
  {
    std::unique_lock ql(q->mu);
    for (const auto& [k, v] : attributes.items()) {
      if (v.get<std::string>().empty() &&
          (k == "RedrivePolicy" || k == "Policy" || k == "RedriveAllowPolicy")) {
        q->attributes.erase(k);
      } else {
        q->attributes[k] = v;
      }
    }
    q->config = ParseConfig(q->attributes);
    q->modified_s = clock_.NowMillis() / 1000;
    waiters = q->TakeWaiters();
    Status saved = SaveQueueLocked(ql, *q);
    if (!saved.ok()) {
      for (auto& w : waiters) w->wake();
      return saved;
    }
  }
  for (auto& w : waiters) w->wake();
  return Status::Ok();
}

Status Engine::PurgeQueue(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(QueuePtr q, Find(s, in));
  int64_t now = clock_.NowMillis();
  uint64_t id = q->id;
  {
    std::lock_guard ql(q->mu);
    if (q->last_purge_ms > 0 && now - q->last_purge_ms < kPurgeIntervalMs) {
      return Error("PurgeQueueInProgress", "Only one PurgeQueue operation on " + q->ref.name +
                                               " is allowed every 60 seconds.", 403);
    }
    q->last_purge_ms = now;
    q->purged_below_seq = q->next_seq;
    q->messages.clear();
    q->available.clear();
    q->pending.clear();
    q->group_in_flight.clear();
  }
  std::string key = records::QueueKey(q->ref);
  std::string value;
  {
    std::lock_guard ql(q->mu);
    value = records::EncodeQueue(*q);
  }
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(txn.Put(key, value));
    for (const std::string& p : {records::MessagePrefix(id), records::StatePrefix(id)}) {
      auto n = txn.DeleteRange(p, store::PrefixEnd(p));
      if (!n.ok()) return n.error();
    }
    return Status::Ok();
  });
}

Status Engine::TagQueue(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(QueuePtr q, Find(s, in));
  std::unique_lock ql(q->mu);
  Json tags = StringMap(in.value("Tags", Json::object()));
  for (const auto& [k, v] : tags.items()) q->tags[k] = v;
  if (q->tags.size() > 50) {
    return InvalidParameterValue("Too many tags added for queue " + q->ref.name + ".");
  }
  return SaveQueueLocked(ql, *q);
}

Status Engine::UntagQueue(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(QueuePtr q, Find(s, in));
  std::unique_lock ql(q->mu);
  for (const auto& k : in.value("TagKeys", Json::array())) q->tags.erase(k.get<std::string>());
  return SaveQueueLocked(ql, *q);
}

Result<Json> Engine::ListQueueTags(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(QueuePtr q, Find(s, in));
  std::lock_guard ql(q->mu);
  if (q->tags.empty()) return Json::object();
  return Json{{"Tags", q->tags}};
}

Result<Json> Engine::ListDeadLetterSourceQueues(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(QueuePtr target, Find(s, in));
  std::vector<std::string> names;
  {
    std::shared_lock lock(mu_);
    for (const auto& [_, q] : queues_) {
      std::lock_guard ql(q->mu);
      if (q->config.dlq_arn == target->arn) names.push_back(q->ref.name);
    }
  }
  std::sort(names.begin(), names.end());
  Json urls = Json::array();
  for (const auto& n : names) urls.push_back(QueueUrl(s.base_url, QueueRef{s.account, s.region, n}));
  return Json{{"queueUrls", std::move(urls)}};
}

Status Engine::AddPermission(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(QueuePtr q, Find(s, in));
  std::string label = in.value("Label", "");
  std::unique_lock ql(q->mu);
  Json policy = ParseJsonOrDiscarded(q->attributes.value("Policy", ""));
  if (!policy.is_object()) {
    policy = Json{{"Version", "2012-10-17"}, {"Id", q->arn + "/SQSDefaultPolicy"},
                  {"Statement", Json::array()}};
  }
  for (const auto& st : policy["Statement"]) {
    if (st.value("Sid", "") == label) {
      return InvalidParameterValue("Value " + label +
                                   " for parameter Label is invalid. Reason: Already exists.");
    }
  }
  Json principals = Json::array();
  for (const auto& a : in.value("AWSAccountIds", Json::array())) {
    principals.push_back("arn:aws:iam::" + a.get<std::string>() + ":root");
  }
  Json actions = Json::array();
  for (const auto& a : in.value("Actions", Json::array())) {
    actions.push_back("SQS:" + a.get<std::string>());
  }
  policy["Statement"].push_back(Json{{"Sid", label},
                                     {"Effect", "Allow"},
                                     {"Principal", Json{{"AWS", principals}}},
                                     {"Action", actions},
                                     {"Resource", q->arn}});
  q->attributes["Policy"] = policy.dump();
  return SaveQueueLocked(ql, *q);
}

Status Engine::RemovePermission(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(QueuePtr q, Find(s, in));
  std::string label = in.value("Label", "");
  std::unique_lock ql(q->mu);
  Json policy = ParseJsonOrDiscarded(q->attributes.value("Policy", ""));
  bool found = false;
  if (policy.is_object() && policy["Statement"].is_array()) {
    Json kept = Json::array();
    for (const auto& st : policy["Statement"]) {
      if (st.value("Sid", "") == label) {
        found = true;
      } else {
        kept.push_back(st);
      }
    }
    policy["Statement"] = kept;
  }
  if (!found) {
    return InvalidParameterValue("Value " + label +
                                 " for parameter Label is invalid. Reason: can't find label.");
  }
  q->attributes["Policy"] = policy.dump();
  return SaveQueueLocked(ql, *q);
}

void Engine::WakeWaiters(Queue& q) {
  std::vector<std::shared_ptr<Waiter>> waiters;
  {
    std::lock_guard ql(q.mu);
    waiters = q.TakeWaiters();
  }
  for (auto& w : waiters) w->wake();
}

void Engine::Sweep() {
  std::vector<QueuePtr> all;
  {
    std::shared_lock lock(mu_);
    for (const auto& [_, q] : queues_) all.push_back(q);
  }
  int64_t now = clock_.NowMillis();
  for (auto& q : all) {
    std::vector<std::string> deletes;
    std::vector<std::shared_ptr<Waiter>> waiters;
    {
      std::lock_guard ql(q->mu);
      q->Promote(now);
      int64_t cutoff = now - q->config.retention_s * 1000;
      for (auto it = q->messages.begin(); it != q->messages.end();) {
        Message& m = *it->second;
        if (m.sent_ms > cutoff) break;
        q->Unindex(m);
        deletes.push_back(records::MessageKey(q->id, m.seq));
        deletes.push_back(records::StateKey(q->id, m.seq));
        it = q->messages.erase(it);
      }
      for (auto it = q->dedup.begin(); it != q->dedup.end();) {
        if (it->second.expires_ms <= now) {
          deletes.push_back(records::DedupKey(q->id, it->first));
          it = q->dedup.erase(it);
        } else {
          ++it;
        }
      }
      if (!q->available.empty() && !q->waiters.empty()) waiters = q->TakeWaiters();
    }
    for (auto& w : waiters) w->wake();
    if (deletes.empty()) continue;
    Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
      for (const auto& k : deletes) STRATUS_RETURN_IF_ERROR(txn.Delete(k));
      return Status::Ok();
    });
    if (!st.ok()) spdlog::warn("sqs: sweep of {} failed: {}", q->arn, st.error().message);
  }
}

}  // namespace stratus::services::sqs

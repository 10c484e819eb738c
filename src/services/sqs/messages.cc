// The SQS engine's message operations: send, receive, delete, visibility, redrive.
#include <algorithm>
#include <future>
#include <mutex>
#include <random>
#include <set>

#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "core/random.h"
#include "core/strings.h"
#include "services/sqs/engine.h"
#include "services/sqs/errors.h"
#include "services/sqs/md5.h"
#include "services/sqs/records.h"

namespace stratus::services::sqs {

namespace {

uint64_t NewNonce() {
  std::mt19937_64& rng = ThreadRng();
  uint64_t n = 0;
  while (n == 0) n = rng();
  return n;
}

// True when every code point is one SQS accepts (XML 1.0 characters).
bool HasOnlyValidCharacters(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp = 0;
    int len = 1;
    if (c < 0x80) {
      cp = c;
    } else if ((c >> 5) == 0x6) {
      cp = c & 0x1F;
      len = 2;
    } else if ((c >> 4) == 0xE) {
      cp = c & 0x0F;
      len = 3;
    } else {
      cp = c & 0x07;
      len = 4;
    }
    for (int k = 1; k < len && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    i += len;
    bool ok = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
              (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
    if (!ok) return false;
  }
  return true;
}

bool IsValidBatchId(std::string_view id) {
  if (id.empty() || id.size() > 80) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

// Checks a batch's entry list: not empty, at most 10, ids well-formed and distinct.
Status CheckBatch(const Json& entries, const std::string& entry_type) {
  if (!entries.is_array() || entries.empty()) {
    return Error("EmptyBatchRequest",
                 "There should be at least one " + entry_type + " in the request.");
  }
  if (entries.size() > static_cast<size_t>(kMaxBatchEntries)) {
    return Error("TooManyEntriesInBatchRequest",
                 "Maximum number of entries per request are 10. You have sent " +
                     std::to_string(entries.size()) + ".");
  }
  std::set<std::string> ids;
  for (const auto& e : entries) {
    std::string id = e.value("Id", "");
    if (!IsValidBatchId(id)) {
      return Error("InvalidBatchEntryId",
                   "A batch entry id can only contain alphanumeric characters, hyphens and "
                   "underscores. It can be at most 80 letters long.");
    }
    if (!ids.insert(id).second) return Error("BatchEntryIdsNotDistinct", "Id " + id + " repeated.");
  }
  return Status::Ok();
}

// Validates message attributes; returns their size in bytes as SQS counts it.
Result<int64_t> CheckAttributes(const Json& attrs) {
  if (!attrs.is_object()) return int64_t{0};
  if (attrs.size() > 10) {
    return InvalidParameterValue("Number of message attributes [" + std::to_string(attrs.size()) +
                                 "] exceeds the allowed maximum [10].");
  }
  int64_t bytes = 0;
  for (const auto& [name, a] : attrs.items()) {
    std::string type = a.value("DataType", "");
    if (type.empty()) {
      return InvalidParameterValue("The message attribute '" + name +
                                   "' must contain non-empty message attribute type.");
    }
    bool is_binary = StartsWith(type, "Binary");
    if (!StartsWith(type, "String") && !StartsWith(type, "Number") && !is_binary) {
      return InvalidParameterValue(
          "The type of message (user) attribute '" + name +
          "' is invalid. You must use only the following supported type prefixes: Binary, Number, "
          "String.");
    }
    if (a.contains("StringListValues") || a.contains("BinaryListValues")) {
      return UnsupportedOperation("Message attribute list values in SendMessage operation are "
                                  "not supported.");
    }
    std::string value = is_binary ? a.value("BinaryValue", "") : a.value("StringValue", "");
    if (value.empty()) {
      return InvalidParameterValue("The message attribute '" + name +
                                   "' must contain non-empty message attribute value for message "
                                   "attribute type '" + type.substr(0, type.find('.')) + "'.");
    }
    if (StartsWith(type, "Number") && !ParseDouble(value)) {
      return InvalidParameterValue("Could not cast message attribute '" + name +
                                   "' value to number.");
    }
    if (!is_binary && !HasOnlyValidCharacters(value)) return InvalidMessageContents();
    int64_t value_bytes = static_cast<int64_t>(value.size());
    if (is_binary) value_bytes = value_bytes * 3 / 4;
    bytes += static_cast<int64_t>(name.size() + type.size()) + value_bytes;
  }
  return bytes;
}

// The system attribute names a receive asked for.
std::set<std::string> WantedSystemAttributes(const Json& in) {
  std::set<std::string> names;
  for (const char* key : {"AttributeNames", "MessageSystemAttributeNames"}) {
    for (const auto& n : in.value(key, Json::array())) names.insert(n.get<std::string>());
  }
  return names;
}

Json FilterMessageAttributes(const Json& attrs, const Json& wanted) {
  Json out = Json::object();
  if (!attrs.is_object() || attrs.empty() || !wanted.is_array() || wanted.empty()) return out;
  for (const auto& w : wanted) {
    std::string n = w.get<std::string>();
    if (n == "All" || n == ".*") return attrs;
    for (const auto& [name, v] : attrs.items()) {
      if (name == n || (EndsWith(n, ".*") && StartsWith(name, n.substr(0, n.size() - 1)))) {
        out[name] = v;
      }
    }
  }
  return out;
}

std::string SequenceNumber(uint64_t seq) {
  std::string s = std::to_string(seq);
  if (s.size() < 20) s.insert(0, 20 - s.size(), '0');
  return s;
}

}  // namespace

namespace {

// The queue whose send this thread is queuing a write for, under the queue's mutex: a WriteAsync
// that completes at once (the store is closing) runs its callback on this thread, which must then
// not take that mutex again.
thread_local const Queue* tls_enqueuing = nullptr;

}  // namespace

// One send in progress, shared by the request path and the commit callback.
struct Engine::SendJob {
  std::vector<Result<Json>> results;
  std::vector<std::unique_ptr<Message>> built;  // null: failed validation or a duplicate
  std::vector<std::string> dedup_keys;          // FIFO: per entry
  std::function<void(std::vector<Result<Json>>)> done;
  bool completed_inline = false;  // the write failed at once; the enqueuer calls done
};

void Engine::Send(const Scope& s, const std::shared_ptr<Queue>& q,
                  const std::vector<SendEntry>& entries, SendDone done) {
  auto job = std::make_shared<SendJob>();
  job->results.assign(entries.size(), Result<Json>(Json::object()));
  job->built.resize(entries.size());
  job->dedup_keys.resize(entries.size());
  job->done = std::move(done);
  auto& results = job->results;
  auto& built = job->built;
  int64_t now = clock_.NowMillis();
  QueueConfig config;
  {
    std::lock_guard ql(q->mu);
    config = q->config;
  }
  // Validate each entry; build its message and its record (which does not depend on the
  // sequence number, so it is encoded outside the lock).
  std::vector<std::string> values(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const Json& in = *entries[i].in;
    auto fail = [&](Error e) { results[i] = std::move(e); };
    std::string body = in.value("MessageBody", "");
    if (body.empty()) {
      fail(MissingParameter("The request must contain the parameter MessageBody."));
      continue;
    }
    if (!HasOnlyValidCharacters(body)) {
      fail(InvalidMessageContents());
      continue;
    }
    Json attrs = in.value("MessageAttributes", Json::object());
    auto attr_bytes = CheckAttributes(attrs);
    if (!attr_bytes.ok()) {
      fail(attr_bytes.error());
      continue;
    }
    if (static_cast<int64_t>(body.size()) + *attr_bytes > config.max_message_bytes) {
      fail(InvalidParameterValue("One or more parameters are invalid. Reason: Message must be "
                                 "shorter than " + std::to_string(config.max_message_bytes) +
                                 " bytes."));
      continue;
    }
    int64_t delay = config.delay_s;
    if (in.contains("DelaySeconds")) {
      int64_t d = in["DelaySeconds"].get<int64_t>();
      if (config.fifo) {
        fail(InvalidParameterValue("Value " + std::to_string(d) +
                                   " for parameter DelaySeconds is invalid. Reason: The request "
                                   "include parameter that is not valid for this queue type."));
        continue;
      }
      if (d < 0 || d > kMaxDelaySeconds) {
        fail(InvalidParameterValue("Value " + std::to_string(d) +
                                   " for parameter DelaySeconds is invalid. Reason: DelaySeconds "
                                   "must be >= 0 and <= 900."));
        continue;
      }
      delay = d;
    }
    auto m = std::make_unique<Message>();
    m->group = in.value("MessageGroupId", "");
    m->dedup_id = in.value("MessageDeduplicationId", "");
    if (config.fifo) {
      if (m->group.empty()) {
        fail(MissingParameter("The request must contain the parameter MessageGroupId."));
        continue;
      }
      if (m->dedup_id.empty()) {
        if (!config.content_based_dedup) {
          fail(InvalidParameterValue("The queue should either have ContentBasedDeduplication "
                                     "enabled or MessageDeduplicationId provided explicitly"));
          continue;
        }
        m->dedup_id = Sha256Hex(body);
      }
      job->dedup_keys[i] = config.dedup_scope_group ? m->group + "/" + m->dedup_id : m->dedup_id;
    } else if (!m->dedup_id.empty()) {
      fail(InvalidParameterValue("Value " + m->dedup_id +
                                 " for parameter MessageDeduplicationId is invalid. Reason: The "
                                 "request include parameter that is not valid for this queue "
                                 "type."));
      continue;
    }
    const Json* trace = nullptr;
    if (auto sys = in.find("MessageSystemAttributes"); sys != in.end() && sys->is_object()) {
      if (auto t = sys->find("AWSTraceHeader"); t != sys->end()) trace = &*t;
    }
    m->trace_header = trace ? trace->value("StringValue", "") : s.trace_header;
    m->id = NewUuid();
    m->body = std::move(body);
    m->attributes = std::move(attrs);
    m->md5_body = Md5OfBody(m->body);
    m->md5_attributes = Md5OfAttributes(m->attributes);
    m->sender_id = s.sender_id;
    m->sent_ms = now;
    m->visible_at_ms = now + delay * 1000;
    Json out = Json::object();
    if (!entries[i].id.empty()) out["Id"] = entries[i].id;
    out["MessageId"] = m->id;
    out["MD5OfMessageBody"] = m->md5_body;
    if (!m->md5_attributes.empty()) out["MD5OfMessageAttributes"] = m->md5_attributes;
    if (trace) {
      out["MD5OfMessageSystemAttributes"] = Md5OfAttributes(Json{{"AWSTraceHeader", *trace}});
    }
    values[i] = records::EncodeMessage(*m);
    results[i] = std::move(out);
    built[i] = std::move(m);
  }

  // Under the queue's mutex: assign sequence numbers, drop duplicates (FIFO) inside the 5-minute
  // window, and queue the write, so that commits (and indexing) follow sequence order.
  bool answer_now = false;
  {
    std::lock_guard ql(q->mu);
    if (q->deleted) {
      for (auto& r : results) r = QueueDoesNotExist();
      answer_now = true;
    } else {
      std::vector<std::pair<std::string, std::string>> puts;  // key, value
      bool duplicates = false;
      for (size_t i = 0; i < entries.size(); ++i) {
        if (!built[i]) continue;
        Message& m = *built[i];
        m.seq = q->next_seq++;
        if (config.fifo) {
          const std::string& key = job->dedup_keys[i];
          auto it = q->dedup.find(key);
          if (it != q->dedup.end() && it->second.expires_ms > now) {
            results[i]->operator[]("MessageId") = it->second.message_id;
            results[i]->operator[]("SequenceNumber") = SequenceNumber(it->second.seq);
            built[i].reset();
            duplicates = true;
            continue;
          }
          DedupEntry e{now + kDedupWindowMs, m.id, m.seq};
          q->dedup[key] = e;
          puts.emplace_back(records::DedupKey(q->id, key),
                            Json{{"e", e.expires_ms}, {"m", e.message_id}, {"s", e.seq}}.dump());
          results[i]->operator[]("SequenceNumber") = SequenceNumber(m.seq);
        }
        puts.emplace_back(records::MessageKey(q->id, m.seq), std::move(values[i]));
      }
      if (puts.empty() && !duplicates) {
        answer_now = true;  // every entry failed validation
      } else {
        // A duplicate's original may still be committing: an empty write queued after it
        // answers the duplicate only once the original is durable.
        tls_enqueuing = q.get();
        store_.WriteAsync(
            [puts = std::move(puts)](store::WriteTxn& txn) -> Status {
              for (const auto& [k, v] : puts) STRATUS_RETURN_IF_ERROR(txn.Put(k, v));
              return Status::Ok();
            },
            [this, q, job](Status st) { SendCommitted(q, job, std::move(st)); });
        tls_enqueuing = nullptr;
      }
    }
  }
  if (answer_now || job->completed_inline) job->done(std::move(job->results));
}

void Engine::SendCommitted(const std::shared_ptr<Queue>& q, const std::shared_ptr<SendJob>& job,
                           Status st) {
  if (!st.ok()) {
    for (size_t i = 0; i < job->built.size(); ++i) {
      if (job->built[i]) job->results[i] = st.error();
    }
    if (tls_enqueuing == q.get()) {
      // Completed inside WriteAsync (the store is closing): this thread holds q->mu.
      job->completed_inline = true;
      return;
    }
    {
      std::lock_guard ql(q->mu);
      for (size_t i = 0; i < job->built.size(); ++i) {
        if (!job->built[i] || job->dedup_keys[i].empty()) continue;
        auto it = q->dedup.find(job->dedup_keys[i]);
        if (it != q->dedup.end() && it->second.message_id == job->built[i]->id) q->dedup.erase(it);
      }
    }
    job->done(std::move(job->results));
    return;
  }
  int64_t now = clock_.NowMillis();
  std::vector<std::shared_ptr<Waiter>> waiters;
  {
    std::lock_guard ql(q->mu);
    if (!q->deleted) {
      bool visible = false;
      for (auto& m : job->built) {
        if (!m || m->seq < q->purged_below_seq) continue;
        visible = visible || m->visible_at_ms <= now;
        q->Index(*m, now);
        uint64_t seq = m->seq;
        q->messages.emplace(seq, std::move(m));
      }
      if (visible) waiters = q->TakeWaiters();
    }
  }
  for (auto& w : waiters) w->wake();
  job->done(std::move(job->results));
}

void Engine::SendMessageAsync(const Scope& s, const Json& in, Done done) {
  auto q = Find(s, in);
  if (!q.ok()) {
    done(q.error());
    return;
  }
  Send(s, *q, {SendEntry{"", &in}}, [done = std::move(done)](std::vector<Result<Json>> r) {
    done(std::move(r[0]));
  });
}

void Engine::SendMessageBatchAsync(const Scope& s, const Json& in, Done done) {
  auto found = Find(s, in);
  if (!found.ok()) {
    done(found.error());
    return;
  }
  static const Json kNoEntries = Json::array();
  const Json& entries = in.contains("Entries") ? in["Entries"] : kNoEntries;
  if (Status st = CheckBatch(entries, "SendMessageBatchRequestEntry"); !st.ok()) {
    done(st.error());
    return;
  }
  int64_t total = 0;
  for (const auto& e : entries) {
    total += static_cast<int64_t>(e.value("MessageBody", "").size());
    if (auto b = CheckAttributes(e.value("MessageAttributes", Json::object())); b.ok()) total += *b;
  }
  if (total > kMaxMessageBytes) {
    done(Error("BatchRequestTooLong", "Batch requests cannot be longer than 262144 bytes. You "
                                      "have sent " + std::to_string(total) + " bytes."));
    return;
  }
  std::vector<SendEntry> list;
  list.reserve(entries.size());
  std::vector<std::string> ids;
  ids.reserve(entries.size());
  for (const auto& e : entries) {
    list.push_back(SendEntry{e.value("Id", ""), &e});
    ids.push_back(list.back().id);
  }
  Send(s, *found, list, [ids = std::move(ids), done = std::move(done)](
                            std::vector<Result<Json>> results) {
    Json ok = Json::array();
    Json failed = Json::array();
    for (size_t i = 0; i < results.size(); ++i) {
      if (results[i].ok()) {
        ok.push_back(std::move(results[i]).value());
      } else {
        const Error& e = results[i].error();
        failed.push_back(Json{{"Id", ids[i]}, {"SenderFault", e.sender_fault},
                              {"Code", e.code}, {"Message", e.message}});
      }
    }
    done(Json{{"Successful", std::move(ok)}, {"Failed", std::move(failed)}});
  });
}

namespace {

// Runs an asynchronous engine operation and waits for its answer.
template <typename Start>
Result<Json> Wait(Start start) {
  std::promise<Result<Json>> answered;
  std::future<Result<Json>> answer = answered.get_future();
  start([&answered](Result<Json> r) { answered.set_value(std::move(r)); });
  return answer.get();
}

}  // namespace

Result<Json> Engine::SendMessage(const Scope& s, const Json& in) {
  return Wait([&](Done done) { SendMessageAsync(s, in, std::move(done)); });
}

Result<Json> Engine::SendMessageBatch(const Scope& s, const Json& in) {
  return Wait([&](Done done) { SendMessageBatchAsync(s, in, std::move(done)); });
}

Result<int64_t> Engine::WaitSeconds(const Scope& s, const Json& in) {
  if (in.contains("WaitTimeSeconds")) {
    int64_t w = in["WaitTimeSeconds"].get<int64_t>();
    if (w < 0 || w > kMaxWaitSeconds) {
      return InvalidParameterValue("Value " + std::to_string(w) +
                                   " for parameter WaitTimeSeconds is invalid. Reason: Must be >= "
                                   "0 and <= 20, if provided.");
    }
    return w;
  }
  STRATUS_ASSIGN_OR_RETURN(QueuePtr q, Find(s, in));
  std::lock_guard ql(q->mu);
  return q->config.receive_wait_s;
}

Result<ReceiveOutcome> Engine::ReceiveMessage(const Scope& s, const Json& in,
                                              const std::shared_ptr<Waiter>& waiter) {
  std::promise<Result<ReceiveOutcome>> answered;
  std::future<Result<ReceiveOutcome>> answer = answered.get_future();
  ReceiveMessageAsync(s, in, waiter,
                      [&answered](Result<ReceiveOutcome> r) { answered.set_value(std::move(r)); });
  return answer.get();
}

void Engine::ReceiveMessageAsync(const Scope& s, const Json& in,
                                 const std::shared_ptr<Waiter>& waiter, ReceiveDone done) {
  auto r = TakeMessages(s, in, waiter);
  if (!r.ok()) return done(r.error());
  auto taken = std::make_shared<Taken>(std::move(r).value());
  if (taken->to_dlq.empty()) return CommitReceive(std::move(taken), std::move(done));
  // Messages past maxReceiveCount are in the dead-letter queue before the receive answers.
  QueuePtr source = taken->source;
  QueuePtr dlq = taken->dlq;
  MoveMessagesAsync(source, dlq, std::move(taken->to_dlq), /*from_redrive=*/true,
                    [this, taken, done = std::move(done)](Status st) mutable {
                      if (!st.ok()) {
                        spdlog::warn("sqs: redrive from {} failed: {}", taken->source->arn,
                                     st.error().message);
                      }
                      CommitReceive(std::move(taken), std::move(done));
                    });
}

void Engine::CommitReceive(std::shared_ptr<Taken> taken, ReceiveDone done) {
  if (taken->state_puts.empty()) return done(std::move(taken->outcome));
  // The receive counts and visibility of the returned messages are durable before the answer.
  store_.WriteAsync(
      [taken](store::WriteTxn& txn) -> Status {
        for (const auto& [k, v] : taken->state_puts) STRATUS_RETURN_IF_ERROR(txn.Put(k, v));
        return Status::Ok();
      },
      [taken, done = std::move(done)](Status st) {
        if (!st.ok()) return done(std::move(st).error());
        done(std::move(taken->outcome));
      });
}

Result<Engine::Taken> Engine::TakeMessages(const Scope& s, const Json& in,
                                           const std::shared_ptr<Waiter>& waiter) {
  STRATUS_ASSIGN_OR_RETURN(QueuePtr q, Find(s, in));
  int64_t max = in.value("MaxNumberOfMessages", int64_t{1});
  if (max < 1 || max > kMaxBatchEntries) {
    return InvalidParameterValue("Value " + std::to_string(max) +
                                 " for parameter MaxNumberOfMessages is invalid. Reason: Must be "
                                 "between 1 and 10, if provided.");
  }
  int64_t now = clock_.NowMillis();
  std::set<std::string> sys = WantedSystemAttributes(in);
  bool all = sys.count("All") > 0;
  auto want = [&](const char* n) { return all || sys.count(n) > 0; };
  const Json wanted_attrs = in.value("MessageAttributeNames", Json::array());

  QueuePtr dlq;
  {
    std::string dlq_arn;
    {
      std::lock_guard ql(q->mu);
      if (q->config.max_receive_count > 0) dlq_arn = q->config.dlq_arn;
    }
    if (!dlq_arn.empty()) dlq = FindByArn(dlq_arn);
  }
  ReceiveOutcome outcome;
  Json messages = Json::array();
  std::vector<std::pair<std::string, std::string>> state_puts;
  std::vector<std::unique_ptr<Message>> to_dlq;
  {
    std::lock_guard ql(q->mu);
    if (q->deleted) return QueueDoesNotExist();
    int64_t vt = q->config.visibility_timeout_s;
    if (in.contains("VisibilityTimeout")) {
      vt = in["VisibilityTimeout"].get<int64_t>();
      if (vt < 0 || vt > kMaxVisibilitySeconds) {
        return InvalidParameterValue("Value " + std::to_string(vt) +
                                     " for parameter VisibilityTimeout is invalid. Reason: Must be "
                                     ">= 0 and <= 43200, if provided.");
      }
    }
    q->Promote(now);
    std::set<std::string> blocked;  // FIFO groups passed over in this receive
    std::vector<uint64_t> picked;
    for (uint64_t seq : q->available) {
      if (static_cast<int64_t>(picked.size()) >= max) break;
      if (q->config.fifo) {
        Message& m = *q->messages.at(seq);
        if (blocked.count(m.group)) continue;
        if (q->group_in_flight.count(m.group)) {
          blocked.insert(m.group);
          continue;
        }
      }
      picked.push_back(seq);
    }
    for (uint64_t seq : picked) {
      auto it = q->messages.find(seq);
      Message& m = *it->second;
      q->available.erase(seq);
      if (dlq && m.receive_count >= q->config.max_receive_count) {
        to_dlq.push_back(std::move(it->second));
        q->messages.erase(it);
        continue;
      }
      m.receive_count++;
      if (m.first_receive_ms == 0) m.first_receive_ms = now;
      m.nonce = NewNonce();
      m.in_flight = true;
      m.visible_at_ms = now + vt * 1000;
      q->Index(m, now);
      state_puts.emplace_back(records::StateKey(q->id, m.seq), records::EncodeState(m));
      Json out = Json::object();
      out["MessageId"] = m.id;
      out["ReceiptHandle"] = EncodeReceipt(Receipt{q->id, m.seq, m.nonce});
      out["MD5OfBody"] = m.md5_body;
      out["Body"] = m.body;
      Json a = Json::object();
      if (want("SenderId")) a["SenderId"] = m.sender_id;
      if (want("SentTimestamp")) a["SentTimestamp"] = std::to_string(m.sent_ms);
      if (want("ApproximateReceiveCount")) a["ApproximateReceiveCount"] = std::to_string(m.receive_count);
      if (want("ApproximateFirstReceiveTimestamp")) {
        a["ApproximateFirstReceiveTimestamp"] = std::to_string(m.first_receive_ms);
      }
      if (q->config.fifo) {
        if (want("SequenceNumber")) a["SequenceNumber"] = SequenceNumber(m.seq);
        if (want("MessageDeduplicationId")) a["MessageDeduplicationId"] = m.dedup_id;
        if (want("MessageGroupId")) a["MessageGroupId"] = m.group;
      } else if (!m.group.empty() && want("MessageGroupId")) {
        a["MessageGroupId"] = m.group;
      }
      if (!m.trace_header.empty() && want("AWSTraceHeader")) a["AWSTraceHeader"] = m.trace_header;
      if (!m.dlq_source_arn.empty() && want("DeadLetterQueueSourceArn")) {
        a["DeadLetterQueueSourceArn"] = m.dlq_source_arn;
      }
      if (!a.empty()) out["Attributes"] = std::move(a);
      Json ma = FilterMessageAttributes(m.attributes, wanted_attrs);
      if (!ma.empty()) {
        out["MD5OfMessageAttributes"] =
            ma.size() == m.attributes.size() ? m.md5_attributes : Md5OfAttributes(ma);
        out["MessageAttributes"] = std::move(ma);
      }
      messages.push_back(std::move(out));
    }
    if (messages.empty() && to_dlq.empty()) {
      if (!q->pending.empty()) outcome.next_visible_ms = q->pending.begin()->first;
      if (waiter) {
        auto& w = q->waiters;
        w.erase(std::remove_if(w.begin(), w.end(), [](const auto& x) { return x->done.load(); }),
                w.end());
        if (std::find(w.begin(), w.end(), waiter) == w.end()) w.push_back(waiter);
      }
    }
  }
  bool redriven = !to_dlq.empty();
  Taken taken;
  taken.source = q;
  taken.dlq = dlq;
  taken.to_dlq = std::move(to_dlq);
  taken.state_puts = std::move(state_puts);
  if (messages.empty()) {
    // Empty: the caller waits when a waiter was registered, else answers with no messages.
    if (redriven || !waiter) outcome.output = Json::object();
  } else {
    outcome.output = Json{{"Messages", std::move(messages)}};
  }
  taken.outcome = std::move(outcome);
  return taken;
}

Status Engine::MoveMessages(const QueuePtr& src, const QueuePtr& dst,
                            std::vector<std::unique_ptr<Message>> msgs, bool from_redrive) {
  std::promise<Status> moved;
  std::future<Status> result = moved.get_future();
  MoveMessagesAsync(src, dst, std::move(msgs), from_redrive,
                    [&moved](Status st) { moved.set_value(std::move(st)); });
  return result.get();
}

void Engine::MoveMessagesAsync(const QueuePtr& src, const QueuePtr& dst,
                               std::vector<std::unique_ptr<Message>> msgs, bool from_redrive,
                               std::function<void(Status)> done) {
  int64_t now = clock_.NowMillis();
  std::vector<std::string> deletes;
  std::vector<std::pair<std::string, std::string>> puts;
  auto moving = std::make_shared<std::vector<std::unique_ptr<Message>>>(std::move(msgs));
  std::lock_guard dl(dst->mu);
  for (auto& m : *moving) {
    deletes.push_back(records::MessageKey(src->id, m->seq));
    deletes.push_back(records::StateKey(src->id, m->seq));
    if (from_redrive) m->dlq_source_arn = src->arn;
    m->seq = dst->next_seq++;
    m->receive_count = from_redrive ? m->receive_count : 0;
    m->first_receive_ms = from_redrive ? m->first_receive_ms : 0;
    m->in_flight = false;
    m->nonce = 0;
    m->visible_at_ms = now;
    puts.emplace_back(records::MessageKey(dst->id, m->seq), records::EncodeMessage(*m));
  }
  // Queued under dst->mu, as sends are, so the destination's commits follow its sequence. The
  // callback takes dst->mu only on success: a write that fails at once (the store is closing)
  // completes on this thread, which holds it.
  store_.WriteAsync(
      [deletes = std::move(deletes), puts = std::move(puts)](store::WriteTxn& txn) -> Status {
        for (const auto& k : deletes) STRATUS_RETURN_IF_ERROR(txn.Delete(k));
        for (const auto& [k, v] : puts) STRATUS_RETURN_IF_ERROR(txn.Put(k, v));
        return Status::Ok();
      },
      [this, dst, moving, done = std::move(done)](Status st) {
        if (!st.ok()) return done(std::move(st));
        int64_t at = clock_.NowMillis();
        std::vector<std::shared_ptr<Waiter>> waiters;
        {
          std::lock_guard l(dst->mu);
          if (!dst->deleted) {
            for (auto& m : *moving) {
              dst->Index(*m, at);
              uint64_t seq = m->seq;
              dst->messages.emplace(seq, std::move(m));
            }
            waiters = dst->TakeWaiters();
          }
        }
        for (auto& w : waiters) w->wake();
        done(Status::Ok());
      });
}

Result<Json> Engine::DeleteOne(Queue& q, const std::string& handle, bool* deleted) {
  auto r = DecodeReceipt(handle);
  if (!r || r->queue_id != q.id) return ReceiptHandleIsInvalid(handle);
  *deleted = false;
  std::lock_guard ql(q.mu);
  auto it = q.messages.find(r->seq);
  if (it == q.messages.end() || it->second->nonce != r->nonce) return Json::object();
  q.Unindex(*it->second);
  q.messages.erase(it);
  *deleted = true;
  return Json::object();
}

void Engine::DeleteMessageAsync(const Scope& s, const Json& in, Done done) {
  auto q = Find(s, in);
  if (!q.ok()) {
    done(q.error());
    return;
  }
  std::string handle = in.value("ReceiptHandle", "");
  bool deleted = false;
  auto r = DeleteOne(**q, handle, &deleted);
  if (!r.ok() || !deleted) {
    done(std::move(r));
    return;
  }
  DeleteCommitted(*q, {DecodeReceipt(handle)->seq},
                  [done = std::move(done)](Status st) {
                    if (st.ok()) {
                      done(Json::object());
                    } else {
                      done(std::move(st).error());
                    }
                  });
}

void Engine::DeleteMessageBatchAsync(const Scope& s, const Json& in, Done done) {
  auto found = Find(s, in);
  if (!found.ok()) {
    done(found.error());
    return;
  }
  QueuePtr q = *found;
  static const Json kNoEntries = Json::array();
  const Json& entries = in.contains("Entries") ? in["Entries"] : kNoEntries;
  if (Status st = CheckBatch(entries, "DeleteMessageBatchRequestEntry"); !st.ok()) {
    done(st.error());
    return;
  }
  Json ok = Json::array();
  Json failed = Json::array();
  std::vector<uint64_t> seqs;
  for (const auto& e : entries) {
    std::string id = e.value("Id", "");
    std::string handle = e.value("ReceiptHandle", "");
    bool deleted = false;
    auto r = DeleteOne(*q, handle, &deleted);
    if (!r.ok()) {
      failed.push_back(Json{{"Id", id}, {"SenderFault", true}, {"Code", r.error().code},
                            {"Message", r.error().message}});
      continue;
    }
    if (deleted) seqs.push_back(DecodeReceipt(handle)->seq);
    ok.push_back(Json{{"Id", id}});
  }
  Json out{{"Successful", std::move(ok)}, {"Failed", std::move(failed)}};
  if (seqs.empty()) {
    done(std::move(out));
    return;
  }
  DeleteCommitted(q, std::move(seqs),
                  [out = std::move(out), done = std::move(done)](Status st) mutable {
                    if (st.ok()) {
                      done(std::move(out));
                    } else {
                      done(std::move(st).error());
                    }
                  });
}

void Engine::DeleteCommitted(const QueuePtr& q, std::vector<uint64_t> seqs,
                             std::function<void(Status)> done) {
  uint64_t id = q->id;
  bool fifo = q->config.fifo;  // fixed at creation
  // Not under q->mu: the callback may take it even when it runs inside WriteAsync.
  store_.WriteAsync(
      [id, seqs = std::move(seqs)](store::WriteTxn& txn) -> Status {
        for (uint64_t seq : seqs) {
          STRATUS_RETURN_IF_ERROR(txn.Delete(records::MessageKey(id, seq)));
          STRATUS_RETURN_IF_ERROR(txn.Delete(records::StateKey(id, seq)));
        }
        return Status::Ok();
      },
      [this, q, fifo, done = std::move(done)](Status st) {
        // FIFO: a deleted message may unblock its group for waiting receives.
        if (st.ok() && fifo) WakeWaiters(*q);
        done(std::move(st));
      });
}

Status Engine::DeleteMessage(const Scope& s, const Json& in) {
  auto r = Wait([&](Done done) { DeleteMessageAsync(s, in, std::move(done)); });
  if (!r.ok()) return r.error();
  return Status::Ok();
}

Result<Json> Engine::DeleteMessageBatch(const Scope& s, const Json& in) {
  return Wait([&](Done done) { DeleteMessageBatchAsync(s, in, std::move(done)); });
}

Status Engine::ChangeVisibilityOne(Queue& q, const std::string& handle, int64_t timeout_s) {
  auto r = DecodeReceipt(handle);
  if (!r || r->queue_id != q.id) return ReceiptHandleIsInvalid(handle);
  if (timeout_s < 0 || timeout_s > kMaxVisibilitySeconds) {
    return InvalidParameterValue("Value " + std::to_string(timeout_s) +
                                 " for parameter VisibilityTimeout is invalid. Reason: Must be >= "
                                 "0 and <= 43200, if provided.");
  }
  int64_t now = clock_.NowMillis();
  std::string key;
  std::string value;
  bool wake = false;
  {
    std::lock_guard ql(q.mu);
    auto it = q.messages.find(r->seq);
    if (it == q.messages.end() || it->second->nonce != r->nonce) {
      return InvalidParameterValue("Value " + handle +
                                   " for parameter ReceiptHandle is invalid. Reason: Message does "
                                   "not exist or is not available for visibility timeout change.");
    }
    q.Promote(now);
    Message& m = *it->second;
    if (!m.in_flight) {
      return Error("MessageNotInflight", "Message does not exist or is not available for "
                                         "visibility timeout change.");
    }
    q.pending.erase({m.visible_at_ms, m.seq});
    m.visible_at_ms = now + timeout_s * 1000;
    q.pending.emplace(m.visible_at_ms, m.seq);
    wake = timeout_s == 0;
    key = records::StateKey(q.id, m.seq);
    value = records::EncodeState(m);
  }
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) { return txn.Put(key, value); }));
  if (wake) WakeWaiters(q);
  return Status::Ok();
}

Status Engine::ChangeMessageVisibility(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(QueuePtr q, Find(s, in));
  return ChangeVisibilityOne(*q, in.value("ReceiptHandle", ""),
                             in.value("VisibilityTimeout", int64_t{0}));
}

Result<Json> Engine::ChangeMessageVisibilityBatch(const Scope& s, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(QueuePtr q, Find(s, in));
  const Json& entries = in.contains("Entries") ? in["Entries"] : Json::array();
  STRATUS_RETURN_IF_ERROR(CheckBatch(entries, "ChangeMessageVisibilityBatchRequestEntry"));
  Json ok = Json::array();
  Json failed = Json::array();
  for (const auto& e : entries) {
    std::string id = e.value("Id", "");
    Status st = ChangeVisibilityOne(*q, e.value("ReceiptHandle", ""),
                                    e.value("VisibilityTimeout", int64_t{0}));
    if (st.ok()) {
      ok.push_back(Json{{"Id", id}});
    } else {
      failed.push_back(Json{{"Id", id}, {"SenderFault", true}, {"Code", st.error().code},
                            {"Message", st.error().message}});
    }
  }
  return Json{{"Successful", std::move(ok)}, {"Failed", std::move(failed)}};
}

}  // namespace stratus::services::sqs

// The SQS engine's message operations after the send: receive, delete, visibility, redrive.
#include <algorithm>
#include <future>
#include <mutex>
#include <random>
#include <set>

#include <spdlog/spdlog.h>

#include "core/random.h"
#include "core/strings.h"
#include "services/sqs/engine.h"
#include "services/sqs/errors.h"
#include "services/sqs/md5.h"
#include "services/sqs/message_checks.h"
#include "services/sqs/records.h"

namespace stratus::services::sqs {

namespace {

uint64_t NewNonce() {
  std::mt19937_64& rng = ThreadRng();
  uint64_t n = 0;
  while (n == 0) n = rng();
  return n;
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

}  // namespace

void Engine::LeaseMessage(Message& m, int64_t now_ms, int64_t visibility_s) {
  m.receive_count++;
  if (m.first_receive_ms == 0) m.first_receive_ms = now_ms;
  m.nonce = NewNonce();
  m.received_ms = now_ms;
  m.in_flight = true;
  m.visible_at_ms = now_ms + visibility_s * 1000;
}

Json Engine::ReceivedEntry(const Queue& q, const Message& m, const ReceiveSpec& spec) {
  bool all = spec.system.count("All") > 0;
  auto want = [&](const char* n) { return all || spec.system.count(n) > 0; };
  Json out = Json::object();
  out["MessageId"] = m.id;
  out["ReceiptHandle"] = EncodeReceipt(Receipt{q.id, m.seq, m.nonce});
  out["MD5OfBody"] = m.md5_body;
  out["Body"] = m.body;
  Json a = Json::object();
  if (want("SenderId")) a["SenderId"] = m.sender_id;
  if (want("SentTimestamp")) a["SentTimestamp"] = std::to_string(m.sent_ms);
  if (want("ApproximateReceiveCount")) a["ApproximateReceiveCount"] = std::to_string(m.receive_count);
  if (want("ApproximateFirstReceiveTimestamp")) {
    a["ApproximateFirstReceiveTimestamp"] = std::to_string(m.first_receive_ms);
  }
  if (q.config.fifo) {
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
  Json ma = FilterMessageAttributes(m.attributes, spec.message_attributes);
  if (!ma.empty()) {
    out["MD5OfMessageAttributes"] =
        ma.size() == m.attributes.size() ? m.md5_attributes : Md5OfAttributes(ma);
    out["MessageAttributes"] = std::move(ma);
  }
  return out;
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
  ReceiveSpec spec;
  spec.max = max;
  spec.system = WantedSystemAttributes(in);
  spec.message_attributes = in.value("MessageAttributeNames", Json::array());

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
  bool registered = false;
  {
    std::lock_guard ql(q->mu);
    if (q->deleted) return QueueDoesNotExist();
    if (waiter && waiter->answering) {
      // Another attempt or a send's hand-off answers this long poll: take nothing.
      Taken none;
      none.source = q;
      return none;
    }
    int64_t vt = q->config.visibility_timeout_s;
    if (in.contains("VisibilityTimeout")) {
      vt = in["VisibilityTimeout"].get<int64_t>();
      if (vt < 0 || vt > kMaxVisibilitySeconds) {
        return InvalidParameterValue("Value " + std::to_string(vt) +
                                     " for parameter VisibilityTimeout is invalid. Reason: Must be "
                                     ">= 0 and <= 43200, if provided.");
      }
    }
    spec.visibility_s = vt;
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
      LeaseMessage(m, now, vt);
      q->Index(m, now);
      state_puts.emplace_back(records::StateKey(q->id, m.seq), records::EncodeState(m));
      messages.push_back(ReceivedEntry(*q, m, spec));
    }
    if (messages.empty() && to_dlq.empty()) {
      if (!q->pending.empty()) outcome.next_visible_ms = q->pending.begin()->first;
      if (waiter) {
        auto& w = q->waiters;
        w.erase(std::remove_if(w.begin(), w.end(),
                               [](const auto& x) { return x->done.load() || x->answering; }),
                w.end());
        if (waiter->expired.load()) {
          waiter->answering = true;  // this attempt answers, with no messages
        } else {
          registered = true;
          waiter->spec = std::move(spec);
          if (std::find(w.begin(), w.end(), waiter) == w.end()) w.push_back(waiter);
        }
      }
    }
    if (waiter && !registered) {
      // This attempt answers the long poll: no send may hand it messages any more.
      waiter->answering = true;
      auto& w = q->waiters;
      w.erase(std::remove(w.begin(), w.end(), waiter), w.end());
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
    if (redriven || !registered) outcome.output = Json::object();
  } else {
    outcome.output = Json::object();  // moved in: an initializer list would copy the bodies
    (*outcome.output)["Messages"] = std::move(messages);
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
    m->received_ms = 0;
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
  Json out = Json::object();  // moved in: an initializer list would copy them
  out["Successful"] = std::move(ok);
  out["Failed"] = std::move(failed);
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
      [id, seqs = std::move(seqs)](store::WriteTxn& txn) mutable -> Status {
        // A run of consecutive sequence numbers (a batch received together, usually) goes with
        // one range delete per key kind instead of one delete per key: the range holds exactly
        // those messages' keys (fixed-width hex, so key order is number order).
        std::sort(seqs.begin(), seqs.end());
        for (size_t i = 0; i < seqs.size();) {
          size_t j = i + 1;
          while (j < seqs.size() && seqs[j] == seqs[j - 1] + 1) ++j;
          uint64_t first = seqs[i];
          uint64_t last = seqs[j - 1];
          if (j - i == 1 || last == UINT64_MAX) {
            for (size_t k = i; k < j; ++k) {
              STRATUS_RETURN_IF_ERROR(txn.Delete(records::MessageKey(id, seqs[k])));
              STRATUS_RETURN_IF_ERROR(txn.Delete(records::StateKey(id, seqs[k])));
            }
          } else {
            auto m = txn.DeleteRange(records::MessageKey(id, first), records::MessageKey(id, last + 1));
            if (!m.ok()) return m.error();
            auto st = txn.DeleteRange(records::StateKey(id, first), records::StateKey(id, last + 1));
            if (!st.ok()) return st.error();
          }
          i = j;
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
    // AWS caps a message's visibility at 12 hours from the receive that made it in flight.
    if (m.received_ms > 0 && now + timeout_s * 1000 - m.received_ms > kMaxVisibilitySeconds * 1000) {
      return InvalidParameterValue("Value " + std::to_string(timeout_s) +
                                   " for parameter VisibilityTimeout is invalid. Reason: Total "
                                   "VisibilityTimeout for the message is beyond the limit [43200 "
                                   "seconds]");
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

// The SQS engine's send path: SendMessage and SendMessageBatch.
#include <memory>
#include <mutex>

#include "core/crypto.h"
#include "core/random.h"
#include "core/strings.h"
#include "services/sqs/engine.h"
#include "services/sqs/errors.h"
#include "services/sqs/md5.h"
#include "services/sqs/message_checks.h"
#include "services/sqs/records.h"

namespace stratus::services::sqs {

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
  bool outputs = true;            // build the output entries (else results stay null)
  bool completed_inline = false;  // the write failed at once; the enqueuer calls done
  std::optional<Error> failure;   // the write's error, when it failed
  // Long polls this send's commit answers (their messages leased in the same commit).
  struct Handoff {
    std::shared_ptr<Waiter> waiter;
    std::shared_ptr<void> owner;  // keeps the poll alive until it is answered
    Json output;                  // the ReceiveMessage output
  };
  std::vector<Handoff> handoffs;
  // Answers every hand-off: with `error`, or else with its own output.
  void AnswerHandoffs(const std::optional<Error>& error) {
    for (auto& h : handoffs) {
      if (error) {
        h.waiter->deliver(*error);
      } else {
        h.waiter->deliver(std::move(h.output));
      }
    }
    handoffs.clear();
  }
};

// Leases the messages of a send to idle long polls of a standard queue, in registration order,
// and adds their receive state to the send's puts. Call with q.mu held, after sequence numbers
// are assigned, only when nothing else is visible (older messages go first).
void Engine::HandOff(Queue& q, SendJob& job, int64_t now,
                     std::vector<std::pair<std::string, std::string>>& puts) {
  size_t next = 0;
  auto& ws = q.waiters;
  auto it = ws.begin();
  while (it != ws.end() && next < job.built.size()) {
    Waiter& w = **it;
    if (w.answering || w.done.load() || !w.deliver) {
      if (w.answering || w.done.load()) {
        it = ws.erase(it);
      } else {
        ++it;  // not hand-off capable: woken as before
      }
      continue;
    }
    std::shared_ptr<void> owner = w.owner.lock();
    if (!owner) {
      it = ws.erase(it);
      continue;
    }
    const size_t first = next;
    std::vector<Message*> take;
    while (next < job.built.size() && static_cast<int64_t>(take.size()) < w.spec.max) {
      Message* m = job.built[next++].get();
      if (m && m->visible_at_ms <= now) take.push_back(m);
    }
    if (take.empty()) break;
    if (w.done.exchange(true)) {  // answered meanwhile (shutting down): not this one
      it = ws.erase(it);
      next = first;
      continue;
    }
    w.answering = true;
    Json list = Json::array();
    for (Message* m : take) {
      LeaseMessage(*m, now, w.spec.visibility_s);
      puts.emplace_back(records::StateKey(q.id, m->seq), records::EncodeState(*m));
      list.push_back(ReceivedEntry(q, *m, w.spec));
    }
    Json out = Json::object();
    out["Messages"] = std::move(list);
    job.handoffs.push_back(SendJob::Handoff{*it, std::move(owner), std::move(out)});
    it = ws.erase(it);
  }
}


Engine::SendInput Engine::InputOf(std::string id, const Json& in) {
  SendInput m;
  m.id = std::move(id);
  auto body_it = in.find("MessageBody");
  if (body_it != in.end() && body_it->is_string()) m.body = *body_it->get_ptr<const std::string*>();
  if (auto a = in.find("MessageAttributes"); a != in.end()) m.attributes = *a;
  if (auto d = in.find("DelaySeconds"); d != in.end()) m.delay_s = d->get<int64_t>();
  m.group = in.value("MessageGroupId", "");
  m.dedup = in.value("MessageDeduplicationId", "");
  if (auto sys = in.find("MessageSystemAttributes"); sys != in.end() && sys->is_object()) {
    if (auto t = sys->find("AWSTraceHeader"); t != sys->end()) m.trace = &*t;
  }
  return m;
}

void Engine::Send(const Scope& s, const std::shared_ptr<Queue>& q, std::vector<SendInput> entries,
                  bool outputs, SendDone done) {
  auto job = std::make_shared<SendJob>();
  job->outputs = outputs;
  job->results.assign(entries.size(), Result<Json>(outputs ? Json::object() : Json()));
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
    SendInput& in = entries[i];
    auto fail = [&](Error e) { results[i] = std::move(e); };
    std::string& body = in.body;
    if (body.empty()) {
      fail(MissingParameter("The request must contain the parameter MessageBody."));
      continue;
    }
    if (!HasOnlyValidCharacters(body)) {
      fail(InvalidMessageContents());
      continue;
    }
    Json& attrs = in.attributes;
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
    if (in.delay_s) {
      int64_t d = *in.delay_s;
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
    m->group = std::move(in.group);
    m->dedup_id = std::move(in.dedup);
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
    const Json* trace = in.trace;
    m->trace_header = trace ? trace->value("StringValue", "") : s.trace_header;
    m->id = NewUuid();
    m->body = std::move(body);
    m->attributes = std::move(attrs);
    m->md5_body = Md5OfBody(m->body);
    m->md5_attributes = Md5OfAttributes(m->attributes);
    m->sender_id = s.sender_id;
    m->sent_ms = now;
    m->visible_at_ms = now + delay * 1000;
    if (outputs) {
      Json out = Json::object();
      if (!entries[i].id.empty()) out["Id"] = entries[i].id;
      out["MessageId"] = m->id;
      out["MD5OfMessageBody"] = m->md5_body;
      if (!m->md5_attributes.empty()) out["MD5OfMessageAttributes"] = m->md5_attributes;
      if (trace) {
        out["MD5OfMessageSystemAttributes"] = Md5OfAttributes(Json{{"AWSTraceHeader", *trace}});
      }
      results[i] = std::move(out);
    }
    values[i] = records::EncodeMessage(*m);
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
            if (outputs) {
              results[i]->operator[]("MessageId") = it->second.message_id;
              results[i]->operator[]("SequenceNumber") = SequenceNumber(it->second.seq);
            }
            built[i].reset();
            duplicates = true;
            continue;
          }
          DedupEntry e{now + kDedupWindowMs, m.id, m.seq};
          q->dedup[key] = e;
          puts.emplace_back(records::DedupKey(q->id, key),
                            Json{{"e", e.expires_ms}, {"m", e.message_id}, {"s", e.seq}}.dump());
          if (outputs) results[i]->operator[]("SequenceNumber") = SequenceNumber(m.seq);
        }
        puts.emplace_back(records::MessageKey(q->id, m.seq), std::move(values[i]));
      }
      if (!config.fifo && !puts.empty() && !q->waiters.empty()) {
        q->Promote(now);
        if (q->available.empty()) HandOff(*q, *job, now, puts);
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
  if (job->completed_inline) job->AnswerHandoffs(job->failure);
  if (answer_now || job->completed_inline) job->done(std::move(job->results));
}

void Engine::SendCommitted(const std::shared_ptr<Queue>& q, const std::shared_ptr<SendJob>& job,
                           Status st) {
  if (!st.ok()) {
    for (size_t i = 0; i < job->built.size(); ++i) {
      if (job->built[i]) job->results[i] = st.error();
    }
    job->failure = st.error();
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
    job->AnswerHandoffs(job->failure);
    job->done(std::move(job->results));
    return;
  }
  int64_t now = clock_.NowMillis();
  std::vector<std::shared_ptr<Waiter>> waiters;
  std::optional<Error> handoff_error;
  {
    std::lock_guard ql(q->mu);
    if (q->deleted) {
      handoff_error = QueueDoesNotExist();
    } else {
      bool visible = false;
      bool purged = false;
      for (auto& m : job->built) {
        if (!m) continue;
        if (m->seq < q->purged_below_seq) {
          purged = true;
          continue;
        }
        // Handed-off messages are indexed as in flight (leased to their long poll).
        visible = visible || (!m->in_flight && m->visible_at_ms <= now);
        q->Index(*m, now);
        uint64_t seq = m->seq;
        q->messages.emplace(seq, std::move(m));
      }
      if (purged) {
        // A PurgeQueue queued after this send removed its messages: the polls it would have
        // answered answer with none (as a receive after the purge would).
        for (auto& h : job->handoffs) h.output = Json::object();
      }
      if (visible) waiters = q->TakeWaiters();
    }
  }
  for (auto& w : waiters) w->wake();
  job->AnswerHandoffs(handoff_error);
  job->done(std::move(job->results));
}

void Engine::SendMessageAsync(const Scope& s, const Json& in, Done done) {
  auto q = Find(s, in);
  if (!q.ok()) {
    done(q.error());
    return;
  }
  std::vector<SendInput> one;
  one.push_back(InputOf("", in));
  Send(s, *q, std::move(one), /*outputs=*/true, [done = std::move(done)](std::vector<Result<Json>> r) {
    done(std::move(r[0]));
  });
}

void Engine::SendDirectAsync(const Scope& s, const std::string& queue_arn,
                             std::vector<SendInput> messages, SendDone done) {
  QueuePtr q = FindByArn(queue_arn);
  if (!q) {
    done(std::vector<Result<Json>>(messages.size(), Result<Json>(QueueDoesNotExist())));
    return;
  }
  if (messages.empty()) {
    done({});
    return;
  }
  Send(s, q, std::move(messages), /*outputs=*/false, std::move(done));
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
  std::vector<SendInput> list;
  list.reserve(entries.size());
  std::vector<std::string> ids;
  ids.reserve(entries.size());
  for (const auto& e : entries) {
    list.push_back(InputOf(e.value("Id", ""), e));
    ids.push_back(list.back().id);
  }
  Send(s, *found, std::move(list), /*outputs=*/true, [ids = std::move(ids), done = std::move(done)](
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
    // Members moved in one by one: an initializer list would copy every entry.
    Json out = Json::object();
    out["Successful"] = std::move(ok);
    out["Failed"] = std::move(failed);
    done(std::move(out));
  });
}


Result<Json> Engine::SendMessage(const Scope& s, const Json& in) {
  return Wait([&](Done done) { SendMessageAsync(s, in, std::move(done)); });
}

Result<Json> Engine::SendMessageBatch(const Scope& s, const Json& in) {
  return Wait([&](Done done) { SendMessageBatchAsync(s, in, std::move(done)); });
}

}  // namespace stratus::services::sqs

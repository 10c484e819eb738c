#include "services/sns/sns_service.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <future>
#include <set>
#include <tuple>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "core/strings.h"
#include "core/time_format.h"
#include "services/sns/delivery.h"
#include "services/sns/filter_policy.h"
#include "services/sns/signer.h"
#include "services/sns/topics.h"
#include "store/store.h"

namespace stratus::services::sns {

namespace {

constexpr size_t kMaxMessageBytes = 262144;
constexpr int64_t kDedupWindowMs = 5 * 60 * 1000;
constexpr std::string_view kDataPlanePrefix = "/_stratus/sns/";
// FIFO topic dedup records: sns/d/<topic arn>/<dedup id or content hash> -> {"expires", "id",
// "seq"} (a topic ARN holds no '/').
constexpr std::string_view kDedupPrefix = "sns/d/";

std::string DedupKey(const std::string& topic_arn, const std::string& dedup) {
  return std::string(kDedupPrefix) + topic_arn + "/" + dedup;
}

Error ParameterValueInvalid(std::string message) {
  return Error("InvalidParameterValueException", std::move(message));
}

// Validates Publish MessageAttributes; returns their size in bytes.
Result<size_t> CheckAttributes(const Json& attrs) {
  size_t bytes = 0;
  if (!attrs.is_object()) return bytes;
  if (attrs.size() > 10) {
    return InvalidParameter("The number of message attributes [" + std::to_string(attrs.size()) +
                            "] exceeds the allowed maximum [10].");
  }
  for (const auto& [name, a] : attrs.items()) {
    std::string type = a.value("DataType", "");
    bool binary = StartsWith(type, "Binary");
    if (!StartsWith(type, "String") && !StartsWith(type, "Number") && !binary) {
      return ParameterValueInvalid("The message attribute '" + name +
                                   "' has an invalid message attribute type, the set of supported "
                                   "type prefixes is Binary, Number, and String.");
    }
    std::string value = binary ? a.value("BinaryValue", "") : a.value("StringValue", "");
    if (value.empty()) {
      return ParameterValueInvalid("The message attribute '" + name +
                                   "' must contain non-empty message attribute value for message "
                                   "attribute type '" + type.substr(0, type.find('.')) + "'.");
    }
    if (StartsWith(type, "Number") && !ParseDouble(value)) {
      return ParameterValueInvalid("Could not cast message attribute '" + name + "' value to number.");
    }
    if (type == "String.Array" && !ParseJsonOrDiscarded(value).is_array()) {
      return ParameterValueInvalid("The message attribute '" + name +
                                   "' with type 'String.Array' must be a JSON array.");
    }
    bytes += name.size() + type.size() + value.size();
  }
  return bytes;
}

bool ValidBatchId(const std::string& id) {
  if (id.empty() || id.size() > 80) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

class SnsService final : public aws::Service {
 public:
  explicit SnsService(aws::ServiceContext& context)
      : aws::Service(Descriptor{.name = "sns",
                                .model = "sns-2010-03-31",
                                .protocol = aws::Protocol::kQuery,
                                .signing_name = "sns",
                                .validation_error = "InvalidParameter"}),
        context_(context),
        registry_(context.store, context.clock) {
    Register();
  }

  ~SnsService() override { Stop(); }

  Status Start() override {
    // The signing key loads (or is generated) on its first use: the first signed delivery or
    // certificate fetch. Loading it at start put ~1 MB of libcrypto code in every idle
    // server's memory, whether or not SNS was ever used.
    signer_ = std::make_shared<Signer>(context_.store);
    STRATUS_RETURN_IF_ERROR(registry_.Load());
    STRATUS_RETURN_IF_ERROR(LoadDedup());
    sequence_ = static_cast<uint64_t>(context_.clock.NowMillis()) << 12;
    dispatcher_ = std::make_unique<Dispatcher>(context_, registry_, *signer_);
    dispatcher_->Start();
    return Status::Ok();
  }

  void Stop() override {
    if (dispatcher_) dispatcher_->Stop();
  }

  bool MatchDataPlane(const HttpRequest& r) const override {
    return StartsWith(r.path, kDataPlanePrefix);
  }

  void HandleDataPlane(HttpRequest request, Responder responder) override {
    context_.workers.Submit([this, request = std::move(request), responder]() mutable {
      responder.Send(ServeDataPlane(request));
    });
  }

 private:
  using Call = aws::CallContext;

  HttpResponse ServeDataPlane(const HttpRequest& r) {
    HttpResponse resp;
    std::string name = r.path.substr(kDataPlanePrefix.size());
    if (signer_ && name == signer_->CertificateFile()) {
      resp.body = signer_->CertificatePem();
      resp.headers.Set("Content-Type", "application/x-x509-ca-cert");
      return resp;
    }
    if (name == "sent") {
      if (r.method == "DELETE") {
        Status st = context_.store.Write([&](store::WriteTxn& txn) -> Status {
          auto n = txn.DeleteRange(kSentPrefix, store::PrefixEnd(kSentPrefix));
          if (!n.ok()) return n.error();
          return Status::Ok();
        });
        resp.status = st.ok() ? 204 : 500;
        return resp;
      }
      auto rows = context_.store.Scan(store::PrefixScan(kSentPrefix));
      Json list = Json::array();
      if (rows.ok()) {
        std::vector<std::pair<uint64_t, Json>> sorted;
        for (const auto& row : *rows) {
          sorted.emplace_back(std::stoull(row.key.substr(kSentPrefix.size())),
                              ParseJsonOrDiscarded(row.value));
        }
        std::sort(sorted.begin(), sorted.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
        for (auto& [_, j] : sorted) list.push_back(std::move(j));
      }
      resp.body = Json{{"messages", std::move(list)}}.dump();
      resp.headers.Set("Content-Type", "application/json");
      return resp;
    }
    resp.status = 404;
    resp.body = Json{{"message", "no such sns endpoint: " + r.path}}.dump();
    resp.headers.Set("Content-Type", "application/json");
    return resp;
  }

  static Json Empty() { return Json::object(); }

  void Register() {
    On("CreateTopic", [this](Call& c, const Json& in) {
      return registry_.CreateTopic(c.caller.account_id, c.region, in);
    });
    On("DeleteTopic", [this](Call&, const Json& in) -> Result<Json> {
      std::string arn = in.value("TopicArn", "");
      STRATUS_RETURN_IF_ERROR(registry_.DeleteTopic(arn));
      if (EndsWith(arn, ".fifo")) ForgetTopicDedup(arn);  // a new topic of that name starts afresh
      return Empty();
    });
    On("GetTopicAttributes", [this](Call&, const Json& in) {
      return registry_.GetTopicAttributes(in.value("TopicArn", ""));
    }, aws::Mode::kInline);
    On("SetTopicAttributes", [this](Call&, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(registry_.SetTopicAttribute(
          in.value("TopicArn", ""), in.value("AttributeName", ""), in.value("AttributeValue", "")));
      return Empty();
    });
    On("ListTopics", [this](Call& c, const Json& in) {
      return registry_.ListTopics(c.caller.account_id, c.region, in.value("NextToken", ""));
    }, aws::Mode::kInline);
    On("TagResource", [this](Call&, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(registry_.TagResource(in.value("ResourceArn", ""), in.value("Tags", Json::array())));
      return Empty();
    });
    On("UntagResource", [this](Call&, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(registry_.UntagResource(in.value("ResourceArn", ""), in.value("TagKeys", Json::array())));
      return Empty();
    });
    On("ListTagsForResource", [this](Call&, const Json& in) {
      return registry_.ListTags(in.value("ResourceArn", ""));
    }, aws::Mode::kInline);
    On("AddPermission", [this](Call&, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(registry_.AddPermission(in.value("TopicArn", ""), in));
      return Empty();
    });
    On("RemovePermission", [this](Call&, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(registry_.RemovePermission(in.value("TopicArn", ""), in.value("Label", "")));
      return Empty();
    });
    On("Subscribe", [this](Call& c, const Json& in) { return Subscribe(c, in); });
    On("ConfirmSubscription", [this](Call&, const Json& in) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(auto s, registry_.Confirm(in.value("TopicArn", ""), in.value("Token", "")));
      return Json{{"SubscriptionArn", s->arn}};
    });
    On("Unsubscribe", [this](Call& c, const Json& in) { return Unsubscribe(c, in); });
    On("GetSubscriptionAttributes", [this](Call&, const Json& in) {
      return registry_.GetSubscriptionAttributes(in.value("SubscriptionArn", ""));
    }, aws::Mode::kInline);
    On("SetSubscriptionAttributes", [this](Call&, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(registry_.SetSubscriptionAttribute(
          in.value("SubscriptionArn", ""), in.value("AttributeName", ""), in.value("AttributeValue", "")));
      return Empty();
    });
    On("ListSubscriptions", [this](Call& c, const Json& in) {
      return registry_.ListSubscriptions(c.caller.account_id, "", in.value("NextToken", ""));
    }, aws::Mode::kInline);
    On("ListSubscriptionsByTopic", [this](Call& c, const Json& in) {
      return registry_.ListSubscriptions(c.caller.account_id, in.value("TopicArn", ""),
                                         in.value("NextToken", ""));
    }, aws::Mode::kInline);
    // Publishes start on the network thread and are answered once the deliveries are durable: no
    // thread waits for the fsync. The commit callback (on the store's writer thread) hands the
    // answer to a worker, which builds and encodes it: the writer's time between two batches is
    // every queued write's wait (under a fan-out load, encoding PublishBatch answers was ~6% of
    // the writer's samples).
    OnAsync("Publish", [this](std::shared_ptr<Call> c, Json in, aws::Completion done) {
      Publish(*c, in.value("TopicArn", in.value("TargetArn", "")), {&in},
              in.value("PhoneNumber", ""),
              [this, done = std::move(done)](std::vector<Result<Json>> r) mutable {
                AnswerOnWorker(std::move(done), std::move(r[0]));
              });
    }, aws::Mode::kAsyncInline);
    OnAsync("PublishBatch", [this](std::shared_ptr<Call> c, Json in, aws::Completion done) {
      PublishBatch(*c, in, [this, done = std::move(done)](Result<Json> r) mutable {
        AnswerOnWorker(std::move(done), std::move(r));
      });
    }, aws::Mode::kAsyncInline);
  }

  static aws::OperationResult Output(Result<Json> r) {
    if (!r.ok()) return std::move(r).error();
    return aws::OperationOutput{std::move(r).value()};
  }

  void AnswerOnWorker(aws::Completion done, Result<Json> r) {
    auto answer = std::make_shared<std::pair<aws::Completion, Result<Json>>>(std::move(done),
                                                                            std::move(r));
    context_.workers.Submit(
        [answer] { answer->first(Output(std::move(answer->second))); });
  }

  using PublishDone = std::function<void(std::vector<Result<Json>>)>;

  Result<Json> Subscribe(Call& c, const Json& in) {
    bool created = false;
    STRATUS_ASSIGN_OR_RETURN(auto sub, registry_.Subscribe(c.caller.account_id, in, &created));
    if (created && sub->pending) {
      Notification n;
      n.kind = "SubscriptionConfirmation";
      n.message_id = NewUuid();
      n.topic_arn = sub->topic_arn;
      n.token = sub->token;
      n.message = "You have chosen to subscribe to the topic " + sub->topic_arn +
                  ".\nTo confirm the subscription, visit the SubscribeURL included in this message.";
      n.timestamp = FormatIso8601(static_cast<double>(c.now_ms) / 1000.0, true);
      n.trace_header = c.trace_header;
      n.subscriptions = {sub->arn};
      STRATUS_RETURN_IF_ERROR(EnqueueAndDispatch({std::move(n)}));
    }
    bool show = !sub->pending || aws::GetBool(in, "ReturnSubscriptionArn");
    return Json{{"SubscriptionArn", show ? sub->arn : "pending confirmation"}};
  }

  // Removes a subscription; an http/https endpoint is sent an UnsubscribeConfirmation (queued
  // durably in the same write), whose SubscribeURL restores the subscription.
  Result<Json> Unsubscribe(Call& c, const Json& in) {
    Notification n;
    int64_t item_id = 0;
    auto hook = [&](store::WriteTxn& txn, const Subscription& s, const std::string& token) -> Status {
      n.kind = "UnsubscribeConfirmation";
      n.message_id = NewUuid();
      n.topic_arn = s.topic_arn;
      n.token = token;
      n.message = "You have chosen to deactivate subscription " + s.arn +
                  ".\nTo cancel this operation and restore the subscription, visit the "
                  "SubscribeURL included in this message.";
      n.timestamp = FormatIso8601(static_cast<double>(c.now_ms) / 1000.0, true);
      n.trace_header = c.trace_header;
      n.subscriptions = {s.arn};
      n.protocol = s.protocol;
      n.endpoint = s.endpoint;
      auto id = txn.Enqueue(kDeliveryQueue, EncodeNotification(n),
                            context_.clock.NowMillis() + kOwnershipMs);
      if (!id.ok()) return id.error();
      item_id = *id;
      return Status::Ok();
    };
    STRATUS_RETURN_IF_ERROR(registry_.Unsubscribe(in.value("SubscriptionArn", ""), hook));
    if (item_id > 0) dispatcher_->Dispatch(item_id, std::move(n));
    return Empty();
  }

  // Commits the delivery items of `notes` in one write, then hands them to the dispatcher and
  // calls `done` (on the store's writer thread, or at once when the store is closing).
  void EnqueueAndDispatch(std::vector<Notification> notes, std::function<void(Status)> done) {
    int64_t visible = context_.clock.NowMillis() + kOwnershipMs;
    std::vector<std::string> payloads;
    payloads.reserve(notes.size());
    for (const auto& n : notes) payloads.push_back(EncodeNotification(n));
    auto ids = std::make_shared<std::vector<int64_t>>(notes.size(), 0);
    context_.store.WriteAsync(
        [ids, visible, payloads = std::move(payloads)](store::WriteTxn& txn) -> Status {
          for (size_t i = 0; i < payloads.size(); ++i) {
            auto id = txn.Enqueue(kDeliveryQueue, payloads[i], visible);
            if (!id.ok()) return id.error();
            (*ids)[i] = *id;
          }
          return Status::Ok();
        },
        [this, ids, notes = std::move(notes), done = std::move(done)](Status st) mutable {
          if (st.ok()) dispatcher_->Dispatch(*ids, std::move(notes));
          done(std::move(st));
        });
  }

  // The blocking form (Subscribe's confirmation request, on a worker).
  Status EnqueueAndDispatch(std::vector<Notification> notes) {
    std::promise<Status> committed;
    std::future<Status> result = committed.get_future();
    EnqueueAndDispatch(std::move(notes), [&committed](Status st) { committed.set_value(std::move(st)); });
    return result.get();
  }

  // Validates and builds one message; `topic` is null for a direct SMS publish.
  Result<Notification> Build(const Call& c, const Topic* topic, const Json& in) {
    std::string message = in.value("Message", "");
    if (message.empty()) return InvalidParameter("Empty message");
    STRATUS_ASSIGN_OR_RETURN(size_t attr_bytes, CheckAttributes(in.value("MessageAttributes", Json::object())));
    if (message.size() + attr_bytes > kMaxMessageBytes) return InvalidParameter("Message too long");
    Notification n;
    if (in.contains("Subject")) {
      std::string subject = in.value("Subject", "");
      bool ok = !subject.empty() && subject.size() <= 100;
      for (char ch : subject) ok = ok && static_cast<unsigned char>(ch) >= 0x20;
      if (!ok) return InvalidParameter("Subject");
      n.subject = subject;
    }
    if (in.contains("MessageStructure")) {
      if (in.value("MessageStructure", "") != "json") return InvalidParameter("MessageStructure");
      Json s = ParseJsonOrDiscarded(message);
      if (!s.is_object()) {
        return InvalidParameter("Message Structure - JSON message body failed to parse");
      }
      if (!s.contains("default") || !s["default"].is_string()) {
        return InvalidParameter("Message Structure - No default entry in JSON message body");
      }
      n.structured = s;
    }
    n.message = message;
    n.attributes = in.value("MessageAttributes", Json::object());
    n.message_id = NewUuid();
    n.timestamp = FormatIso8601(static_cast<double>(c.now_ms) / 1000.0, true);
    n.trace_header = c.trace_header;
    n.group = in.value("MessageGroupId", "");
    n.dedup = in.value("MessageDeduplicationId", "");
    if (topic && topic->fifo) {
      if (n.group.empty()) {
        return InvalidParameter("The MessageGroupId parameter is required for FIFO topics");
      }
      if (n.dedup.empty()) {
        if (!topic->content_dedup) {
          return InvalidParameter("The topic should either have ContentBasedDeduplication enabled "
                                  "or MessageDeduplicationId provided explicitly");
        }
        n.dedup = Sha256Hex(message);
      }
    } else if (!n.dedup.empty()) {
      return InvalidParameter("MessageDeduplicationId Reason: The request includes "
                              "MessageDeduplicationId parameter that is not valid for this topic type");
    }
    return n;
  }

  // Validates, routes and durably enqueues `entries`; `done` receives one result per entry, at
  // once when nothing is to be written, else after the commit (on the store's writer thread).
  void Publish(Call& c, const std::string& arn, const std::vector<const Json*>& entries,
               const std::string& phone, PublishDone done) {
    std::vector<Result<Json>> results;
    if (arn.empty() && !phone.empty()) {
      auto n = Build(c, nullptr, *entries[0]);
      if (!n.ok()) return done({n.error()});
      Json rec{{"protocol", "sms"}, {"endpoint", phone}, {"message_id", n->message_id},
               {"message", n->message}, {"timestamp", n->timestamp}};
      std::string key = std::string(kSentPrefix) + std::to_string(++sent_seq_hint_ + (context_.clock.NowMillis() << 12));
      context_.store.WriteAsync(
          [key, value = rec.dump()](store::WriteTxn& txn) { return txn.Put(key, value); },
          [id = n->message_id, done = std::move(done)](Status st) {
            if (!st.ok()) return done({st.error()});
            done({Json{{"MessageId", id}}});
          });
      return;
    }
    if (!StartsWith(arn, "arn:aws:sns:")) {
      return done(std::vector<Result<Json>>(entries.size(), InvalidParameter("TopicArn or TargetArn Reason: no value for required parameter")));
    }
    auto topic = registry_.GetTopic(arn);
    if (!topic.ok()) return done(std::vector<Result<Json>>(entries.size(), topic.error()));
    const Topic& t = **topic;
    std::vector<Notification> to_send;  // other protocols: durable delivery items
    std::vector<Notification> to_sqs;   // sqs subscriptions: delivered before the answer
    bool sign = false;                  // some sqs subscription wants a signed envelope
    int64_t now = context_.clock.NowMillis();
    // FIFO: sequence numbers are assigned and the write queued under one lock, so deliveries
    // (dispatched in commit order) follow sequence order.
    std::unique_lock<std::mutex> fifo_lock;
    if (t.fifo) fifo_lock = std::unique_lock<std::mutex>(dedup_mu_);
    std::vector<std::pair<std::string, std::string>> dedup_puts;  // new dedup records
    std::vector<std::string> dedup_deletes;                      // expired dedup records
    for (const Json* in : entries) {
      auto built = Build(c, &t, *in);
      if (!built.ok()) {
        results.push_back(built.error());
        continue;
      }
      Notification n = std::move(built).value();
      Json out{{"MessageId", n.message_id}};
      if (t.fifo) {
        DedupWindow& window = dedup_[t.arn];
        Expire(t.arn, window, now, dedup_deletes);
        auto it = window.entries.find(n.dedup);
        if (it != window.entries.end()) {
          // A duplicate within 5 minutes: accepted, not delivered, answered as the original.
          out["MessageId"] = it->second.message_id;
          out["SequenceNumber"] = it->second.sequence;
          results.push_back(std::move(out));
          continue;
        }
        std::string seq = std::to_string(++sequence_);
        n.sequence = std::string(20 - std::min<size_t>(20, seq.size()), '0') + seq;
        out["SequenceNumber"] = n.sequence;
        DedupEntry entry{now + kDedupWindowMs, n.message_id, n.sequence};
        dedup_puts.emplace_back(DedupKey(t.arn, n.dedup),
                                Json{{"expires", entry.expires_ms}, {"id", entry.message_id},
                                     {"seq", entry.sequence}}.dump());
        window.entries[n.dedup] = entry;
        window.order.emplace_back(entry.expires_ms, n.dedup);
      }
      n.topic_arn = t.arn;
      std::vector<std::string> to_queues;
      for (const auto& s : t.subscriptions) {
        if (s->pending) continue;
        if (s->filter && !MatchesFilterPolicy(*s->filter, n.attributes, n.message)) continue;
        if (s->protocol == "sqs") {
          to_queues.push_back(s->arn);
          sign = sign || !s->raw;
        } else {
          n.subscriptions.push_back(s->arn);
        }
      }
      if (!n.subscriptions.empty()) {
        if (!to_queues.empty()) {
          to_sqs.push_back(n);
          to_sqs.back().subscriptions = std::move(to_queues);
        }
        to_send.push_back(std::move(n));
      } else if (!to_queues.empty()) {
        n.subscriptions = std::move(to_queues);
        to_sqs.push_back(std::move(n));
      }
      results.push_back(std::move(out));
    }
    bool write_dedup = !dedup_puts.empty() || !dedup_deletes.empty();
    if (to_send.empty() && to_sqs.empty() && !write_dedup) return done(std::move(results));
    // The answer waits for both parts: the delivery items of the other protocols and the SQS
    // sends (or their retry items). Their writes are queued back to back, so they usually share
    // one group commit. A FIFO topic's new dedup records are written once both parts have
    // committed, and the answer waits for them too: a record that survives a kill -9 means its
    // deliveries did (a record written with them could commit first when a send is queued late,
    // e.g. after an asynchronous authorization, and a retry would then be deduplicated into a
    // message never delivered). A kill between the two leaves deliveries without a record; the
    // publish was not acknowledged, and its retry is deduplicated again by the subscribed FIFO
    // queues, which get the same MessageDeduplicationId.
    auto join = std::make_shared<PublishJoin>();
    join->results = std::move(results);
    join->done = std::move(done);
    join->topic_arn = t.arn;
    join->dedup_puts = std::move(dedup_puts);
    join->dedup_deletes = std::move(dedup_deletes);
    join->pending = (to_send.empty() ? 0 : 1) + (to_sqs.empty() ? 0 : 1);
    auto part_done = [this, join](Status st) {
      if (!st.ok()) {
        std::lock_guard lock(join->mu);
        join->error = std::move(st);
      }
      if (join->pending.fetch_sub(1) > 1) return;
      if (!join->error.ok()) {
        for (auto& r : join->results) {
          if (r.ok()) r = join->error.error();
        }
        // Not delivered: a retry must not be deduplicated into it. (On a worker: this may run
        // on the publishing thread, which holds dedup_mu_.)
        if (!join->dedup_puts.empty()) context_.workers.Submit([this, join] { ForgetDedup(*join); });
        return join->done(std::move(join->results));
      }
      if (join->dedup_puts.empty() && join->dedup_deletes.empty()) {
        return join->done(std::move(join->results));
      }
      context_.store.WriteAsync(
          [join](store::WriteTxn& txn) -> Status {
            for (const auto& key : join->dedup_deletes) STRATUS_RETURN_IF_ERROR(txn.Delete(key));
            for (const auto& [key, value] : join->dedup_puts) STRATUS_RETURN_IF_ERROR(txn.Put(key, value));
            return Status::Ok();
          },
          [join](Status written) {
            // The deliveries are durable: the publish succeeded. Without its record a retry
            // after a restart is deduplicated by FIFO queues only.
            if (!written.ok()) spdlog::warn("sns: FIFO dedup records of {} not written: {}", join->topic_arn, written.error().message);
            join->done(std::move(join->results));
          });
    };
    if (join->pending == 0) {  // nothing to deliver (no matching subscription): records only
      join->pending = 1;
      return part_done(Status::Ok());
    }
    if (!to_sqs.empty()) {
      if (sign && !t.fifo) {
        // Signing envelopes (RSA) is not for the network thread; FIFO topics sign inline to
        // keep their order.
        context_.workers.Submit([this, to_sqs = std::move(to_sqs), part_done]() mutable {
          dispatcher_->DeliverNow(std::move(to_sqs), part_done);
        });
      } else {
        dispatcher_->DeliverNow(std::move(to_sqs), part_done);
      }
    }
    if (!to_send.empty()) EnqueueAndDispatch(std::move(to_send), part_done);
  }

  // One remembered FIFO publish.
  struct DedupEntry {
    int64_t expires_ms = 0;
    std::string message_id;
    std::string sequence;
  };
  // A FIFO topic's 5-minute deduplication window; `order` lists (expiry, dedup id) in the order
  // they were added, so expiring costs nothing per publish while nothing is due.
  struct DedupWindow {
    std::unordered_map<std::string, DedupEntry> entries;
    std::deque<std::pair<int64_t, std::string>> order;
  };

  // Drops the entries of `window` that expired by `now`, adding their store keys to `deletes`.
  static void Expire(const std::string& topic_arn, DedupWindow& window, int64_t now,
                     std::vector<std::string>& deletes) {
    while (!window.order.empty() && window.order.front().first <= now) {
      auto& [expires, id] = window.order.front();
      auto it = window.entries.find(id);
      if (it != window.entries.end() && it->second.expires_ms == expires) {
        window.entries.erase(it);
        deletes.push_back(DedupKey(topic_arn, id));
      }
      window.order.pop_front();
    }
  }

  // Loads the dedup windows a previous process left; records already expired are deleted.
  Status LoadDedup() {
    STRATUS_ASSIGN_OR_RETURN(auto rows, context_.store.Scan(store::PrefixScan(kDedupPrefix)));
    int64_t now = context_.clock.NowMillis();
    std::vector<std::string> expired;
    std::vector<std::tuple<int64_t, std::string, std::string, DedupEntry>> live;
    for (const auto& row : rows) {
      std::string rest = row.key.substr(kDedupPrefix.size());
      size_t slash = rest.find('/');
      Json v = ParseJsonOrDiscarded(row.value);
      int64_t expires = v.is_object() ? v.value("expires", int64_t{0}) : 0;
      if (slash == std::string::npos || expires <= now) {
        expired.push_back(row.key);
        continue;
      }
      live.emplace_back(expires, rest.substr(0, slash), rest.substr(slash + 1),
                        DedupEntry{expires, v.value("id", ""), v.value("seq", "")});
    }
    std::sort(live.begin(), live.end(),
              [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
    std::lock_guard lock(dedup_mu_);
    for (auto& [expires, arn, id, entry] : live) {
      DedupWindow& window = dedup_[arn];
      window.order.emplace_back(expires, id);
      window.entries[id] = std::move(entry);
    }
    if (expired.empty()) return Status::Ok();
    return context_.store.Write([&expired](store::WriteTxn& txn) -> Status {
      for (const auto& key : expired) STRATUS_RETURN_IF_ERROR(txn.Delete(key));
      return Status::Ok();
    });
  }

  // A publish waiting for its SQS sends and its delivery items.
  struct PublishJoin {
    std::atomic<int> pending{0};
    std::mutex mu;  // guards error
    Status error;
    std::vector<Result<Json>> results;
    PublishDone done;
    std::string topic_arn;
    std::vector<std::pair<std::string, std::string>> dedup_puts;  // new FIFO dedup records
    std::vector<std::string> dedup_deletes;                      // expired ones
  };

  // Drops a deleted FIFO topic's dedup window, in memory and in the store.
  void ForgetTopicDedup(const std::string& arn) {
    {
      std::lock_guard lock(dedup_mu_);
      dedup_.erase(arn);
    }
    std::string prefix = DedupKey(arn, "");
    Status st = context_.store.Write([&prefix](store::WriteTxn& txn) -> Status {
      auto n = txn.DeleteRange(prefix, store::PrefixEnd(prefix));
      if (!n.ok()) return n.error();
      return Status::Ok();
    });
    if (!st.ok()) spdlog::warn("sns: dedup records of deleted {} not removed: {}", arn, st.error().message);
  }

  // Drops from memory the dedup entries of a FIFO publish that failed.
  void ForgetDedup(const PublishJoin& join) {
    std::lock_guard lock(dedup_mu_);
    auto w = dedup_.find(join.topic_arn);
    if (w == dedup_.end()) return;
    size_t skip = DedupKey(join.topic_arn, "").size();
    for (const auto& [key, value] : join.dedup_puts) {
      auto it = w->second.entries.find(key.substr(skip));
      if (it != w->second.entries.end() &&
          it->second.message_id == ParseJsonOrDiscarded(value).value("id", "")) {
        w->second.entries.erase(it);  // its `order` entry is skipped by Expire
      }
    }
  }

  void PublishBatch(Call& c, const Json& in, std::function<void(Result<Json>)> done) {
    auto entries = std::make_shared<const Json>(in.value("PublishBatchRequestEntries", Json::array()));
    if (entries->empty()) return done(Error("EmptyBatchRequest", "The batch request doesn't contain any entries."));
    if (entries->size() > 10) {
      return done(Error("TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible."));
    }
    std::set<std::string> ids;
    size_t total = 0;
    for (const auto& e : *entries) {
      std::string id = e.value("Id", "");
      if (!ValidBatchId(id)) {
        return done(Error("InvalidBatchEntryId", "The Id of a batch entry in a batch request doesn't abide by the specification."));
      }
      if (!ids.insert(id).second) {
        return done(Error("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id."));
      }
      total += e.value("Message", "").size();
    }
    if (total > kMaxMessageBytes) {
      return done(Error("BatchRequestTooLong", "The length of all the messages put together is more than the limit."));
    }
    std::vector<const Json*> list;
    for (const auto& e : *entries) list.push_back(&e);
    Publish(c, in.value("TopicArn", ""), list, "",
            [entries, done = std::move(done)](std::vector<Result<Json>> results) {
              done(BatchOutput(*entries, std::move(results)));
            });
  }

  // PublishBatch's answer from the results of its entries.
  static Result<Json> BatchOutput(const Json& entries, std::vector<Result<Json>> results) {
    if (results.size() == 1 && entries.size() > 1 && !results[0].ok()) return results[0].error();
    Json ok = Json::array();
    Json failed = Json::array();
    for (size_t i = 0; i < results.size() && i < entries.size(); ++i) {
      std::string id = entries[i].value("Id", "");
      if (results[i].ok()) {
        Json o = std::move(results[i]).value();
        o["Id"] = id;
        ok.push_back(std::move(o));
      } else {
        const Error& e = results[i].error();
        if (e.code == "NotFound") return e;
        failed.push_back(Json{{"Id", id}, {"Code", e.code == "InvalidParameter" ? "InvalidParameter" : e.code},
                              {"Message", e.message}, {"SenderFault", true}});
      }
    }
    Json out = Json::object();  // moved in: an initializer list would copy them
    out["Successful"] = std::move(ok);
    out["Failed"] = std::move(failed);
    return out;
  }

  aws::ServiceContext& context_;
  Registry registry_;
  std::shared_ptr<Signer> signer_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::atomic<uint64_t> sequence_{0};
  std::atomic<uint64_t> sent_seq_hint_{0};
  std::mutex dedup_mu_;  // guards dedup_ and sequence order (FIFO publishes)
  std::unordered_map<std::string, DedupWindow> dedup_;  // by topic ARN
};

}  // namespace

std::unique_ptr<aws::Service> MakeSnsService(aws::ServiceContext& context) {
  return std::make_unique<SnsService>(context);
}

}  // namespace stratus::services::sns

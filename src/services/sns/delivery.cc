#include "services/sns/delivery.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <spdlog/spdlog.h>

#include "aws/framework/authorizer.h"
#include "core/strings.h"
#include "store/store.h"
#include "trace/context.h"

namespace stratus::services::sns {

namespace {

// One dispatcher thread: deliveries to SQS, HTTP and Lambda are asynchronous (nothing waits
// for a commit or a response), and one thread keeps FIFO topics' deliveries in order.
constexpr int kDispatchThreads = 1;
constexpr size_t kBatch = 32;
constexpr int64_t kHttpTimeoutMs = 15'000;
constexpr int kManagedAttempts = 12;  // sqs and lambda: 1 s, 2 s, 4 s ... capped at 60 s
constexpr int64_t kRecoveryIntervalMs = 500;
// Who SNS deliveries come from, as queue policies name it.
constexpr std::string_view kSnsPrincipal = "sns.amazonaws.com";

struct RetryPolicy {
  int retries = 3;
  double min_delay = 20;
  double max_delay = 20;
  int no_delay = 0;
  int min_delay_retries = 0;
  std::string backoff = "linear";
};

// The http/https retry policy: the subscription's DeliveryPolicy, else the topic's, else AWS's
// default (3 retries, 20 s apart).
RetryPolicy HttpPolicy(const Subscription& s, const Topic* t) {
  RetryPolicy p;
  Json doc = ParseJsonOrDiscarded(s.attributes.value("DeliveryPolicy", ""));
  Json hp;
  if (doc.is_object() && doc.contains("healthyRetryPolicy")) hp = doc["healthyRetryPolicy"];
  if (hp.is_null() && t) {
    Json td = ParseJsonOrDiscarded(t->attributes.value("DeliveryPolicy", ""));
    if (td.is_object() && td.contains("http") && td["http"].contains("defaultHealthyRetryPolicy")) {
      hp = td["http"]["defaultHealthyRetryPolicy"];
    }
  }
  if (hp.is_object()) {
    p.retries = hp.value("numRetries", p.retries);
    p.min_delay = hp.value("minDelayTarget", p.min_delay);
    p.max_delay = hp.value("maxDelayTarget", p.max_delay);
    p.no_delay = hp.value("numNoDelayRetries", 0);
    p.min_delay_retries = hp.value("numMinDelayRetries", 0);
    p.backoff = hp.value("backoffFunction", std::string("linear"));
  }
  return p;
}

// Delay before retry number `retry` (1-based) under `p`, in milliseconds.
int64_t RetryDelayMs(const RetryPolicy& p, int retry) {
  if (retry <= p.no_delay) return 0;
  if (retry <= p.no_delay + p.min_delay_retries) return static_cast<int64_t>(p.min_delay * 1000);
  int span = std::max(1, p.retries - p.no_delay - p.min_delay_retries);
  double f = std::clamp(static_cast<double>(retry - p.no_delay - p.min_delay_retries - 1) /
                            std::max(1, span - 1), 0.0, 1.0);
  double d = p.min_delay;
  if (p.backoff == "exponential") {
    d = p.min_delay * std::pow(std::max(1.0, p.max_delay / std::max(p.min_delay, 1e-3)), f);
  } else if (p.backoff == "arithmetic" || p.backoff == "geometric" || p.backoff == "linear") {
    d = p.min_delay + (p.max_delay - p.min_delay) * f;
  }
  return static_cast<int64_t>(std::min(d, p.max_delay) * 1000);
}

std::string ArnPart(const std::string& arn, int index) {
  auto parts = Split(arn, ':');
  return static_cast<int>(parts.size()) > index ? parts[index] : std::string();
}

}  // namespace

std::string EncodeNotification(const Notification& n) {
  Json j{{"k", n.kind}, {"id", n.message_id}, {"topic", n.topic_arn}, {"msg", n.message},
         {"ts", n.timestamp}, {"subs", n.subscriptions}, {"attempt", n.attempt}};
  if (!n.structured.is_null()) j["struct"] = n.structured;
  if (!n.subject.empty()) j["subj"] = n.subject;
  if (!n.attributes.empty()) j["attrs"] = n.attributes;
  if (!n.group.empty()) j["grp"] = n.group;
  if (!n.dedup.empty()) j["dedup"] = n.dedup;
  if (!n.sequence.empty()) j["seq"] = n.sequence;
  if (!n.trace_header.empty()) j["trace"] = n.trace_header;
  if (!n.token.empty()) j["token"] = n.token;
  if (!n.protocol.empty()) j["proto"] = n.protocol;
  if (!n.endpoint.empty()) j["ep"] = n.endpoint;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool DecodeNotification(std::string_view text, Notification& n) {
  Json j = ParseJsonOrDiscarded(text);
  if (!j.is_object()) return false;
  n.kind = j.value("k", "Notification");
  n.message_id = j.value("id", "");
  n.topic_arn = j.value("topic", "");
  n.message = j.value("msg", "");
  n.timestamp = j.value("ts", "");
  n.subscriptions = j.value("subs", std::vector<std::string>{});
  n.attempt = j.value("attempt", 0);
  n.structured = j.contains("struct") ? j["struct"] : Json();
  n.subject = j.value("subj", "");
  n.attributes = j.value("attrs", Json::object());
  n.group = j.value("grp", "");
  n.dedup = j.value("dedup", "");
  n.sequence = j.value("seq", "");
  n.trace_header = j.value("trace", "");
  n.token = j.value("token", "");
  n.protocol = j.value("proto", "");
  n.endpoint = j.value("ep", "");
  return true;
}

// One item being delivered: answered once every subscription has succeeded or failed.
struct Dispatcher::Work {
  int64_t item_id = 0;
  Notification n;
  std::atomic<int> pending{0};
  std::mutex mu;  // guards failures, sent
  std::vector<std::pair<std::string, std::string>> failures;  // subscription arn, reason
  std::vector<std::string> sent;                               // sns/sent records
  // Set for DeliverNow's works: called instead of queueing the work for Finalize.
  std::function<void(const std::shared_ptr<Work>&)> on_done;
};

// One SQS delivery waiting for its enqueue.
struct Dispatcher::SqsItem {
  std::shared_ptr<Work> work;
  std::string sub_arn;
  aws::QueueSink::Message message;
};

Dispatcher::Dispatcher(aws::ServiceContext& context, Registry& registry, const Signer& signer)
    : context_(context), registry_(registry), signer_(signer) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() {
  sent_seq_ = context_.clock.NowMillis() << 12;
  for (int i = 0; i < kDispatchThreads; ++i) threads_.emplace_back([this] { Loop(); });
  recovery_ = std::thread([this] { RecoveryLoop(); });
}

void Dispatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  recovery_cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  if (recovery_.joinable()) recovery_.join();
  std::unique_lock lock(mu_);
  remote_cv_.wait(lock, [this] { return remote_in_flight_ == 0; });
}

void Dispatcher::Dispatch(int64_t item_id, Notification n) {
  std::vector<int64_t> ids{item_id};
  std::vector<Notification> notes;
  notes.push_back(std::move(n));
  Dispatch(ids, std::move(notes));
}

void Dispatcher::Dispatch(const std::vector<int64_t>& item_ids, std::vector<Notification> notes) {
  std::vector<std::shared_ptr<Work>> works;
  works.reserve(notes.size());
  for (size_t i = 0; i < notes.size(); ++i) {
    auto w = std::make_shared<Work>();
    w->item_id = item_ids[i];
    w->n = std::move(notes[i]);
    works.push_back(std::move(w));
  }
  {
    std::lock_guard lock(mu_);
    for (auto& w : works) queue_.push_back(std::move(w));
  }
  cv_.notify_one();
}

std::string Dispatcher::BaseUrl() const {
  std::string b = context_.external_url();
  while (!b.empty() && b.back() == '/') b.pop_back();
  return b;
}

std::string Dispatcher::CertUrl() const {
  return BaseUrl() + "/_stratus/sns/" + signer_.CertificateFile();
}

std::string Dispatcher::MessageFor(const Notification& n, const std::string& protocol) const {
  if (n.structured.is_object()) {
    if (n.structured.contains(protocol) && n.structured[protocol].is_string()) {
      return n.structured[protocol].get<std::string>();
    }
    return n.structured.value("default", "");
  }
  return n.message;
}

Json Dispatcher::Envelope(const Notification& n, const Subscription& s, const std::string& message,
                          const std::string& version, const std::string* signature) const {
  Json e = Json::object();
  e["Type"] = n.kind;
  e["MessageId"] = n.message_id;
  if (n.kind == "SubscriptionConfirmation" || n.kind == "UnsubscribeConfirmation") {
    e["Token"] = n.token;
    e["TopicArn"] = n.topic_arn;
    e["Message"] = n.message;
    e["SubscribeURL"] = BaseUrl() + "/?Action=ConfirmSubscription&TopicArn=" + n.topic_arn +
                        "&Token=" + n.token;
    e["Timestamp"] = n.timestamp;
  } else {
    if (!n.sequence.empty()) e["SequenceNumber"] = n.sequence;
    e["TopicArn"] = n.topic_arn;
    if (!n.subject.empty()) e["Subject"] = n.subject;
    e["Message"] = message;
    e["Timestamp"] = n.timestamp;
  }
  e["SignatureVersion"] = version;
  e["Signature"] = signature ? *signature : signer_.SignMessage(e, version);
  e["SigningCertURL"] = CertUrl();
  if (n.kind == "Notification") {
    e["UnsubscribeURL"] = BaseUrl() + "/?Action=Unsubscribe&SubscriptionArn=" + s.arn;
    if (!n.attributes.empty()) {
      Json attrs = Json::object();
      for (const auto& [k, v] : n.attributes.items()) {
        std::string type = v.value("DataType", "String");
        attrs[k] = Json{{"Type", type},
                        {"Value", StartsWith(type, "Binary") ? v.value("BinaryValue", "")
                                                             : v.value("StringValue", "")}};
      }
      e["MessageAttributes"] = std::move(attrs);
    }
  }
  return e;
}

aws::InternalCall Dispatcher::CallFor(const Notification& n, const std::string& arn) const {
  aws::InternalCall c;
  c.account = ArnPart(arn, 4);
  c.region = ArnPart(arn, 3);
  c.principal_arn = std::string(kSnsPrincipal);
  c.trace = trace::BeginHop(n.trace_header.empty() ? std::nullopt
                                                   : std::optional<std::string_view>(n.trace_header),
                            context_.clock.NowMillis() / 1000);
  return c;
}

void Dispatcher::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty() || !finished_.empty(); });
    if (stopping_ && queue_.empty() && finished_.empty()) return;
    std::vector<std::shared_ptr<Work>> batch;
    while (!queue_.empty() && batch.size() < kBatch) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    std::vector<std::shared_ptr<Work>> done;
    done.swap(finished_);
    lock.unlock();
    if (!batch.empty()) Process(batch);
    {
      std::lock_guard l(mu_);
      done.insert(done.end(), finished_.begin(), finished_.end());
      finished_.clear();
    }
    if (!done.empty()) Finalize(done);
    lock.lock();
  }
}

void Dispatcher::Succeed(const std::shared_ptr<Work>& w) {
  if (w->pending.fetch_sub(1) == 1) Finish(w);
}

void Dispatcher::Fail(const std::shared_ptr<Work>& w, const std::string& sub_arn,
                      const std::string& reason) {
  {
    std::lock_guard lock(w->mu);
    w->failures.emplace_back(sub_arn, reason);
  }
  if (w->pending.fetch_sub(1) == 1) Finish(w);
}

void Dispatcher::Finish(const std::shared_ptr<Work>& w) {
  if (w->on_done) {
    w->on_done(w);
    return;
  }
  {
    std::lock_guard lock(mu_);
    finished_.push_back(w);
  }
  cv_.notify_one();
}

std::shared_ptr<const Subscription> Dispatcher::SubscriptionFor(const Notification& n,
                                                                 const std::string& arn) const {
  auto sr = registry_.GetSubscription(arn);
  if (sr.ok()) return *sr;
  if (n.kind != "UnsubscribeConfirmation" || n.endpoint.empty()) return nullptr;
  auto s = std::make_shared<Subscription>();
  s->arn = arn;
  s->topic_arn = n.topic_arn;
  s->protocol = n.protocol;
  s->endpoint = n.endpoint;
  return s;
}

std::string Dispatcher::SignatureVersionOf(const std::string& topic_arn) const {
  auto topic = registry_.GetTopic(topic_arn);
  return topic.ok() ? (*topic)->attributes.value("SignatureVersion", "1") : std::string("1");
}

std::string Dispatcher::EnvelopeText(const Notification& n, const Subscription& s,
                                     const std::string& text, const std::string& version,
                                     Signatures& signatures) const {
  auto it = signatures.find(text);
  if (it == signatures.end()) {
    std::string sig = Envelope(n, s, text, version)["Signature"].get<std::string>();
    it = signatures.emplace(text, std::move(sig)).first;
  }
  return Envelope(n, s, text, version, &it->second)
      .dump(-1, ' ', false, Json::error_handler_t::replace);
}

aws::QueueSink::Message Dispatcher::SqsMessage(const Notification& n, const Subscription& s,
                                               const std::string& version,
                                               Signatures& signatures) const {
  std::string text = MessageFor(n, s.protocol);
  aws::QueueSink::Message m;
  if (s.raw) {
    if (!n.attributes.empty()) m.attributes = n.attributes;
    m.body = std::move(text);
  } else {
    m.body = EnvelopeText(n, s, text, version, signatures);
  }
  m.group_id = n.group;
  m.deduplication_id = n.dedup;
  return m;
}

void Dispatcher::DeliverNow(std::vector<Notification> notes, std::function<void(Status)> done) {
  // Every work of the round reports here (the round holds no work: no reference cycle); the last
  // one writes the retries and calls `done`.
  struct Round {
    std::atomic<size_t> pending{0};
    std::mutex mu;  // guards retries
    std::vector<std::pair<std::string, int64_t>> retries;  // payload, visible at
    std::function<void(Status)> done;
  };
  auto round = std::make_shared<Round>();
  round->done = std::move(done);
  round->pending = notes.size() + 1;  // +1 held while the calls are queued
  auto finished = [this, round](const Work* w) {
    if (w && !w->failures.empty()) {
      std::lock_guard lock(round->mu);
      CollectRetries(*w, context_.clock.NowMillis(), round->retries);
    }
    if (round->pending.fetch_sub(1) != 1) return;
    std::vector<std::pair<std::string, int64_t>> retries;
    {
      std::lock_guard lock(round->mu);
      retries.swap(round->retries);
    }
    if (retries.empty()) return round->done(Status::Ok());
    context_.store.WriteAsync(
        [retries = std::move(retries)](store::WriteTxn& txn) -> Status {
          for (const auto& [payload, at] : retries) {
            auto r = txn.Enqueue(kDeliveryQueue, payload, at);
            if (!r.ok()) return r.error();
          }
          return Status::Ok();
        },
        [round](Status st) { round->done(std::move(st)); });
  };
  std::vector<std::shared_ptr<Work>> works;
  works.reserve(notes.size());
  std::map<std::string, std::vector<SqsItem>> by_queue;
  for (auto& n : notes) {
    auto w = std::make_shared<Work>();
    w->n = std::move(n);
    w->on_done = [finished](const std::shared_ptr<Work>& done_work) { finished(done_work.get()); };
    w->pending = static_cast<int>(w->n.subscriptions.size()) + 1;
    works.push_back(std::move(w));
  }
  for (const auto& w : works) {
    std::string version = SignatureVersionOf(w->n.topic_arn);
    Signatures signatures;
    for (const auto& sub_arn : w->n.subscriptions) {
      auto s = SubscriptionFor(w->n, sub_arn);
      if (!s) {
        Succeed(w);  // unsubscribed meanwhile: nothing to deliver
        continue;
      }
      by_queue[s->endpoint].push_back(SqsItem{w, sub_arn, SqsMessage(w->n, *s, version, signatures)});
    }
  }
  SendToSqs(by_queue);
  for (const auto& w : works) Succeed(w);  // releases the routing holds
  finished(nullptr);
}

void Dispatcher::Process(std::vector<std::shared_ptr<Work>>& batch) {
  std::map<std::string, std::vector<SqsItem>> by_queue;
  for (auto& w : batch) {
    const Notification& n = w->n;
    w->pending = static_cast<int>(n.subscriptions.size()) + 1;  // +1 held while routing
    std::string version = SignatureVersionOf(n.topic_arn);
    Signatures signatures;
    std::vector<std::shared_ptr<const Subscription>> remote;  // lambda, http, https
    for (const auto& sub_arn : n.subscriptions) {
      auto sp = SubscriptionFor(n, sub_arn);
      if (!sp) {
        Succeed(w);  // unsubscribed meanwhile: nothing to deliver
        continue;
      }
      const Subscription& s = *sp;
      if (s.protocol == "sqs") {
        by_queue[s.endpoint].push_back(SqsItem{w, sub_arn, SqsMessage(n, s, version, signatures)});
      } else if (s.protocol == "lambda" || s.protocol == "http" || s.protocol == "https") {
        remote.push_back(std::move(sp));
      } else {
        // email, email-json, sms: recorded for inspection.
        std::string text = MessageFor(n, s.protocol);
        Json rec{{"protocol", s.protocol},     {"endpoint", s.endpoint},
                 {"subscription_arn", s.arn},  {"topic_arn", n.topic_arn},
                 {"message_id", n.message_id}, {"type", n.kind},
                 {"timestamp", n.timestamp}};
        if (!n.subject.empty()) rec["subject"] = n.subject;
        rec["message"] = s.protocol == "email-json" || n.kind != "Notification"
                             ? Json(EnvelopeText(n, s, text, version, signatures))
                             : Json(text);
        if (!n.token.empty()) rec["token"] = n.token;
        {
          std::lock_guard lock(w->mu);
          w->sent.push_back(rec.dump());
        }
        Succeed(w);
      }
    }
    if (!remote.empty()) {
      // Built, signed and started on a worker: the dispatcher thread never waits on them.
      {
        std::lock_guard lock(mu_);
        ++remote_in_flight_;
      }
      context_.workers.Submit([this, w, remote = std::move(remote), version] {
        DeliverRemote(w, remote, version);
        std::lock_guard lock(mu_);
        if (--remote_in_flight_ == 0) remote_cv_.notify_all();
      });
    }
  }
  SendToSqs(by_queue);
  for (auto& w : batch) Succeed(w);  // releases the routing hold
}

void Dispatcher::DeliverRemote(const std::shared_ptr<Work>& w,
                               const std::vector<std::shared_ptr<const Subscription>>& subs,
                               const std::string& version) {
  const Notification& n = w->n;
  Signatures signatures;
  for (const auto& sp : subs) {
    const Subscription& s = *sp;
    std::string text = MessageFor(n, s.protocol);
    if (s.protocol == "lambda") {
      Json env = ParseJsonOrDiscarded(EnvelopeText(n, s, text, version, signatures));
      Json sns = Json::object();
      for (const auto& [k, v] : env.items()) {
        std::string key = k == "SigningCertURL" ? "SigningCertUrl"
                          : k == "UnsubscribeURL" ? "UnsubscribeUrl" : k;
        sns[key] = v;
      }
      if (!sns.contains("Subject")) sns["Subject"] = nullptr;
      if (!sns.contains("MessageAttributes")) sns["MessageAttributes"] = Json::object();
      Json event{{"Records", Json::array({Json{{"EventSource", "aws:sns"},
                                               {"EventVersion", "1.0"},
                                               {"EventSubscriptionArn", s.arn},
                                               {"Sns", sns}}})}};
      aws::InternalCall call = CallFor(n, s.endpoint);
      call.service = "lambda";
      call.operation = "Invoke";
      call.input = Json{{"FunctionName", s.endpoint}, {"InvocationType", "Event"}};
      call.payload = event.dump();
      std::string arn = s.arn;
      context_.clients.operations->Call(std::move(call), [this, w, arn](aws::OperationResult r) {
        if (r.ok()) {
          Succeed(w);
        } else {
          spdlog::warn("sns: lambda delivery for {} failed: {} {}", arn, r.error().code,
                       r.error().message);
          Fail(w, arn, r.error().code + ": " + r.error().message);
        }
      });
      continue;
    }
    // http/https
    std::vector<std::pair<std::string, std::string>> headers = {
        {"x-amz-sns-message-type", n.kind},
        {"x-amz-sns-message-id", n.message_id},
        {"x-amz-sns-topic-arn", n.topic_arn},
        {"Content-Type", "text/plain; charset=UTF-8"},
        {"User-Agent", "Amazon Simple Notification Service Agent"},
        {"X-Amzn-Trace-Id", CallFor(n, n.topic_arn).trace.DownstreamHeader()}};
    if (n.kind != "SubscriptionConfirmation") {
      headers.emplace_back("x-amz-sns-subscription-arn", s.arn);
    }
    std::string body;
    if (s.raw && n.kind == "Notification") {
      body = text;
      headers.emplace_back("x-amz-sns-rawdelivery", "true");
    } else {
      body = EnvelopeText(n, s, text, version, signatures);
    }
    std::string arn = s.arn;
    ClientRequest request;
    request.method = "POST";
    request.url = s.endpoint;
    for (auto& [name, value] : headers) request.headers.Set(name, value);
    request.body = std::move(body);
    request.timeout_ms = kHttpTimeoutMs;
    http_.Fetch(std::move(request), [this, w, arn](Result<HttpResponse> r) {
      if (r.ok() && r->status >= 200 && r->status < 300) {
        Succeed(w);
      } else {
        Fail(w, arn, r.ok() ? "HTTP " + std::to_string(r->status) : r.error().message);
      }
    });
  }
}

void Dispatcher::SendToSqs(std::map<std::string, std::vector<SqsItem>>& by_queue) {
  // Straight into the queues (aws::QueueSink) once SQS runs, unless queue policies must be
  // evaluated (IAM enforcement), which only the front door's call does.
  aws::QueueSink* sink = context_.clients.queues.load(std::memory_order_acquire);
  const aws::Authorizer* authorizer = context_.clients.authorizer;
  if (sink && !(authorizer && authorizer->Enforcing())) {
    EnqueueDirect(*sink, by_queue);
  } else {
    CallSendMessageBatch(by_queue);
  }
}

void Dispatcher::EnqueueDirect(aws::QueueSink& sink,
                               std::map<std::string, std::vector<SqsItem>>& by_queue) {
  // One call per queue and run of deliveries continuing one trace (a publish's deliveries all
  // do); each call queues its write before returning, so calls to one queue keep their order.
  for (auto& [queue_arn, items] : by_queue) {
    for (size_t i = 0; i < items.size();) {
      const std::string& header = items[i].work->n.trace_header;
      size_t end = i + 1;
      while (end < items.size() && items[end].work->n.trace_header == header) ++end;
      aws::QueueSink::Batch batch;
      batch.queue_arn = queue_arn;
      batch.principal_arn = std::string(kSnsPrincipal);
      batch.trace = CallFor(items[i].work->n, queue_arn).trace;
      batch.messages.reserve(end - i);
      auto targets = std::make_shared<std::vector<std::pair<std::shared_ptr<Work>, std::string>>>();
      targets->reserve(end - i);
      for (size_t k = i; k < end; ++k) {
        batch.messages.push_back(std::move(items[k].message));
        targets->emplace_back(std::move(items[k].work), std::move(items[k].sub_arn));
      }
      i = end;
      sink.Send(std::move(batch), [this, targets](std::vector<Status> results) {
        for (size_t k = 0; k < targets->size(); ++k) {
          auto& [work, sub_arn] = (*targets)[k];
          if (k < results.size() && !results[k].ok()) {
            Fail(work, sub_arn, results[k].error().code + ": " + results[k].error().message);
          } else {
            Succeed(work);
          }
        }
      });
    }
  }
}

void Dispatcher::CallSendMessageBatch(std::map<std::string, std::vector<SqsItem>>& by_queue) {
  // One SendMessageBatch per queue and 10 entries, answered after its commit (from the store's
  // writer thread); calls to one queue are made in the order of their items.
  for (auto& [queue_arn, entries] : by_queue) {
    for (size_t i = 0; i < entries.size(); i += 10) {
      size_t end = std::min(entries.size(), i + 10);
      Json list = Json::array();
      auto targets = std::make_shared<std::vector<std::pair<std::shared_ptr<Work>, std::string>>>();
      targets->reserve(end - i);
      for (size_t k = i; k < end; ++k) {
        aws::QueueSink::Message& m = entries[k].message;
        Json e = Json::object();
        e["Id"] = std::to_string(k - i);
        if (!m.attributes.empty()) e["MessageAttributes"] = std::move(m.attributes);
        e["MessageBody"] = std::move(m.body);
        if (!m.group_id.empty()) e["MessageGroupId"] = std::move(m.group_id);
        if (!m.deduplication_id.empty()) e["MessageDeduplicationId"] = std::move(m.deduplication_id);
        list.push_back(std::move(e));
        targets->emplace_back(std::move(entries[k].work), std::move(entries[k].sub_arn));
      }
      aws::InternalCall call = CallFor(targets->front().first->n, queue_arn);
      call.service = "sqs";
      call.operation = "SendMessageBatch";
      // Members set one by one: an initializer list would copy every entry (bodies included).
      call.input = Json::object();
      call.input["QueueUrl"] = queue_arn;
      call.input["Entries"] = std::move(list);
      context_.clients.operations->Call(std::move(call), [this, targets](aws::OperationResult r) {
        std::map<std::string, std::string> failed;
        if (r.ok()) {
          if (auto f = r->body.find("Failed"); f != r->body.end() && f->is_array()) {
            for (const auto& e : *f) {
              failed[e.value("Id", "")] = e.value("Code", "") + ": " + e.value("Message", "");
            }
          }
        }
        for (size_t k = 0; k < targets->size(); ++k) {
          auto& [work, sub_arn] = (*targets)[k];
          if (!r.ok()) {
            Fail(work, sub_arn, r.error().code + ": " + r.error().message);
          } else if (auto f = failed.find(std::to_string(k)); f != failed.end()) {
            Fail(work, sub_arn, f->second);
          } else {
            Succeed(work);
          }
        }
      });
    }
  }
}

void Dispatcher::ToDeadLetter(const Notification& n, const Subscription& s,
                              const std::string& reason) {
  Json policy = ParseJsonOrDiscarded(s.attributes.value("RedrivePolicy", ""));
  std::string dlq = policy.is_object() ? policy.value("deadLetterTargetArn", "") : "";
  if (dlq.empty()) {
    spdlog::warn("sns: dropping message {} for {} after the last retry: {}", n.message_id, s.arn,
                 reason);
    return;
  }
  aws::InternalCall call = CallFor(n, dlq);
  call.service = "sqs";
  call.operation = "SendMessage";
  std::string body = s.raw ? MessageFor(n, s.protocol)
                           : Envelope(n, s, MessageFor(n, s.protocol), "1").dump();
  call.input = Json{{"QueueUrl", dlq},
                    {"MessageBody", body},
                    {"MessageAttributes",
                     Json{{"ErrorCode", Json{{"DataType", "String"}, {"StringValue", "DeliveryFailed"}}},
                          {"ErrorMessage", Json{{"DataType", "String"}, {"StringValue", reason.empty() ? "failed" : reason}}},
                          {"TopicArn", Json{{"DataType", "String"}, {"StringValue", n.topic_arn}}},
                          {"SubscriptionArn", Json{{"DataType", "String"}, {"StringValue", s.arn}}}}}};
  if (!n.group.empty()) call.input["MessageGroupId"] = n.group;
  if (!n.dedup.empty()) call.input["MessageDeduplicationId"] = n.dedup;
  context_.clients.operations->Call(std::move(call), [dlq, id = n.message_id](aws::OperationResult r) {
    if (!r.ok()) {
      spdlog::warn("sns: dead-letter queue {} refused message {}: {}", dlq, id, r.error().message);
    }
  });
}

void Dispatcher::CollectRetries(const Work& w, int64_t now,
                                std::vector<std::pair<std::string, int64_t>>& retries) {
  for (const auto& [sub_arn, reason] : w.failures) {
    auto sp = SubscriptionFor(w.n, sub_arn);
    if (!sp) continue;
    const Subscription& s = *sp;
    int retry = w.n.attempt + 1;
    int max_retries = kManagedAttempts - 1;
    int64_t delay = std::min<int64_t>(int64_t{1000} << std::min(retry - 1, 6), 60'000);
    if (s.protocol == "http" || s.protocol == "https") {
      auto topic = registry_.GetTopic(s.topic_arn);
      RetryPolicy p = HttpPolicy(s, topic.ok() ? topic->get() : nullptr);
      max_retries = p.retries;
      delay = RetryDelayMs(p, retry);
    }
    if (w.n.kind != "Notification") max_retries = std::min(max_retries, 2);
    if (retry > max_retries) {
      if (w.n.kind == "Notification") ToDeadLetter(w.n, s, reason);
      continue;
    }
    spdlog::info("sns: delivery of {} to {} failed ({}); retry {} in {} ms", w.n.message_id,
                 sub_arn, reason, retry, delay);
    Notification again = w.n;
    again.subscriptions = {sub_arn};
    again.attempt = retry;
    retries.emplace_back(EncodeNotification(again), now + delay);
  }
}

void Dispatcher::Finalize(std::vector<std::shared_ptr<Work>>& done) {
  int64_t now = context_.clock.NowMillis();
  std::vector<std::pair<std::string, int64_t>> retries;  // payload, visible at
  std::vector<std::pair<std::string, std::string>> sent;
  for (auto& w : done) {
    for (const auto& rec : w->sent) {
      sent.emplace_back(std::string(kSentPrefix) + std::to_string(++sent_seq_), rec);
    }
    CollectRetries(*w, now, retries);
  }
  std::vector<int64_t> items;
  items.reserve(done.size());
  for (auto& w : done) {
    if (w->item_id > 0) items.push_back(w->item_id);
  }
  // Not waited for: until it commits the items stay in the store, and a restart before then
  // delivers them again (at-least-once).
  context_.store.WriteAsync(
      [items = std::move(items), retries = std::move(retries),
       sent = std::move(sent)](store::WriteTxn& txn) -> Status {
        for (int64_t id : items) {
          auto r = txn.RemoveQueueItem(id);
          if (!r.ok()) return r.error();
        }
        for (const auto& [payload, at] : retries) {
          auto r = txn.Enqueue(kDeliveryQueue, payload, at);
          if (!r.ok()) return r.error();
        }
        for (const auto& [k, v] : sent) STRATUS_RETURN_IF_ERROR(txn.Put(k, v));
        return Status::Ok();
      },
      [](Status st) {
        if (!st.ok()) spdlog::error("sns: cannot record finished deliveries: {}", st.error().message);
      });
}

void Dispatcher::RecoveryLoop() {
  bool first = true;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    int64_t now = context_.clock.NowMillis();
    // At start-up, items the previous process owned (invisible for kOwnershipMs) are ours.
    // (The start-up sweep goes on until a lease comes back short.)
    int64_t horizon = first ? now + kOwnershipMs + 1 : now;
    auto items = context_.store.Lease(kDeliveryQueue, kBatch, horizon, kOwnershipMs);
    if (!items.ok() || items->size() < kBatch) first = false;
    if (items.ok()) {
      for (auto& item : *items) {
        Notification n;
        if (!DecodeNotification(item.payload, n)) {
          (void)context_.store.Ack(item.id, item.lease_token);
          continue;
        }
        Dispatch(item.id, std::move(n));
      }
    }
    bool more = items.ok() && items->size() == kBatch;
    lock.lock();
    if (!more) recovery_cv_.wait_for(lock, std::chrono::milliseconds(kRecoveryIntervalMs), [this] { return stopping_; });
  }
}

}  // namespace stratus::services::sns

#include "services/sqs/sqs_service.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/strings.h"
#include "services/sqs/engine.h"
#include "trace/recorder.h"

namespace stratus::services::sqs {

namespace {

// The sender id SQS shows for messages SNS delivers.
constexpr std::string_view kSnsSenderId = "AIDAIT2UOQQY3AUEKVGXU";
constexpr auto kSweepInterval = std::chrono::milliseconds(1000);

// One thread that runs callbacks at given times (long-poll deadlines and re-checks): waiting
// long polls hold no thread, only an entry here.
class Timer {
 public:
  Timer() : thread_([this] { Loop(); }) {}
  ~Timer() { Stop(); }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void At(std::chrono::steady_clock::time_point when, std::function<void()> fn) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      bool earliest = entries_.empty() || when < entries_.begin()->first;
      entries_.emplace(when, std::move(fn));
      if (!earliest) return;
    }
    cv_.notify_one();
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      if (entries_.empty()) {
        cv_.wait(lock);
        continue;
      }
      auto when = entries_.begin()->first;
      if (std::chrono::steady_clock::now() < when) {
        cv_.wait_until(lock, when);
        continue;
      }
      auto fn = std::move(entries_.begin()->second);
      entries_.erase(entries_.begin());
      lock.unlock();
      fn();
      lock.lock();
    }
  }

  std::mutex mu_;  // guards entries_, stopping_
  std::condition_variable cv_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> entries_;
  bool stopping_ = false;
  std::thread thread_;
};

class SqsService final : public aws::Service, public aws::QueueSink {
 public:
  explicit SqsService(aws::ServiceContext& context)
      : aws::Service(Descriptor{.name = "sqs",
                                .model = "sqs-2012-11-05",
                                .protocol = aws::Protocol::kJson,
                                .target_prefix = "AmazonSQS",
                                .signing_name = "sqs",
                                .extra_protocols = {aws::Protocol::kQuery},
                                .validation_error = "InvalidParameterValue"}),
        context_(context),
        engine_(context.store, context.clock) {
    Register();
  }

  ~SqsService() override { Stop(); }

  Status Start() override {
    STRATUS_RETURN_IF_ERROR(engine_.Load());
    timer_ = std::make_unique<Timer>();
    sweeper_ = std::thread([this] { SweepLoop(); });
    // Other services may enqueue directly from now on (the queues are loaded).
    context_.clients.queues.store(this, std::memory_order_release);
    return Status::Ok();
  }

  // aws::QueueSink: SNS deliveries, without the JSON request, validation and answer of a
  // SendMessageBatch call. Recorded as that call would be: one segment per batch, child of the
  // caller's hop, whose header every message carries as AWSTraceHeader.
  void Send(Batch batch, std::function<void(std::vector<Status>)> done) override {
    Scope s;
    auto parts = Split(batch.queue_arn, ':');
    s.region = parts.size() > 3 ? parts[3] : std::string();
    s.account = parts.size() > 4 ? parts[4] : std::string();
    s.sender_id = StartsWith(batch.principal_arn, "arn:") ? s.account : std::string(kSnsSenderId);
    int64_t now_ms = context_.clock.NowMillis();
    trace::TraceContext hop = batch.trace.trace_id.empty()
                                  ? trace::BeginHop(std::nullopt, now_ms / 1000)
                                  : batch.trace.Child();
    s.trace_header = hop.DownstreamHeader();
    std::vector<Engine::SendInput> inputs(batch.messages.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      aws::QueueSink::Message& m = batch.messages[i];
      inputs[i].body = std::move(m.body);
      inputs[i].attributes = std::move(m.attributes);
      inputs[i].group = std::move(m.group_id);
      inputs[i].dedup = std::move(m.deduplication_id);
    }
    auto started = std::chrono::steady_clock::now();
    engine_.SendDirectAsync(
        s, batch.queue_arn, std::move(inputs),
        [this, hop = std::move(hop), now_ms, started, region = s.region,
         done = std::move(done)](std::vector<Result<Json>> results) {
          std::vector<Status> statuses;
          statuses.reserve(results.size());
          int status = 200;
          for (auto& r : results) {
            if (r.ok()) {
              statuses.emplace_back(Status::Ok());
            } else {
              status = r.error().http_status;
              statuses.emplace_back(std::move(r).error());
            }
          }
          if (hop.sampled) {
            double secs =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            double start = static_cast<double>(now_ms) / 1000.0;
            trace::Segment seg = trace::NewSegment(hop, "sqs", "", start);
            seg.end_time = start + secs;
            seg.aws = Json{{"operation", "SendMessageBatch"}, {"region", region}};
            trace::SetHttpStatus(seg, status);
            context_.tracer.Record(std::move(seg));
          }
          done(std::move(statuses));
        });
  }

  // Shutting down: every long poll answers now with what it has (usually nothing).
  void Quiesce() override {
    quiescing_.store(true);
    std::vector<std::shared_ptr<Poll>> live;
    {
      std::lock_guard lock(polls_mu_);
      for (auto& weak : polls_) {
        if (auto p = weak.lock()) live.push_back(std::move(p));
      }
      polls_.clear();
    }
    for (auto& p : live) context_.workers.Submit([this, p] { Attempt(p); });
  }

  void Stop() override {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    aws::QueueSink* self = this;
    context_.clients.queues.compare_exchange_strong(self, nullptr);
    cv_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
    if (timer_) timer_->Stop();
  }

 private:
  using Call = aws::CallContext;

  Scope ScopeOf(const Call& c) const {
    Scope s;
    s.account = c.caller.account_id;
    s.region = c.region;
    std::string_view host = c.http.Host();
    s.base_url = host.empty() ? context_.external_url() : "http://" + std::string(host);
    if (StartsWith(c.caller.arn, "arn:")) {
      s.sender_id = c.caller.user_id.empty() ? c.caller.account_id : c.caller.user_id;
    } else {
      s.sender_id = std::string(kSnsSenderId);  // a service principal (sns.amazonaws.com)
    }
    s.trace_header = c.trace_header;
    return s;
  }

  static Json Empty() { return Json::object(); }

  // Adapts an engine answer to the front door's completion.
  static Engine::Done Answer(aws::Completion done) {
    return [done = std::move(done)](Result<Json> r) {
      if (r.ok()) {
        done(aws::OperationOutput{std::move(r).value()});
      } else {
        done(std::move(r).error());
      }
    };
  }

  void Register() {
    On("CreateQueue", [this](Call& c, const Json& in) { return engine_.CreateQueue(ScopeOf(c), in); });
    On("DeleteQueue", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(engine_.DeleteQueue(ScopeOf(c), in));
      return Empty();
    });
    On("GetQueueUrl", [this](Call& c, const Json& in) { return engine_.GetQueueUrl(ScopeOf(c), in); },
       aws::Mode::kInline);
    On("ListQueues", [this](Call& c, const Json& in) { return engine_.ListQueues(ScopeOf(c), in); },
       aws::Mode::kInline);
    On("GetQueueAttributes",
       [this](Call& c, const Json& in) { return engine_.GetQueueAttributes(ScopeOf(c), in); },
       aws::Mode::kInline);
    On("SetQueueAttributes", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(engine_.SetQueueAttributes(ScopeOf(c), in));
      return Empty();
    });
    On("PurgeQueue", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(engine_.PurgeQueue(ScopeOf(c), in));
      return Empty();
    });
    On("TagQueue", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(engine_.TagQueue(ScopeOf(c), in));
      return Empty();
    });
    On("UntagQueue", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(engine_.UntagQueue(ScopeOf(c), in));
      return Empty();
    });
    On("ListQueueTags", [this](Call& c, const Json& in) { return engine_.ListQueueTags(ScopeOf(c), in); },
       aws::Mode::kInline);
    On("ListDeadLetterSourceQueues",
       [this](Call& c, const Json& in) { return engine_.ListDeadLetterSourceQueues(ScopeOf(c), in); },
       aws::Mode::kInline);
    On("AddPermission", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(engine_.AddPermission(ScopeOf(c), in));
      return Empty();
    });
    On("RemovePermission", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(engine_.RemovePermission(ScopeOf(c), in));
      return Empty();
    });
    // Sends and deletes start on the network thread and answer from the store's writer thread
    // after the group commit: no thread waits for the fsync.
    OnAsync("SendMessage", [this](std::shared_ptr<Call> c, Json in, aws::Completion done) {
      engine_.SendMessageAsync(ScopeOf(*c), in, Answer(std::move(done)));
    }, aws::Mode::kAsyncInline);
    OnAsync("SendMessageBatch", [this](std::shared_ptr<Call> c, Json in, aws::Completion done) {
      engine_.SendMessageBatchAsync(ScopeOf(*c), in, Answer(std::move(done)));
    }, aws::Mode::kAsyncInline);
    OnAsync("ReceiveMessage", [this](std::shared_ptr<Call> c, Json in, aws::Completion done) {
      Receive(std::move(c), std::move(in), std::move(done));
    }, aws::Mode::kAsyncInline);
    OnAsync("DeleteMessage", [this](std::shared_ptr<Call> c, Json in, aws::Completion done) {
      engine_.DeleteMessageAsync(ScopeOf(*c), in, Answer(std::move(done)));
    }, aws::Mode::kAsyncInline);
    OnAsync("DeleteMessageBatch", [this](std::shared_ptr<Call> c, Json in, aws::Completion done) {
      engine_.DeleteMessageBatchAsync(ScopeOf(*c), in, Answer(std::move(done)));
    }, aws::Mode::kAsyncInline);
    On("ChangeMessageVisibility", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(engine_.ChangeMessageVisibility(ScopeOf(c), in));
      return Empty();
    });
    On("ChangeMessageVisibilityBatch", [this](Call& c, const Json& in) {
      return engine_.ChangeMessageVisibilityBatch(ScopeOf(c), in);
    });
    On("StartMessageMoveTask", [this](Call& c, const Json& in) {
      auto r = engine_.StartMessageMoveTask(ScopeOf(c), in);
      if (r.ok()) cv_.notify_all();
      return r;
    });
    On("ListMessageMoveTasks",
       [this](Call& c, const Json& in) { return engine_.ListMessageMoveTasks(ScopeOf(c), in); });
    On("CancelMessageMoveTask",
       [this](Call& c, const Json& in) { return engine_.CancelMessageMoveTask(ScopeOf(c), in); });
  }

  // A long poll in progress: answered exactly once, by a receive that found messages, by its
  // deadline, or by an error.
  struct Poll {
    std::shared_ptr<Call> call;
    Json input;
    aws::Completion done;
    std::chrono::steady_clock::time_point deadline;
    std::shared_ptr<Waiter> waiter = std::make_shared<Waiter>();
    std::atomic<bool> scheduled_recheck{false};
    void Finish(aws::OperationResult r) {
      if (waiter->done.exchange(true)) return;
      done(std::move(r));
    }
  };

  void Receive(std::shared_ptr<Call> call, Json in, aws::Completion done) {
    Scope s = ScopeOf(*call);
    auto wait = engine_.WaitSeconds(s, in);
    if (!wait.ok()) {
      done(wait.error());
      return;
    }
    auto poll = std::make_shared<Poll>();
    poll->call = std::move(call);
    poll->input = std::move(in);
    poll->done = std::move(done);
    poll->deadline = std::chrono::steady_clock::now() + std::chrono::seconds(*wait);
    std::weak_ptr<Poll> weak = poll;
    poll->waiter->wake = [this, weak] {
      if (auto p = weak.lock()) {
        context_.workers.Submit([this, p] { Attempt(p); });
      }
    };
    // A send's hand-off claimed the poll (waiter->done is set) and answers it after its commit.
    poll->waiter->owner = poll;
    poll->waiter->deliver = [raw = poll.get()](Result<Json> r) {
      if (r.ok()) {
        raw->done(aws::OperationOutput{std::move(r).value()});
      } else {
        raw->done(r.error());
      }
    };
    if (*wait > 0) {
      Track(poll);
      // The deadline holds the poll alive; it answers with no messages if nothing came.
      timer_->At(poll->deadline, [this, poll] {
        context_.workers.Submit([this, poll] { Attempt(poll); });
      });
    }
    Attempt(poll);
  }

  // One receive attempt; runs on a network thread (the first) or a worker (wake-ups, deadlines)
  // and never blocks: the answer comes from the store's writer thread after the commit.
  void Attempt(const std::shared_ptr<Poll>& poll) {
    if (poll->waiter->done.load()) return;
    bool may_wait = !quiescing_.load() && std::chrono::steady_clock::now() < poll->deadline;
    if (!may_wait) poll->waiter->expired.store(true);
    engine_.ReceiveMessageAsync(ScopeOf(*poll->call), poll->input, poll->waiter,
                                [this, poll](Result<ReceiveOutcome> r) { Attempted(poll, std::move(r)); });
  }

  void Attempted(const std::shared_ptr<Poll>& poll, Result<ReceiveOutcome> r) {
    if (!r.ok()) {
      poll->Finish(r.error());
      return;
    }
    if (r->output) {
      poll->Finish(aws::OperationOutput{std::move(*r->output)});
      return;
    }
    // Nothing visible yet: the waiter is registered; also re-check when a delayed or in-flight
    // message becomes visible before the deadline.
    if (r->next_visible_ms > 0) {
      int64_t delta = r->next_visible_ms - context_.clock.NowMillis();
      auto when = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<int64_t>(delta, 1));
      if (when < poll->deadline) {
        std::weak_ptr<Poll> weak = poll;
        timer_->At(when, [this, weak] {
          if (auto p = weak.lock()) context_.workers.Submit([this, p] { Attempt(p); });
        });
      }
    }
  }

  // Remembers a waiting poll for Quiesce; forgets answered ones as the list grows.
  void Track(const std::shared_ptr<Poll>& poll) {
    std::lock_guard lock(polls_mu_);
    if (polls_.size() >= polls_pruned_at_ * 2) {
      std::erase_if(polls_, [](const std::weak_ptr<Poll>& w) { return w.expired(); });
      polls_pruned_at_ = std::max<size_t>(polls_.size(), 64);
    }
    polls_.push_back(poll);
  }

  void SweepLoop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, kSweepInterval, [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      engine_.Sweep();
      engine_.RunMoveTasks();
      lock.lock();
    }
  }

  aws::ServiceContext& context_;
  Engine engine_;
  std::unique_ptr<Timer> timer_;
  std::atomic<bool> quiescing_{false};
  std::mutex polls_mu_;  // guards polls_ and polls_pruned_at_
  std::vector<std::weak_ptr<Poll>> polls_;  // long polls that may be waiting (for Quiesce)
  size_t polls_pruned_at_ = 64;
  std::mutex mu_;  // guards stopping_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread sweeper_;
};

}  // namespace

std::unique_ptr<aws::Service> MakeSqsService(aws::ServiceContext& context) {
  return std::make_unique<SqsService>(context);
}

}  // namespace stratus::services::sqs

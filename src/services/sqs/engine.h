#pragma once
// The SQS engine: queues and messages on store::Store, with an in-memory index per queue.
//
// Durability: every change a client is told about is committed first — CreateQueue, a send (one
// store write per SendMessage and per SendMessageBatch), a receive (the receive count and
// visibility of the messages it returns, one Write per call), deletes and visibility changes.
// A send to a standard queue with long polls waiting (and nothing else visible) hands its
// messages to them: their receive state is written in the send's own commit and the polls are
// answered when it is durable, one trip through the store's writer instead of two.
// Sends and deletes use Store::WriteAsync: they park no thread while the group commit runs, and a
// send's write is queued under its queue's mutex, so commits follow sequence-number order.
// A restart rebuilds the index from the store (Load), so a `kill -9` loses nothing acknowledged
// and shows in-flight messages again when their visibility timeout ends.
//
// Store layout:
//   sqs/q/<account>/<region>/<name>   queue record (JSON: id, attributes, tags, timestamps)
//   sqs/m/<queue id>/<seq>            message (JSON), written once by the send
//   sqs/s/<queue id>/<seq>            receive state (JSON), rewritten by receives
//   sqs/d/<queue id>/<dedup key>      FIFO deduplication entry, kept 5 minutes
//   sqs/t/<task handle>               message move task
// <queue id> and <seq> are 16 hex digits, so a queue's messages scan in send order.
//
// Thread-safe: the registry is guarded by a shared mutex, each queue by its own mutex. No thread
// waits for a commit while holding a queue's mutex (the store's writer thread takes it to index
// committed sends); writes that must commit in queue order are queued (WriteAsync) under it.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "services/sqs/queue.h"
#include "store/store.h"

namespace stratus::services::sqs {

// Who calls, where, and how queue URLs are written back.
struct Scope {
  std::string account;
  std::string region;
  std::string base_url;      // "http://localhost:4566": the scheme and host of queue URLs
  std::string sender_id;     // SenderId of the messages this caller sends
  std::string trace_header;  // the caller's X-Amzn-Trace-Id (AWSTraceHeader of sends)
};

// The outcome of one receive attempt.
struct ReceiveOutcome {
  std::optional<Json> output;   // the answer; empty when nothing was visible
  int64_t next_visible_ms = 0;  // when a message may become visible (0 = unknown)
};

class Engine {
 public:
  Engine(store::Store& store, const Clock& clock);
  ~Engine();

  // Rebuilds every queue's index from the store. Call once before serving.
  Status Load();

  // Queues. `in` is the operation's input in canonical JSON; outputs likewise.
  Result<Json> CreateQueue(const Scope& s, const Json& in);
  Status DeleteQueue(const Scope& s, const Json& in);
  Result<Json> GetQueueUrl(const Scope& s, const Json& in);
  Result<Json> ListQueues(const Scope& s, const Json& in);
  Result<Json> GetQueueAttributes(const Scope& s, const Json& in);
  Status SetQueueAttributes(const Scope& s, const Json& in);
  Status PurgeQueue(const Scope& s, const Json& in);
  Status TagQueue(const Scope& s, const Json& in);
  Status UntagQueue(const Scope& s, const Json& in);
  Result<Json> ListQueueTags(const Scope& s, const Json& in);
  Result<Json> ListDeadLetterSourceQueues(const Scope& s, const Json& in);
  Status AddPermission(const Scope& s, const Json& in);
  Status RemovePermission(const Scope& s, const Json& in);

  // Messages.
  //
  // The asynchronous forms never block: `done` is called exactly once, either before they return
  // (an error found before anything was written) or on the store's writer thread after the
  // commit. `done` must be quick and must not call Store::Write (hand work elsewhere). `in` is
  // read only during the call.
  using Done = std::function<void(Result<Json>)>;
  void SendMessageAsync(const Scope& s, const Json& in, Done done);
  void SendMessageBatchAsync(const Scope& s, const Json& in, Done done);
  void DeleteMessageAsync(const Scope& s, const Json& in, Done done);
  void DeleteMessageBatchAsync(const Scope& s, const Json& in, Done done);
  // One message to send, as the send path reads it from a SendMessage(Batch) entry or from a
  // direct enqueue (aws::QueueSink).
  struct SendInput {
    std::string id;                  // batch entry id ("" for SendMessage and direct enqueues)
    std::string body;
    Json attributes = Json::object();
    std::optional<int64_t> delay_s;  // DelaySeconds, when given
    std::string group;
    std::string dedup;
    // MessageSystemAttributes.AWSTraceHeader of the request, when given (read during the call).
    const Json* trace = nullptr;
  };
  // Sends `messages` to the queue `queue_arn` as SendMessageBatch would, minus the batch
  // request's own limits (entry count, ids, total size); `done` as Done, with one result per
  // message: a null Json once it is durable (or, FIFO, deduplicated into one that is; no output
  // entry is built: a direct sender needs only success, and the answers would be built on the
  // network thread and destroyed on the store's writer thread for nothing), or its error.
  // A missing queue fails each with QueueDoesNotExist.
  using SendDone = std::function<void(std::vector<Result<Json>>)>;
  void SendDirectAsync(const Scope& s, const std::string& queue_arn,
                       std::vector<SendInput> messages, SendDone done);
  // Blocking forms of the same (tests, callers off the network threads).
  Result<Json> SendMessage(const Scope& s, const Json& in);
  Result<Json> SendMessageBatch(const Scope& s, const Json& in);
  // Takes visible messages. When none is visible and `waiter` is given and not expired,
  // registers it on the queue (atomically with the check) so that the next send or visibility
  // change wakes it (the outcome then has no output), or — when the waiter has `deliver` — a send
  // may hand it its messages and answer it directly (see Waiter). Once an attempt with a waiter
  // has taken messages, or found nothing with the waiter expired, or a send has claimed the
  // waiter, later attempts with it take nothing and return no output.
  // The asynchronous form answers as the Done above (after the receive state is durable).
  using ReceiveDone = std::function<void(Result<ReceiveOutcome>)>;
  void ReceiveMessageAsync(const Scope& s, const Json& in, const std::shared_ptr<Waiter>& waiter,
                           ReceiveDone done);
  Result<ReceiveOutcome> ReceiveMessage(const Scope& s, const Json& in,
                                        const std::shared_ptr<Waiter>& waiter);
  // The WaitTimeSeconds a receive waits: the request's, else the queue's default.
  Result<int64_t> WaitSeconds(const Scope& s, const Json& in);
  Status DeleteMessage(const Scope& s, const Json& in);
  Result<Json> DeleteMessageBatch(const Scope& s, const Json& in);
  Status ChangeMessageVisibility(const Scope& s, const Json& in);
  Result<Json> ChangeMessageVisibilityBatch(const Scope& s, const Json& in);

  // Dead-letter queue redrive.
  Result<Json> StartMessageMoveTask(const Scope& s, const Json& in);
  Result<Json> ListMessageMoveTasks(const Scope& s, const Json& in);
  Result<Json> CancelMessageMoveTask(const Scope& s, const Json& in);
  // Runs pending move tasks a step (background thread).
  void RunMoveTasks();

  // Deletes messages past their queue's retention period and expired dedup entries; wakes
  // waiters of queues where messages became visible. Called by a background thread.
  void Sweep();

 private:
  struct MoveTask {
    std::string handle;
    std::string source_arn;
    std::string destination_arn;  // "" = each message's original source queue
    int64_t max_per_second = 0;   // 0 = as fast as possible
    std::string status = "RUNNING";  // RUNNING, COMPLETED, CANCELLING, CANCELLED, FAILED
    int64_t moved = 0;
    int64_t to_move = 0;
    int64_t started_ms = 0;
    std::string failure;
  };
  using QueuePtr = std::shared_ptr<Queue>;

  Result<QueuePtr> Find(const Scope& s, const Json& in) const;
  QueuePtr FindByArn(const std::string& arn) const;
  // The RedriveAllowPolicy check of a source queue `source_arn` naming `dlq` (takes dlq.mu).
  static Status CheckDeadLetterAllows(Queue& dlq, const std::string& dlq_arn,
                                      const std::string& redrive_policy,
                                      const std::string& source_arn);
  std::string UrlOf(const Scope& s, const Queue& q) const;
  // Persists the queue record: queued while `lock` (on q.mu) is held, so record writes commit in
  // the order of the changes; then releases `lock` and waits for the commit.
  Status SaveQueueLocked(std::unique_lock<std::mutex>& lock, Queue& q);
  Status SaveNewQueue(const Queue& q);  // persists a queue no other thread sees yet

  // The SendInput of a SendMessage(Batch) entry (`trace` points into `in`).
  static SendInput InputOf(std::string id, const Json& in);
  struct SendJob;
  // Validates, deduplicates, commits and indexes up to 10 messages in one store write; `done`
  // receives one result per entry (the output entry, or null without `outputs`; or an error), as
  // the Done of the async forms.
  void Send(const Scope& s, const std::shared_ptr<Queue>& q, std::vector<SendInput> entries,
            bool outputs, SendDone done);
  // Leases the messages of `job` to idle long polls of `q` (standard queues), adding their
  // receive state to `puts`, the send's write. Call with q.mu held, when nothing is visible.
  static void HandOff(Queue& q, SendJob& job, int64_t now,
                      std::vector<std::pair<std::string, std::string>>& puts);
  // The commit callback of Send: indexes the messages, wakes long polls, answers.
  void SendCommitted(const std::shared_ptr<Queue>& q, const std::shared_ptr<SendJob>& job,
                     Status st);
  // Removes a message from the index (not the store); `deleted` says whether it was there.
  Result<Json> DeleteOne(Queue& q, const std::string& handle, bool* deleted);
  // Deletes the records of messages already removed from the index; `done` as Done.
  void DeleteCommitted(const std::shared_ptr<Queue>& q, std::vector<uint64_t> seqs,
                       std::function<void(Status)> done);
  Status ChangeVisibilityOne(Queue& q, const std::string& handle, int64_t timeout_s);
  // What a receive took from the index: the answer, and the receive state to commit first.
  struct Taken {
    ReceiveOutcome outcome;
    std::vector<std::pair<std::string, std::string>> state_puts;
    std::shared_ptr<Queue> source;
    std::shared_ptr<Queue> dlq;                   // set with to_dlq
    std::vector<std::unique_ptr<Message>> to_dlq;  // past maxReceiveCount: to redrive
  };
  // Leases a message to a receive: counts the receive, draws a new receipt nonce, hides it for
  // `visibility_s`. Call with the queue's mutex held (or on a message no other thread sees).
  static void LeaseMessage(Message& m, int64_t now_ms, int64_t visibility_s);
  // The ReceiveMessage output entry of a leased message, as `spec` asked for it.
  static Json ReceivedEntry(const Queue& q, const Message& m, const ReceiveSpec& spec);
  Result<Taken> TakeMessages(const Scope& s, const Json& in, const std::shared_ptr<Waiter>& waiter);
  // Commits the receive state of what was taken, then answers.
  void CommitReceive(std::shared_ptr<Taken> taken, ReceiveDone done);
  // Moves messages (already out of src's index) into `dst` (redrive or move task) with one store
  // write; indexes them there after the commit. `done` as Done.
  void MoveMessagesAsync(const std::shared_ptr<Queue>& src, const std::shared_ptr<Queue>& dst,
                         std::vector<std::unique_ptr<Message>> msgs, bool from_redrive,
                         std::function<void(Status)> done);
  Status MoveMessages(const std::shared_ptr<Queue>& src, const std::shared_ptr<Queue>& dst,
                      std::vector<std::unique_ptr<Message>> msgs, bool from_redrive);
  void WakeWaiters(Queue& q);
  Status LoadMoveTasks();
  Status SaveTask(const MoveTask& t);

  store::Store& store_;
  const Clock& clock_;
  mutable std::shared_mutex mu_;  // guards queues_ and tasks_
  std::unordered_map<std::string, QueuePtr> queues_;  // by "account/region/name"
  std::unordered_map<std::string, std::shared_ptr<MoveTask>> tasks_;  // by handle
};

}  // namespace stratus::services::sqs

#pragma once
// Durable, at-least-once delivery of published messages to subscriptions.
//
// Two paths:
//  * SQS subscriptions of a publish are delivered before the publish is acknowledged
//    (DeliverNow): the sends (aws::QueueSink, or SendMessageBatch calls) are queued right away, so their commits share the
//    group commit the publish would have waited for; the publish answers once every SQS send is
//    durable, or — for the subscriptions whose send failed — once a retry item is. Nothing is
//    left to redeliver, so a `kill -9` neither loses nor duplicates these deliveries.
//  * Every other subscription (lambda, http/https, email, sms) gets one item per message in the
//    store queue "sns/deliveries", written in the same Write that acknowledges the publish. The
//    item is enqueued invisible for kOwnershipMs and handed straight to the dispatcher in memory;
//    when every subscription has its copy, one Write removes the item (and enqueues a retry item
//    per failed subscription, visible after its backoff). A background loop leases retry items
//    and, at start-up, every item a previous process left behind — so a `kill -9` loses nothing
//    acknowledged; it may deliver some of these messages twice (at-least-once).
//
// Protocols: sqs (one aws::QueueSink::Send per queue and publish, answered asynchronously after
// the SQS commit; SendMessageBatch through OperationCaller, 10 per call, until SQS has started
// and whenever IAM enforcement must evaluate the queue's policy), lambda (Invoke with InvocationType Event) and
// http/https (the core HttpClient, signed envelopes) — these two are built and started on the
// worker pool, so a slow endpoint or the RSA signing never holds up the dispatcher thread —,
// email, email-json and sms (recorded under sns/sent/, listed at GET /_stratus/sns/sent). After
// the last retry a message goes to the subscription's dead-letter queue (RedrivePolicy), if any.
// Every delivery continues the publisher's trace.
//
// Thread-safe. Owns its dispatcher thread and recovery thread (Start/Stop); deliveries complete
// from other threads (the store's writer, the HTTP sender), which only queue the finished work.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aws/framework/service.h"
#include "core/http_client.h"
#include "core/json.h"
#include "services/sns/signer.h"
#include "services/sns/topics.h"

namespace stratus::services::sns {

// One published message (what the durable delivery item holds).
struct Notification {
  std::string kind = "Notification";  // or "SubscriptionConfirmation"
  std::string message_id;
  std::string topic_arn;
  std::string message;
  Json structured;                    // MessageStructure=json: protocol -> message; else null
  std::string subject;
  Json attributes = Json::object();   // Publish MessageAttributes (canonical JSON)
  std::string timestamp;              // ISO 8601 with milliseconds
  std::string group;                  // FIFO
  std::string dedup;
  std::string sequence;
  std::string trace_header;
  std::string token;                  // SubscriptionConfirmation, UnsubscribeConfirmation
  // UnsubscribeConfirmation: the removed subscription's protocol and endpoint (it is no longer
  // in the registry when the message is delivered).
  std::string protocol;
  std::string endpoint;
  std::vector<std::string> subscriptions;
  int attempt = 0;
};

std::string EncodeNotification(const Notification& n);
bool DecodeNotification(std::string_view text, Notification& n);

inline constexpr std::string_view kDeliveryQueue = "sns/deliveries";
inline constexpr std::string_view kSentPrefix = "sns/sent/";
// How long the dispatcher owns a freshly published item before the recovery loop may take it.
inline constexpr int64_t kOwnershipMs = 120'000;

class Dispatcher {
 public:
  Dispatcher(aws::ServiceContext& context, Registry& registry, const Signer& signer);
  ~Dispatcher();

  void Start();
  void Stop();

  // Hands committed items to the dispatcher (the fast path after a publish), in order.
  void Dispatch(int64_t item_id, Notification n);
  void Dispatch(const std::vector<int64_t>& item_ids, std::vector<Notification> notes);

  // Delivers `notes` — whose `subscriptions` must all be sqs subscriptions — at once, from the
  // calling thread (it builds envelopes, and signs them for subscriptions without raw delivery).
  // `done` is called once, from any thread (possibly before DeliverNow returns): Ok when every
  // send is durable or a retry item for every failed one is; else the error of that write.
  // Calls made in order for one queue keep that order in the queue (FIFO topics).
  void DeliverNow(std::vector<Notification> notes, std::function<void(Status)> done);

  // The SigningCertURL and the base of Subscribe/Unsubscribe URLs.
  std::string BaseUrl() const;
  std::string CertUrl() const;
  // The JSON message (envelope) an http/https/sqs/email-json subscriber receives.
  // `signature` is the precomputed signature of the same fields, if the caller has one (the
  // signed fields do not depend on the subscription, so one signature serves every subscriber).
  Json Envelope(const Notification& n, const Subscription& s, const std::string& message,
                const std::string& signature_version, const std::string* signature = nullptr) const;

 private:
  struct Work;
  struct SqsItem;
  using Signatures = std::map<std::string, std::string>;  // message text -> its signature
  void Loop();
  void RecoveryLoop();
  void Process(std::vector<std::shared_ptr<Work>>& batch);
  void Finish(const std::shared_ptr<Work>& w);
  void Finalize(std::vector<std::shared_ptr<Work>>& done);
  void Fail(const std::shared_ptr<Work>& w, const std::string& sub_arn, const std::string& reason);
  void Succeed(const std::shared_ptr<Work>& w);
  // Delivers `by_queue` (queue ARN -> deliveries, in order): straight into the queues through
  // ServiceClients::queues when SQS runs and IAM is not enforcing, else as SendMessageBatch
  // calls through the front door (which starts SQS and evaluates queue policies).
  void SendToSqs(std::map<std::string, std::vector<SqsItem>>& by_queue);
  void EnqueueDirect(aws::QueueSink& sink, std::map<std::string, std::vector<SqsItem>>& by_queue);
  void CallSendMessageBatch(std::map<std::string, std::vector<SqsItem>>& by_queue);
  // Builds one SQS delivery's message.
  aws::QueueSink::Message SqsMessage(const Notification& n, const Subscription& s,
                                     const std::string& version, Signatures& signatures) const;
  // The envelope text (signature shared through `signatures`).
  std::string EnvelopeText(const Notification& n, const Subscription& s, const std::string& text,
                           const std::string& version, Signatures& signatures) const;
  // Lambda and http/https deliveries of one message (on a worker).
  void DeliverRemote(const std::shared_ptr<Work>& w,
                     const std::vector<std::shared_ptr<const Subscription>>& subs,
                     const std::string& version);
  // The subscription a delivery goes to; for an UnsubscribeConfirmation, the removed one
  // rebuilt from the message. Null when it is gone.
  std::shared_ptr<const Subscription> SubscriptionFor(const Notification& n,
                                                      const std::string& arn) const;
  std::string SignatureVersionOf(const std::string& topic_arn) const;
  // Retry items (payload, visible at) for the failures of `w`; sends to the dead-letter queue
  // the messages past their last retry.
  void CollectRetries(const Work& w, int64_t now,
                      std::vector<std::pair<std::string, int64_t>>& retries);
  void ToDeadLetter(const Notification& n, const Subscription& s, const std::string& reason);
  std::string MessageFor(const Notification& n, const std::string& protocol) const;
  aws::InternalCall CallFor(const Notification& n, const std::string& arn) const;

  aws::ServiceContext& context_;
  Registry& registry_;
  const Signer& signer_;
  HttpClient http_;  // http/https deliveries (one io thread; deadlines per request)
  std::mutex mu_;  // guards queue_, finished_, stopping_, remote_in_flight_
  std::condition_variable cv_;
  std::condition_variable recovery_cv_;  // wakes the recovery loop (stop only)
  std::deque<std::shared_ptr<Work>> queue_;
  std::vector<std::shared_ptr<Work>> finished_;
  bool stopping_ = false;
  int remote_in_flight_ = 0;  // DeliverRemote tasks queued or running (Stop waits for them)
  std::condition_variable remote_cv_;
  std::vector<std::thread> threads_;
  std::thread recovery_;
  std::atomic<int64_t> sent_seq_{0};
};

}  // namespace stratus::services::sns

#pragma once
// S3 event notifications: which of a bucket's notification configurations an object change
// matches (event name patterns, prefix/suffix filters), the event record AWS sends, and the
// durable queue the records wait in until delivered to SQS, SNS or Lambda.
//
// A change and its events commit in one transaction (QueueEvents runs inside the object's
// Write), so an acknowledged PUT's event survives kill -9. EventDelivery leases queued events
// and calls the destination service in-process (sqs SendMessage, sns Publish, lambda Invoke with
// InvocationType Event); a failure (such as a destination service not built yet) is logged and
// retried with backoff, and given up after kMaxDeliveryAttempts.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "aws/framework/service.h"
#include "core/json.h"
#include "core/result.h"
#include "services/s3/records.h"
#include "services/s3/s3_store.h"
#include "store/store.h"

namespace stratus::services::s3 {

inline constexpr int kMaxDeliveryAttempts = 50;

// Validates a NotificationConfiguration (destination ARNs, event names, filter rules) as
// PutBucketNotificationConfiguration does; InvalidArgument names the problem.
Status ValidateNotificationConfiguration(const Json& config);

// True when `pattern` ("s3:ObjectCreated:*", "s3:ObjectRemoved:Delete") covers `event_name`
// ("ObjectCreated:Put").
bool EventMatches(const std::string& pattern, const std::string& event_name);

// The event record (the element of "Records") for a change of `key`.
Json EventRecord(const Bucket& b, const std::string& event_name, const std::string& key,
                 const ObjectRecord& rec, const RequestInfo& req, const std::string& config_id);

// Inside an object change's transaction: enqueues one delivery per matching configuration.
Status QueueEvents(store::WriteTxn& txn, const Bucket& b, const std::string& event_name,
                   const std::string& key, const ObjectRecord& rec, const RequestInfo& req);

// Inside the transaction that stores a new notification configuration: queues the
// s3:TestEvent S3 sends to each SQS queue and SNS topic it names (not with
// SkipDestinationValidation).
Status QueueTestEvents(store::WriteTxn& txn, const Bucket& b, const Json& config,
                       const RequestInfo& req);

class EventDelivery {
 public:
  EventDelivery(store::Store& store, aws::ServiceClients& clients, const Clock& clock);
  ~EventDelivery();
  void Start();
  void Stop();
  // Delivers every event due now (the loop calls it; tests call it directly). Returns how many
  // were delivered.
  int64_t DeliverDue();

 private:
  void Loop();
  Status Deliver(const Json& item);

  store::Store& store_;
  aws::ServiceClients& clients_;
  const Clock& clock_;
  std::unique_ptr<store::Store::Watch> watch_;
  std::mutex mu_;  // guards stopping_, wake_
  std::condition_variable cv_;
  bool stopping_ = false;
  bool wake_ = false;
  std::thread thread_;
};

}  // namespace stratus::services::s3

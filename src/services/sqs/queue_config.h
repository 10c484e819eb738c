#pragma once
// Queue attributes: the names SQS knows, their defaults, validation (with AWS's errors) and the
// parsed form the engine works with. Pure functions, thread-safe.
#include <cstdint>
#include <string>

#include "core/json.h"
#include "core/result.h"

namespace stratus::services::sqs {

inline constexpr int64_t kMaxMessageBytes = 262144;   // 256 KiB, body + attributes
inline constexpr int64_t kMaxBatchEntries = 10;
inline constexpr int64_t kDedupWindowMs = 5 * 60 * 1000;
inline constexpr int64_t kMaxVisibilitySeconds = 43200;
inline constexpr int64_t kMaxDelaySeconds = 900;
inline constexpr int64_t kMaxWaitSeconds = 20;

// The parsed, effective configuration of a queue.
struct QueueConfig {
  int64_t visibility_timeout_s = 30;
  int64_t delay_s = 0;
  int64_t retention_s = 345600;
  int64_t max_message_bytes = kMaxMessageBytes;
  int64_t receive_wait_s = 0;
  bool fifo = false;
  bool content_based_dedup = false;
  bool dedup_scope_group = false;      // DeduplicationScope=messageGroup
  bool throughput_per_group = false;   // FifoThroughputLimit=perMessageGroupId
  std::string dlq_arn;                 // RedrivePolicy.deadLetterTargetArn
  int64_t max_receive_count = 0;       // RedrivePolicy.maxReceiveCount (0 = no redrive)
};

// Validates attributes given to CreateQueue/SetQueueAttributes (a map of name -> string) for a
// queue that is FIFO or not; `creating` allows FifoQueue. Errors: InvalidAttributeName for
// unknown names (or FIFO-only names on a standard queue), InvalidAttributeValue for bad values.
Status ValidateAttributes(const Json& attributes, bool fifo, bool creating);

// Whether the dead-letter queue `dlq_arn`, whose RedriveAllowPolicy is `allow_policy` ("" when
// unset: allowAll), lets the queue `source_arn` name it in `redrive_policy`. denyAll, or byQueue
// without `source_arn` among sourceQueueArns, is InvalidParameterValue.
Status CheckRedriveAllowed(const std::string& redrive_policy, const std::string& dlq_arn,
                           const std::string& allow_policy, const std::string& source_arn);

// The effective configuration from the attributes that were set.
QueueConfig ParseConfig(const Json& attributes);

// The attributes GetQueueAttributes shows for a queue that set `attributes`: every settable
// attribute with its default filled in (the computed ones are added by the engine).
Json WithDefaults(const Json& attributes, bool fifo);

// True for the attribute names GetQueueAttributes accepts (QueueAttributeName).
bool IsKnownAttributeName(const std::string& name);

}  // namespace stratus::services::sqs

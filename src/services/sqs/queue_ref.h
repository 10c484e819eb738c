#pragma once
// Naming queues: URLs, ARNs and receipt handles. Pure functions, thread-safe.
//
// A queue is named by account, region and name. Accepted wherever an operation takes a QueueUrl:
//   http://localhost:4566/000000000000/orders            (any host; region from the call)
//   http://sqs.eu-west-1.localhost:4566/000000000000/orders  (region from the sqs.<region>. host)
//   https://sqs.eu-west-1.amazonaws.com/000000000000/orders
//   /000000000000/orders                                 (a bare path)
//   arn:aws:sqs:eu-west-1:000000000000:orders           (in-process callers: SNS, S3, Lambda
//                                                          pass the ARN they were configured with)
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stratus::services::sqs {

struct QueueRef {
  std::string account;
  std::string region;
  std::string name;
};

// Parses a queue URL or ARN; `default_region` fills in a region the URL does not name, and
// `default_account` an account it does not name. nullopt when it names no queue.
std::optional<QueueRef> ParseQueueRef(std::string_view url_or_arn, std::string_view default_region,
                                      std::string_view default_account);

// arn:aws:sqs:<region>:<account>:<name>
std::string QueueArn(const QueueRef& q);

// <base>/<account>/<name>; `base` is "http://host:port" without a trailing slash.
std::string QueueUrl(std::string_view base, const QueueRef& q);

// A valid queue name: 1..80 of [A-Za-z0-9_-], plus ".fifo" at the end for FIFO queues.
bool IsValidQueueName(std::string_view name, bool fifo);

// What a receipt handle carries: which queue incarnation, which message, which receive.
struct Receipt {
  uint64_t queue_id = 0;
  uint64_t seq = 0;
  uint64_t nonce = 0;
};
std::string EncodeReceipt(const Receipt& r);
std::optional<Receipt> DecodeReceipt(std::string_view handle);

}  // namespace stratus::services::sqs

#pragma once
// Amazon SNS (query protocol): topics (standard and FIFO), subscriptions (sqs, lambda,
// http/https, email, email-json, sms), filter policies, Publish/PublishBatch with durable,
// at-least-once delivery; see docs/sns.md. Serves its signing certificate and the recorded
// email/sms messages under /_stratus/sns/.
#include <memory>

#include "aws/framework/service.h"

namespace stratus::services::sns {

std::unique_ptr<aws::Service> MakeSnsService(aws::ServiceContext& context);

}  // namespace stratus::services::sns

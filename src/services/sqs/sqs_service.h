#pragma once
// Amazon SQS, served over json (current SDKs) and query (botocore 1.29, aws CLI 2.9, older SDKs).
// Queues, messages, long polling, FIFO queues, dead-letter queues and redrive; see docs/sqs.md.
// Other services reach it through OperationCaller ("sqs", ...), with QueueUrl as a URL or an ARN.
#include <memory>

#include "aws/framework/service.h"

namespace stratus::services::sqs {

std::unique_ptr<aws::Service> MakeSqsService(aws::ServiceContext& context);

}  // namespace stratus::services::sqs

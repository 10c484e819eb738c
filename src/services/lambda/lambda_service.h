#pragma once
// AWS Lambda (rest-json): functions, versions, aliases, layers, function URLs, concurrency,
// resource policies, tags, event invoke configs, event source mappings, and invocations
// (RequestResponse, Event, DryRun) run by real processes speaking the Lambda Runtime API.
// docs/lambda.md says what works and what does not.
#include <memory>

#include "aws/framework/service.h"

namespace stratus::services::lambda {

std::unique_ptr<aws::Service> MakeLambdaService(aws::ServiceContext& context);

}  // namespace stratus::services::lambda

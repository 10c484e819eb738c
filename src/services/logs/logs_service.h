#pragma once
// CloudWatch Logs (json 1.1): log groups, streams, events, retention, tags and filter patterns.
// Also the in-process LogSink through which other services (Lambda) write logs.
#include <memory>

#include "aws/framework/service.h"

namespace stratus::services::logs {

std::unique_ptr<aws::Service> MakeLogsService(aws::ServiceContext& context);

}  // namespace stratus::services::logs

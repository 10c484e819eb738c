#pragma once
// STS (query protocol). In the foundation: GetCallerIdentity. The rest of STS (AssumeRole,
// web identity, session tokens) arrives with IAM.
#include <memory>

#include "aws/framework/service.h"

namespace stratus::services::sts {

std::unique_ptr<aws::Service> MakeStsService(aws::ServiceContext& context);

// The GetCallerIdentity answer for a caller (pure; the handler only adapts).
Json CallerIdentity(const aws::Caller& caller);

}  // namespace stratus::services::sts

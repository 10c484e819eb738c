#pragma once
// STS (query protocol): GetCallerIdentity (the caller the front door's authorizer established),
// AssumeRole, AssumeRoleWithWebIdentity, GetSessionToken and GetFederationToken issuing
// temporary credentials that expire (sessions.h). AssumeRoleWithSAML, GetAccessKeyInfo,
// DecodeAuthorizationMessage and AssumeRoot answer NotImplemented (docs/iam.md).
#include <memory>

#include "aws/framework/service.h"

namespace stratus::services::sts {

std::unique_ptr<aws::Service> MakeStsService(aws::ServiceContext& context);

// The GetCallerIdentity answer for a caller (pure; the handler only adapts).
Json CallerIdentity(const aws::Caller& caller);

}  // namespace stratus::services::sts

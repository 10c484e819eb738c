#pragma once
// IAM (query protocol, iam-2010-05-08): users, groups, roles, managed and inline policies with
// versions, access keys, instance profiles, OIDC/SAML providers, tags, the policy simulator —
// and the front door's Authorizer (enforcement, off unless --enforce-iam). docs/iam.md.
#include <memory>

#include "aws/framework/service.h"

namespace stratus::services::iam {

// Builds the IAM service and sets context.clients.authorizer to its authorizer.
std::unique_ptr<aws::Service> MakeIamService(aws::ServiceContext& context);

}  // namespace stratus::services::iam

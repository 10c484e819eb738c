#pragma once
// What an operation is, in IAM's terms: the action it is authorized as ("sqs:SendMessage",
// "s3:ListBucket" for ListObjectsV2, "lambda:InvokeFunction" for Invoke, "apigateway:POST"),
// the resource ARNs it acts on, built from its input members by a small declarative table per
// service (QueueUrl → arn:aws:sqs:<region>:<account>:<name>, TableName → ...:table/<name>), and
// the service-specific condition keys it carries (s3:prefix, sts:ExternalId, aws:RequestTag/...).
//
// The table lives here, beside the authorizer, rather than in each service's folder: services stay
// unaware of IAM (they are built by others in parallel), and adding a service is adding rows.
// An operation the table does not describe is authorized on "*" under "<prefix>:<Operation>".
//
// Also: how to read a resource's resource-based policy through its service's own Get*Policy
// operation (Lambda GetPolicy, SQS GetQueueAttributes, SNS GetTopicAttributes, S3
// GetBucketPolicy), via the OperationCaller like any other service-to-service call.
//
// Pure functions; thread-safe.
#include <optional>
#include <string>
#include <vector>

#include "aws/framework/service.h"
#include "identity/policy/context.h"

namespace stratus::services::iam {

struct OperationTarget {
  std::string action;                  // "sqs:SendMessage"
  std::vector<std::string> resources;  // ARNs; {"*"} when the operation names none
};

// The IAM service prefix of a stratus service ("stepfunctions" → "states").
std::string ActionPrefix(const std::string& service);

OperationTarget TargetOf(const std::string& service, const aws::Operation& op, const Json& input,
                         const std::string& account, const std::string& region);

// Adds the condition keys that come from the operation's input (aws:RequestTag/<k>,
// aws:TagKeys, s3:prefix, s3:delimiter, s3:max-keys, sts:ExternalId, sts:RoleSessionName,
// sts:SourceIdentity, sts:TransitiveTagKeys).
void AddInputKeys(const std::string& service, const Json& input,
                  identity::policy::RequestContext& context);

// The in-process call that reads `resource`'s policy, when its service has resource policies.
std::optional<aws::InternalCall> ResourcePolicyCall(const std::string& resource,
                                                    const Json& input,
                                                    const std::string& account,
                                                    const std::string& region);
// The policy document in that call's output ("" when there is none).
std::string ResourcePolicyFrom(const std::string& resource, const aws::OperationOutput& output);

}  // namespace stratus::services::iam

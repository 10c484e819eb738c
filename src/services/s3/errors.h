#pragma once
// S3's errors, named, worded and given the HTTP status exactly as S3 answers them (the codec
// writes <Error><Code><Message>...<RequestId><HostId>, plus the extra fields set here:
// <BucketName>, <Key>, <Condition>, ...).
#include <cstdint>
#include <string>

#include "core/result.h"

namespace stratus::services::s3 {

Error NoSuchBucket(const std::string& bucket);
Error NoSuchKey(const std::string& key);
Error NoSuchVersion(const std::string& key, const std::string& version_id);
Error InvalidVersionId();
Error NoSuchUpload(const std::string& upload_id);
Error BucketAlreadyExists(const std::string& bucket);
Error BucketAlreadyOwnedByYou(const std::string& bucket);
Error BucketNotEmpty(const std::string& bucket, bool versioned);
Error InvalidBucketName(const std::string& bucket);
Error KeyTooLong(size_t size);
Error InvalidRange(const std::string& range, uint64_t size);
Error PreconditionFailed(const std::string& condition);
Error InvalidPart();
Error InvalidPartOrder();
Error EntityTooSmall(uint64_t size);
Error EntityTooLarge(uint64_t size, uint64_t max);
Error MalformedXml();
Error BadDigest(const std::string& what);
Error InvalidDigest();
Error InvalidArgument(const std::string& message, const std::string& name = {},
                      const std::string& value = {});
Error InvalidRequest(const std::string& message);
Error MethodNotAllowed(const std::string& method, const std::string& resource_type);
Error NotImplemented(const std::string& what);
Error AccessDenied(const std::string& message);
Error InvalidLocationConstraint();
Error IllegalLocationConstraint(const std::string& region, const std::string& constraint);
Error InvalidStorageClass();
Error InvalidTag(const std::string& message);
Error NoSuchConfiguration(const std::string& code, const std::string& message,
                          const std::string& bucket);
Error InvalidPolicyDocument(const std::string& message);
Error ConditionalRequestConflict();

}  // namespace stratus::services::s3

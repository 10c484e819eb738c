#include "services/s3/errors.h"

namespace stratus::services::s3 {

Error NoSuchBucket(const std::string& bucket) {
  return Error("NoSuchBucket", "The specified bucket does not exist", 404).With("BucketName", bucket);
}
Error NoSuchKey(const std::string& key) {
  return Error("NoSuchKey", "The specified key does not exist.", 404).With("Key", key);
}
Error NoSuchVersion(const std::string& key, const std::string& version_id) {
  return Error("NoSuchVersion", "The specified version does not exist.", 404)
      .With("Key", key)
      .With("VersionId", version_id);
}
Error InvalidVersionId() {
  return Error("InvalidArgument", "Invalid version id specified", 400)
      .With("ArgumentName", "versionId");
}
Error NoSuchUpload(const std::string& upload_id) {
  return Error("NoSuchUpload",
               "The specified upload does not exist. The upload ID may be invalid, or the upload "
               "may have been aborted or completed.",
               404)
      .With("UploadId", upload_id);
}
Error BucketAlreadyExists(const std::string& bucket) {
  return Error("BucketAlreadyExists",
               "The requested bucket name is not available. The bucket namespace is shared by all "
               "users of the system. Please select a different name and try again.",
               409)
      .With("BucketName", bucket);
}
Error BucketAlreadyOwnedByYou(const std::string& bucket) {
  return Error("BucketAlreadyOwnedByYou",
               "Your previous request to create the named bucket succeeded and you already own it.",
               409)
      .With("BucketName", bucket);
}
Error BucketNotEmpty(const std::string& bucket, bool versioned) {
  return Error("BucketNotEmpty",
               versioned ? "The bucket you tried to delete is not empty. You must delete all "
                           "versions in the bucket."
                         : "The bucket you tried to delete is not empty",
               409)
      .With("BucketName", bucket);
}
Error InvalidBucketName(const std::string& bucket) {
  return Error("InvalidBucketName", "The specified bucket is not valid.", 400)
      .With("BucketName", bucket);
}
Error KeyTooLong(size_t size) {
  return Error("KeyTooLongError", "Your key is too long", 400)
      .With("Size", std::to_string(size))
      .With("MaxSizeAllowed", "1024");
}
Error InvalidRange(const std::string& range, uint64_t size) {
  return Error("InvalidRange", "The requested range is not satisfiable", 416)
      .With("RangeRequested", range)
      .With("ActualObjectSize", std::to_string(size));
}
Error PreconditionFailed(const std::string& condition) {
  return Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
               412)
      .With("Condition", condition);
}
Error InvalidPart() {
  return Error("InvalidPart",
               "One or more of the specified parts could not be found.  The part may not have been "
               "uploaded, or the specified entity tag may not match the part's entity tag.",
               400);
}
Error InvalidPartOrder() {
  return Error("InvalidPartOrder",
               "The list of parts was not in ascending order. Parts must be ordered by part number.",
               400);
}
Error EntityTooSmall(uint64_t size) {
  return Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size",
               400)
      .With("ProposedSize", std::to_string(size))
      .With("MinSizeAllowed", "5242880");
}
Error EntityTooLarge(uint64_t size, uint64_t max) {
  return Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400)
      .With("ProposedSize", std::to_string(size))
      .With("MaxSizeAllowed", std::to_string(max));
}
Error MalformedXml() {
  return Error("MalformedXML",
               "The XML you provided was not well-formed or did not validate against our "
               "published schema",
               400);
}
Error BadDigest(const std::string& what) {
  if (what == "Content-MD5") {
    return Error("BadDigest", "The Content-MD5 you specified did not match what we received.", 400);
  }
  return Error("BadDigest", "The " + what + " you specified did not match the calculated checksum.",
               400);
}
Error InvalidDigest() {
  return Error("InvalidDigest", "The Content-MD5 you specified is not valid.", 400);
}
Error InvalidArgument(const std::string& message, const std::string& name,
                      const std::string& value) {
  Error e("InvalidArgument", message, 400);
  if (!name.empty()) {
    e.fields["ArgumentName"] = name;
    e.fields["ArgumentValue"] = value;
  }
  return e;
}
Error InvalidRequest(const std::string& message) {
  return Error("InvalidRequest", message, 400);
}
Error MethodNotAllowed(const std::string& method, const std::string& resource_type) {
  return Error("MethodNotAllowed", "The specified method is not allowed against this resource.", 405)
      .With("Method", method)
      .With("ResourceType", resource_type);
}
Error NotImplemented(const std::string& what) {
  return Error("NotImplemented",
               "A header you provided implies functionality that is not implemented: " + what +
                   " (see docs/s3.md)",
               501, false);
}
Error AccessDenied(const std::string& message) { return Error("AccessDenied", message, 403); }
Error InvalidLocationConstraint() {
  return Error("InvalidLocationConstraint", "The specified location-constraint is not valid", 400);
}
Error IllegalLocationConstraint(const std::string& region, const std::string& constraint) {
  if (constraint.empty()) {
    return Error("IllegalLocationConstraintException",
                 "The unspecified location constraint is incompatible for the region specific "
                 "endpoint this request was sent to.",
                 400);
  }
  return Error("IllegalLocationConstraintException",
               "The " + constraint + " location constraint is incompatible for the region "
               "specific endpoint this request was sent to.",
               400);
}
Error InvalidStorageClass() {
  return Error("InvalidStorageClass", "The storage class you specified is not valid", 400);
}
Error InvalidTag(const std::string& message) { return Error("InvalidTag", message, 400); }
Error NoSuchConfiguration(const std::string& code, const std::string& message,
                          const std::string& bucket) {
  return Error(code, message, 404).With("BucketName", bucket);
}
Error InvalidPolicyDocument(const std::string& message) {
  return Error("MalformedPolicy", message, 400);
}
Error ConditionalRequestConflict() {
  return Error("ConditionalRequestConflict",
               "A conflicting operation occurred. If using PutObject you can retry the request. If "
               "using multipart upload you should initiate another CreateMultipartUpload request "
               "and re-upload each part.",
               409);
}

}  // namespace stratus::services::s3

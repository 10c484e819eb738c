#pragma once
// Internal: how an object request's members become the fields of its record, shared by the
// object operations (objects.cc, put_object.cc). Pure functions.
#include <optional>
#include <string>

#include "core/json.h"
#include "core/result.h"
#include "services/s3/checksums.h"

namespace stratus::services::s3 {

// The content headers stored with an object (ContentType defaulted, aws-chunked dropped).
Json HeadersFrom(const Json& input);
// User metadata with lowercase names.
Json MetadataFrom(const Json& input);
// x-amz-tagging (a query string) as {key: value}; InvalidTag past S3's limits.
Result<Json> ParseTagging(const std::string& text);
// Adds Checksum<ALG> and ChecksumType to an output, when the object has a checksum.
void AddChecksum(Json& out, const std::optional<Checksum>& c);
// KeyTooLongError / InvalidArgument for keys S3 refuses.
Status CheckKey(const std::string& key);

}  // namespace stratus::services::s3

#pragma once
// Bucket naming and addressing rules. Pure functions.
#include <optional>
#include <string>
#include <string_view>

namespace stratus::services::s3 {

// AWS's rules for new bucket names: 3-63 characters of a-z, 0-9, '.', '-'; starting and ending
// with a letter or digit; no "..", no IPv4 address form, none of the reserved prefixes
// (xn--, sthree-, amzn-s3-demo-) or suffixes (-s3alias, --ol-s3, .mrap, --x-s3, --table-s3).
bool ValidBucketName(std::string_view name);

// A plausible AWS region name ("us-east-1", "eu-central-2", "us-gov-west-1").
bool ValidRegionName(std::string_view region);

// How a Host header addresses S3.
struct HostStyle {
  enum Kind { kPath, kVirtual, kWebsite } kind = kPath;
  std::string bucket;  // kVirtual, kWebsite
};
// Virtual-hosted style: "<bucket>.s3.<anything>" or "<bucket>.s3-<region>.<anything>"
// (bucket.s3.localhost, bucket.s3.localhost.localstack.cloud, bucket.s3.eu-west-1.amazonaws.com);
// website endpoints: "<bucket>.s3-website.<anything>" or "<bucket>.s3-website-<region>....".
// Anything else (an IP, localhost, s3.localhost...) is path style. The port is ignored.
HostStyle ParseHost(std::string_view host);

}  // namespace stratus::services::s3

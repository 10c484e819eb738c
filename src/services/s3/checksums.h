#pragma once
// Object integrity as S3 computes it: ETags (MD5 hex, and md5-of-md5s "-N" for multipart
// uploads), Content-MD5 checks, and the flexible checksums (CRC32, CRC32C, CRC64NVME, SHA1,
// SHA256) sent as x-amz-checksum-* headers or aws-chunked trailers. Pure functions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace stratus::services::s3 {

// The algorithms, as S3 names them ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256").
inline constexpr std::string_view kChecksumAlgorithms[] = {"CRC32", "CRC32C", "CRC64NVME", "SHA1",
                                                           "SHA256"};

// The input/output member carrying an algorithm's value ("CRC32" -> "ChecksumCRC32").
std::string ChecksumMember(std::string_view algorithm);
// Base64 of the raw digest of `data` under `algorithm` (big-endian for the CRCs), as S3 sends it.
std::string ComputeChecksum(std::string_view algorithm, std::string_view data);
// CRC-64/NVME (the newest SDK default), reflected, init and xorout all ones. `previous` is the
// CRC of the bytes before `data` (0 at the start), so a body can be hashed piece by piece.
uint64_t Crc64Nvme(std::string_view data, uint64_t previous = 0);
// The base64 value S3 sends for a CRC (CRC32, CRC32C: 4 bytes; CRC64NVME: 8, big-endian).
std::string ChecksumValue(std::string_view algorithm, uint64_t crc);

// A checksum of a stored object: the algorithm, its base64 value and whether it is the
// object's whole checksum (FULL_OBJECT) or a checksum of the parts' checksums (COMPOSITE, "-N").
struct Checksum {
  std::string algorithm;
  std::string value;
  std::string type = "FULL_OBJECT";
};

// The digests of a request body that its integrity claims are checked against: computed from
// the bytes in memory, or while the body streamed to disk (streamed_body.h).
class BodyDigests {
 public:
  virtual ~BodyDigests() = default;
  virtual std::string Md5() const = 0;  // raw 16 bytes
  // Base64 of the digest under `algorithm` as ComputeChecksum gives it; nullopt when it was not
  // computed (a streamed body whose request did not announce the algorithm).
  virtual std::optional<std::string> Compute(std::string_view algorithm) const = 0;
};

// Checks the integrity claims of a request body: Content-MD5 (InvalidDigest / BadDigest) and
// any x-amz-checksum-* member of `input` (BadDigest, or InvalidRequest when several are sent).
// Computes the checksum named by ChecksumAlgorithm (x-amz-sdk-checksum-algorithm) when its value
// was not sent. Returns the checksum to store with the object, if any.
Result<std::optional<Checksum>> VerifyBodyIntegrity(const Json& input, std::string_view body);
Result<std::optional<Checksum>> VerifyBodyIntegrity(const Json& input, const BodyDigests& body);

// The ETag of a simple object: the MD5 hex, without quotes.
std::string SimpleEtag(std::string_view body);
// The ETag of a multipart object from its parts' ETags (hex, quotes allowed): md5 of the
// concatenated binary MD5s, "-" and the part count.
std::string MultipartEtag(const std::vector<std::string>& part_etags);
// Removes surrounding quotes (and a W/ prefix) from an ETag.
std::string UnquoteEtag(std::string_view etag);
inline std::string QuoteEtag(std::string_view etag) { return "\"" + std::string(etag) + "\""; }

}  // namespace stratus::services::s3

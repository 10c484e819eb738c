#pragma once
// Internal: the checksum a completed multipart upload answers with, from its parts' checksums.
//   COMPOSITE    the checksum of the parts' binary checksums, then "-<part count>" (any algorithm
//                but CRC64NVME);
//   FULL_OBJECT  the CRC of the whole object, combined from the parts' CRCs and sizes without
//                reading a byte (CRC32, CRC32C, CRC64NVME only).
// Pure functions; thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "services/s3/checksums.h"

namespace stratus::services::s3 {

// The CRC of A followed by B, from crc(A), crc(B) and B's length, for the reflected CRCs S3
// uses (init and xorout all ones): CRC32, CRC32C and CRC64NVME by name. nullopt for any other
// algorithm.
std::optional<uint64_t> CombineCrc(std::string_view algorithm, uint64_t crc_a, uint64_t crc_b,
                                   uint64_t length_b);

// The checksum type an upload gets when CreateMultipartUpload names an algorithm: the one asked
// for, or S3's default (FULL_OBJECT for CRC64NVME, COMPOSITE otherwise); InvalidRequest, as S3
// words it, for a type the algorithm cannot have.
Result<std::string> UploadChecksumType(const std::string& algorithm, const std::string& requested);

struct PartChecksum {
  std::optional<Checksum> checksum;  // as UploadPart stored it
  uint64_t size = 0;
};
// The object's checksum from its parts', in order; nullopt when a part has none for
// `algorithm` (an upload whose parts were sent without checksums).
std::optional<Checksum> MultipartChecksum(const std::string& algorithm, const std::string& type,
                                          const std::vector<PartChecksum>& parts);

}  // namespace stratus::services::s3

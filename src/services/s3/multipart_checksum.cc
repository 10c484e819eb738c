#include "services/s3/multipart_checksum.h"

#include "core/strings.h"

namespace stratus::services::s3 {

namespace {

// Reflected polynomials.
constexpr uint64_t kCrc32Poly = 0xEDB88320ull;
constexpr uint64_t kCrc32cPoly = 0x82F63B78ull;
constexpr uint64_t kCrc64NvmePoly = 0x9A6C9329AC4BC9B5ull;

struct CrcSpec {
  uint64_t poly;
  int width;
};

std::optional<CrcSpec> SpecOf(std::string_view algorithm) {
  if (algorithm == "CRC32") return CrcSpec{kCrc32Poly, 32};
  if (algorithm == "CRC32C") return CrcSpec{kCrc32cPoly, 32};
  if (algorithm == "CRC64NVME") return CrcSpec{kCrc64NvmePoly, 64};
  return std::nullopt;
}

// a * b modulo the polynomial, in the reflected representation (bit width-1 is x^0).
uint64_t MultModP(uint64_t a, uint64_t b, const CrcSpec& spec) {
  uint64_t m = 1ull << (spec.width - 1);
  uint64_t p = 0;
  while (m != 0) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = (b & 1) ? (b >> 1) ^ spec.poly : b >> 1;
  }
  return p;
}

// x^(8 * n) modulo the polynomial: what shifting a CRC past n zero bytes multiplies it by.
uint64_t XPow8n(uint64_t n, const CrcSpec& spec) {
  uint64_t power = 1ull << (spec.width - 2);  // x^1
  for (int i = 0; i < 3; ++i) power = MultModP(power, power, spec);  // x^8
  uint64_t p = 1ull << (spec.width - 1);  // x^0
  while (n != 0) {
    if (n & 1) p = MultModP(power, p, spec);
    n >>= 1;
    power = MultModP(power, power, spec);
  }
  return p;
}

std::optional<uint64_t> CrcOf(const Checksum& c) {
  std::optional<std::string> raw = Base64Decode(c.value);
  if (!raw || (raw->size() != 4 && raw->size() != 8)) return std::nullopt;
  uint64_t v = 0;
  for (unsigned char ch : *raw) v = (v << 8) | ch;
  return v;
}

}  // namespace

std::optional<uint64_t> CombineCrc(std::string_view algorithm, uint64_t crc_a, uint64_t crc_b,
                                   uint64_t length_b) {
  std::optional<CrcSpec> spec = SpecOf(algorithm);
  if (!spec) return std::nullopt;
  if (length_b == 0) return crc_a;
  return MultModP(XPow8n(length_b, *spec), crc_a, *spec) ^ crc_b;
}

Result<std::string> UploadChecksumType(const std::string& algorithm, const std::string& requested) {
  if (algorithm.empty()) {
    if (!requested.empty()) {
      return Error("InvalidRequest",
                   "The x-amz-checksum-type header can only be used with the "
                   "x-amz-checksum-algorithm header.",
                   400);
    }
    return std::string();
  }
  std::string type = requested.empty() ? (algorithm == "CRC64NVME" ? "FULL_OBJECT" : "COMPOSITE")
                                       : requested;
  if (type != "COMPOSITE" && type != "FULL_OBJECT") {
    return Error("InvalidRequest", "Value for x-amz-checksum-type header is invalid.", 400);
  }
  bool crc = SpecOf(algorithm).has_value();
  if ((type == "FULL_OBJECT" && !crc) || (type == "COMPOSITE" && algorithm == "CRC64NVME")) {
    return Error("InvalidRequest",
                 "The " + type + " checksum type cannot be used with the " + ToLower(algorithm) +
                     " checksum algorithm.",
                 400);
  }
  return type;
}

std::optional<Checksum> MultipartChecksum(const std::string& algorithm, const std::string& type,
                                          const std::vector<PartChecksum>& parts) {
  for (const auto& p : parts) {
    if (!p.checksum || p.checksum->algorithm != algorithm) return std::nullopt;
  }
  if (type == "FULL_OBJECT") {
    uint64_t crc = 0;
    bool first = true;
    for (const auto& p : parts) {
      std::optional<uint64_t> part = CrcOf(*p.checksum);
      if (!part) return std::nullopt;
      if (first) {
        crc = *part;
        first = false;
        continue;
      }
      std::optional<uint64_t> combined = CombineCrc(algorithm, crc, *part, p.size);
      if (!combined) return std::nullopt;
      crc = *combined;
    }
    return Checksum{algorithm, ChecksumValue(algorithm, crc), "FULL_OBJECT"};
  }
  std::string raw;
  for (const auto& p : parts) raw += Base64Decode(p.checksum->value).value_or("");
  return Checksum{algorithm,
                  ComputeChecksum(algorithm, raw) + "-" + std::to_string(parts.size()),
                  "COMPOSITE"};
}

}  // namespace stratus::services::s3

#include "services/s3/checksums.h"

#include <algorithm>
#include <array>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/s3/errors.h"

namespace stratus::services::s3 {

namespace {

std::string BigEndian(uint64_t v, int bytes) {
  std::string out;
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (i * 8)) & 0xFF));
  return out;
}

// Slice-by-8 tables for CRC-64/NVME (reflected): table[0] is the byte-at-a-time table, table[k]
// advances a byte's contribution by k more zero bytes, so eight input bytes take one step.
using Crc64Tables = std::array<std::array<uint64_t, 256>, 8>;

Crc64Tables MakeCrc64Tables() {
  constexpr uint64_t kPoly = 0x9a6c9329ac4bc9b5ULL;  // 0xad93d23594c93659 reflected
  Crc64Tables t{};
  for (uint64_t i = 0; i < 256; ++i) {
    uint64_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][i] = c;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (size_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
  }
  return t;
}

}  // namespace

uint64_t Crc64Nvme(std::string_view data, uint64_t previous) {
  static const Crc64Tables kT = MakeCrc64Tables();
  uint64_t crc = ~previous;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];  // little-endian load, any host
    crc ^= v;
    crc = kT[7][crc & 0xFF] ^ kT[6][(crc >> 8) & 0xFF] ^ kT[5][(crc >> 16) & 0xFF] ^
          kT[4][(crc >> 24) & 0xFF] ^ kT[3][(crc >> 32) & 0xFF] ^ kT[2][(crc >> 40) & 0xFF] ^
          kT[1][(crc >> 48) & 0xFF] ^ kT[0][crc >> 56];
  }
  for (; n > 0; ++p, --n) crc = kT[0][(crc ^ *p) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

std::string ChecksumValue(std::string_view algorithm, uint64_t crc) {
  if (algorithm == "CRC64NVME") return Base64Encode(BigEndian(crc, 8));
  return Base64Encode(BigEndian(crc, 4));
}

std::string ChecksumMember(std::string_view algorithm) {
  return "Checksum" + std::string(algorithm);
}

std::string ComputeChecksum(std::string_view algorithm, std::string_view data) {
  if (algorithm == "CRC32") return Base64Encode(BigEndian(Crc32(data), 4));
  if (algorithm == "CRC32C") return Base64Encode(BigEndian(Crc32c(data), 4));
  if (algorithm == "CRC64NVME") return Base64Encode(BigEndian(Crc64Nvme(data), 8));
  if (algorithm == "SHA1") return Base64Encode(Sha1(data));
  if (algorithm == "SHA256") return Base64Encode(Sha256(data));
  return {};
}

namespace {

class MemoryDigests final : public BodyDigests {
 public:
  explicit MemoryDigests(std::string_view body) : body_(body) {}
  std::string Md5() const override { return stratus::Md5(body_); }
  std::optional<std::string> Compute(std::string_view algorithm) const override {
    return ComputeChecksum(algorithm, body_);
  }

 private:
  std::string_view body_;
};

Error NotComputed(std::string_view algorithm) {
  return InvalidRequest("The x-amz-checksum-" + ToLower(algorithm) +
                        " trailer was not declared in x-amz-trailer.");
}

}  // namespace

Result<std::optional<Checksum>> VerifyBodyIntegrity(const Json& input, std::string_view body) {
  return VerifyBodyIntegrity(input, MemoryDigests(body));
}

Result<std::optional<Checksum>> VerifyBodyIntegrity(const Json& input, const BodyDigests& body) {
  if (auto it = input.find("ContentMD5"); it != input.end() && it->is_string()) {
    auto raw = Base64Decode(it->get<std::string>());
    if (!raw || raw->size() != 16) return InvalidDigest();
    if (*raw != body.Md5()) return BadDigest("Content-MD5");
  }
  // Most PUTs name no checksum: one pass over the input's members rules every one out.
  bool named = false;
  if (input.is_object()) {
    for (auto it = input.begin(); it != input.end() && !named; ++it) named = StartsWith(it.key(), "Checksum");
  }
  if (!named) return std::optional<Checksum>();
  std::optional<Checksum> found;
  for (std::string_view algorithm : kChecksumAlgorithms) {
    auto it = input.find(ChecksumMember(algorithm));
    if (it == input.end() || !it->is_string()) continue;
    if (found) {
      return InvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types "
                            "are not allowed.");
    }
    std::optional<std::string> computed = body.Compute(algorithm);
    if (!computed) return NotComputed(algorithm);
    std::string expected = std::move(*computed);
    if (expected != it->get<std::string>()) {
      auto decoded = Base64Decode(it->get<std::string>());
      if (!decoded) {
        return InvalidRequest("Value for x-amz-checksum-" + ToLower(algorithm) +
                              " header is invalid.");
      }
      return BadDigest(std::string(algorithm));
    }
    found = Checksum{std::string(algorithm), std::move(expected)};
  }
  std::string requested = input.value("ChecksumAlgorithm", "");
  if (!found && !requested.empty()) {
    std::string upper = ToUpper(requested);
    if (std::find(std::begin(kChecksumAlgorithms), std::end(kChecksumAlgorithms), upper) ==
        std::end(kChecksumAlgorithms)) {
      return InvalidRequest("Checksum algorithm provided is unsupported. Please try again with "
                            "any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]");
    }
    std::optional<std::string> computed = body.Compute(upper);
    if (!computed) return NotComputed(upper);
    found = Checksum{upper, std::move(*computed)};
  }
  return found;
}

std::string SimpleEtag(std::string_view body) { return Md5Hex(body); }

std::string UnquoteEtag(std::string_view etag) {
  etag = Trim(etag);
  if (StartsWith(etag, "W/")) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

std::string MultipartEtag(const std::vector<std::string>& part_etags) {
  std::string raw;
  raw.reserve(part_etags.size() * 16);
  for (const auto& e : part_etags) raw += HexDecode(UnquoteEtag(e)).value_or("");
  return Md5Hex(raw) + "-" + std::to_string(part_etags.size());
}

}  // namespace stratus::services::s3

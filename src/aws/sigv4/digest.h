#pragma once
// Internal to the sigv4 module: SHA-256 and HMAC-SHA256 on a digest fetched from OpenSSL once.
// OpenSSL 3's one-shot HMAC() and EVP_sha256() look the algorithm up on every call, which costs
// about 1 µs per HMAC; SigV4 does five HMACs and two hashes per request, so these versions
// (about 0.3 µs per HMAC, see docs/sigv4.md) keep verification cheap. Thread-safe.
// TODO(core): move into core/crypto once its HmacSha256/Sha256 adopt the same technique.
#include <string>
#include <string_view>

namespace stratus::aws::sigv4_internal {

// Raw 32-byte SHA-256.
std::string Sha256(std::string_view data);
// Lowercase hex SHA-256.
std::string Sha256Hex(std::string_view data);
// Raw 32-byte HMAC-SHA256.
std::string HmacSha256(std::string_view key, std::string_view data);
// Lowercase hex HMAC-SHA256.
std::string HmacSha256Hex(std::string_view key, std::string_view data);

}  // namespace stratus::aws::sigv4_internal

#pragma once
// Hashes, MACs and randomness from OpenSSL behind plain functions. Thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stratus {

std::string Sha256(std::string_view data);  // raw 32 bytes
std::string Sha256Hex(std::string_view data);
std::string Sha1(std::string_view data);  // raw 20 bytes
std::string Md5(std::string_view data);   // raw 16 bytes
std::string Md5Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);  // raw 32 bytes
std::string HmacSha256Hex(std::string_view key, std::string_view data);
std::string HmacSha1(std::string_view key, std::string_view data);    // raw 20 bytes
uint32_t Crc32(std::string_view data, uint32_t seed = 0);
uint32_t Crc32c(std::string_view data, uint32_t seed = 0);

// Decompresses a gzip (or zlib) stream. Fails with nullopt on malformed data or when the output
// would exceed `max_output` bytes (a decompression bomb).
std::optional<std::string> GzipDecompress(std::string_view data, size_t max_output);
// Compresses `data` as a gzip stream.
std::string GzipCompress(std::string_view data);

// Cryptographically strong random bytes.
std::string RandomBytes(size_t n);
// A random RFC 4122 version-4 UUID, lowercase ("2f1c...-...").
std::string NewUuid();
// `n` random characters from [A-Za-z0-9] (or from `alphabet`).
std::string RandomAlnum(size_t n, std::string_view alphabet = {});
// Constant-time comparison (for signatures and tokens).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace stratus

#include "aws/sigv4/digest.h"

#include <openssl/evp.h>

#include <cstring>
#include <memory>

namespace stratus::aws::sigv4_internal {

namespace {

constexpr size_t kBlockSize = 64;
constexpr size_t kDigestSize = 32;

// Fetched once, immutable afterwards; OpenSSL digests are safe to share between threads.
const EVP_MD* FetchedSha256() {
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return kSha256;
}

struct CtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using Ctx = std::unique_ptr<EVP_MD_CTX, CtxFree>;

void Digest(EVP_MD_CTX* ctx, std::string_view a, std::string_view b, unsigned char* out) {
  unsigned int len = 0;
  EVP_DigestInit_ex(ctx, FetchedSha256(), nullptr);
  EVP_DigestUpdate(ctx, a.data(), a.size());
  if (!b.empty()) EVP_DigestUpdate(ctx, b.data(), b.size());
  EVP_DigestFinal_ex(ctx, out, &len);
}

std::string ToHex(const unsigned char* raw, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[raw[i] >> 4];
    out[2 * i + 1] = kHex[raw[i] & 15];
  }
  return out;
}

// RFC 2104 over SHA-256.
void Hmac(std::string_view key, std::string_view data, unsigned char* out) {
  Ctx ctx(EVP_MD_CTX_new());
  unsigned char k[kBlockSize] = {};
  if (key.size() > kBlockSize) {
    Digest(ctx.get(), key, {}, k);
  } else {
    std::memcpy(k, key.data(), key.size());
  }
  unsigned char pad[kBlockSize];
  for (size_t i = 0; i < kBlockSize; ++i) pad[i] = k[i] ^ 0x36;
  unsigned char inner[kDigestSize];
  Digest(ctx.get(), std::string_view(reinterpret_cast<char*>(pad), kBlockSize), data, inner);
  for (size_t i = 0; i < kBlockSize; ++i) pad[i] = k[i] ^ 0x5c;
  Digest(ctx.get(), std::string_view(reinterpret_cast<char*>(pad), kBlockSize),
         std::string_view(reinterpret_cast<char*>(inner), kDigestSize), out);
}

}  // namespace

std::string Sha256(std::string_view data) {
  Ctx ctx(EVP_MD_CTX_new());
  unsigned char out[kDigestSize];
  Digest(ctx.get(), data, {}, out);
  return std::string(reinterpret_cast<char*>(out), kDigestSize);
}

std::string Sha256Hex(std::string_view data) {
  Ctx ctx(EVP_MD_CTX_new());
  unsigned char out[kDigestSize];
  Digest(ctx.get(), data, {}, out);
  return ToHex(out, kDigestSize);
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[kDigestSize];
  Hmac(key, data, out);
  return std::string(reinterpret_cast<char*>(out), kDigestSize);
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char out[kDigestSize];
  Hmac(key, data, out);
  return ToHex(out, kDigestSize);
}

}  // namespace stratus::aws::sigv4_internal

#include "core/crypto.h"

#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <pthread.h>

#include <array>
#include <atomic>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <zlib.h>

namespace stratus {

namespace {

// Digests are fetched once (EVP_MD_fetch) and shared: immutable, thread-safe, and it spares the
// per-call algorithm lookup that dominates one-shot EVP calls on short inputs in OpenSSL 3.
const EVP_MD* Fetched(const char* name) {
  return EVP_MD_fetch(nullptr, name, nullptr);
}
const EVP_MD* Sha256Md() {
  static const EVP_MD* const kMd = Fetched("SHA256");
  return kMd;
}
const EVP_MD* Sha1Md() {
  static const EVP_MD* const kMd = Fetched("SHA1");
  return kMd;
}
const EVP_MD* Md5Md() {
  static const EVP_MD* const kMd = Fetched("MD5");
  return kMd;
}

struct CtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, CtxFree>;

// One context per thread, reused: digest contexts are not shareable between threads.
EVP_MD_CTX* ThreadCtx() {
  thread_local MdCtx ctx(EVP_MD_CTX_new());
  return ctx.get();
}

size_t DigestInto(const EVP_MD* md, std::string_view a, std::string_view b, unsigned char* out) {
  EVP_MD_CTX* ctx = ThreadCtx();
  unsigned int len = 0;
  EVP_DigestInit_ex(ctx, md, nullptr);
  EVP_DigestUpdate(ctx, a.data(), a.size());
  if (!b.empty()) EVP_DigestUpdate(ctx, b.data(), b.size());
  EVP_DigestFinal_ex(ctx, out, &len);
  return len;
}

std::string Digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = DigestInto(md, data, {}, out);
  return std::string(reinterpret_cast<char*>(out), len);
}

// RFC 2104 HMAC over a block-64 digest (SHA-1, SHA-256).
std::string Hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  constexpr size_t kBlock = 64;
  unsigned char k[kBlock] = {};
  if (key.size() > kBlock) {
    DigestInto(md, key, {}, k);
  } else {
    std::memcpy(k, key.data(), key.size());
  }
  unsigned char pad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x36;
  unsigned char inner[EVP_MAX_MD_SIZE];
  size_t inner_len =
      DigestInto(md, std::string_view(reinterpret_cast<char*>(pad), kBlock), data, inner);
  for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x5c;
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = DigestInto(md, std::string_view(reinterpret_cast<char*>(pad), kBlock),
                          std::string_view(reinterpret_cast<char*>(inner), inner_len), out);
  return std::string(reinterpret_cast<char*>(out), len);
}
std::string ToHex(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, table-driven.
std::array<uint32_t, 256> MakeCrc32cTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (0x82F63B78u ^ (c >> 1)) : (c >> 1);
    t[i] = c;
  }
  return t;
}
}  // namespace

std::string Sha256(std::string_view data) { return Digest(Sha256Md(), data); }
std::string Sha256Hex(std::string_view data) { return ToHex(Sha256(data)); }
std::string Sha1(std::string_view data) { return Digest(Sha1Md(), data); }
std::string Md5(std::string_view data) { return Digest(Md5Md(), data); }
std::string Md5Hex(std::string_view data) { return ToHex(Md5(data)); }
std::string HmacSha256(std::string_view key, std::string_view data) {
  return Hmac(Sha256Md(), key, data);
}
std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  return ToHex(HmacSha256(key, data));
}
std::string HmacSha1(std::string_view key, std::string_view data) {
  return Hmac(Sha1Md(), key, data);
}

uint32_t Crc32(std::string_view data, uint32_t seed) {
  uLong crc = seed;
  const auto* p = reinterpret_cast<const Bytef*>(data.data());
  size_t left = data.size();
  while (left > 0) {
    uInt chunk = left > (1u << 30) ? (1u << 30) : static_cast<uInt>(left);
    crc = crc32(crc, p, chunk);
    p += chunk;
    left -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

namespace {
#if defined(__x86_64__)
// The SSE4.2 crc32 instruction, eight bytes a step (~10x the table: S3 bodies announcing
// CRC32C are checksummed at several GB/s instead of ~0.43).
__attribute__((target("sse4.2"))) uint32_t Crc32cSse42(std::string_view data, uint32_t seed) {
  uint64_t c = ~seed;
  const char* p = data.data();
  size_t n = data.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
  }
  auto c32 = static_cast<uint32_t>(c);
  for (; n > 0; ++p, --n) c32 = __builtin_ia32_crc32qi(c32, static_cast<unsigned char>(*p));
  return ~c32;
}
#endif
}  // namespace

uint32_t Crc32c(std::string_view data, uint32_t seed) {
#if defined(__x86_64__)
  static const bool kHardware = __builtin_cpu_supports("sse4.2");
  if (kHardware) return Crc32cSse42(data, seed);
#endif
  static const std::array<uint32_t, 256> kTable = MakeCrc32cTable();
  uint32_t c = ~seed;
  for (unsigned char b : data) c = kTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return ~c;
}

std::optional<std::string> GzipDecompress(std::string_view data, size_t max_output) {
  z_stream zs{};
  // 15 window bits + 32: detect gzip or zlib headers automatically.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return std::nullopt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[64 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return std::nullopt;
    }
    out.append(buf, sizeof buf - zs.avail_out);
    if (out.size() > max_output) {
      inflateEnd(&zs);
      return std::nullopt;
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      return std::nullopt;  // truncated stream
    }
  }
  inflateEnd(&zs);
  return out;
}

std::string GzipCompress(std::string_view data) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[64 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = deflate(&zs, Z_FINISH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  deflateEnd(&zs);
  return out;
}

namespace {

// Random bytes come from OpenSSL's CSPRNG in blocks of kRandomBlockBytes per thread, handed out
// in order and wiped as they go: one RAND_bytes call costs ~6 000 instructions whatever its size,
// and every request takes a request id (16 bytes). Large requests go straight to RAND_bytes.
constexpr size_t kRandomBlockBytes = 4096;
constexpr size_t kRandomDirectBytes = 256;

// Bumped in a forked child, so that a block inherited from the parent (whose bytes the parent
// also hands out) is thrown away before use.
std::atomic<uint64_t>& ForkGeneration() {
  static std::atomic<uint64_t> generation{0};
  static const bool registered = [] {
    pthread_atfork(nullptr, nullptr, [] { ForkGeneration().fetch_add(1); });
    return true;
  }();
  (void)registered;
  return generation;
}

void FillDirect(unsigned char* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    // The OpenSSL RNG only fails when it cannot be seeded; nothing sensible can continue.
    throw std::runtime_error("RAND_bytes failed");
  }
}

void FillRandom(unsigned char* out, size_t n) {
  if (n > kRandomDirectBytes) {
    FillDirect(out, n);
    return;
  }
  struct Block {
    std::array<unsigned char, kRandomBlockBytes> bytes;
    size_t used = kRandomBlockBytes;  // bytes[0, used) are handed out (and zeroed)
    uint64_t generation = 0;
    ~Block() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
  };
  // On the heap, made on a thread's first draw: static TLS would cost every thread its pages.
  thread_local std::unique_ptr<Block> owned;
  if (!owned) owned = std::make_unique<Block>();
  Block& block = *owned;
  uint64_t generation = ForkGeneration().load(std::memory_order_relaxed);
  if (block.used + n > block.bytes.size() || block.generation != generation) {
    FillDirect(block.bytes.data(), block.bytes.size());
    block.used = 0;
    block.generation = generation;
  }
  std::memcpy(out, block.bytes.data() + block.used, n);
  std::memset(block.bytes.data() + block.used, 0, n);
  block.used += n;
}

}  // namespace

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  FillRandom(reinterpret_cast<unsigned char*>(out.data()), n);
  return out;
}

std::string NewUuid() {
  static constexpr char kHex[] = "0123456789abcdef";
  unsigned char b[16];
  FillRandom(b, sizeof(b));
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  std::string out(36, '-');
  size_t pos = 0;
  for (size_t i = 0; i < sizeof(b); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++pos;  // the dashes
    out[pos++] = kHex[b[i] >> 4];
    out[pos++] = kHex[b[i] & 15];
  }
  return out;
}

std::string RandomAlnum(size_t n, std::string_view alphabet) {
  static constexpr std::string_view kDefault =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string_view a = alphabet.empty() ? kDefault : alphabet;
  std::string raw = RandomBytes(n * 2);
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    uint16_t v = static_cast<uint16_t>((static_cast<unsigned char>(raw[2 * i]) << 8) |
                                       static_cast<unsigned char>(raw[2 * i + 1]));
    out.push_back(a[v % a.size()]);
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace stratus

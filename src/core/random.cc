#include "core/random.h"

#include <cstdint>
#include <memory>

namespace stratus {

std::mt19937_64& ThreadRng() {
  // Heap-allocated so that the static TLS block holds a pointer, not the 2.5 KB state.
  thread_local std::unique_ptr<std::mt19937_64> rng;
  if (!rng) {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    rng = std::make_unique<std::mt19937_64>(seed);
  }
  return *rng;
}

std::string PseudoRandomUuid() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::mt19937_64& rng = ThreadRng();
  uint64_t hi = rng();
  uint64_t lo = rng();
  hi = (hi & ~0xF000ull) | 0x4000ull;                // version 4 (bits 12-15 of the third group)
  lo = (lo & ~(0xC0ull << 56)) | (0x80ull << 56);  // variant 10xx
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    uint64_t word = i < 8 ? hi : lo;
    int shift = 56 - 8 * (i % 8);
    auto byte = static_cast<unsigned>((word >> shift) & 0xFF);
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0xF]);
  }
  return out;
}

}  // namespace stratus

#!/usr/bin/env bash
# The hashing of one large body without the server: (1) each digest's throughput on one core over
# a 100 MiB buffer (the library's Md5, Sha256, Crc32, Crc32c, Crc64Nvme), and (2) BodyHasher on a
# pool of 2 threads fed 100 MiB in 256 KiB pieces, one lane (HashingPool::Lanes::kOne: MD5 and the
# announced checksums in turn) against two (kTwo: MD5 beside the others), alternated ROUNDS times,
# 3 bodies each, MB/s from the first byte to Wait. Builds a small program against BUILD_DIR's
# libraries (cmake --build BUILD_DIR --target s3_test first).
# usage: bench/s3/large_hash_ab.sh [BUILD_DIR=build] [ROUNDS=3] [CHECKSUMS="SHA256 CRC32"]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build}"
rounds="${2:-3}"
checksums="${3:-SHA256 CRC32}"
tmp="$(mktemp -d /tmp/s3hash-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/main.cc" <<'EOF'
#include <chrono>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include "core/crypto.h"
#include "services/s3/body_hasher.h"
#include "services/s3/checksums.h"
using namespace stratus;
using namespace stratus::services::s3;
int main(int argc, char** argv) {
  std::string body(100 << 20, 'x');
  for (size_t i = 0; i < body.size(); ++i) body[i] = char(i * 2654435761u >> 11);
  auto secs = [](auto f) {
    auto s = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - s).count();
  };
  if (std::strcmp(argv[1], "digests") == 0) {
    volatile uint64_t sink = 0;
    std::printf("one core, 100 MiB:");
    std::printf("  MD5 %.0f", body.size() / secs([&] { sink = Md5(body).size(); }) / 1e6);
    std::printf("  SHA-256 %.0f", body.size() / secs([&] { sink = Sha256(body).size(); }) / 1e6);
    std::printf("  CRC32 %.0f", body.size() / secs([&] { sink = Crc32(body); }) / 1e6);
    std::printf("  CRC32C %.0f", body.size() / secs([&] { sink = Crc32c(body); }) / 1e6);
    std::printf("  CRC64NVME %.0f MB/s\n", body.size() / secs([&] { sink = Crc64Nvme(body); }) / 1e6);
    return 0;
  }
  auto lanes = std::strcmp(argv[1], "two") == 0 ? HashingPool::Lanes::kTwo : HashingPool::Lanes::kOne;
  std::set<std::string> algs;
  for (int i = 2; i < argc; ++i) algs.insert(argv[i]);
  HashingPool pool(2, 32 << 20, lanes);
  std::printf("%-4s lane(s):", argv[1]);
  for (int round = 0; round < 3; ++round) {
    double d = secs([&] {
      BodyHasher h(pool, algs, std::nullopt);
      for (size_t at = 0; at < body.size(); at += 256 << 10) {
        h.Data(std::string_view(body).substr(at, 256 << 10));
      }
      h.Close();
      if (!h.Wait().ok()) std::abort();
    });
    std::printf(" %4.0f", body.size() / d / 1e6);
  }
  std::printf(" MB/s\n");
}
EOF
b="$build/src"
g++ -O2 -std=c++20 -I"$root/src" "$tmp/main.cc" "$b/services/s3/libstratus_s3.a" \
  "$b/aws/sigv4/libstratus_sigv4.a" "$b/core/libstratus_core.a" -lcrypto -lz -lfmt -lspdlog \
  -lpthread -o "$tmp/hash"
echo "$(date -u '+%F %H:%M') load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$tmp/hash" digests
echo "BodyHasher, MD5 + $checksums, pool of 2 threads:"
for _ in $(seq "$rounds"); do
  "$tmp/hash" one $checksums
  "$tmp/hash" two $checksums
done

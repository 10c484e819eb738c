// Streamed object bodies: the incremental aws-chunked decoder against the in-memory one, in any
// split of the wire bytes, and ObjectBodySink verifying signed chunks as they arrive (hashing on
// a pool) with nothing published on failure.
#include "services/s3/streamed_body.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "aws/sigv4/aws_chunked.h"
#include "core/crypto.h"
#include "core/strings.h"
#include "services/s3/body_hasher.h"
#include "services/s3/checksums.h"
#include "aws/sigv4/aws_chunked_stream.h"
#include "services/s3/request_prep.h"
#include "store/sqlite_store.h"

namespace stratus::services::s3 {
namespace {

constexpr int64_t kNow = 1'700'000'000;  // seconds
using Trailers = std::vector<std::pair<std::string, std::string>>;

std::string Payload(size_t n, unsigned seed = 7) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

aws::ChunkSigningContext Context() {
  return aws::ChunkSigningContext{aws::SigningKey("test", "20231114", "us-east-1", "s3"),
                                  "20231114T221320Z", "20231114/us-east-1/s3/aws4_request",
                                  std::string(64, 'a')};
}

struct Collected : aws::ChunkConsumer {
  void Data(std::string_view d) override { payload.append(d); }
  void ChunkEnd(std::string_view sig) override { signatures.emplace_back(sig); }
  std::string payload;
  std::vector<std::string> signatures;
};

// Feeds `wire` in pieces of `step` bytes; the first error, or End's verdict.
Status Decode(aws::AwsChunkedMode mode, std::string_view wire, size_t step, Collected& out,
              aws::ChunkStreamDecoder** keep = nullptr) {
  static thread_local std::unique_ptr<aws::ChunkStreamDecoder> d;
  d = std::make_unique<aws::ChunkStreamDecoder>(mode, wire.size());
  if (keep) *keep = d.get();
  for (size_t at = 0; at < wire.size(); at += step) {
    STRATUS_RETURN_IF_ERROR(d->Feed(wire.substr(at, step), out));
  }
  return d->End();
}

TEST(ChunkStream, AnySplitDecodesAsTheWholeBody) {
  std::string payload = Payload(200 * 1024 + 3);
  Trailers trailers = {{"x-amz-checksum-crc32", "AAAAAA=="}};
  struct Case {
    aws::AwsChunkedMode mode;
    std::string wire;
  };
  std::vector<Case> cases = {
      {aws::AwsChunkedMode::kSigned, aws::EncodeAwsChunked(payload, 65536, Context())},
      {aws::AwsChunkedMode::kSignedTrailer,
       aws::EncodeAwsChunked(payload, 65536, Context(), trailers)},
      {aws::AwsChunkedMode::kUnsignedTrailer,
       aws::EncodeAwsChunked(payload, 8192, std::nullopt, trailers)},
  };
  for (const Case& c : cases) {
    auto whole = aws::DecodeAwsChunked(c.wire, c.mode, Context());
    ASSERT_TRUE(whole.ok());
    for (size_t step : {size_t{1}, size_t{7}, size_t{4096}, size_t{65538}, c.wire.size()}) {
      Collected out;
      aws::ChunkStreamDecoder* d = nullptr;
      ASSERT_TRUE(Decode(c.mode, c.wire, step, out, &d).ok()) << step;
      EXPECT_EQ(out.payload, payload) << step;
      EXPECT_EQ(d->trailers(), whole->trailers);
      if (c.mode == aws::AwsChunkedMode::kUnsignedTrailer) {
        EXPECT_TRUE(out.signatures.empty());
      } else {
        // Four data chunks and the empty last one, each with the signature its header carried.
        ASSERT_EQ(out.signatures.size(), 5u);
        std::string previous = Context().seed_signature;
        for (size_t i = 0; i < 5; ++i) {
          std::string_view data =
              i == 4 ? std::string_view() : std::string_view(payload).substr(i * 65536, 65536);
          previous = aws::AwsChunkSignature(Context(), previous, Sha256Hex(data));
          EXPECT_EQ(out.signatures[i], previous);
        }
        EXPECT_EQ(d->trailer_signature().empty(), c.mode == aws::AwsChunkedMode::kSigned);
      }
    }
  }
}

TEST(ChunkStream, HostileFraming) {
  std::string payload = Payload(100 * 1024);
  std::string good = aws::EncodeAwsChunked(payload, 65536, Context());
  struct Case {
    std::string name, wire, code;
  };
  std::vector<Case> cases = {
      {"size not hex", "1g;chunk-signature=" + std::string(64, 'a') + "\r\n" + good,
       "InvalidRequest"},
      {"size too long", std::string(17, 'f') + "\r\n", "InvalidRequest"},
      {"size line without CR", "10000\n" + payload, "InvalidRequest"},
      {"header line endless", std::string(5000, '1'), "InvalidRequest"},
      {"chunk larger than the body",
       "ffffffff;chunk-signature=" + std::string(64, 'a') + "\r\n" + payload, "IncompleteBody"},
      {"truncated mid-chunk", good.substr(0, good.size() / 2), "IncompleteBody"},
      {"no last chunk", good.substr(0, good.find("\r\n0;") + 2), "IncompleteBody"},
      {"data not followed by CRLF",
       [&] {
         std::string w = good;
         w[w.find("\r\n", w.find("\r\n") + 2 + 65536)] = 'x';
         return w;
       }(),
       "InvalidRequest"},
      {"junk after the last chunk", good + "junk\r\n", "InvalidRequest"},
  };
  for (const Case& c : cases) {
    for (size_t step : {size_t{1}, size_t{1000}, c.wire.size() + 1}) {
      Collected out;
      Status st = Decode(aws::AwsChunkedMode::kSigned, c.wire, step, out);
      ASSERT_FALSE(st.ok()) << c.name;
      EXPECT_EQ(st.error().code, c.code) << c.name << " step " << step;
    }
  }
  // An oversized chunk is refused at its header: none of its bytes are passed on.
  Collected out;
  aws::ChunkStreamDecoder d(aws::AwsChunkedMode::kUnsignedTrailer, 100);
  EXPECT_EQ(d.Feed("65\r\n", out).error().code, "IncompleteBody");
  EXPECT_EQ(d.Feed("abc", out).error().code, "IncompleteBody");
  EXPECT_TRUE(out.payload.empty());
}

class StreamedBodyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(store::OpenSqliteStore(store::SqliteOptions{})).value();
    blobs_ = std::move(store::BlobStore::Open(*store_, store::BlobOptions{.fsync = false})).value();
  }

  // A signed chunked PUT's head, and its wire body (chunks of 64 KiB).
  std::pair<HttpRequest, std::string> SignedPut(const std::string& payload, std::string_view secret,
                                                Trailers trailers = {}) {
    HttpRequest r;
    r.method = "PUT";
    r.path = r.target = "/bkt/key";
    r.headers.Set("Host", "127.0.0.1:4566");
    r.headers.Set("Content-Encoding", "aws-chunked");
    r.headers.Set("x-amz-decoded-content-length", std::to_string(payload.size()));
    std::string mode(trailers.empty() ? aws::kStreamingSignedPayload
                                      : aws::kStreamingSignedPayloadTrailer);
    if (!trailers.empty()) r.headers.Set("x-amz-trailer", trailers[0].first);
    aws::SignRequest(r, "AKIDEXAMPLE", secret, "us-east-1", "s3", kNow, {}, mode);
    auto claim = aws::ParseSigV4(r, aws::SigV4Dialect::kS3);
    std::string wire = aws::EncodeAwsChunked(
        payload, 64 * 1024, aws::ChunkSigningContextFor(**claim, secret), trailers);
    r.headers.Set("Content-Length", std::to_string(wire.size()));
    return {r, wire};
  }

  // Streams `wire` through a sink in 100 000-byte pieces; the first error of Complete or Settle.
  Status Stream(HttpRequest& head, std::string_view wire, std::shared_ptr<ObjectBodySink>& sink) {
    auto claim = aws::ParseSigV4(head, aws::SigV4Dialect::kS3);
    const aws::SigV4Claim* c = claim.ok() && claim->has_value() ? &**claim : nullptr;
    sink = ObjectBodySink::Open(*blobs_, pool_, head, c, kNow * 1000);
    if (!sink) return Error("Test", "not streamed");
    for (size_t at = 0; at < wire.size(); at += 100'000) sink->Append(wire.substr(at, 100'000));
    STRATUS_RETURN_IF_ERROR(sink->Complete(head));
    return sink->Settle();
  }

  size_t TmpFiles() const {
    size_t n = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(blobs_->dir() + "/tmp")) ++n;
    return n;
  }

  HashingPool pool_{2, 8 << 20, HashingPool::Lanes::kTwo};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::BlobStore> blobs_;
};

TEST_F(StreamedBodyTest, SignedChunksStreamAndVerify) {
  std::string payload = Payload(3 * 1024 * 1024 + 11);
  std::string crc = ComputeChecksum("CRC32", payload);
  for (bool with_trailer : {false, true}) {
    Trailers trailers;
    if (with_trailer) trailers = {{"x-amz-checksum-crc32", crc}};
    auto [head, wire] = SignedPut(payload, kKnownSecret, trailers);
    std::shared_ptr<ObjectBodySink> sink;
    ASSERT_TRUE(Stream(head, wire, sink).ok()) << with_trailer;
    EXPECT_EQ(sink->size(), payload.size());
    EXPECT_EQ(sink->digests().Md5(), Md5(payload));
    if (with_trailer) {
      EXPECT_EQ(head.headers.GetOr("x-amz-checksum-crc32"), crc);
      EXPECT_EQ(*sink->digests().Compute("CRC32"), crc);
    }
    EXPECT_FALSE(head.headers.Has("content-encoding"));
    EXPECT_EQ(head.headers.GetOr("content-length"), std::to_string(payload.size()));
    auto id = sink->Publish();
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(*blobs_->Read(*id, 0, payload.size()), payload);
  }
}

TEST_F(StreamedBodyTest, WrongSignaturesFailAndLeaveNothing) {
  std::string payload = Payload(2 * 1024 * 1024);
  Trailers trailers = {{"x-amz-checksum-crc32", ComputeChecksum("CRC32", payload)}};
  auto [head, wire] = SignedPut(payload, kKnownSecret, trailers);
  auto corrupt = [&, &wire = wire](size_t at) {
    std::string w = wire;
    w[at] ^= 1;
    return w;
  };
  size_t second_sig = wire.find("chunk-signature=", wire.find("chunk-signature=") + 1) + 20;
  size_t trailer_sig = wire.find("x-amz-trailer-signature:") + 30;
  std::vector<std::pair<std::string, std::string>> cases = {
      {"a data byte mid-stream", corrupt(wire.size() / 2)},
      {"a chunk signature", corrupt(second_sig)},
      {"the trailer signature", corrupt(trailer_sig)},
      {"a trailer value",
       [&] {
         std::string w = wire;
         size_t at = w.find("x-amz-checksum-crc32:") + 22;
         w[at] = w[at] == 'A' ? 'B' : 'A';
         return w;
       }()},
  };
  for (auto& [name, bad] : cases) {
    HttpRequest h = head;
    std::shared_ptr<ObjectBodySink> sink;
    Status st = Stream(h, bad, sink);
    ASSERT_FALSE(st.ok()) << name;
    EXPECT_EQ(st.error().code, "SignatureDoesNotMatch") << name;
    EXPECT_FALSE(sink->Publish().ok()) << name;
    sink.reset();
    EXPECT_EQ(TmpFiles(), 0u) << name;
  }
  // Signed with another secret: served unverified, as on the in-memory path.
  auto [other, other_wire] = SignedPut(payload, "not-the-known-secret", trailers);
  std::shared_ptr<ObjectBodySink> sink;
  EXPECT_TRUE(Stream(other, other_wire, sink).ok());
  // A signed body without a signed request is refused.
  HttpRequest anonymous = head;
  anonymous.headers.Remove("authorization");
  anonymous.headers.Set("x-amz-content-sha256", std::string(aws::kStreamingSignedPayloadTrailer));
  Status st = Stream(anonymous, wire, sink);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "InvalidRequest");
}

TEST_F(StreamedBodyTest, PlainBodySha256IsChecked) {
  std::string payload = Payload(1536 * 1024);
  HttpRequest head;
  head.method = "PUT";
  head.path = head.target = "/bkt/key";
  head.headers.Set("Content-Length", std::to_string(payload.size()));
  head.headers.Set("x-amz-content-sha256", Sha256Hex(payload));
  std::shared_ptr<ObjectBodySink> sink;
  ASSERT_TRUE(Stream(head, payload, sink).ok());
  EXPECT_EQ(*sink->digests().Compute("SHA256"), Base64Encode(Sha256(payload)));
  head.headers.Set("x-amz-content-sha256", Sha256Hex("other"));
  Status st = Stream(head, payload, sink);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "XAmzContentSHA256Mismatch");
}

}  // namespace
}  // namespace stratus::services::s3

namespace stratus::services::s3 {
namespace {

// Several bodies received at once on different threads, sharing one hashing thread and a
// backlog budget smaller than one body: each waits its turn, none starves, every digest is its
// own body's.
TEST_F(StreamedBodyTest, BodiesShareOneSmallBacklogBudget) {
  HashingPool tight(1, 2 << 20);
  std::vector<std::string> payloads;
  for (unsigned i = 0; i < 4; ++i) payloads.push_back(Payload(6 * 1024 * 1024 + i, 30 + i));
  std::vector<std::string> md5s(payloads.size());
  std::vector<std::thread> receivers;
  for (size_t i = 0; i < payloads.size(); ++i) {
    receivers.emplace_back([&, i] {
      HttpRequest head;
      head.method = "PUT";
      head.path = head.target = "/bkt/key";
      head.headers.Set("Content-Length", std::to_string(payloads[i].size()));
      auto sink = ObjectBodySink::Open(*blobs_, tight, head, nullptr, kNow * 1000);
      std::string_view wire = payloads[i];
      for (size_t at = 0; at < wire.size(); at += 65536) sink->Append(wire.substr(at, 65536));
      if (sink->Complete(head).ok() && sink->Settle().ok()) md5s[i] = sink->digests().Md5();
    });
  }
  for (auto& t : receivers) t.join();
  for (size_t i = 0; i < payloads.size(); ++i) EXPECT_EQ(md5s[i], Md5(payloads[i])) << i;
}

// MD5 and the other digests are hashed by two lanes of one body at once (or one lane, as on a
// pool of fewer than three threads): every digest equals the whole body's, on one pool thread or two, with the backlog bound far below the body's size;
// and a hasher cancelled with blocks queued on both lanes stops without waiting for them.
TEST(BodyHasherLanes, EveryDigestIsTheWholeBodys) {
  const std::string body = Payload(9 * 1024 * 1024 + 12345, 77);
  const std::set<std::string> algorithms = {"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"};
  for (auto [threads, lanes] : {std::pair{size_t{1}, HashingPool::Lanes::kTwo},
                                 std::pair{size_t{2}, HashingPool::Lanes::kTwo},
                                 std::pair{size_t{2}, HashingPool::Lanes::kOne}}) {
    HashingPool pool(threads, 2 << 20, lanes);
    BodyHasher hasher(pool, algorithms, std::nullopt);
    for (size_t at = 0; at < body.size(); at += 100'000) {
      hasher.Data(std::string_view(body).substr(at, 100'000));
    }
    hasher.Close();
    ASSERT_TRUE(hasher.Wait().ok());
    EXPECT_EQ(hasher.digests().Md5(), Md5(body)) << threads;
    for (const std::string& a : algorithms) {
      EXPECT_EQ(hasher.digests().Compute(a), ComputeChecksum(a, body)) << a << " " << threads;
    }
  }
  HashingPool pool(1, 64 << 20, HashingPool::Lanes::kTwo);
  BodyHasher cancelled(pool, algorithms, std::nullopt);
  cancelled.Data(body);
  cancelled.Cancel();
}

// The word-at-a-time CRCs (CRC-64/NVME slice-by-8, CRC-32C with SSE4.2) against the plain
// bit-by-bit definitions, at every length and alignment around a word and continued from a seed.
TEST(BodyChecksums, FastCrcsMatchTheirDefinitions) {
  auto reference = [](std::string_view d, uint64_t poly, uint64_t previous, int bits) {
    const uint64_t mask = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
    uint64_t c = ~previous & mask;
    for (unsigned char b : d) {
      c ^= b;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
    }
    return ~c & mask;
  };
  const std::string data = Payload(80, 5);
  for (size_t start = 0; start < 9; ++start) {
    for (size_t n = 0; start + n <= data.size(); ++n) {
      std::string_view d = std::string_view(data).substr(start, n);
      EXPECT_EQ(Crc64Nvme(d), reference(d, 0x9a6c9329ac4bc9b5ULL, 0, 64)) << start << "+" << n;
      EXPECT_EQ(Crc32c(d), reference(d, 0x82F63B78u, 0, 32)) << start << "+" << n;
      EXPECT_EQ(Crc64Nvme(d, 12345), reference(d, 0x9a6c9329ac4bc9b5ULL, 12345, 64));
      EXPECT_EQ(Crc32c(d, 777), reference(d, 0x82F63B78u, 777, 32));
    }
  }
}

}  // namespace
}  // namespace stratus::services::s3

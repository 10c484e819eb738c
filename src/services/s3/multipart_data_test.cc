// Multipart objects kept as their parts' blob files: completion writes no bytes, every reader
// (GET, ranges across part boundaries, partNumber, CopyObject, UploadPartCopy) reads across the
// parts, and every way an object goes (delete, overwrite, abort, unlisted parts) frees its files.
#include "services/s3/multipart_data.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/s3/keys.h"
#include "services/s3/multipart_checksum.h"
#include "services/s3/s3_store.h"

namespace stratus::services::s3 {
namespace {

TEST(BlobRangesOf, MapsByteRangesOntoParts) {
  ObjectRecord rec;
  rec.part_sizes = {10, 0, 5, 7};
  rec.part_blobs = {"a", "b", "c", "d"};
  rec.size = 22;
  auto whole = BlobRangesOf(rec, 0, 22);
  ASSERT_EQ(whole.size(), 3u);  // the empty part is skipped
  EXPECT_EQ(whole[0].id, "a");
  EXPECT_EQ(whole[1].id, "c");
  EXPECT_EQ(whole[2].id, "d");
  EXPECT_EQ(whole[2].length, 7u);
  auto across = BlobRangesOf(rec, 8, 9);  // last 2 of a, all of c, first 2 of d
  ASSERT_EQ(across.size(), 3u);
  EXPECT_EQ(across[0].offset, 8u);
  EXPECT_EQ(across[0].length, 2u);
  EXPECT_EQ(across[1].offset, 0u);
  EXPECT_EQ(across[1].length, 5u);
  EXPECT_EQ(across[2].offset, 0u);
  EXPECT_EQ(across[2].length, 2u);
  auto inside = BlobRangesOf(rec, 16, 3);
  ASSERT_EQ(inside.size(), 1u);
  EXPECT_EQ(inside[0].id, "d");
  EXPECT_EQ(inside[0].offset, 1u);
  EXPECT_TRUE(BlobRangesOf(rec, 5, 0).empty());
  ObjectRecord single;
  single.data_id = "x";
  single.part_sizes = {10, 12};  // a copy of a multipart object: one blob
  auto one = BlobRangesOf(single, 3, 15);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].id, "x");
  EXPECT_EQ(one[0].offset, 3u);
  EXPECT_EQ(one[0].length, 15u);
}

TEST(CombineCrc, EqualsTheCrcOfTheConcatenation) {
  const std::string a = RandomBytes(100'003), b = RandomBytes(77'777);
  EXPECT_EQ(*CombineCrc("CRC32", Crc32(a), Crc32(b), b.size()), Crc32(a + b));
  EXPECT_EQ(*CombineCrc("CRC32C", Crc32c(a), Crc32c(b), b.size()), Crc32c(a + b));
  EXPECT_EQ(*CombineCrc("CRC64NVME", Crc64Nvme(a), Crc64Nvme(b), b.size()), Crc64Nvme(a + b));
  EXPECT_EQ(*CombineCrc("CRC32", Crc32(a), Crc32(""), 0), Crc32(a));
  EXPECT_FALSE(CombineCrc("SHA256", 1, 2, 3).has_value());
}

TEST(UploadChecksumType, DefaultsAndRefusals) {
  EXPECT_EQ(*UploadChecksumType("CRC32", ""), "COMPOSITE");
  EXPECT_EQ(*UploadChecksumType("CRC64NVME", ""), "FULL_OBJECT");
  EXPECT_EQ(*UploadChecksumType("CRC32C", "FULL_OBJECT"), "FULL_OBJECT");
  EXPECT_EQ(*UploadChecksumType("", ""), "");
  EXPECT_EQ(UploadChecksumType("SHA256", "FULL_OBJECT").error().code, "InvalidRequest");
  EXPECT_EQ(UploadChecksumType("CRC64NVME", "COMPOSITE").error().code, "InvalidRequest");
  EXPECT_EQ(UploadChecksumType("", "COMPOSITE").error().code, "InvalidRequest");
}

class MultipartDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(store::OpenSqliteStore(store::SqliteOptions{})).value();
    blobs_ = std::move(store::BlobStore::Open(*store_, store::BlobOptions{.fsync = false})).value();
    s3_ = std::make_unique<S3Store>(*store_, *blobs_);
    ASSERT_TRUE(s3_->CreateBucket(req_, Json{{"Bucket", "bkt"}}).ok());
    p1_ = RandomBytes(kMinPartBytes);
    p2_ = RandomBytes(kMinPartBytes + 3);
    p3_ = RandomBytes(1000);
  }
  Json Key(const std::string& key) { return Json{{"Bucket", "bkt"}, {"Key", key}}; }
  std::string Create(const std::string& key, Json extra = Json::object()) {
    extra.update(Key(key));
    auto created = s3_->CreateMultipartUpload(req_, extra);
    EXPECT_TRUE(created.ok());
    return created.ok() ? (*created)["UploadId"].get<std::string>() : "";
  }
  std::string Part(const std::string& key, const std::string& id, int n, const std::string& body) {
    Json in = Key(key);
    in["UploadId"] = id;
    in["PartNumber"] = n;
    auto r = s3_->UploadPart(req_, in, body);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r->body["ETag"].get<std::string>() : "";
  }
  Result<aws::OperationOutput> Complete(const std::string& key, const std::string& id,
                                        const std::vector<std::pair<int, std::string>>& parts) {
    Json list = Json::array();
    for (const auto& [n, etag] : parts) list.push_back(Json{{"PartNumber", n}, {"ETag", etag}});
    Json in = Key(key);
    in["UploadId"] = id;
    in["MultipartUpload"] = Json{{"Parts", list}};
    return s3_->CompleteMultipartUpload(req_, in);
  }
  // Uploads p1, p2, p3 as parts 1..3 of `key` and completes it.
  void ThreeParts(const std::string& key) {
    std::string id = Create(key);
    auto e1 = Part(key, id, 1, p1_), e2 = Part(key, id, 2, p2_), e3 = Part(key, id, 3, p3_);
    auto done = Complete(key, id, {{1, e1}, {2, e2}, {3, e3}});
    ASSERT_TRUE(done.ok()) << done.error().message;
  }
  std::string Get(const std::string& key, Json extra = Json::object()) {
    extra.update(Key(key));
    auto r = s3_->GetObject(req_, extra, false);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().code);
    if (!r.ok()) return "<error>";
    if (r->payload) return *r->payload;
    if (!r->payload_file) return "";
    EXPECT_EQ(r->payload_file->TotalLength(), r->body["ContentLength"].get<uint64_t>());
    return ReadFileBody(*r->payload_file).value_or("<unreadable>");
  }
  // Blob files on disk: <dir>/<id[0..2]>/<id> (temporary files and other stores' files aside).
  size_t BlobFiles() {
    size_t n = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(blobs_->dir())) {
      if (e.is_regular_file() && store::BlobStore::ValidId(e.path().filename().string()) &&
          e.path().parent_path().filename().string().size() == 2) {
        ++n;
      }
    }
    return n;
  }
  // Runs the blob deletions that are due once the grace period is over.
  void PastGrace() { ASSERT_TRUE(blobs_->RunDeletions(req_.now_ms + 3'600'000).ok()); }

  RequestInfo req_{"000000000000", "us-east-1", 1'700'000'000'000, "req-1", "127.0.0.1"};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::BlobStore> blobs_;
  std::unique_ptr<S3Store> s3_;
  std::string p1_, p2_, p3_;
};

TEST_F(MultipartDataTest, CompleteWritesNoBytesAndReadsCrossParts) {
  std::string id = Create("mp");
  auto e1 = Part("mp", id, 1, p1_), e2 = Part("mp", id, 2, p2_), e3 = Part("mp", id, 3, p3_);
  EXPECT_EQ(BlobFiles(), 3u);
  auto done = Complete("mp", id, {{1, e1}, {2, e2}, {3, e3}});
  ASSERT_TRUE(done.ok()) << done.error().message;
  // The parts' files are the object's: no concatenated copy, none released.
  EXPECT_EQ(BlobFiles(), 3u);
  PastGrace();
  EXPECT_EQ(BlobFiles(), 3u);
  const std::string all = p1_ + p2_ + p3_;
  EXPECT_EQ(Get("mp"), all);
  // Ranges inside a part, across one boundary, across two, and suffixes.
  const uint64_t b1 = p1_.size(), b2 = p1_.size() + p2_.size();
  auto range = [&](uint64_t first, uint64_t last) {
    return Json{{"Range", "bytes=" + std::to_string(first) + "-" + std::to_string(last)}};
  };
  EXPECT_EQ(Get("mp", range(10, 99)), all.substr(10, 90));
  EXPECT_EQ(Get("mp", range(b1 - 5, b1 + 4)), all.substr(b1 - 5, 10));
  EXPECT_EQ(Get("mp", range(b1 - 1, b2)), all.substr(b1 - 1, b2 - b1 + 2));
  EXPECT_EQ(Get("mp", range(b1, b1)), all.substr(b1, 1));
  EXPECT_EQ(Get("mp", Json{{"Range", "bytes=-1500"}}), all.substr(all.size() - 1500));
  EXPECT_EQ(Get("mp", Json{{"Range", "bytes=" + std::to_string(b2 - 2) + "-"}}), all.substr(b2 - 2));
  // partNumber answers one part's bytes with PartsCount.
  EXPECT_EQ(Get("mp", Json{{"PartNumber", 1}}), p1_);
  EXPECT_EQ(Get("mp", Json{{"PartNumber", 2}}), p2_);
  EXPECT_EQ(Get("mp", Json{{"PartNumber", 3}}), p3_);
  auto head = s3_->GetObject(req_, Json{{"Bucket", "bkt"}, {"Key", "mp"}, {"PartNumber", 2}}, true);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->body["PartsCount"], 3);
  EXPECT_EQ(head->body["ContentLength"], p2_.size());
  auto beyond = s3_->GetObject(req_, Json{{"Bucket", "bkt"}, {"Key", "mp"}, {"PartNumber", 4}}, false);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.error().code, "InvalidPartNumber");
  // BodyOf (website, other services' reads) too.
  auto body = s3_->BodyOf(s3_->FindObject("bkt", "mp")->value());
  ASSERT_TRUE(body.ok() && body->payload_file);
  EXPECT_EQ(ReadFileBody(*body->payload_file).value(), all);
}

TEST_F(MultipartDataTest, CopiesReadAcrossParts) {
  ThreeParts("mp");
  const std::string all = p1_ + p2_ + p3_;
  auto copied = s3_->CopyObject(req_, Json{{"Bucket", "bkt"}, {"Key", "copy"}, {"CopySource", "bkt/mp"}});
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  EXPECT_EQ(Get("copy"), all);
  EXPECT_EQ(Get("copy", Json{{"PartNumber", 2}}), p2_);
  // UploadPartCopy of a range spanning the first boundary.
  std::string id = Create("pc");
  const uint64_t b1 = p1_.size();
  Json in = Key("pc");
  in["UploadId"] = id;
  in["PartNumber"] = 1;
  in["CopySource"] = "bkt/mp";
  in["CopySourceRange"] = "bytes=" + std::to_string(b1 - 100) + "-" + std::to_string(b1 + 99);
  auto pc = s3_->UploadPartCopy(req_, in);
  ASSERT_TRUE(pc.ok()) << pc.error().message;
  EXPECT_EQ(pc->body["CopyPartResult"]["ETag"], "\"" + Md5Hex(all.substr(b1 - 100, 200)) + "\"");
  auto done = Complete("pc", id, {{1, pc->body["CopyPartResult"]["ETag"]}});
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(Get("pc"), all.substr(b1 - 100, 200));
  // Deleting the source leaves the copies whole.
  ASSERT_TRUE(s3_->DeleteObject(req_, Key("mp")).ok());
  PastGrace();
  EXPECT_EQ(Get("copy"), all);
  EXPECT_EQ(Get("pc"), all.substr(b1 - 100, 200));
}

TEST_F(MultipartDataTest, DeleteOverwriteAbortAndUnlistedPartsFreeTheirFiles) {
  ThreeParts("mp");
  ASSERT_TRUE(s3_->DeleteObject(req_, Key("mp")).ok());
  EXPECT_EQ(BlobFiles(), 3u);  // still readable by responses in flight
  PastGrace();
  EXPECT_EQ(BlobFiles(), 0u);
  EXPECT_TRUE(store_->Scan(store::PrefixScan("blob/ref/"))->empty());

  ThreeParts("mp");
  ASSERT_TRUE(s3_->PutObject(req_, Key("mp"), "small now").ok());  // overwrite
  PastGrace();
  EXPECT_EQ(BlobFiles(), 0u);
  EXPECT_EQ(Get("mp"), "small now");

  // Parts uploaded but not listed in the complete are released with it.
  std::string id = Create("some");
  auto e1 = Part("some", id, 1, p1_);
  Part("some", id, 2, p2_);
  auto e3 = Part("some", id, 3, p3_);
  ASSERT_TRUE(Complete("some", id, {{1, e1}, {3, e3}}).ok());
  PastGrace();
  EXPECT_EQ(BlobFiles(), 2u);
  EXPECT_EQ(Get("some"), p1_ + p3_);
  EXPECT_EQ(Get("some", Json{{"PartNumber", 2}}), p3_);

  // A part uploaded again replaces the earlier one's file.
  std::string again = Create("again");
  Part("again", again, 1, p2_);
  auto e1b = Part("again", again, 1, p1_);
  ASSERT_TRUE(Complete("again", again, {{1, e1b}}).ok());
  PastGrace();
  EXPECT_EQ(BlobFiles(), 3u);
  EXPECT_EQ(Get("again"), p1_);

  // Abort.
  std::string ab = Create("ab");
  Part("ab", ab, 1, p1_);
  Part("ab", ab, 2, p3_);
  EXPECT_EQ(BlobFiles(), 5u);
  ASSERT_TRUE(s3_->AbortMultipartUpload(req_, Json{{"Bucket", "bkt"}, {"Key", "ab"}, {"UploadId", ab}}).ok());
  PastGrace();
  EXPECT_EQ(BlobFiles(), 3u);

  // A complete that fails (a listed part's ETag is wrong) keeps the upload and its parts.
  std::string keep = Create("keep");
  auto k1 = Part("keep", keep, 1, p1_);
  auto k2 = Part("keep", keep, 2, p3_);
  EXPECT_EQ(Complete("keep", keep, {{1, k1}, {2, "\"00\""}}).error().code, "InvalidPart");
  PastGrace();
  EXPECT_EQ(BlobFiles(), 5u);
  ASSERT_TRUE(Complete("keep", keep, {{1, k1}, {2, k2}}).ok());
  EXPECT_EQ(Get("keep"), p1_ + p3_);

  // Every object goes: nothing is left.
  for (const char* key : {"some", "again", "keep"}) ASSERT_TRUE(s3_->DeleteObject(req_, Key(key)).ok());
  PastGrace();
  EXPECT_EQ(BlobFiles(), 0u);
}

TEST_F(MultipartDataTest, VersionsKeepTheirPartsUntilTheyGo) {
  ASSERT_TRUE(s3_->PutVersioning("bkt", Json{{"Status", "Enabled"}}).ok());
  ThreeParts("v");
  ASSERT_TRUE(s3_->PutObject(req_, Key("v"), "newer").ok());
  PastGrace();
  EXPECT_EQ(BlobFiles(), 3u);  // the noncurrent version keeps its parts
  auto versions = s3_->ListObjectVersions(Json{{"Bucket", "bkt"}});
  ASSERT_TRUE(versions.ok());
  std::string old_vid;
  for (const auto& v : (*versions)["Versions"]) {
    if (!v["IsLatest"].get<bool>()) old_vid = v["VersionId"];
  }
  ASSERT_FALSE(old_vid.empty());
  EXPECT_EQ(Get("v", Json{{"VersionId", old_vid}, {"PartNumber", 3}}), p3_);
  Json del = Key("v");
  del["VersionId"] = old_vid;
  ASSERT_TRUE(s3_->DeleteObject(req_, del).ok());
  PastGrace();
  EXPECT_EQ(BlobFiles(), 0u);
}

TEST_F(MultipartDataTest, CompositeChecksumOfParts) {
  std::string id = Create("ck", Json{{"ChecksumAlgorithm", "CRC32"}});
  auto upload = [&](int n, const std::string& body) {
    Json in = Key("ck");
    in["UploadId"] = id;
    in["PartNumber"] = n;
    in["ChecksumCRC32"] = ComputeChecksum("CRC32", body);
    auto r = s3_->UploadPart(req_, in, body);
    EXPECT_TRUE(r.ok());
    return r->body["ETag"].get<std::string>();
  };
  auto e1 = upload(1, p1_), e2 = upload(2, p3_);
  auto done = Complete("ck", id, {{1, e1}, {2, e2}});
  ASSERT_TRUE(done.ok());
  std::string raw = Base64Decode(ComputeChecksum("CRC32", p1_)).value() +
                    Base64Decode(ComputeChecksum("CRC32", p3_)).value();
  EXPECT_EQ(done->body["ChecksumCRC32"], ComputeChecksum("CRC32", raw) + "-2");
  EXPECT_EQ(done->body["ChecksumType"], "COMPOSITE");
  EXPECT_EQ(Get("ck"), p1_ + p3_);
}

TEST_F(MultipartDataTest, FullObjectChecksumIsTheWholeObjectsCrc) {
  for (std::string algorithm : {"CRC32", "CRC32C", "CRC64NVME"}) {
    std::string key = "full-" + algorithm;
    std::string id = Create(key, Json{{"ChecksumAlgorithm", algorithm}, {"ChecksumType", "FULL_OBJECT"}});
    std::vector<std::pair<int, std::string>> listed;
    int n = 0;
    for (const std::string* body : {&p1_, &p2_, &p3_}) {
      Json in = Key(key);
      in["UploadId"] = id;
      in["PartNumber"] = ++n;
      in[ChecksumMember(algorithm)] = ComputeChecksum(algorithm, *body);
      auto r = s3_->UploadPart(req_, in, *body);
      ASSERT_TRUE(r.ok()) << r.error().message;
      listed.emplace_back(n, r->body["ETag"].get<std::string>());
    }
    const std::string whole = ComputeChecksum(algorithm, p1_ + p2_ + p3_);
    // A stated whole-object checksum that is not the object's is refused; the upload stays.
    Json bad = Key(key);
    bad["UploadId"] = id;
    bad[ChecksumMember(algorithm)] = ComputeChecksum(algorithm, "other");
    Json list = Json::array();
    for (const auto& [pn, etag] : listed) list.push_back(Json{{"PartNumber", pn}, {"ETag", etag}});
    bad["MultipartUpload"] = Json{{"Parts", list}};
    EXPECT_EQ(s3_->CompleteMultipartUpload(req_, bad).error().code, "BadDigest");
    Json good = bad;
    good[ChecksumMember(algorithm)] = whole;
    auto done = s3_->CompleteMultipartUpload(req_, good);
    ASSERT_TRUE(done.ok()) << done.error().message;
    EXPECT_EQ(done->body[ChecksumMember(algorithm)], whole) << algorithm;
    EXPECT_EQ(done->body["ChecksumType"], "FULL_OBJECT");
  }
}

}  // namespace
}  // namespace stratus::services::s3

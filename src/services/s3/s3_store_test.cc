// S3Store without a server: buckets, objects, versions, listings, multipart, lifecycle, events.
#include "services/s3/s3_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>

#include "core/crypto.h"
#include "services/s3/keys.h"

namespace stratus::services::s3 {
namespace {

class S3StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(store::OpenSqliteStore(store::SqliteOptions{})).value();
    blobs_ = std::move(store::BlobStore::Open(*store_, store::BlobOptions{.fsync = false})).value();
    s3_ = std::make_unique<S3Store>(*store_, *blobs_);
    ASSERT_TRUE(s3_->CreateBucket(req_, Json{{"Bucket", "bkt"}}).ok());
  }
  aws::OperationOutput Put(const std::string& key, std::string body, Json extra = Json::object()) {
    extra["Bucket"] = "bkt";
    extra["Key"] = key;
    auto r = s3_->PutObject(req_, extra, std::move(body));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().code + ": " + r.error().message);
    return r.ok() ? std::move(r).value() : aws::OperationOutput{};
  }
  std::string Body(const aws::OperationOutput& out) {
    if (out.payload) return *out.payload;
    if (!out.payload_file) return "";
    // Every region: a multipart object is read from its parts' files.
    return ReadFileBody(*out.payload_file).value();
  }
  Result<aws::OperationOutput> Get(const std::string& key, Json extra = Json::object()) {
    extra["Bucket"] = "bkt";
    extra["Key"] = key;
    return s3_->GetObject(req_, extra, false);
  }
  std::vector<std::string> Keys(const Json& listing) {
    std::vector<std::string> out;
    for (const auto& c : listing.value("Contents", Json::array())) out.push_back(c["Key"]);
    for (const auto& c : listing.value("CommonPrefixes", Json::array())) out.push_back("P:" + c["Prefix"].get<std::string>());
    return out;
  }

  RequestInfo req_{"000000000000", "us-east-1", 1'700'000'000'000, "req-1", "127.0.0.1"};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::BlobStore> blobs_;
  std::unique_ptr<S3Store> s3_;
};

TEST_F(S3StoreTest, BucketRulesAndErrors) {
  EXPECT_EQ(s3_->CreateBucket(req_, Json{{"Bucket", "Bad_Name"}}).error().code, "InvalidBucketName");
  // us-east-1 answers 200 for a bucket you already own there; another account gets a conflict.
  EXPECT_TRUE(s3_->CreateBucket(req_, Json{{"Bucket", "bkt"}}).ok());
  RequestInfo other = req_;
  other.account = "111111111111";
  EXPECT_EQ(s3_->CreateBucket(other, Json{{"Bucket", "bkt"}}).error().code, "BucketAlreadyExists");
  RequestInfo eu = req_;
  eu.region = "eu-west-1";
  EXPECT_EQ(s3_->CreateBucket(eu, Json{{"Bucket", "eu1"}}).error().code, "IllegalLocationConstraintException");
  Json cfg{{"Bucket", "eu1"}, {"CreateBucketConfiguration", {{"LocationConstraint", "eu-west-1"}}}};
  ASSERT_TRUE(s3_->CreateBucket(eu, cfg).ok());
  EXPECT_EQ(s3_->CreateBucket(eu, cfg).error().code, "BucketAlreadyOwnedByYou");
  EXPECT_EQ(s3_->GetBucket("eu1")->region, "eu-west-1");
  Json us{{"Bucket", "x1x"}, {"CreateBucketConfiguration", {{"LocationConstraint", "us-east-1"}}}};
  EXPECT_EQ(s3_->CreateBucket(req_, us).error().code, "InvalidLocationConstraint");
  auto list = s3_->ListBuckets(req_, Json::object());
  ASSERT_TRUE(list.ok());
  EXPECT_EQ((*list)["Buckets"].size(), 2u);
  Put("k", "v");
  EXPECT_EQ(s3_->DeleteBucket(req_, "bkt").error().code, "BucketNotEmpty");
  EXPECT_EQ(s3_->DeleteBucket(req_, "nope").error().code, "NoSuchBucket");
}

TEST_F(S3StoreTest, SmallAndLargeObjectsRoundTrip) {
  auto out = Put("small.txt", "hello", Json{{"ContentType", "text/plain"}, {"Metadata", {{"Color", "red"}}}});
  EXPECT_EQ(out.body["ETag"], "\"" + Md5Hex("hello") + "\"");
  std::string big(kInlineMaxBytes + 10, 'x');
  big[5] = 'y';
  Put("big.bin", big);
  auto small = Get("small.txt");
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(Body(*small), "hello");
  EXPECT_EQ(small->body["ContentType"], "text/plain");
  EXPECT_EQ(small->body["Metadata"]["color"], "red");
  auto large = Get("big.bin");
  ASSERT_TRUE(large.ok());
  ASSERT_TRUE(large->payload_file.has_value());
  EXPECT_EQ(Body(*large), big);
  auto ranged = Get("big.bin", Json{{"Range", "bytes=4-6"}});
  EXPECT_EQ(ranged->status, 206);
  EXPECT_EQ(Body(*ranged), "xyx");
  EXPECT_EQ(Get("big.bin", Json{{"Range", "bytes=999999999-"}}).error().code, "InvalidRange");
  EXPECT_EQ(Get("missing").error().code, "NoSuchKey");
  auto nm = Get("small.txt", Json{{"IfNoneMatch", small->body["ETag"]}});
  EXPECT_EQ(nm->status, 304);
  EXPECT_EQ(Get("small.txt", Json{{"IfMatch", "\"other\""}}).error().code, "PreconditionFailed");
  // Conditional create.
  auto again = s3_->PutObject(req_, Json{{"Bucket", "bkt"}, {"Key", "small.txt"}, {"IfNoneMatch", "*"}}, "x");
  EXPECT_EQ(again.error().code, "PreconditionFailed");
  EXPECT_EQ(s3_->PutObject(req_, Json{{"Bucket", "bkt"}, {"Key", std::string(1025, 'k')}}, "x").error().code,
            "KeyTooLongError");
  // Overwriting a blob-backed object releases its blob.
  Put("big.bin", "now small");
  EXPECT_EQ(*store_->QueueLength("blob/delete"), 1);
}

TEST_F(S3StoreTest, ListingsPageWithDelimitersAndTokens) {
  for (const char* k : {"a/1", "a/2", "b", "c/x/1", "c/y", "d"}) Put(k, "x");
  auto all = s3_->ListObjects(Json{{"Bucket", "bkt"}}, true);
  EXPECT_EQ(Keys(*all), (std::vector<std::string>{"a/1", "a/2", "b", "c/x/1", "c/y", "d"}));
  auto grouped = s3_->ListObjects(Json{{"Bucket", "bkt"}, {"Delimiter", "/"}}, true);
  EXPECT_EQ(Keys(*grouped), (std::vector<std::string>{"b", "d", "P:a/", "P:c/"}));
  EXPECT_EQ((*grouped)["KeyCount"], 4);
  // Pages of two, with prefixes counting as keys.
  Json in{{"Bucket", "bkt"}, {"Delimiter", "/"}, {"MaxKeys", 2}};
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    auto r = s3_->ListObjects(in, true);
    ASSERT_TRUE(r.ok());
    for (auto& k : Keys(*r)) seen.push_back(k);
    if (!(*r)["IsTruncated"].get<bool>()) break;
    in["ContinuationToken"] = (*r)["NextContinuationToken"];
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"P:a/", "P:c/", "b", "d"}));
  auto v1 = s3_->ListObjects(Json{{"Bucket", "bkt"}, {"Delimiter", "/"}, {"MaxKeys", 1}, {"Marker", "a/"}}, false);
  EXPECT_EQ(Keys(*v1), (std::vector<std::string>{"b"}));
  EXPECT_EQ((*v1)["NextMarker"], "b");
  auto prefixed = s3_->ListObjects(Json{{"Bucket", "bkt"}, {"Prefix", "c/"}, {"Delimiter", "/"}}, true);
  EXPECT_EQ(Keys(*prefixed), (std::vector<std::string>{"c/y", "P:c/x/"}));
  auto after = s3_->ListObjects(Json{{"Bucket", "bkt"}, {"StartAfter", "c/x/1"}}, true);
  EXPECT_EQ(Keys(*after), (std::vector<std::string>{"c/y", "d"}));
  EXPECT_EQ(s3_->ListObjects(Json{{"Bucket", "bkt"}, {"ContinuationToken", "!!"}}, true).error().code,
            "InvalidArgument");
  Put("sp ace+plus", "x");
  auto encoded = s3_->ListObjects(Json{{"Bucket", "bkt"}, {"Prefix", "sp"}, {"EncodingType", "url"}}, true);
  EXPECT_EQ((*encoded)["Contents"][0]["Key"], "sp%20ace%2Bplus");
}

TEST_F(S3StoreTest, VersioningKeepsVersionsAndDeleteMarkers) {
  Put("k", "null-version");
  ASSERT_TRUE(s3_->PutVersioning("bkt", Json{{"Status", "Enabled"}}).ok());
  auto v1 = Put("k", "one");
  auto v2 = Put("k", "two");
  std::string id1 = v1.body["VersionId"], id2 = v2.body["VersionId"];
  EXPECT_NE(id1, id2);
  EXPECT_EQ(Body(*Get("k")), "two");
  EXPECT_EQ(Body(*Get("k", Json{{"VersionId", id1}})), "one");
  EXPECT_EQ(Body(*Get("k", Json{{"VersionId", "null"}})), "null-version");
  auto del = s3_->DeleteObject(req_, Json{{"Bucket", "bkt"}, {"Key", "k"}});
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->body["DeleteMarker"], true);
  auto gone = Get("k");
  EXPECT_EQ(gone.error().code, "NoSuchKey");
  EXPECT_EQ(gone.error().headers.at(0).first, "x-amz-delete-marker");
  auto versions = s3_->ListObjectVersions(Json{{"Bucket", "bkt"}});
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ((*versions)["Versions"].size(), 3u);
  EXPECT_EQ((*versions)["DeleteMarkers"].size(), 1u);
  EXPECT_TRUE((*versions)["DeleteMarkers"][0]["IsLatest"].get<bool>());
  // Paging through versions one at a time visits all four.
  Json in{{"Bucket", "bkt"}, {"MaxKeys", 1}};
  int seen = 0;
  while (true) {
    auto r = s3_->ListObjectVersions(in);
    ASSERT_TRUE(r.ok());
    seen += static_cast<int>(r->value("Versions", Json::array()).size() + r->value("DeleteMarkers", Json::array()).size());
    if (!(*r)["IsTruncated"].get<bool>()) break;
    in["KeyMarker"] = (*r)["NextKeyMarker"];
    in["VersionIdMarker"] = (*r)["NextVersionIdMarker"];
    ASSERT_LT(seen, 10);
  }
  EXPECT_EQ(seen, 4);
  EXPECT_TRUE(Keys(*s3_->ListObjects(Json{{"Bucket", "bkt"}}, true)).empty());
  // Removing the delete marker by version brings the newest version back.
  std::string marker = del->body["VersionId"];
  ASSERT_TRUE(s3_->DeleteObject(req_, Json{{"Bucket", "bkt"}, {"Key", "k"}, {"VersionId", marker}}).ok());
  EXPECT_EQ(Body(*Get("k")), "two");
  EXPECT_EQ(Get("k", Json{{"VersionId", "bad!"}}).error().code, "InvalidArgument");
}

TEST_F(S3StoreTest, MultipartUploadsCompleteWithS3Etags) {
  auto created = s3_->CreateMultipartUpload(req_, Json{{"Bucket", "bkt"}, {"Key", "mp"}});
  ASSERT_TRUE(created.ok());
  std::string id = (*created)["UploadId"];
  std::string p1(kMinPartBytes, 'a'), p2 = "tail";
  auto u1 = s3_->UploadPart(req_, Json{{"Bucket", "bkt"}, {"Key", "mp"}, {"UploadId", id}, {"PartNumber", 1}}, p1);
  auto u2 = s3_->UploadPart(req_, Json{{"Bucket", "bkt"}, {"Key", "mp"}, {"UploadId", id}, {"PartNumber", 2}}, p2);
  ASSERT_TRUE(u1.ok() && u2.ok());
  auto parts = s3_->ListParts(Json{{"Bucket", "bkt"}, {"Key", "mp"}, {"UploadId", id}});
  EXPECT_EQ((*parts)["Parts"].size(), 2u);
  auto uploads = s3_->ListMultipartUploads(Json{{"Bucket", "bkt"}});
  EXPECT_EQ((*uploads)["Uploads"].size(), 1u);
  Json out_of_order{{"Bucket", "bkt"}, {"Key", "mp"}, {"UploadId", id},
                    {"MultipartUpload", {{"Parts", {{{"PartNumber", 2}, {"ETag", u2->body["ETag"]}},
                                                    {{"PartNumber", 1}, {"ETag", u1->body["ETag"]}}}}}}};
  EXPECT_EQ(s3_->CompleteMultipartUpload(req_, out_of_order).error().code, "InvalidPartOrder");
  Json wrong_etag = out_of_order;
  wrong_etag["MultipartUpload"]["Parts"] = Json::array({{{"PartNumber", 1}, {"ETag", "\"0\""}}});
  EXPECT_EQ(s3_->CompleteMultipartUpload(req_, wrong_etag).error().code, "InvalidPart");
  Json good = out_of_order;
  good["MultipartUpload"]["Parts"] = Json::array({{{"PartNumber", 1}, {"ETag", u1->body["ETag"]}},
                                                   {{"PartNumber", 2}, {"ETag", u2->body["ETag"]}}});
  auto done = s3_->CompleteMultipartUpload(req_, good);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->body["ETag"], "\"" + Md5Hex(Md5(p1) + Md5(p2)) + "-2\"");
  auto got = Get("mp");
  EXPECT_EQ(Body(*got), p1 + p2);
  auto part2 = Get("mp", Json{{"PartNumber", 2}});
  EXPECT_EQ(Body(*part2), "tail");
  EXPECT_EQ(part2->body["PartsCount"], 2);
  EXPECT_EQ(s3_->CompleteMultipartUpload(req_, good).error().code, "NoSuchUpload");
  EXPECT_TRUE(store_->Scan(store::PrefixScan(keys::PartPrefix(id)))->empty());
  // Parts smaller than 5 MiB (but the last) are refused.
  auto small = s3_->CreateMultipartUpload(req_, Json{{"Bucket", "bkt"}, {"Key", "s"}});
  std::string sid = (*small)["UploadId"];
  auto s1 = s3_->UploadPart(req_, Json{{"Bucket", "bkt"}, {"Key", "s"}, {"UploadId", sid}, {"PartNumber", 1}}, "x");
  auto s2 = s3_->UploadPart(req_, Json{{"Bucket", "bkt"}, {"Key", "s"}, {"UploadId", sid}, {"PartNumber", 2}}, "y");
  Json two{{"Bucket", "bkt"}, {"Key", "s"}, {"UploadId", sid},
           {"MultipartUpload", {{"Parts", {{{"PartNumber", 1}, {"ETag", s1->body["ETag"]}},
                                           {{"PartNumber", 2}, {"ETag", s2->body["ETag"]}}}}}}};
  EXPECT_EQ(s3_->CompleteMultipartUpload(req_, two).error().code, "EntityTooSmall");
  EXPECT_TRUE(s3_->AbortMultipartUpload(req_, Json{{"Bucket", "bkt"}, {"Key", "s"}, {"UploadId", sid}}).ok());
  EXPECT_EQ(s3_->AbortMultipartUpload(req_, Json{{"Bucket", "bkt"}, {"Key", "s"}, {"UploadId", sid}}).error().code,
            "NoSuchUpload");
}

TEST_F(S3StoreTest, CopyAndTagging) {
  Put("src", "data", Json{{"Tagging", "a=1&b=2"}, {"ContentType", "text/x"}});
  auto copied = s3_->CopyObject(req_, Json{{"Bucket", "bkt"}, {"Key", "dst"}, {"CopySource", "bkt/src"}});
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  EXPECT_EQ(copied->body["CopyObjectResult"]["ETag"], "\"" + Md5Hex("data") + "\"");
  auto dst = Get("dst");
  EXPECT_EQ(Body(*dst), "data");
  EXPECT_EQ(dst->body["ContentType"], "text/x");
  EXPECT_EQ((*s3_->GetObjectTagging(Json{{"Bucket", "bkt"}, {"Key", "dst"}}))["TagSet"].size(), 2u);
  EXPECT_EQ(s3_->CopyObject(req_, Json{{"Bucket", "bkt"}, {"Key", "src"}, {"CopySource", "/bkt/src"}}).error().code,
            "InvalidRequest");
  EXPECT_EQ(s3_->CopyObject(req_, Json{{"Bucket", "bkt"}, {"Key", "x"}, {"CopySource", "bkt/none"}}).error().code,
            "NoSuchKey");
  auto tagged = s3_->PutObjectTagging(req_, Json{{"Bucket", "bkt"}, {"Key", "src"},
                                                 {"Tagging", {{"TagSet", {{{"Key", "k"}, {"Value", "v"}}}}}}});
  ASSERT_TRUE(tagged.ok());
  EXPECT_EQ((*s3_->GetObjectTagging(Json{{"Bucket", "bkt"}, {"Key", "src"}}))["TagSet"][0]["Key"], "k");
}

TEST_F(S3StoreTest, LifecycleExpiresAndEventsAreQueuedWithTheirChange) {
  Json notification = Json::parse(R"({"LambdaFunctionConfigurations":[{"Id":"fn",
      "LambdaFunctionArn":"arn:aws:lambda:us-east-1:000000000000:function:f",
      "Events":["s3:ObjectCreated:*"],"Filter":{"Key":{"FilterRules":[{"Name":"suffix","Value":".jpg"}]}}}]})");
  ASSERT_TRUE(s3_->PutConfig("bkt", "notification", notification).ok());
  Put("photo.jpg", "x");
  Put("notes.txt", "x");
  EXPECT_EQ(*store_->QueueLength(std::string(keys::kEventQueue)), 1);
  auto items = store_->Lease(std::string(keys::kEventQueue), 10, INT64_MAX / 4, 1000);
  ASSERT_TRUE(items.ok() && items->size() == 1);
  Json item = Json::parse((*items)[0].payload);
  Json record = item["message"]["Records"][0];
  EXPECT_EQ(record["eventName"], "ObjectCreated:Put");
  EXPECT_EQ(record["s3"]["object"]["key"], "photo.jpg");
  EXPECT_EQ(record["s3"]["bucket"]["arn"], "arn:aws:s3:::bkt");
  EXPECT_EQ(record["s3"]["configurationId"], "fn");

  Json lifecycle = Json::parse(R"({"Rules":[{"ID":"old","Status":"Enabled","Filter":{"Prefix":"notes"},
      "Expiration":{"Days":1}}]})");
  ASSERT_TRUE(s3_->PutConfig("bkt", "lifecycle", lifecycle).ok());
  EXPECT_EQ(*s3_->ApplyLifecycle(req_), 0);
  RequestInfo later = req_;
  later.now_ms += 2 * 86'400'000;
  EXPECT_EQ(*s3_->ApplyLifecycle(later), 1);
  EXPECT_EQ(Get("notes.txt").error().code, "NoSuchKey");
  EXPECT_TRUE(Get("photo.jpg").ok());
}


// The asynchronous PUT answers once durable with what PutObject answers, and refuses what it
// refuses before anything is stored.
TEST_F(S3StoreTest, AsyncPutAnswersAfterCommitLikePutObject) {
  auto put = [&](Json input, std::string body) {
    std::promise<Result<aws::OperationOutput>> answer;
    s3_->PutObjectAsync(req_, input, std::move(body), [&](Result<ObjectRecord> r) {
      if (!r.ok()) {
        answer.set_value(std::move(r).error());
        return;
      }
      answer.set_value(S3Store::PutAnswer(r.value()));
    });
    return answer.get_future().get();
  };
  auto r = put(Json{{"Bucket", "bkt"}, {"Key", "a.txt"}, {"ContentType", "text/plain"}}, "hello");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body["ETag"], "\"5d41402abc4b2a76b9719d911017c592\"");
  auto got = Get("a.txt");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(Body(*got), "hello");
  EXPECT_EQ(got->body["ContentType"], "text/plain");
  // A conditional write refused in the commit, a bad digest and a missing bucket before it.
  EXPECT_EQ(put(Json{{"Bucket", "bkt"}, {"Key", "a.txt"}, {"IfNoneMatch", "*"}}, "x").error().code,
            "PreconditionFailed");
  EXPECT_EQ(put(Json{{"Bucket", "bkt"}, {"Key", "b.txt"}, {"ContentMD5", "1B2M2Y8AsgTpgAmY7PhCfg=="}}, "x")
                .error().code,
            "BadDigest");
  EXPECT_EQ(put(Json{{"Bucket", "nope"}, {"Key", "c.txt"}}, "x").error().code, "NoSuchBucket");
  // A missing bucket comes before a bad digest, as S3 answers (the bucket is read only then).
  EXPECT_EQ(put(Json{{"Bucket", "nope"}, {"Key", "c.txt"}, {"ContentMD5", "1B2M2Y8AsgTpgAmY7PhCfg=="}}, "x")
                .error().code,
            "NoSuchBucket");
  EXPECT_EQ(s3_->PutObject(req_, Json{{"Bucket", "nope"}, {"Key", "c.txt"}, {"Tagging", "a=1&b"}}, "x").error().code,
            "NoSuchBucket");
  EXPECT_EQ(put(Json{{"Bucket", "bkt"}, {"Key", "d.txt"}}, std::string(kInlineMaxBytes + 1, 'x')).error().code,
            "InternalError");
  EXPECT_EQ(Body(Get("a.txt").value()), "hello");
  EXPECT_FALSE(Get("b.txt").ok());
  EXPECT_FALSE(Get("d.txt").ok());
  // Many at once: every one answered, every one readable.
  constexpr int kPuts = 64;
  std::vector<std::promise<Result<ObjectRecord>>> answers(kPuts);
  for (int i = 0; i < kPuts; ++i) {
    s3_->PutObjectAsync(req_, Json{{"Bucket", "bkt"}, {"Key", "many/" + std::to_string(i)}},
                        std::string(4096, static_cast<char>('a' + i % 26)),
                        [&answers, i](Result<ObjectRecord> r) { answers[i].set_value(std::move(r)); });
  }
  for (int i = 0; i < kPuts; ++i) {
    ASSERT_TRUE(answers[i].get_future().get().ok());
    EXPECT_EQ(Body(Get("many/" + std::to_string(i)).value()), std::string(4096, static_cast<char>('a' + i % 26)));
  }
}

// The commit path's parsed-bucket cache never answers from a stale record: a configuration
// change (versioning here) and a deleted and recreated bucket are seen by the next PUT.
TEST_F(S3StoreTest, CommitSeesBucketChangesThroughItsCache) {
  auto put = [&](const std::string& bucket, const std::string& key) {
    std::promise<Result<ObjectRecord>> answer;
    s3_->PutObjectAsync(req_, Json{{"Bucket", bucket}, {"Key", key}}, "x",
                        [&](Result<ObjectRecord> r) { answer.set_value(std::move(r)); });
    return answer.get_future().get();
  };
  auto first = put("bkt", "k");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->version_id, "null");
  ASSERT_TRUE(s3_->PutVersioning("bkt", Json{{"Status", "Enabled"}}).ok());
  auto second = put("bkt", "k");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->version_id, "null");
  ASSERT_TRUE(s3_->CreateBucket(req_, Json{{"Bucket", "gone"}}).ok());
  ASSERT_TRUE(put("gone", "k").ok());
  ASSERT_TRUE(s3_->DeleteObject(req_, Json{{"Bucket", "gone"}, {"Key", "k"}}).ok());
  ASSERT_TRUE(s3_->DeleteBucket(req_, "gone").ok());
  EXPECT_EQ(put("gone", "k").error().code, "NoSuchBucket");
  ASSERT_TRUE(s3_->CreateBucket(req_, Json{{"Bucket", "gone"}}).ok());
  EXPECT_TRUE(put("gone", "k").ok());
}

// Small bodies live in the segment store: one extent per stored version, released (live bytes
// down) with the version, read back whole or in ranges; records written before it (bytes in
// s3/d/) still read and release.
TEST_F(S3StoreTest, SmallObjectsLiveInSegmentsAndReleaseWithTheirVersion) {
  auto extents = [&] { return store_->Scan(store::PrefixScan("seg/x/"))->size(); };
  auto live = [&] {
    uint64_t total = 0;
    auto scanned = store_->Scan(store::PrefixScan("seg/s/"));  // alive through the loop
    for (const auto& kv : *scanned) {
      total += std::stoull(kv.value.substr(0, kv.value.find(' ')));
    }
    return total;
  };
  std::string body(4096, 'a');
  body[100] = 'Z';
  Put("s", body);
  EXPECT_EQ(extents(), 1u);
  EXPECT_EQ(live(), 4096u);
  EXPECT_TRUE(store_->Scan(store::PrefixScan("s3/d/"))->empty());
  EXPECT_EQ(Body(Get("s").value()), body);
  auto ranged = Get("s", Json{{"Range", "bytes=99-101"}});
  ASSERT_TRUE(ranged.ok());
  EXPECT_EQ(Body(*ranged), "aZa");
  // Overwrite: the old extent goes with the old version.
  Put("s", "short");
  EXPECT_EQ(extents(), 1u);
  EXPECT_EQ(live(), 5u);
  // A copy has its own extent; deleting the source leaves the copy readable.
  ASSERT_TRUE(s3_->CopyObject(req_, Json{{"Bucket", "bkt"}, {"Key", "copy"}, {"CopySource", "bkt/s"}}).ok());
  EXPECT_EQ(extents(), 2u);
  ASSERT_TRUE(s3_->DeleteObject(req_, Json{{"Bucket", "bkt"}, {"Key", "s"}}).ok());
  EXPECT_EQ(Body(Get("copy").value()), "short");
  EXPECT_EQ(live(), 5u);
  // Versions keep theirs until each version is deleted.
  ASSERT_TRUE(s3_->PutVersioning("bkt", Json{{"Status", "Enabled"}}).ok());
  auto v1 = Put("v", "one");
  Put("v", "two!");
  EXPECT_EQ(live(), 5u + 3 + 4);
  auto old = Get("v", Json{{"VersionId", v1.body["VersionId"]}});
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(Body(*old), "one");
  ASSERT_TRUE(s3_->DeleteObject(req_, Json{{"Bucket", "bkt"}, {"Key", "v"}, {"VersionId", v1.body["VersionId"]}}).ok());
  EXPECT_EQ(live(), 5u + 4);
  // An empty body has no extent.
  Put("empty", "");
  EXPECT_EQ(extents(), 2u);
  EXPECT_EQ(Body(Get("empty").value()), "");
  // A record from before the segment store: bytes in s3/d/, still served and released.
  ObjectRecord legacy;
  legacy.size = 6;
  legacy.etag = Md5Hex("legacy");
  legacy.data_id = "0123456789abcdef0123456789abcdef";
  legacy.inline_data = true;
  legacy.seq = 1;
  legacy.owner = req_.account;
  ASSERT_TRUE(store_->Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(txn.Put(keys::Data(legacy.data_id), "legacy"));
    return txn.Put(keys::Object("bkt", "legacy"), legacy.Encode());
  }).ok());
  EXPECT_EQ(Body(Get("legacy").value()), "legacy");
  ASSERT_TRUE(s3_->DeleteObject(req_, Json{{"Bucket", "bkt"}, {"Key", "legacy"}, {"VersionId", "null"}}).ok());
  EXPECT_TRUE(store_->Scan(store::PrefixScan("s3/d/"))->empty());
}

// Inline data ids grow with time and within a process, so new data lands at the end of the
// store's index; two stores (processes) never share one.
TEST_F(S3StoreTest, DataIdsAreOrderedAndUnique) {
  std::string a = s3_->NewDataId(1000), b = s3_->NewDataId(1000), c = s3_->NewDataId(1001);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(a.size(), 32u);
  S3Store other(*store_, *blobs_);
  EXPECT_NE(other.NewDataId(1000), a);
}

}  // namespace
}  // namespace stratus::services::s3

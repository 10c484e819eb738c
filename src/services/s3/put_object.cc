// PutObject: the blocking form (bodies streamed to disk or written as blobs) and the
// asynchronous one for small bodies (committed through the store's group commit, no thread
// parked while the fsync runs).

#include "core/crypto.h"
#include "core/strings.h"
#include "services/s3/errors.h"
#include "services/s3/http_rules.h"
#include "services/s3/object_fields.h"
#include "services/s3/s3_store.h"
#include "services/s3/streamed_body.h"

namespace stratus::services::s3 {

S3Store::S3Store(store::Store& store, store::BlobStore& blobs)
    : store_(store),
      blobs_(blobs),
      segments_(blobs.segments()),
      data_id_prefix_(HexEncode(RandomBytes(4))) {}

std::string S3Store::NewDataId(int64_t now_ms) {
  // 12 hex digits of milliseconds, 8 of the process prefix, 12 of the counter: 32 characters,
  // increasing within a process (but for PUTs racing within one millisecond).
  // Written by hand: fmt's formatting cost ~1 600 instructions per small PUT.
  uint64_t n = data_seq_.fetch_add(1, std::memory_order_relaxed);
  constexpr int kDigits = 12;
  constexpr char kHex[] = "0123456789abcdef";
  std::string id(kDigits + data_id_prefix_.size() + kDigits, '0');
  auto put_hex = [&](uint64_t v, size_t end) {
    for (int i = 0; i < kDigits; ++i, v >>= 4) id[end - 1 - i] = kHex[v & 0xf];
  };
  put_hex(static_cast<uint64_t>(now_ms), kDigits);
  id.replace(kDigits, data_id_prefix_.size(), data_id_prefix_);
  put_hex(n, id.size());
  return id;
}

// Everything PutObject decides before its commit.
struct S3Store::PreparedPut {
  std::string bucket;
  std::string key;
  ObjectRecord rec;
  std::optional<std::string> inline_bytes;
  WriteCheck check;  // conditional writes (If-None-Match, If-Match)
};

namespace {

}  // namespace

aws::OperationOutput S3Store::PutAnswer(const ObjectRecord& done) {
  // Member by member: an initializer list builds and copies every value twice.
  aws::OperationOutput out;
  out.body.emplace("ETag", QuoteEtag(done.etag));
  out.body.emplace("ServerSideEncryption", "AES256");
  if (done.version_id != "null") out.body.emplace("VersionId", done.version_id);
  AddChecksum(out.body, done.checksum);
  return out;
}

namespace {

S3Store::WriteCheck ConditionalWrite(const Json& input, const std::string& key) {
  std::string if_none_match = input.value("IfNoneMatch", "");
  std::string if_match = input.value("IfMatch", "");
  if (if_none_match.empty() && if_match.empty()) return {};
  return [if_none_match, if_match, key](const std::optional<ObjectRecord>& cur) -> Status {
    bool exists = cur && !cur->delete_marker;
    if (!if_none_match.empty() && exists &&
        (Trim(if_none_match) == "*" || EtagListMatches(if_none_match, cur->etag))) {
      return PreconditionFailed("If-None-Match");
    }
    if (!if_match.empty()) {
      if (!exists) return NoSuchKey(key);
      if (!EtagListMatches(if_match, cur->etag)) return PreconditionFailed("If-Match");
    }
    return Status::Ok();
  };
}

}  // namespace

Status S3Store::FillPut(const RequestInfo& req, const Json& input, std::string& body, bool small,
                        PreparedPut& p) {
  ObjectRecord& rec = p.rec;
  rec.last_modified_ms = req.now_ms;
  rec.headers = HeadersFrom(input);
  rec.metadata = MetadataFrom(input);
  rec.storage_class = input.value("StorageClass", "STANDARD");
  if (auto t = input.find("Tagging"); t != input.end()) {
    STRATUS_ASSIGN_OR_RETURN(rec.tags, ParseTagging(t->get<std::string>()));
  }
  p.check = ConditionalWrite(input, p.key);
  if (!small) return Status::Ok();
  rec.size = body.size();
  rec.etag = SimpleEtag(body);
  STRATUS_ASSIGN_OR_RETURN(rec.checksum, VerifyBodyIntegrity(input, body));
  if (!body.empty()) {
    rec.data_id = NewDataId(req.now_ms);
    rec.inline_data = true;
    p.inline_bytes = std::move(body);
  }
  return Status::Ok();
}

Result<S3Store::PreparedPut> S3Store::PreparePut(const RequestInfo& req, const Json& input,
                                                 std::string body, ObjectBodySink* streamed) {
  PreparedPut p;
  p.bucket = input.value("Bucket", "");
  p.key = input.value("Key", "");
  STRATUS_RETURN_IF_ERROR(CheckKey(p.key));
  if (input.contains("ObjectLockMode") || input.contains("ObjectLockLegalHoldStatus")) {
    return NotImplemented("x-amz-object-lock-*");
  }
  if (input.contains("SSECustomerAlgorithm")) {
    return NotImplemented("x-amz-server-side-encryption-customer-*");
  }
  // Refused before anything is stored (it used to be checked after the commit).
  if (input.value("WriteOffsetBytes", int64_t{-1}) >= 0) {
    return NotImplemented("x-amz-write-offset-bytes");
  }
  // A body that becomes a blob file fails before any byte is written when the bucket is not
  // there. A small one is not checked here (a read, which after every commit finds the reader's
  // page cache stale): its commit loads the bucket and answers NoSuchBucket, and one refused
  // before its commit is checked then, so NoSuchBucket still comes first.
  const bool small = !streamed && body.size() <= kInlineMaxBytes;
  if (!small) STRATUS_RETURN_IF_ERROR(GetBucket(p.bucket));
  if (Status st = FillPut(req, input, body, small, p); !st.ok()) {
    if (small) STRATUS_RETURN_IF_ERROR(GetBucket(p.bucket));
    return std::move(st).error();
  }
  if (small) return p;
  ObjectRecord& rec = p.rec;
  if (streamed) {
    // Received to a blob file while hashed; a failed check leaves the file to the sink.
    STRATUS_RETURN_IF_ERROR(streamed->Settle());
    rec.size = streamed->size();
    rec.etag = HexEncode(streamed->digests().Md5());
    STRATUS_ASSIGN_OR_RETURN(rec.checksum, VerifyBodyIntegrity(input, streamed->digests()));
    STRATUS_ASSIGN_OR_RETURN(rec.data_id, streamed->Publish());
    return p;
  }
  rec.size = body.size();
  // Hashing a large body overlaps the disk's writeback of its blob.
  Result<std::optional<Checksum>> checksum = std::optional<Checksum>();
  auto hash = [&] {
    rec.etag = SimpleEtag(body);
    checksum = VerifyBodyIntegrity(input, body);
  };
  STRATUS_ASSIGN_OR_RETURN(rec.data_id, blobs_.Put(body, hash));
  if (!checksum.ok()) {
    blobs_.Discard(rec.data_id);
    return std::move(checksum).error();
  }
  rec.checksum = std::move(checksum).value();
  return p;
}

Result<aws::OperationOutput> S3Store::PutObject(const RequestInfo& req, const Json& input,
                                                std::string body, ObjectBodySink* streamed) {
  STRATUS_ASSIGN_OR_RETURN(PreparedPut p, PreparePut(req, input, std::move(body), streamed));
  STRATUS_ASSIGN_OR_RETURN(ObjectRecord done,
                           CommitObject(req, p.bucket, p.key, std::move(p.rec),
                                        std::move(p.inline_bytes), "ObjectCreated:Put", p.check));
  return PutAnswer(done);
}

void S3Store::PutObjectAsync(const RequestInfo& req, const Json& input, std::string body,
                             PutDone done) {
  if (body.size() > kInlineMaxBytes) {
    // A blob's fsync would block the caller: a caller bug, answered as S3 answers its own.
    done(Error("InternalError", "We encountered an internal error. Please try again.", 500, false));
    return;
  }
  auto prepared = PreparePut(req, input, std::move(body), nullptr);
  if (!prepared.ok()) {
    done(std::move(prepared).error());
    return;
  }
  PreparedPut& p = prepared.value();
  CommitObjectAsync(req, std::move(p.bucket), std::move(p.key), std::move(p.rec),
                    std::move(p.inline_bytes), "ObjectCreated:Put", std::move(p.check),
                    std::move(done));
}

}  // namespace stratus::services::s3

// Multipart uploads: create, upload (and copy) parts, complete, abort, list parts and uploads.
#include <algorithm>
#include <unordered_map>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/s3/errors.h"
#include "services/s3/http_rules.h"
#include "services/s3/keys.h"
#include "services/s3/multipart_checksum.h"
#include "services/s3/multipart_data.h"
#include "services/s3/s3_store.h"
#include "services/s3/streamed_body.h"

namespace stratus::services::s3 {

namespace {

constexpr int64_t kMaxListParts = 1000;
constexpr std::string_view kContentMembers[] = {
    "ContentType", "CacheControl", "ContentDisposition", "ContentEncoding",
    "ContentLanguage", "Expires", "WebsiteRedirectLocation"};

Result<UploadRecord> LoadUpload(store::ReadTxn& txn, const std::string& bucket,
                                const std::string& key, const std::string& upload_id) {
  STRATUS_ASSIGN_OR_RETURN(auto text, txn.Get(keys::Upload(bucket, key, upload_id)));
  if (!text) return NoSuchUpload(upload_id);
  return UploadRecord::FromJson(*text);
}

Json InitiatorJson(const std::string& account) {
  return Json{{"ID", "arn:aws:iam::" + account + ":root"}, {"DisplayName", "webfile"}};
}

// Removes an upload's part records (and the upload record), releasing their blobs except those
// in `kept` (blob id -> part number: the parts a completed object now owns). Fails with
// InvalidPart when a kept part is no longer there as it was.
Status ReleaseParts(store::WriteTxn& txn, store::BlobStore& blobs, const std::string& bucket,
                    const std::string& key, const std::string& upload_id, int64_t now_ms,
                    const std::unordered_map<std::string, int>* kept = nullptr) {
  STRATUS_ASSIGN_OR_RETURN(auto parts, txn.Scan(store::PrefixScan(keys::PartPrefix(upload_id))));
  size_t found = 0;
  for (const auto& kv : parts) {
    STRATUS_ASSIGN_OR_RETURN(PartRecord p, PartRecord::FromJson(kv.value));
    if (kept) {
      auto it = kept->find(p.blob);
      if (it != kept->end() && it->second == p.number) {
        ++found;
        STRATUS_RETURN_IF_ERROR(txn.Delete(kv.key));
        continue;
      }
    }
    if (!p.blob.empty()) STRATUS_RETURN_IF_ERROR(blobs.Unreference(txn, p.blob, now_ms));
    STRATUS_RETURN_IF_ERROR(txn.Delete(kv.key));
  }
  if (kept && found != kept->size()) return InvalidPart();
  return txn.Delete(keys::Upload(bucket, key, upload_id));
}

Result<int> PartNumber(const Json& input) {
  int64_t n = input.value("PartNumber", int64_t{0});
  if (n < 1 || n > kMaxPartNumber) {
    return InvalidArgument("Part number must be an integer between 1 and 10000, inclusive",
                           "partNumber", std::to_string(n));
  }
  return static_cast<int>(n);
}

}  // namespace

Result<Json> S3Store::CreateMultipartUpload(const RequestInfo& req, const Json& input) {
  std::string bucket = input.value("Bucket", "");
  std::string key = input.value("Key", "");
  if (key.size() > kMaxKeyBytes) return KeyTooLong(key.size());
  if (input.contains("ObjectLockMode")) return NotImplemented("x-amz-object-lock-*");
  UploadRecord u;
  u.key = key;
  u.upload_id = NewUploadId(req.now_ms);
  u.initiated_ms = req.now_ms;
  for (std::string_view m : kContentMembers) {
    if (auto it = input.find(m); it != input.end()) u.headers[std::string(m)] = *it;
  }
  if (!u.headers.contains("ContentType")) u.headers["ContentType"] = "binary/octet-stream";
  if (auto it = input.find("Metadata"); it != input.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) u.metadata[ToLower(k)] = v;
  }
  u.storage_class = input.value("StorageClass", "STANDARD");
  u.checksum_algorithm = ToUpper(input.value("ChecksumAlgorithm", ""));
  STRATUS_ASSIGN_OR_RETURN(u.checksum_type,
                           UploadChecksumType(u.checksum_algorithm, input.value("ChecksumType", "")));
  if (auto t = input.find("Tagging"); t != input.end()) {
    for (auto& [k, v] : ParseQuery(t->get<std::string>(), true)) {
      if (!k.empty()) u.tags[k] = v;
    }
  }
  u.owner = req.account;
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(LoadBucket(txn, bucket));
    return txn.Put(keys::Upload(bucket, key, u.upload_id), u.ToJson().dump());
  }));
  Json out{{"Bucket", bucket}, {"Key", key}, {"UploadId", u.upload_id},
           {"ServerSideEncryption", "AES256"}};
  if (!u.checksum_algorithm.empty()) {
    out["ChecksumAlgorithm"] = u.checksum_algorithm;
    out["ChecksumType"] = u.checksum_type;
  }
  return out;
}

namespace {

Result<aws::OperationOutput> StorePart(store::Store& store, store::BlobStore& blobs,
                                       const RequestInfo& req, const std::string& bucket,
                                       const std::string& key, const std::string& upload_id,
                                       PartRecord part) {
  Status st = store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(S3Store::LoadBucket(txn, bucket));
    STRATUS_RETURN_IF_ERROR(LoadUpload(txn, bucket, key, upload_id));
    std::string pk = keys::Part(upload_id, part.number);
    STRATUS_ASSIGN_OR_RETURN(auto old, txn.Get(pk));
    if (old) {
      STRATUS_ASSIGN_OR_RETURN(PartRecord previous, PartRecord::FromJson(*old));
      if (!previous.blob.empty()) {
        STRATUS_RETURN_IF_ERROR(blobs.Unreference(txn, previous.blob, req.now_ms));
      }
    }
    STRATUS_RETURN_IF_ERROR(blobs.Reference(txn, part.blob));
    return txn.Put(pk, part.ToJson().dump());
  });
  if (!st.ok()) {
    blobs.Discard(part.blob);
    return std::move(st).error();
  }
  aws::OperationOutput out;
  out.body = Json{{"ETag", QuoteEtag(part.etag)}, {"ServerSideEncryption", "AES256"}};
  if (part.checksum) out.body[ChecksumMember(part.checksum->algorithm)] = part.checksum->value;
  return out;
}

}  // namespace

Result<aws::OperationOutput> S3Store::UploadPart(const RequestInfo& req, const Json& input,
                                                 std::string body, ObjectBodySink* streamed) {
  std::string bucket = input.value("Bucket", "");
  std::string key = input.value("Key", "");
  std::string upload_id = input.value("UploadId", "");
  STRATUS_ASSIGN_OR_RETURN(int number, PartNumber(input));
  // Fail before writing bytes when the upload is not there.
  STRATUS_RETURN_IF_ERROR(store_.Read([&](store::ReadTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(LoadBucket(txn, bucket));
    return LoadUpload(txn, bucket, key, upload_id).ok() ? Status::Ok() : NoSuchUpload(upload_id);
  }));
  PartRecord part;
  part.number = number;
  part.size = body.size();
  part.last_modified_ms = req.now_ms;
  if (streamed) {
    STRATUS_RETURN_IF_ERROR(streamed->Settle());
    part.size = streamed->size();
    part.etag = HexEncode(streamed->digests().Md5());
    STRATUS_ASSIGN_OR_RETURN(part.checksum, VerifyBodyIntegrity(input, streamed->digests()));
    STRATUS_ASSIGN_OR_RETURN(part.blob, streamed->Publish());
    return StorePart(store_, blobs_, req, bucket, key, upload_id, std::move(part));
  }
  Result<std::optional<Checksum>> checksum = std::optional<Checksum>();
  STRATUS_ASSIGN_OR_RETURN(part.blob, blobs_.Put(body, [&] {
    part.etag = SimpleEtag(body);
    checksum = VerifyBodyIntegrity(input, body);
  }));
  if (!checksum.ok()) {
    blobs_.Discard(part.blob);
    return std::move(checksum).error();
  }
  part.checksum = *checksum;
  return StorePart(store_, blobs_, req, bucket, key, upload_id, std::move(part));
}

Result<aws::OperationOutput> S3Store::UploadPartCopy(const RequestInfo& req, const Json& input) {
  std::string bucket = input.value("Bucket", "");
  std::string key = input.value("Key", "");
  std::string upload_id = input.value("UploadId", "");
  STRATUS_ASSIGN_OR_RETURN(int number, PartNumber(input));
  STRATUS_RETURN_IF_ERROR(store_.Read([&](store::ReadTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(LoadBucket(txn, bucket));
    return LoadUpload(txn, bucket, key, upload_id).ok() ? Status::Ok() : NoSuchUpload(upload_id);
  }));
  Json info;
  STRATUS_ASSIGN_OR_RETURN(auto source, ReadSource(input, info));
  auto& [src, bytes] = source;
  ByteRange range{0, src.size};
  if (auto r = input.find("CopySourceRange"); r != input.end()) {
    STRATUS_ASSIGN_OR_RETURN(auto parsed, ParseRange(r->get<std::string>(), src.size));
    if (!parsed) {
      return InvalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last "
                             "where first and last are the zero-based offsets of the first and last "
                             "bytes to copy",
                             "x-amz-copy-source-range", r->get<std::string>());
    }
    range = *parsed;
  }
  PartRecord part;
  part.number = number;
  part.size = range.length;
  part.last_modified_ms = req.now_ms;
  if (src.inline_data || !src.HasData()) {
    std::string data = bytes.value_or("");
    std::string slice = range.length == 0 ? std::string() : data.substr(range.start, range.length);
    part.etag = SimpleEtag(slice);
    STRATUS_ASSIGN_OR_RETURN(part.blob, blobs_.Put(slice));
  } else {
    STRATUS_ASSIGN_OR_RETURN(part.blob, blobs_.Concat(BlobRangesOf(src, range.start, range.length)));
    if (range.start == 0 && range.length == src.size && src.part_sizes.empty()) {
      part.etag = src.etag;
    } else {
      STRATUS_ASSIGN_OR_RETURN(std::string copied, blobs_.Read(part.blob, 0, part.size));
      part.etag = SimpleEtag(copied);
    }
  }
  STRATUS_ASSIGN_OR_RETURN(auto stored,
                           StorePart(store_, blobs_, req, bucket, key, upload_id, part));
  aws::OperationOutput out;
  out.body = Json{{"CopyPartResult", Json{{"ETag", QuoteEtag(part.etag)},
                                          {"LastModified", static_cast<double>(req.now_ms) / 1000.0}}},
                  {"ServerSideEncryption", "AES256"}};
  if (info.value("version_id", "null") != "null") out.body["CopySourceVersionId"] = info["version_id"];
  return out;
}

Result<aws::OperationOutput> S3Store::CompleteMultipartUpload(const RequestInfo& req,
                                                              const Json& input) {
  std::string bucket = input.value("Bucket", "");
  std::string key = input.value("Key", "");
  std::string upload_id = input.value("UploadId", "");
  Json requested = input.value("MultipartUpload", Json::object()).value("Parts", Json::array());
  if (requested.empty()) {
    return MalformedXml();
  }
  std::optional<UploadRecord> upload;
  std::vector<PartRecord> parts;
  STRATUS_RETURN_IF_ERROR(store_.Read([&](store::ReadTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(LoadBucket(txn, bucket));
    STRATUS_ASSIGN_OR_RETURN(upload, LoadUpload(txn, bucket, key, upload_id));
    int previous = 0;
    for (const auto& r : requested) {
      int n = r.value("PartNumber", 0);
      if (n <= previous) return InvalidPartOrder();
      previous = n;
      STRATUS_ASSIGN_OR_RETURN(auto text, txn.Get(keys::Part(upload_id, n)));
      if (!text) return InvalidPart();
      STRATUS_ASSIGN_OR_RETURN(PartRecord p, PartRecord::FromJson(*text));
      if (UnquoteEtag(r.value("ETag", "")) != p.etag) return InvalidPart();
      parts.push_back(std::move(p));
    }
    return Status::Ok();
  }));
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i].size < kMinPartBytes) return EntityTooSmall(parts[i].size);
  }
  // The parts' blob files become the object's: completing writes metadata only. The part
  // records go; parts uploaded but not listed are released.
  ObjectRecord rec;
  std::vector<std::string> etags;
  for (const auto& p : parts) {
    etags.push_back(p.etag);
    rec.part_sizes.push_back(p.size);
    rec.part_blobs.push_back(p.blob);
    rec.size += p.size;
  }
  rec.etag = MultipartEtag(etags);
  rec.last_modified_ms = req.now_ms;
  rec.headers = upload->headers;
  rec.metadata = upload->metadata;
  rec.storage_class = upload->storage_class;
  rec.tags = upload->tags;
  if (!upload->checksum_algorithm.empty()) {
    std::vector<PartChecksum> sums;
    for (const auto& p : parts) sums.push_back(PartChecksum{p.checksum, p.size});
    rec.checksum = MultipartChecksum(upload->checksum_algorithm, upload->checksum_type, sums);
    // The whole object's checksum, when the request states it, must be the one computed.
    auto claimed = input.find(ChecksumMember(upload->checksum_algorithm));
    if (rec.checksum && claimed != input.end() && claimed->is_string()) {
      std::string_view want = rec.checksum->value;
      std::string_view got = claimed->get_ref<const std::string&>();
      if (got != want && got != want.substr(0, want.find('-'))) {
        return BadDigest(upload->checksum_algorithm);
      }
    }
  }
  std::unordered_map<std::string, int> used;  // blob id -> part number
  for (const auto& p : parts) used.emplace(p.blob, p.number);
  auto check = [&](const std::optional<ObjectRecord>&) -> Status { return Status::Ok(); };
  auto cleanup = [&](store::WriteTxn& txn) -> Status {
    // The upload must still exist: a concurrent complete or abort wins. Each listed part must
    // still be the one read above: a part uploaded again since released the blob named here.
    STRATUS_RETURN_IF_ERROR(LoadUpload(txn, bucket, key, upload_id));
    return ReleaseParts(txn, blobs_, bucket, key, upload_id, req.now_ms, &used);
  };
  STRATUS_ASSIGN_OR_RETURN(ObjectRecord done,
                           CommitObject(req, bucket, key, std::move(rec), std::nullopt,
                                        "ObjectCreated:CompleteMultipartUpload", check, cleanup));
  aws::OperationOutput out;
  out.body = Json{{"Location", "/" + bucket + "/" + UrlEncode(key, true)},
                  {"Bucket", bucket},
                  {"Key", key},
                  {"ETag", QuoteEtag(done.etag)},
                  {"ServerSideEncryption", "AES256"}};
  if (done.checksum) {
    out.body[ChecksumMember(done.checksum->algorithm)] = done.checksum->value;
    out.body["ChecksumType"] = done.checksum->type;
  }
  if (done.version_id != "null") out.body["VersionId"] = done.version_id;
  return out;
}

Status S3Store::AbortMultipartUpload(const RequestInfo& req, const Json& input) {
  std::string bucket = input.value("Bucket", "");
  std::string key = input.value("Key", "");
  std::string upload_id = input.value("UploadId", "");
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(LoadBucket(txn, bucket));
    STRATUS_RETURN_IF_ERROR(LoadUpload(txn, bucket, key, upload_id));
    return ReleaseParts(txn, blobs_, bucket, key, upload_id, req.now_ms);
  });
}

Result<Json> S3Store::ListParts(const Json& input) {
  std::string bucket = input.value("Bucket", "");
  std::string key = input.value("Key", "");
  std::string upload_id = input.value("UploadId", "");
  int64_t max_parts = std::min(input.value("MaxParts", kMaxListParts), kMaxListParts);
  int64_t marker = 0;
  if (auto m = input.find("PartNumberMarker"); m != input.end()) {
    auto parsed = m->is_string() ? ParseInt64(m->get<std::string>()) : std::optional<int64_t>(m->get<int64_t>());
    if (!parsed) return InvalidArgument("Invalid part number marker", "part-number-marker", "");
    marker = *parsed;
  }
  std::optional<UploadRecord> upload;
  std::vector<store::KeyValue> rows;
  STRATUS_RETURN_IF_ERROR(store_.Read([&](store::ReadTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(LoadBucket(txn, bucket));
    STRATUS_ASSIGN_OR_RETURN(upload, LoadUpload(txn, bucket, key, upload_id));
    std::string start = keys::Part(upload_id, static_cast<int>(std::min<int64_t>(marker, kMaxPartNumber) + 1));
    STRATUS_ASSIGN_OR_RETURN(rows, txn.Scan(store::ScanOptions{
                                       start, store::PrefixEnd(keys::PartPrefix(upload_id)),
                                       static_cast<size_t>(max_parts + 1)}));
    return Status::Ok();
  }));
  Json parts = Json::array();
  bool truncated = static_cast<int64_t>(rows.size()) > max_parts;
  int last = 0;
  for (size_t i = 0; i < rows.size() && static_cast<int64_t>(i) < max_parts; ++i) {
    STRATUS_ASSIGN_OR_RETURN(PartRecord p, PartRecord::FromJson(rows[i].value));
    Json j{{"PartNumber", p.number},
           {"LastModified", static_cast<double>(p.last_modified_ms) / 1000.0},
           {"ETag", QuoteEtag(p.etag)},
           {"Size", p.size}};
    if (p.checksum) j[ChecksumMember(p.checksum->algorithm)] = p.checksum->value;
    parts.push_back(std::move(j));
    last = p.number;
  }
  Json out{{"Bucket", bucket},
           {"Key", key},
           {"UploadId", upload_id},
           {"PartNumberMarker", std::to_string(marker)},
           {"MaxParts", max_parts},
           {"IsTruncated", truncated},
           {"Initiator", InitiatorJson(upload->owner)},
           {"Owner", OwnerJson(upload->owner)},
           {"StorageClass", upload->storage_class}};
  if (truncated) out["NextPartNumberMarker"] = std::to_string(last);
  if (!parts.empty()) out["Parts"] = std::move(parts);
  if (!upload->checksum_algorithm.empty()) {
    out["ChecksumAlgorithm"] = upload->checksum_algorithm;
    out["ChecksumType"] = upload->checksum_type;
  }
  return out;
}

Result<Json> S3Store::ListMultipartUploads(const Json& input) {
  std::string bucket = input.value("Bucket", "");
  STRATUS_RETURN_IF_ERROR(GetBucket(bucket));
  std::string prefix = input.value("Prefix", "");
  std::string delimiter = input.value("Delimiter", "");
  std::string key_marker = input.value("KeyMarker", "");
  std::string upload_marker = input.value("UploadIdMarker", "");
  int64_t max = std::min(input.value("MaxUploads", kMaxListParts), kMaxListParts);
  bool url = input.value("EncodingType", "") == "url";
  auto enc = [&](const std::string& s) { return url ? UrlEncode(s, true) : s; };
  std::string base = keys::UploadPrefix(bucket);
  STRATUS_ASSIGN_OR_RETURN(auto rows, store_.Scan(store::PrefixScan(base + prefix)));
  Json uploads = Json::array();
  Json prefixes = Json::array();
  std::string last_prefix;
  int64_t count = 0;
  bool truncated = false;
  std::string next_key, next_upload;
  for (const auto& kv : rows) {
    STRATUS_ASSIGN_OR_RETURN(UploadRecord u, UploadRecord::FromJson(kv.value));
    if (!key_marker.empty()) {
      if (u.key < key_marker) continue;
      if (u.key == key_marker && (upload_marker.empty() || u.upload_id <= upload_marker)) continue;
    }
    if (!delimiter.empty()) {
      size_t pos = u.key.find(delimiter, prefix.size());
      if (pos != std::string::npos) {
        std::string cp = u.key.substr(0, pos + delimiter.size());
        if (cp == last_prefix || (!key_marker.empty() && cp <= key_marker)) continue;
        if (count >= max) {
          truncated = true;
          break;
        }
        ++count;
        last_prefix = cp;
        next_key = cp;
        next_upload.clear();
        prefixes.push_back(Json{{"Prefix", enc(cp)}});
        continue;
      }
    }
    if (count >= max) {
      truncated = true;
      break;
    }
    ++count;
    next_key = u.key;
    next_upload = u.upload_id;
    uploads.push_back(Json{{"UploadId", u.upload_id},
                           {"Key", enc(u.key)},
                           {"Initiated", static_cast<double>(u.initiated_ms) / 1000.0},
                           {"StorageClass", u.storage_class},
                           {"Owner", OwnerJson(u.owner)},
                           {"Initiator", InitiatorJson(u.owner)}});
  }
  Json out{{"Bucket", bucket},     {"KeyMarker", enc(key_marker)}, {"UploadIdMarker", upload_marker},
           {"Prefix", enc(prefix)}, {"MaxUploads", max},           {"IsTruncated", truncated}};
  if (!delimiter.empty()) out["Delimiter"] = enc(delimiter);
  if (url) out["EncodingType"] = "url";
  if (truncated) {
    out["NextKeyMarker"] = enc(next_key);
    out["NextUploadIdMarker"] = next_upload;
  }
  if (!uploads.empty()) out["Uploads"] = std::move(uploads);
  if (!prefixes.empty()) out["CommonPrefixes"] = std::move(prefixes);
  return out;
}

}  // namespace stratus::services::s3

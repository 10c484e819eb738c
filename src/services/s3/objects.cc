// Objects: put/get/head/delete/copy, versions, tagging, attributes.
#include <cmath>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/s3/errors.h"
#include "services/s3/events.h"
#include "services/s3/http_rules.h"
#include "services/s3/keys.h"
#include "services/s3/multipart_data.h"
#include "services/s3/object_fields.h"
#include "services/s3/s3_store.h"
#include "services/s3/streamed_body.h"
#include "store/rerunnable_write.h"

namespace stratus::services::s3 {

namespace {

constexpr size_t kMaxTags = 10;
constexpr size_t kMaxTagKey = 128;
constexpr size_t kMaxTagValue = 256;

// Content headers stored with an object and returned on GET/HEAD (API member names).
constexpr std::string_view kContentMembers[] = {
    "ContentType",     "CacheControl", "ContentDisposition",      "ContentEncoding",
    "ContentLanguage", "Expires",      "WebsiteRedirectLocation", "ServerSideEncryption",
    "SSEKMSKeyId",     "BucketKeyEnabled"};

double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

}  // namespace

Json HeadersFrom(const Json& input) {
  Json h = Json::object();
  for (std::string_view m : kContentMembers) {
    auto it = input.find(m);
    if (it == input.end()) continue;
    // S3 drops the aws-chunked coding it decoded.
    if (m == "ContentEncoding" && it->is_string()) {
      std::vector<std::string> codings;
      for (const auto& c : Split(it->get<std::string>(), ',')) {
        std::string t(Trim(c));
        if (!t.empty() && ToLower(t) != "aws-chunked") codings.push_back(t);
      }
      if (!codings.empty()) h[std::string(m)] = Join(codings, ",");
      continue;
    }
    h[std::string(m)] = *it;
  }
  if (!h.contains("ContentType")) h["ContentType"] = "binary/octet-stream";
  return h;
}

Json MetadataFrom(const Json& input) {
  Json md = Json::object();
  if (auto it = input.find("Metadata"); it != input.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) md[ToLower(k)] = v;
  }
  return md;
}

Result<Json> ParseTagging(const std::string& text) {
  Json tags = Json::object();
  for (auto& [k, v] : ParseQuery(text, true)) {
    if (k.empty()) continue;
    tags[k] = v;
  }
  if (tags.size() > kMaxTags) return InvalidTag("Object tags cannot be greater than 10");
  for (const auto& [k, v] : tags.items()) {
    if (k.size() > kMaxTagKey) return InvalidTag("The TagKey you have provided is too long, max 128");
    if (v.get<std::string>().size() > kMaxTagValue) {
      return InvalidTag("The TagValue you have provided is too long, max 256");
    }
  }
  return tags;
}

namespace {

Result<Json> TagsFromTagSet(const Json& tagging) {
  Json tags = Json::object();
  for (const auto& t : tagging.value("TagSet", Json::array())) {
    std::string k = t.value("Key", "");
    if (tags.contains(k)) return InvalidTag("Cannot provide multiple Tags with the same key");
    tags[k] = t.value("Value", "");
  }
  if (tags.size() > kMaxTags) return InvalidTag("Object tags cannot be greater than 10");
  return tags;
}

Json TagSet(const Json& tags) {
  Json set = Json::array();
  for (const auto& [k, v] : tags.items()) set.push_back(Json{{"Key", k}, {"Value", v}});
  return set;
}

}  // namespace

void AddChecksum(Json& out, const std::optional<Checksum>& c) {
  if (!c) return;
  out[ChecksumMember(c->algorithm)] = c->value;
  out["ChecksumType"] = c->type;
}

Status CheckKey(const std::string& key) {
  if (key.size() > kMaxKeyBytes) return KeyTooLong(key.size());
  if (key.empty()) return InvalidArgument("Key must not be empty", "key", "");
  return Status::Ok();
}

namespace {

// The headers S3 adds to an answer about a delete marker.
Error WithDeleteMarker(Error e, const ObjectRecord& rec) {
  e.headers.emplace_back("x-amz-delete-marker", "true");
  if (rec.version_id != "null") e.headers.emplace_back("x-amz-version-id", rec.version_id);
  return e;
}

}  // namespace

// ---- shared helpers

Result<std::optional<S3Store::Located>> S3Store::FindVersion(store::ReadTxn& txn,
                                                             const std::string& bucket,
                                                             const std::string& key,
                                                             const std::string& version_id) {
  STRATUS_ASSIGN_OR_RETURN(auto cur, txn.Get(keys::Object(bucket, key)));
  if (!cur) return std::optional<Located>();
  STRATUS_ASSIGN_OR_RETURN(ObjectRecord rec, ObjectRecord::FromJson(*cur));
  if (version_id.empty() || rec.version_id == version_id) {
    return std::optional<Located>(Located{std::move(rec), keys::Object(bucket, key), true});
  }
  STRATUS_ASSIGN_OR_RETURN(auto versions,
                           txn.Scan(store::PrefixScan(keys::KeyVersionPrefix(bucket, key))));
  for (auto& kv : versions) {
    STRATUS_ASSIGN_OR_RETURN(ObjectRecord v, ObjectRecord::FromJson(kv.value));
    if (v.version_id == version_id) {
      return std::optional<Located>(Located{std::move(v), std::move(kv.key), false});
    }
  }
  return std::optional<Located>();
}

Status S3Store::DropData(store::WriteTxn& txn, const ObjectRecord& rec, int64_t now_ms) {
  if (!rec.HasData()) return Status::Ok();
  if (rec.inline_data && rec.segment) {
    if (!segments_) return InternalFailure("s3: an object's data is in the segment store, not open");
    return segments_->Unreference(txn, rec.data_id);
  }
  if (rec.inline_data) return txn.Delete(keys::Data(rec.data_id));
  return UnreferenceBlobs(blobs_, txn, rec, now_ms);
}

namespace {

// Moves the current version out of the way of a new one, by the bucket's versioning state:
// kept as noncurrent when versioning is enabled or it has a real version id; dropped when it is
// the "null" version; and a noncurrent "null" version is replaced when versioning is suspended.
Status Displace(S3Store& s3, store::WriteTxn& txn, const Bucket& b, const std::string& key,
                const std::optional<ObjectRecord>& cur, int64_t now_ms) {
  if (!cur) return Status::Ok();
  if (b.versioning == "Enabled" || cur->version_id != "null") {
    STRATUS_RETURN_IF_ERROR(txn.Put(keys::Version(b.name, key, cur->seq), cur->Encode()));
  } else {
    STRATUS_RETURN_IF_ERROR(s3.DropData(txn, *cur, now_ms));
  }
  if (b.versioning == "Suspended") {
    STRATUS_ASSIGN_OR_RETURN(auto versions,
                             txn.Scan(store::PrefixScan(keys::KeyVersionPrefix(b.name, key))));
    for (const auto& kv : versions) {
      STRATUS_ASSIGN_OR_RETURN(ObjectRecord v, ObjectRecord::FromJson(kv.value));
      if (v.version_id != "null" || v.seq == cur->seq) continue;
      STRATUS_RETURN_IF_ERROR(s3.DropData(txn, v, now_ms));
      STRATUS_RETURN_IF_ERROR(txn.Delete(kv.key));
    }
  }
  return Status::Ok();
}

}  // namespace

struct S3Store::PendingCommit {
  RequestInfo req;
  std::string bucket;
  std::string key;
  ObjectRecord rec;
  std::optional<std::string> inline_bytes;
  std::string event_name;
  WriteCheck check;
  ExtraWrites extra;
  std::optional<store::Extent> extent;  // where the inline bytes were appended, once synced
};

Status S3Store::ApplyCommit(store::WriteTxn& txn, PendingCommit& p) {
  STRATUS_ASSIGN_OR_RETURN(std::shared_ptr<const Bucket> bucket, LoadBucketCached(txn, p.bucket));
  const Bucket& b = *bucket;
  STRATUS_ASSIGN_OR_RETURN(auto cur_text, txn.Get(keys::Object(p.bucket, p.key)));
  std::optional<ObjectRecord> cur;
  if (cur_text) {
    STRATUS_ASSIGN_OR_RETURN(ObjectRecord c, ObjectRecord::FromJson(*cur_text));
    cur = std::move(c);
  }
  if (p.check) STRATUS_RETURN_IF_ERROR(p.check(cur));
  ObjectRecord& rec = p.rec;
  rec.seq = cur ? cur->seq + 1 : 1;
  rec.version_id = b.versioning == "Enabled" ? NewVersionId() : "null";
  rec.owner = p.req.account;
  STRATUS_RETURN_IF_ERROR(Displace(*this, txn, b, p.key, cur, p.req.now_ms));
  if (p.extent) {
    STRATUS_RETURN_IF_ERROR(segments_->Reference(txn, rec.data_id, *p.extent));
  } else if (p.inline_bytes) {
    STRATUS_RETURN_IF_ERROR(txn.Put(keys::Data(rec.data_id), *p.inline_bytes));
  } else if (!rec.data_id.empty()) {
    STRATUS_RETURN_IF_ERROR(blobs_.Reference(txn, rec.data_id));
  }
  STRATUS_RETURN_IF_ERROR(txn.Put(keys::Object(p.bucket, p.key), rec.Encode()));
  if (p.extra) STRATUS_RETURN_IF_ERROR(p.extra(txn));
  return QueueEvents(txn, b, p.event_name, p.key, rec, p.req);
}

Result<ObjectRecord> S3Store::CommitObject(const RequestInfo& req, const std::string& bucket,
                                           const std::string& key, ObjectRecord rec,
                                           std::optional<std::string> inline_bytes,
                                           const std::string& event_name, const WriteCheck& check,
                                           const ExtraWrites& extra) {
  PendingCommit p{req,  bucket, key,   std::move(rec), std::move(inline_bytes),
                  event_name, check, extra, std::nullopt};
  // Small data goes to the segment store first; the store's writer syncs the segment before the
  // commit that names it (SegmentStore::Reference).
  if (p.inline_bytes) {
    p.rec.segment = false;
    if (segments_ && !p.inline_bytes->empty()) {
      STRATUS_ASSIGN_OR_RETURN(p.extent, segments_->AppendForCommit(*p.inline_bytes));
      p.rec.segment = true;
    }
  }
  Status st = store_.Write([&](store::WriteTxn& txn) { return ApplyCommit(txn, p); });
  if (p.extent) segments_->Settle(*p.extent);
  if (!st.ok()) {
    if (!p.inline_bytes && !p.rec.data_id.empty()) blobs_.Discard(p.rec.data_id);
    return std::move(st).error();
  }
  return std::move(p.rec);
}

void S3Store::CommitObjectAsync(const RequestInfo& req, std::string bucket, std::string key,
                                ObjectRecord rec, std::optional<std::string> inline_bytes,
                                std::string event_name, WriteCheck check,
                                std::function<void(Result<ObjectRecord>)> done) {
  auto p = std::make_shared<PendingCommit>(PendingCommit{
      req, std::move(bucket), std::move(key), std::move(rec), std::move(inline_bytes),
      std::move(event_name), std::move(check), {}, std::nullopt});
  auto finish = std::make_shared<std::function<void(Result<ObjectRecord>)>>(std::move(done));
  auto commit = [this, p, finish] {
    // ApplyCommit may run twice (see its contract): no savepoint per PUT.
    store::WriteAsyncRerunnable(store_,
                      [this, p](store::WriteTxn& txn) { return ApplyCommit(txn, *p); },
                      [this, p, finish](Status st) {
                        if (p->extent) segments_->Settle(*p->extent);
                        if (!st.ok()) {
                          if (!p->inline_bytes && !p->rec.data_id.empty()) {
                            blobs_.Discard(p->rec.data_id);
                          }
                          (*finish)(std::move(st).error());
                          return;
                        }
                        (*finish)(std::move(p->rec));
                      });
  };
  if (p->inline_bytes) p->rec.segment = false;
  if (!p->inline_bytes || p->inline_bytes->empty() || !segments_) {
    commit();
    return;
  }
  // The bytes are written to the active segment here; the store's writer fdatasyncs the segment
  // once for every append its batch names, then commits it (one hand-off, two syncs per batch).
  Result<store::Extent> e = segments_->AppendForCommit(*p->inline_bytes);
  if (!e.ok()) {
    (*finish)(std::move(e).error());
    return;
  }
  p->extent = *e;
  p->rec.segment = true;
  commit();
}

Result<std::optional<std::string>> S3Store::LoadInline(store::ReadTxn& txn,
                                                       const ObjectRecord& rec) {
  if (!rec.segment) return txn.Get(keys::Data(rec.data_id));
  if (!segments_) return InternalFailure("s3: an object's data is in the segment store, not open");
  STRATUS_ASSIGN_OR_RETURN(auto extent, store::SegmentStore::Find(txn, rec.data_id));
  if (!extent) return std::optional<std::string>();
  STRATUS_ASSIGN_OR_RETURN(std::string bytes, segments_->Read(*extent));
  return std::optional<std::string>(std::move(bytes));
}

Status S3Store::RemoveVersion(store::WriteTxn& txn, const std::string& bucket,
                              const std::string& key, const Located& found, int64_t now_ms) {
  STRATUS_RETURN_IF_ERROR(DropData(txn, found.record, now_ms));
  STRATUS_RETURN_IF_ERROR(txn.Delete(found.store_key));
  if (!found.current) return Status::Ok();
  // The newest noncurrent version becomes current.
  STRATUS_ASSIGN_OR_RETURN(auto next,
                           txn.Scan(store::PrefixScan(keys::KeyVersionPrefix(bucket, key), 1)));
  if (next.empty()) return Status::Ok();
  STRATUS_RETURN_IF_ERROR(txn.Delete(next[0].key));
  return txn.Put(keys::Object(bucket, key), next[0].value);
}

Result<std::optional<ObjectRecord>> S3Store::DeleteCurrent(store::WriteTxn& txn, const Bucket& b,
                                                           const std::string& key,
                                                           const RequestInfo& req) {
  STRATUS_ASSIGN_OR_RETURN(auto cur_text, txn.Get(keys::Object(b.name, key)));
  std::optional<ObjectRecord> cur;
  if (cur_text) {
    STRATUS_ASSIGN_OR_RETURN(ObjectRecord c, ObjectRecord::FromJson(*cur_text));
    cur = std::move(c);
  }
  if (!b.Versioned()) {
    if (!cur) return std::optional<ObjectRecord>();
    STRATUS_RETURN_IF_ERROR(DropData(txn, *cur, req.now_ms));
    STRATUS_RETURN_IF_ERROR(txn.Delete(keys::Object(b.name, key)));
    return std::optional<ObjectRecord>();
  }
  ObjectRecord marker;
  marker.delete_marker = true;
  marker.seq = cur ? cur->seq + 1 : 1;
  marker.version_id = b.versioning == "Enabled" ? NewVersionId() : "null";
  marker.last_modified_ms = req.now_ms;
  marker.owner = req.account;
  STRATUS_RETURN_IF_ERROR(Displace(*this, txn, b, key, cur, req.now_ms));
  STRATUS_RETURN_IF_ERROR(txn.Put(keys::Object(b.name, key), marker.Encode()));
  return std::optional<ObjectRecord>(marker);
}

// ---- GetObject / HeadObject

Result<aws::OperationOutput> S3Store::BodyOf(const ObjectRecord& rec) {
  aws::OperationOutput out;
  if (!rec.HasData()) {
    out.payload = std::string();
  } else if (rec.inline_data) {
    std::optional<std::string> data;
    STRATUS_RETURN_IF_ERROR(store_.Read([&](store::ReadTxn& txn) -> Status {
      STRATUS_ASSIGN_OR_RETURN(data, LoadInline(txn, rec));
      return Status::Ok();
    }));
    out.payload = data.value_or("");
  } else {
    out.payload_file = BlobBodyOf(blobs_, rec, 0, rec.size);
  }
  return out;
}

Result<std::optional<ObjectRecord>> S3Store::FindObject(const std::string& bucket,
                                                        const std::string& key) {
  STRATUS_ASSIGN_OR_RETURN(auto text, store_.Get(keys::Object(bucket, key)));
  if (!text) return std::optional<ObjectRecord>();
  STRATUS_ASSIGN_OR_RETURN(ObjectRecord rec, ObjectRecord::FromJson(*text));
  if (rec.delete_marker) return std::optional<ObjectRecord>();
  return std::optional<ObjectRecord>(std::move(rec));
}

Result<aws::OperationOutput> S3Store::GetObject(const RequestInfo& req, const Json& input,
                                                bool head) {
  std::string bucket = input.value("Bucket", "");
  std::string key = input.value("Key", "");
  std::string vid = input.value("VersionId", "");
  if (!vid.empty() && !ValidVersionId(vid)) return InvalidVersionId();
  std::optional<Located> found;
  std::optional<std::string> inline_bytes;
  STRATUS_RETURN_IF_ERROR(store_.Read([&](store::ReadTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(LoadBucket(txn, bucket));
    STRATUS_ASSIGN_OR_RETURN(found, FindVersion(txn, bucket, key, vid));
    if (found && !head && found->record.inline_data && !found->record.delete_marker) {
      STRATUS_ASSIGN_OR_RETURN(inline_bytes, LoadInline(txn, found->record));
    }
    return Status::Ok();
  }));
  if (!found) return vid.empty() ? NoSuchKey(key) : NoSuchVersion(key, vid);
  const ObjectRecord& rec = found->record;
  if (rec.delete_marker) {
    if (!vid.empty()) {
      return WithDeleteMarker(MethodNotAllowed(head ? "HEAD" : "GET", "DeleteMarker"), rec);
    }
    return WithDeleteMarker(NoSuchKey(key), rec);
  }
  aws::OperationOutput out;
  Json& o = out.body;
  o["ETag"] = QuoteEtag(rec.etag);
  o["LastModified"] = static_cast<double>(rec.last_modified_ms / 1000);
  STRATUS_ASSIGN_OR_RETURN(Precondition pre, EvaluateConditions(input, rec.etag, rec.last_modified_ms));
  if (pre == Precondition::kNotModified) {
    out.status = 304;
    if (rec.version_id != "null") o["VersionId"] = rec.version_id;
    return out;
  }
  for (const auto& [k, v] : rec.headers.items()) o[k] = v;
  if (!rec.metadata.empty()) o["Metadata"] = rec.metadata;
  if (rec.version_id != "null") o["VersionId"] = rec.version_id;
  if (rec.storage_class != "STANDARD") o["StorageClass"] = rec.storage_class;
  if (!rec.tags.empty()) o["TagCount"] = rec.tags.size();
  if (!o.contains("ServerSideEncryption")) o["ServerSideEncryption"] = "AES256";
  o["AcceptRanges"] = "bytes";
  // Response header overrides (presigned GETs use them).
  for (std::string_view m : {"CacheControl", "ContentDisposition", "ContentEncoding",
                             "ContentLanguage", "ContentType", "Expires"}) {
    auto it = input.find("Response" + std::string(m));
    if (it != input.end()) o[std::string(m)] = *it;
  }
  std::optional<ByteRange> range;
  if (auto part = input.find("PartNumber"); part != input.end()) {
    int64_t n = part->get<int64_t>();
    size_t count = rec.part_sizes.empty() ? 1 : rec.part_sizes.size();
    if (n < 1 || static_cast<size_t>(n) > count) {
      return Error("InvalidPartNumber", "The requested partnumber is not satisfiable", 416)
          .With("PartNumberRequested", std::to_string(n))
          .With("ActualPartCount", std::to_string(count));
    }
    if (!rec.part_sizes.empty()) {
      uint64_t start = 0;
      for (int64_t i = 1; i < n; ++i) start += rec.part_sizes[static_cast<size_t>(i - 1)];
      range = ByteRange{start, rec.part_sizes[static_cast<size_t>(n - 1)]};
      o["PartsCount"] = count;
    }
  } else if (auto r = input.find("Range"); r != input.end()) {
    STRATUS_ASSIGN_OR_RETURN(range, ParseRange(r->get<std::string>(), rec.size));
  }
  if (range) {
    out.status = 206;
    o["ContentRange"] = range->ContentRange(rec.size);
  }
  if (!range && input.value("ChecksumMode", "") == "ENABLED") AddChecksum(o, rec.checksum);
  uint64_t offset = range ? range->start : 0;
  uint64_t length = range ? range->length : rec.size;
  o["ContentLength"] = length;
  if (head) return out;
  if (!rec.HasData() || length == 0) {
    out.payload = std::string();
  } else if (rec.inline_data) {
    std::string data = inline_bytes ? std::move(*inline_bytes) : std::string();
    out.payload = offset == 0 && length == data.size() ? std::move(data)
                                                       : data.substr(offset, length);
  } else {
    out.payload_file = BlobBodyOf(blobs_, rec, offset, length);
  }
  (void)req;
  return out;
}

// ---- DeleteObject / DeleteObjects

Result<aws::OperationOutput> S3Store::DeleteObject(const RequestInfo& req, const Json& input) {
  std::string bucket = input.value("Bucket", "");
  std::string key = input.value("Key", "");
  std::string vid = input.value("VersionId", "");
  if (!vid.empty() && !ValidVersionId(vid)) return InvalidVersionId();
  aws::OperationOutput out;
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    out.body = Json::object();
    STRATUS_ASSIGN_OR_RETURN(Bucket b, LoadBucket(txn, bucket));
    if (!vid.empty()) {
      STRATUS_ASSIGN_OR_RETURN(auto found, FindVersion(txn, bucket, key, vid));
      out.body["VersionId"] = vid;
      if (!found) return Status::Ok();
      if (found->record.delete_marker) out.body["DeleteMarker"] = true;
      STRATUS_RETURN_IF_ERROR(RemoveVersion(txn, bucket, key, *found, req.now_ms));
      return QueueEvents(txn, b, "ObjectRemoved:Delete", key, found->record, req);
    }
    STRATUS_ASSIGN_OR_RETURN(auto existing, txn.Get(keys::Object(bucket, key)));
    STRATUS_ASSIGN_OR_RETURN(auto marker, DeleteCurrent(txn, b, key, req));
    if (marker) {
      out.body["DeleteMarker"] = true;
      if (marker->version_id != "null") out.body["VersionId"] = marker->version_id;
      return QueueEvents(txn, b, "ObjectRemoved:DeleteMarkerCreated", key, *marker, req);
    }
    if (!existing) return Status::Ok();
    STRATUS_ASSIGN_OR_RETURN(ObjectRecord gone, ObjectRecord::FromJson(*existing));
    return QueueEvents(txn, b, "ObjectRemoved:Delete", key, gone, req);
  }));
  return out;
}

Result<Json> S3Store::DeleteObjects(const RequestInfo& req, const Json& input) {
  std::string bucket = input.value("Bucket", "");
  const Json del = input.value("Delete", Json::object());
  const Json objects = del.value("Objects", Json::array());
  if (objects.empty() || objects.size() > 1000) return MalformedXml();
  bool quiet = del.value("Quiet", false);
  Json deleted = Json::array();
  Json errors = Json::array();
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    deleted = Json::array();
    errors = Json::array();
    STRATUS_ASSIGN_OR_RETURN(Bucket b, LoadBucket(txn, bucket));
    for (const auto& obj : objects) {
      std::string key = obj.value("Key", "");
      std::string vid = obj.value("VersionId", "");
      Json entry{{"Key", key}};
      if (key.size() > kMaxKeyBytes) {
        errors.push_back(Json{{"Key", key}, {"Code", "KeyTooLongError"}, {"Message", "Your key is too long"}});
        continue;
      }
      if (!vid.empty()) {
        if (!ValidVersionId(vid)) {
          errors.push_back(Json{{"Key", key}, {"VersionId", vid}, {"Code", "NoSuchVersion"},
                                {"Message", "The specified version does not exist."}});
          continue;
        }
        entry["VersionId"] = vid;
        STRATUS_ASSIGN_OR_RETURN(auto found, FindVersion(txn, bucket, key, vid));
        if (found) {
          if (found->record.delete_marker) {
            entry["DeleteMarker"] = true;
            entry["DeleteMarkerVersionId"] = vid;
          }
          STRATUS_RETURN_IF_ERROR(RemoveVersion(txn, bucket, key, *found, req.now_ms));
          STRATUS_RETURN_IF_ERROR(QueueEvents(txn, b, "ObjectRemoved:Delete", key, found->record, req));
        }
      } else {
        STRATUS_ASSIGN_OR_RETURN(auto existing, txn.Get(keys::Object(bucket, key)));
        STRATUS_ASSIGN_OR_RETURN(auto marker, DeleteCurrent(txn, b, key, req));
        if (marker) {
          entry["DeleteMarker"] = true;
          if (marker->version_id != "null") entry["DeleteMarkerVersionId"] = marker->version_id;
          STRATUS_RETURN_IF_ERROR(QueueEvents(txn, b, "ObjectRemoved:DeleteMarkerCreated", key, *marker, req));
        } else if (existing) {
          STRATUS_ASSIGN_OR_RETURN(ObjectRecord gone, ObjectRecord::FromJson(*existing));
          STRATUS_RETURN_IF_ERROR(QueueEvents(txn, b, "ObjectRemoved:Delete", key, gone, req));
        }
      }
      if (!quiet) deleted.push_back(std::move(entry));
    }
    return Status::Ok();
  }));
  Json out = Json::object();
  if (!deleted.empty()) out["Deleted"] = std::move(deleted);
  if (!errors.empty()) out["Errors"] = std::move(errors);
  return out;
}

// ---- CopyObject

Result<std::pair<ObjectRecord, std::optional<std::string>>> S3Store::ReadSource(const Json& input,
                                                                               Json& info) {
  std::string source = input.value("CopySource", "");
  std::string vid;
  if (size_t q = source.find("?versionId="); q != std::string::npos) {
    vid = UrlDecode(source.substr(q + 11));
    source.resize(q);
  }
  source = UrlDecode(source);
  if (!source.empty() && source.front() == '/') source.erase(0, 1);
  size_t slash = source.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == source.size()) {
    return InvalidArgument("Invalid copy source object key", "x-amz-copy-source",
                           input.value("CopySource", ""));
  }
  std::string bucket = source.substr(0, slash);
  std::string key = source.substr(slash + 1);
  if (!vid.empty() && !ValidVersionId(vid)) return InvalidVersionId();
  std::optional<Located> found;
  std::optional<std::string> bytes;
  STRATUS_RETURN_IF_ERROR(store_.Read([&](store::ReadTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(LoadBucket(txn, bucket));
    STRATUS_ASSIGN_OR_RETURN(found, FindVersion(txn, bucket, key, vid));
    if (found && found->record.inline_data) {
      STRATUS_ASSIGN_OR_RETURN(bytes, LoadInline(txn, found->record));
    }
    return Status::Ok();
  }));
  if (!found) return vid.empty() ? NoSuchKey(key) : NoSuchVersion(key, vid);
  if (found->record.delete_marker) {
    if (!vid.empty()) {
      return InvalidRequest("The source of a copy request may not specifically refer to a delete "
                            "marker by version id.");
    }
    return NoSuchKey(key);
  }
  STRATUS_ASSIGN_OR_RETURN(Precondition pre,
                           EvaluateConditions(input, found->record.etag,
                                              found->record.last_modified_ms, "CopySource"));
  (void)pre;
  info = Json{{"bucket", bucket}, {"key", key}, {"version_id", found->record.version_id},
              {"explicit_version", !vid.empty()}};
  return std::make_pair(std::move(found->record), std::move(bytes));
}

Result<aws::OperationOutput> S3Store::CopyObject(const RequestInfo& req, const Json& input) {
  std::string bucket = input.value("Bucket", "");
  std::string key = input.value("Key", "");
  STRATUS_RETURN_IF_ERROR(CheckKey(key));
  Json info;
  STRATUS_ASSIGN_OR_RETURN(auto source, ReadSource(input, info));
  auto& [src, bytes] = source;
  bool replace_meta = input.value("MetadataDirective", "COPY") == "REPLACE";
  bool replace_tags = input.value("TaggingDirective", "COPY") == "REPLACE";
  if (info["bucket"] == bucket && info["key"] == key && !replace_meta &&
      !input.contains("StorageClass") && !input.contains("WebsiteRedirectLocation") &&
      !input.contains("ServerSideEncryption") && !info.value("explicit_version", false)) {
    return InvalidRequest("This copy request is illegal because it is trying to copy an object to "
                          "itself without changing the object's metadata, storage class, website "
                          "redirect location or encryption attributes.");
  }
  STRATUS_RETURN_IF_ERROR(GetBucket(bucket));
  ObjectRecord rec = src;
  rec.last_modified_ms = req.now_ms;
  rec.storage_class = input.value("StorageClass", src.storage_class);
  if (replace_meta) {
    rec.headers = HeadersFrom(input);
    rec.metadata = MetadataFrom(input);
  }
  if (replace_tags) {
    rec.tags = Json::object();
    if (auto t = input.find("Tagging"); t != input.end()) {
      STRATUS_ASSIGN_OR_RETURN(rec.tags, ParseTagging(t->get<std::string>()));
    }
  }
  std::optional<std::string> inline_bytes;
  if (src.HasData()) {
    if (src.inline_data) {
      rec.data_id = NewDataId(req.now_ms);
      inline_bytes = bytes.value_or("");
    } else {
      // One new blob, whatever the source's layout (part files are the source's own).
      rec.part_blobs.clear();
      STRATUS_ASSIGN_OR_RETURN(rec.data_id, blobs_.Concat(BlobRangesOf(src, 0, src.size)));
    }
  }
  std::string want = ToUpper(input.value("ChecksumAlgorithm", ""));
  if (!want.empty() && (!rec.checksum || rec.checksum->algorithm != want) && inline_bytes) {
    rec.checksum = Checksum{want, ComputeChecksum(want, *inline_bytes)};
  }
  STRATUS_ASSIGN_OR_RETURN(ObjectRecord done,
                           CommitObject(req, bucket, key, std::move(rec), std::move(inline_bytes),
                                        "ObjectCreated:Copy"));
  aws::OperationOutput out;
  Json result{{"ETag", QuoteEtag(done.etag)}, {"LastModified", Seconds(done.last_modified_ms)}};
  AddChecksum(result, done.checksum);
  out.body = Json{{"CopyObjectResult", std::move(result)}, {"ServerSideEncryption", "AES256"}};
  if (done.version_id != "null") out.body["VersionId"] = done.version_id;
  if (info.value("version_id", "null") != "null") out.body["CopySourceVersionId"] = info["version_id"];
  return out;
}

// ---- tagging and attributes

Result<Json> S3Store::GetObjectTagging(const Json& input) {
  std::string bucket = input.value("Bucket", "");
  std::string key = input.value("Key", "");
  std::string vid = input.value("VersionId", "");
  std::optional<Located> found;
  STRATUS_RETURN_IF_ERROR(store_.Read([&](store::ReadTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(LoadBucket(txn, bucket));
    STRATUS_ASSIGN_OR_RETURN(found, FindVersion(txn, bucket, key, vid));
    return Status::Ok();
  }));
  if (!found || (found->record.delete_marker && vid.empty())) {
    return vid.empty() ? NoSuchKey(key) : NoSuchVersion(key, vid);
  }
  Json out{{"TagSet", TagSet(found->record.tags)}};
  if (found->record.version_id != "null") out["VersionId"] = found->record.version_id;
  return out;
}

namespace {

Result<Json> UpdateTags(store::Store& store, const RequestInfo& req, const Json& input,
                        const Json& tags) {
  std::string bucket = input.value("Bucket", "");
  std::string key = input.value("Key", "");
  std::string vid = input.value("VersionId", "");
  Json out = Json::object();
  STRATUS_RETURN_IF_ERROR(store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(S3Store::LoadBucket(txn, bucket));
    STRATUS_ASSIGN_OR_RETURN(auto found, S3Store::FindVersion(txn, bucket, key, vid));
    if (!found || found->record.delete_marker) {
      return vid.empty() ? NoSuchKey(key) : NoSuchVersion(key, vid);
    }
    found->record.tags = tags;
    if (found->record.version_id != "null") out["VersionId"] = found->record.version_id;
    return txn.Put(found->store_key, found->record.Encode());
  }));
  (void)req;
  return out;
}

}  // namespace

Result<Json> S3Store::PutObjectTagging(const RequestInfo& req, const Json& input) {
  STRATUS_ASSIGN_OR_RETURN(Json tags, TagsFromTagSet(input.value("Tagging", Json::object())));
  return UpdateTags(store_, req, input, tags);
}

Result<Json> S3Store::DeleteObjectTagging(const RequestInfo& req, const Json& input) {
  return UpdateTags(store_, req, input, Json::object());
}

Result<Json> S3Store::GetObjectAttributes(const Json& input) {
  std::string bucket = input.value("Bucket", "");
  std::string key = input.value("Key", "");
  std::string vid = input.value("VersionId", "");
  std::optional<Located> found;
  STRATUS_RETURN_IF_ERROR(store_.Read([&](store::ReadTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(LoadBucket(txn, bucket));
    STRATUS_ASSIGN_OR_RETURN(found, FindVersion(txn, bucket, key, vid));
    return Status::Ok();
  }));
  if (!found) return vid.empty() ? NoSuchKey(key) : NoSuchVersion(key, vid);
  const ObjectRecord& rec = found->record;
  if (rec.delete_marker) return WithDeleteMarker(NoSuchKey(key), rec);
  Json out{{"LastModified", static_cast<double>(rec.last_modified_ms / 1000)}};
  if (rec.version_id != "null") out["VersionId"] = rec.version_id;
  for (const auto& a : input.value("ObjectAttributes", Json::array())) {
    std::string name = a.get<std::string>();
    if (name == "ETag") out["ETag"] = rec.etag;
    if (name == "StorageClass") out["StorageClass"] = rec.storage_class;
    if (name == "ObjectSize") out["ObjectSize"] = rec.size;
    if (name == "Checksum" && rec.checksum) {
      Json c = Json::object();
      AddChecksum(c, rec.checksum);
      out["Checksum"] = std::move(c);
    }
    if (name == "ObjectParts" && !rec.part_sizes.empty()) {
      out["ObjectParts"] = Json{{"TotalPartsCount", rec.part_sizes.size()}};
    }
  }
  return out;
}

}  // namespace stratus::services::s3

#pragma once
// The S3 data model on store::Store and store::BlobStore: buckets and their configurations,
// objects and their versions, multipart uploads, listings, lifecycle expiration and the
// notification events a change produces. Plain logic callable without a server; the service's
// handlers adapt requests to it (inputs and outputs are the API's canonical JSON members).
//
// Every change is one Store::Write: an object's metadata, the reference to its data (small data
// appended to the segment store and group-synced before; a blob written and fsync'd before), the versions it displaces and the notification events
// it causes commit together, so an acknowledged PUT survives kill -9 with its event, and an
// interrupted one leaves nothing visible (its blob, if any, is collected as an orphan; bytes it
// appended to a segment are dead space, truncated or compacted away).
//
// Thread-safe: all state lives in the stores; concurrent writers are serialized by Store::Write.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "aws/protocol/codec.h"
#include "core/json.h"
#include "core/result.h"
#include "services/s3/records.h"
#include "store/blob_store.h"
#include "store/store.h"

namespace stratus::services::s3 {

// Who acts, where and when; what notification events record about the request.
class ObjectBodySink;

struct RequestInfo {
  std::string account;
  std::string region;
  int64_t now_ms = 0;
  std::string request_id;
  std::string source_ip;
};

class S3Store {
 public:
  S3Store(store::Store& store, store::BlobStore& blobs);

  // ---- buckets (buckets.cc)
  Result<Json> CreateBucket(const RequestInfo& req, const Json& input);
  Result<Bucket> GetBucket(const std::string& name) const;
  Result<Json> HeadBucket(const Json& input) const;
  Status DeleteBucket(const RequestInfo& req, const std::string& name);
  Result<Json> ListBuckets(const RequestInfo& req, const Json& input) const;
  Status PutVersioning(const std::string& bucket, const Json& config);
  // A stored configuration ("cors", "policy", "lifecycle", ...): nullopt when none is set.
  Result<std::optional<Json>> GetConfig(const std::string& bucket, const std::string& name) const;
  Status PutConfig(const std::string& bucket, const std::string& name, Json value);
  Status DeleteConfig(const std::string& bucket, const std::string& name);
  // Stores a validated notification configuration and, in the same commit, the s3:TestEvent
  // deliveries S3 sends to its queues and topics.
  Status PutNotification(const RequestInfo& req, const std::string& bucket, Json config,
                         bool send_test_events);

  // ---- objects (objects.cc)
  // `streamed`, when given, holds the body (received to disk as it arrived, streamed_body.h)
  // and `body` is empty.
  Result<aws::OperationOutput> PutObject(const RequestInfo& req, const Json& input,
                                         std::string body, ObjectBodySink* streamed = nullptr);
  // PutObject for a small body held in memory (at most kInlineMaxBytes: hashed on the calling
  // thread, appended to the segment store) that parks no thread while the segment's group sync
  // and the group commit's fsync run: the append answers on the segment flusher, the commit
  // goes through Store::WriteAsync and `done` gets the same result PutObject would
  // return, once the object is durable. Callable from an io thread (it only reads the store
  // before the commit). `done` runs on the store's writer thread, on the segment flusher when
  // the append fails, or on the calling thread when the request fails before its append: it
  // must not block (it holds up the next group commit); encoding one answer is fine.
  // `done` gets the committed record (or the error): PutAnswer turns it into PutObject's output.
  using PutDone = std::function<void(Result<ObjectRecord>)>;
  void PutObjectAsync(const RequestInfo& req, const Json& input, std::string body, PutDone done);
  // PutObject's output for a committed record (ETag, version, checksum).
  static aws::OperationOutput PutAnswer(const ObjectRecord& done);
  Result<aws::OperationOutput> GetObject(const RequestInfo& req, const Json& input, bool head);
  Result<aws::OperationOutput> DeleteObject(const RequestInfo& req, const Json& input);
  Result<Json> DeleteObjects(const RequestInfo& req, const Json& input);
  Result<aws::OperationOutput> CopyObject(const RequestInfo& req, const Json& input);
  Result<Json> GetObjectTagging(const Json& input);
  Result<Json> PutObjectTagging(const RequestInfo& req, const Json& input);
  Result<Json> DeleteObjectTagging(const RequestInfo& req, const Json& input);
  Result<Json> GetObjectAttributes(const Json& input);
  // The object a website or CORS lookup names (current version; nullopt if none or a delete
  // marker), with its small data when inline.
  Result<std::optional<ObjectRecord>> FindObject(const std::string& bucket, const std::string& key);
  // The body of a record: small data in memory, large as a file region.
  Result<aws::OperationOutput> BodyOf(const ObjectRecord& rec);

  // ---- listings (listing.cc)
  Result<Json> ListObjects(const Json& input, bool v2);
  Result<Json> ListObjectVersions(const Json& input);

  // ---- multipart uploads (multipart.cc)
  Result<Json> CreateMultipartUpload(const RequestInfo& req, const Json& input);
  Result<aws::OperationOutput> UploadPart(const RequestInfo& req, const Json& input,
                                          std::string body, ObjectBodySink* streamed = nullptr);
  Result<aws::OperationOutput> UploadPartCopy(const RequestInfo& req, const Json& input);
  Result<aws::OperationOutput> CompleteMultipartUpload(const RequestInfo& req, const Json& input);
  Status AbortMultipartUpload(const RequestInfo& req, const Json& input);
  Result<Json> ListParts(const Json& input);
  Result<Json> ListMultipartUploads(const Json& input);

  // ---- lifecycle (lifecycle.cc)
  // Applies every bucket's lifecycle expiration rules at `now_ms` (or one bucket's); returns
  // how many objects, versions and uploads were expired.
  Result<int64_t> ApplyLifecycle(const RequestInfo& req, const std::string& only_bucket = {});

  store::Store& store() { return store_; }
  store::BlobStore& blobs() { return blobs_; }

  // ---- shared within the service (objects.cc)
  struct Located {
    ObjectRecord record;
    std::string store_key;  // s3/o/... for the current version, s3/v/... for a noncurrent one
    bool current = false;
  };
  // Finds a version of `key` (the current one when `version_id` is empty).
  static Result<std::optional<Located>> FindVersion(store::ReadTxn& txn, const std::string& bucket,
                                                    const std::string& key,
                                                    const std::string& version_id);
  static Result<Bucket> LoadBucket(store::ReadTxn& txn, const std::string& name);
  // LoadBucket for the object commit path: the bucket record is still read in `txn` (so a
  // deleted or changed bucket is seen), but its JSON is parsed again only when the stored text
  // differs from the one parsed last time (most PUTs go to a few buckets whose records rarely
  // change). Thread-safe.
  Result<std::shared_ptr<const Bucket>> LoadBucketCached(store::ReadTxn& txn,
                                                         const std::string& name);
  // Commits `rec` as the new current version of `key` (versioning rules, displaced data
  // released, events queued). `check` may refuse given the current version (conditional
  // writes); `extra` adds writes to the same transaction (multipart clean-up).
  using WriteCheck = std::function<Status(const std::optional<ObjectRecord>& current)>;
  using ExtraWrites = std::function<Status(store::WriteTxn& txn)>;
  Result<ObjectRecord> CommitObject(const RequestInfo& req, const std::string& bucket,
                                    const std::string& key, ObjectRecord rec,
                                    std::optional<std::string> inline_bytes,
                                    const std::string& event_name, const WriteCheck& check = {},
                                    const ExtraWrites& extra = {});
  // CommitObject through Store::WriteAsync: `done` runs on the store's writer thread once the
  // commit is durable (or failed; a blob named by `rec` is then discarded).
  void CommitObjectAsync(const RequestInfo& req, std::string bucket, std::string key,
                         ObjectRecord rec, std::optional<std::string> inline_bytes,
                         std::string event_name, WriteCheck check,
                         std::function<void(Result<ObjectRecord>)> done);
  // A new id for an object's inline data (s3/d/<id>): time-ordered, so that the store appends
  // new data at the end of its index instead of touching a random page per PUT; unique within
  // this process (a counter) and across processes (a random prefix per process).
  std::string NewDataId(int64_t now_ms);
  // The bytes of a record with inline data (segment store or, for older records, the store);
  // nullopt when they are missing.
  Result<std::optional<std::string>> LoadInline(store::ReadTxn& txn, const ObjectRecord& rec);
  // Releases the data of a record that no longer exists (inline bytes or blob).
  Status DropData(store::WriteTxn& txn, const ObjectRecord& rec, int64_t now_ms);
  // Removes one version (current or not) of a key, promoting the newest noncurrent version when
  // the current one goes.
  Status RemoveVersion(store::WriteTxn& txn, const std::string& bucket, const std::string& key,
                       const Located& found, int64_t now_ms);
  // Makes `key` deleted: a delete marker in a versioned bucket, removal otherwise. Returns the
  // delete marker written, if any.
  Result<std::optional<ObjectRecord>> DeleteCurrent(store::WriteTxn& txn, const Bucket& b,
                                                    const std::string& key, const RequestInfo& req);

 private:
  struct PreparedPut;
  struct PendingCommit;
  // PutObject up to its commit: checks, hashing (or the streamed body's digests), the record.
  Result<PreparedPut> PreparePut(const RequestInfo& req, const Json& input, std::string body,
                                 ObjectBodySink* streamed);
  // PreparePut's record fields from the request; for a `small` body (kept in the store) also
  // its hashes and checksums, and the body moves into `p`.
  Status FillPut(const RequestInfo& req, const Json& input, std::string& body, bool small,
                 PreparedPut& p);
  // The body of CommitObject's write transaction; sets the record's seq, version and owner.
  // Rerunnable (store/rerunnable_write.h): everything it does besides the transaction's writes
  // is redone the same way by a second run (the record's seq, version and owner are assigned,
  // the bucket cache only holds parsed texts, `check` is a pure function of the current
  // record), so CommitObjectAsync's commit runs without a savepoint of its own.
  Status ApplyCommit(store::WriteTxn& txn, PendingCommit& p);
  Result<std::pair<ObjectRecord, std::optional<std::string>>> ReadSource(const Json& input,
                                                                         Json& source_info);
  store::Store& store_;
  store::BlobStore& blobs_;
  store::SegmentStore* const segments_;  // small data (blobs_.segments()); null: in the store
  const std::string data_id_prefix_;   // random, per process (NewDataId)
  std::atomic<uint64_t> data_seq_{0};  // NewDataId's counter
  // LoadBucketCached: bucket name -> (the stored text parsed, the bucket it gave).
  struct CachedBucket {
    std::string text;
    std::shared_ptr<const Bucket> bucket;
  };
  std::mutex bucket_cache_mu_;  // guards bucket_cache_
  std::unordered_map<std::string, CachedBucket> bucket_cache_;
};

}  // namespace stratus::services::s3

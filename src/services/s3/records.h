#pragma once
// Internal: the records the S3 service keeps in the store (layout in keys.h), with their JSON
// forms. Field names are short because listings parse one record per key.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "services/s3/checksums.h"

namespace stratus::services::s3 {

// Objects of at most this many bytes keep their data in the segment store (appended to a shared
// segment file, group-synced, named from the commit); larger ones live in the blob store.
inline constexpr uint64_t kInlineMaxBytes = 128 * 1024;
inline constexpr size_t kMaxKeyBytes = 1024;
inline constexpr uint64_t kMinPartBytes = 5ull * 1024 * 1024;
inline constexpr int kMaxPartNumber = 10000;

struct Bucket {
  std::string name;
  std::string owner;        // account id
  std::string region;
  int64_t created_ms = 0;
  std::string versioning;   // "", "Enabled", "Suspended"
  Json config = Json::object();  // stored configurations by name ("cors", "policy", ...)

  bool Versioned() const { return !versioning.empty(); }
  Json ToJson() const;
  static Result<Bucket> FromJson(std::string_view name, std::string_view text);
};

struct ObjectRecord {
  std::string version_id = "null";
  bool delete_marker = false;
  uint64_t seq = 0;                   // per key, increasing with each new version
  uint64_t size = 0;
  std::string etag;                   // unquoted
  int64_t last_modified_ms = 0;
  std::string data_id;                // "" = no data (empty object, delete marker)
  bool inline_data = false;           // small data read into memory, else a blob
  bool segment = false;               // inline data in the segment store (extent <data_id>),
                                      // else (older records) in s3/d/<data_id>
  Json headers = Json::object();      // ContentType, CacheControl, ... (API member names)
  Json metadata = Json::object();     // user metadata, lowercase names
  std::string storage_class = "STANDARD";
  std::optional<Checksum> checksum;
  std::vector<uint64_t> part_sizes;   // multipart objects
  // A multipart object whose parts stay the blob files they were uploaded as (one per part, in
  // order, lengths in part_sizes); data_id is then "". Copies keep part_sizes with one data_id.
  std::vector<std::string> part_blobs;
  Json tags = Json::object();
  std::string owner;

  // Whether the object has bytes stored anywhere (false: empty object or delete marker).
  bool HasData() const { return !data_id.empty() || !part_blobs.empty(); }
  Json ToJson() const;
  // The stored form: a tab-separated line of the fields listings need (see ListingView), then
  // the compact form of the rest (records.cc), or for a record with a field that a
  // tab-separated line cannot hold, the JSON form. Listings read the line only, so a page of
  // 1000 keys parses no JSON. Throws (like Json::dump) on a string that is not valid UTF-8.
  std::string Encode() const;
  // The older stored form: the listing line, then ToJson()'s text (what records written before
  // the compact form hold; still read).
  std::string EncodeJsonForm() const;
  // Reads any stored form (or bare JSON).
  static Result<ObjectRecord> FromJson(std::string_view text);
};

// The fields of a stored object record that listings show, read without parsing its JSON.
// Views into the stored text: valid while it is.
struct ListingView {
  bool delete_marker = false;
  uint64_t size = 0;
  int64_t last_modified_ms = 0;
  std::string_view version_id, etag, storage_class, owner, checksum_algorithm, checksum_type;
};
// False when `text` is not in the stored form (a corrupt record).
bool ParseListingView(std::string_view text, ListingView& view);

struct PartRecord {
  int number = 0;
  std::string etag;
  uint64_t size = 0;
  int64_t last_modified_ms = 0;
  std::string blob;
  std::optional<Checksum> checksum;
  Json ToJson() const;
  static Result<PartRecord> FromJson(std::string_view text);
};

struct UploadRecord {
  std::string key;
  std::string upload_id;
  int64_t initiated_ms = 0;
  Json headers = Json::object();
  Json metadata = Json::object();
  std::string storage_class = "STANDARD";
  std::string checksum_algorithm;
  std::string checksum_type;
  Json tags = Json::object();
  std::string owner;
  Json ToJson() const;
  static Result<UploadRecord> FromJson(std::string_view text);
};

// The canonical user id S3 shows as Owner.ID for an account (64 hex characters).
std::string CanonicalUserId(const std::string& account);
Json OwnerJson(const std::string& account);
// A new version id (32 characters of [A-Za-z0-9._]), and whether a client's one is well-formed.
std::string NewVersionId();
bool ValidVersionId(const std::string& id);
// An upload id (URL-safe, time-ordered so listings follow initiation order).
std::string NewUploadId(int64_t now_ms);

}  // namespace stratus::services::s3

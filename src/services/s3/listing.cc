// ListObjects (v1 and v2) and ListObjectVersions: prefixes, delimiters, markers, continuation
// tokens, max-keys and url encoding, as S3 pages them.
#include <functional>
#include <map>

#include "core/strings.h"
#include "services/s3/errors.h"
#include "services/s3/keys.h"
#include "services/s3/s3_store.h"

namespace stratus::services::s3 {

namespace {

constexpr int64_t kMaxListKeys = 1000;
constexpr size_t kScanBatch = 1024;

struct Entry {
  std::string key;    // object key, or the common prefix
  bool is_prefix = false;
  std::string value;  // the current version's record (keys only)
};

// Walks the current-version keys of `bucket` under `prefix` in key order, starting after
// `marker` (or at it when `inclusive`), folding keys that contain `delimiter` after the prefix
// into common prefixes (each emitted once, never one the marker is already past). Stops when
// `emit` returns false.
Status Walk(store::Store& store, const std::string& bucket, const std::string& prefix,
            const std::string& delimiter, const std::string& marker, bool inclusive,
            const std::function<bool(Entry)>& emit) {
  const std::string base = keys::ObjectPrefix(bucket);
  std::string start = base + prefix;
  if (!marker.empty()) {
    std::string from = base + marker;
    if (!inclusive) from.push_back('\0');
    if (from > start) start = std::move(from);
  }
  const std::string end = store::PrefixEnd(base + prefix);
  while (true) {
    STRATUS_ASSIGN_OR_RETURN(auto rows, store.Scan(store::ScanOptions{start, end, kScanBatch}));
    if (rows.empty()) return Status::Ok();
    std::string skipping;  // the common prefix whose keys are being passed over
    for (auto& row : rows) {
      std::string_view key = std::string_view(row.key).substr(base.size());
      if (!skipping.empty() && StartsWith(key, skipping)) continue;
      skipping.clear();
      if (!delimiter.empty()) {
        size_t pos = key.find(delimiter, prefix.size());
        if (pos != std::string::npos) {
          skipping = std::string(key.substr(0, pos + delimiter.size()));
          // A marker inside this prefix means the prefix was already listed.
          if (marker.empty() || skipping > marker || (inclusive && skipping == marker)) {
            if (!emit(Entry{skipping, true, {}})) return Status::Ok();
          }
          continue;
        }
      }
      if (!emit(Entry{std::string(key), false, std::move(row.value)})) return Status::Ok();
    }
    if (rows.size() < kScanBatch) return Status::Ok();
    if (skipping.empty()) {
      start = rows.back().key;
      start.push_back('\0');
    } else {
      // Jump over the rest of the prefix in one seek, however many keys it holds.
      start = store::PrefixEnd(base + skipping);
      if (start.empty() || (!end.empty() && start >= end)) return Status::Ok();
    }
  }
}

Result<int64_t> MaxKeys(const Json& input, const char* member) {
  int64_t max = input.value(member, kMaxListKeys);
  if (max < 0) {
    return InvalidArgument("Argument maxKeys must be an integer between 0 and 2147483647",
                           "maxKeys", std::to_string(max));
  }
  return std::min(max, kMaxListKeys);
}

struct Encoder {
  bool url = false;
  std::string operator()(const std::string& s) const { return url ? UrlEncode(s, true) : s; }
};

// Owner elements by account, computed once per listing (the canonical id is a hash).
class Owners {
 public:
  const Json& Of(std::string_view account) {
    auto it = cache_.find(account);
    if (it == cache_.end()) {
      it = cache_.emplace(std::string(account), OwnerJson(std::string(account))).first;
    }
    return it->second;
  }

 private:
  std::map<std::string, Json, std::less<>> cache_;
};

Error CorruptRecord() { return InternalFailure("stored S3 object record is corrupt"); }

Json ContentEntry(const std::string& key, const ListingView& v, const Encoder& enc,
                  const Json* owner) {
  Json c{{"Key", enc(key)},
         {"LastModified", static_cast<double>(v.last_modified_ms) / 1000.0},
         {"ETag", QuoteEtag(v.etag)},
         {"Size", v.size},
         {"StorageClass", v.storage_class}};
  if (!v.checksum_algorithm.empty()) {
    c["ChecksumAlgorithm"] = Json::array({v.checksum_algorithm});
    c["ChecksumType"] = v.checksum_type;
  }
  if (owner) c["Owner"] = *owner;
  return c;
}

}  // namespace

Result<Json> S3Store::ListObjects(const Json& input, bool v2) {
  std::string bucket = input.value("Bucket", "");
  STRATUS_RETURN_IF_ERROR(GetBucket(bucket));
  std::string prefix = input.value("Prefix", "");
  std::string delimiter = input.value("Delimiter", "");
  STRATUS_ASSIGN_OR_RETURN(int64_t max_keys, MaxKeys(input, "MaxKeys"));
  std::string encoding = input.value("EncodingType", "");
  if (!encoding.empty() && encoding != "url") {
    return InvalidArgument("Invalid Encoding Method specified in Request", "encoding-type", encoding);
  }
  Encoder enc{encoding == "url"};
  std::string marker;
  std::string token;
  if (v2) {
    if (auto t = input.find("ContinuationToken"); t != input.end()) {
      token = t->get<std::string>();
      auto decoded = Base64Decode(token);
      if (!decoded || decoded->empty() || (*decoded)[0] != 'k') {
        return InvalidArgument("The continuation token provided is incorrect",
                               "continuation-token", token);
      }
      marker = decoded->substr(1);
    } else {
      marker = input.value("StartAfter", "");
    }
  } else {
    marker = input.value("Marker", "");
  }
  bool owner = !v2 || input.value("FetchOwner", false);
  Owners owners;
  Json contents = Json::array();
  Json prefixes = Json::array();
  int64_t count = 0;
  bool truncated = false;
  std::string last;
  Status walk_status = Status::Ok();
  STRATUS_RETURN_IF_ERROR(Walk(store_, bucket, prefix, delimiter, marker, false, [&](Entry e) {
    ListingView view;
    if (!e.is_prefix) {
      if (!ParseListingView(e.value, view)) {
        walk_status = CorruptRecord();
        return false;
      }
      if (view.delete_marker) return true;
    }
    if (count >= max_keys) {
      truncated = max_keys > 0;
      return false;
    }
    ++count;
    last = e.key;
    if (e.is_prefix) {
      prefixes.push_back(Json{{"Prefix", enc(e.key)}});
    } else {
      contents.push_back(ContentEntry(e.key, view, enc, owner ? &owners.Of(view.owner) : nullptr));
    }
    return true;
  }));
  STRATUS_RETURN_IF_ERROR(walk_status);
  Json out{{"Name", bucket}, {"Prefix", enc(prefix)}, {"MaxKeys", max_keys},
           {"IsTruncated", truncated}};
  if (!delimiter.empty()) out["Delimiter"] = enc(delimiter);
  if (!encoding.empty()) out["EncodingType"] = encoding;
  if (!contents.empty()) out["Contents"] = std::move(contents);
  if (!prefixes.empty()) out["CommonPrefixes"] = std::move(prefixes);
  if (v2) {
    out["KeyCount"] = count;
    if (!token.empty()) out["ContinuationToken"] = token;
    if (input.contains("StartAfter")) out["StartAfter"] = enc(input.value("StartAfter", ""));
    if (truncated) out["NextContinuationToken"] = Base64Encode("k" + last);
  } else {
    out["Marker"] = enc(marker);
    if (truncated && !delimiter.empty()) out["NextMarker"] = enc(last);
  }
  return out;
}

Result<Json> S3Store::ListObjectVersions(const Json& input) {
  std::string bucket = input.value("Bucket", "");
  STRATUS_RETURN_IF_ERROR(GetBucket(bucket));
  std::string prefix = input.value("Prefix", "");
  std::string delimiter = input.value("Delimiter", "");
  STRATUS_ASSIGN_OR_RETURN(int64_t max_keys, MaxKeys(input, "MaxKeys"));
  std::string encoding = input.value("EncodingType", "");
  Encoder enc{encoding == "url"};
  std::string key_marker = input.value("KeyMarker", "");
  std::string vid_marker = input.value("VersionIdMarker", "");
  if (!vid_marker.empty() && key_marker.empty()) {
    return InvalidArgument("A version-id marker cannot be specified without a key marker.",
                           "version-id-marker", vid_marker);
  }
  Json versions = Json::array();
  Json markers = Json::array();
  Json prefixes = Json::array();
  int64_t count = 0;
  bool truncated = false;
  std::string next_key;
  std::string next_vid;
  Status status = Status::Ok();
  Owners owners;
  auto add = [&](const std::string& key, const ListingView& rec, bool latest) -> bool {
    if (count >= max_keys) {
      truncated = max_keys > 0;
      return false;
    }
    ++count;
    next_key = key;
    next_vid = std::string(rec.version_id);
    Json v{{"Key", enc(key)},
           {"VersionId", rec.version_id},
           {"IsLatest", latest},
           {"LastModified", static_cast<double>(rec.last_modified_ms) / 1000.0},
           {"Owner", owners.Of(rec.owner)}};
    if (rec.delete_marker) {
      markers.push_back(std::move(v));
    } else {
      v["ETag"] = QuoteEtag(rec.etag);
      v["Size"] = rec.size;
      v["StorageClass"] = rec.storage_class;
      if (!rec.checksum_algorithm.empty()) {
        v["ChecksumAlgorithm"] = Json::array({rec.checksum_algorithm});
        v["ChecksumType"] = rec.checksum_type;
      }
      versions.push_back(std::move(v));
    }
    return true;
  };
  bool inclusive = !vid_marker.empty();
  STRATUS_RETURN_IF_ERROR(Walk(store_, bucket, prefix, delimiter, key_marker, inclusive, [&](Entry e) {
    if (e.is_prefix) {
      if (count >= max_keys) {
        truncated = max_keys > 0;
        return false;
      }
      ++count;
      next_key = e.key;
      next_vid.clear();
      prefixes.push_back(Json{{"Prefix", enc(e.key)}});
      return true;
    }
    // Views point into `texts`, which holds the records for this key.
    std::vector<std::string> texts{std::move(e.value)};
    auto rows = store_.Scan(store::PrefixScan(keys::KeyVersionPrefix(bucket, e.key)));
    if (!rows.ok()) {
      status = rows.error();
      return false;
    }
    for (auto& kv : *rows) texts.push_back(std::move(kv.value));
    std::vector<ListingView> all(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      if (!ParseListingView(texts[i], all[i])) {
        status = CorruptRecord();
        return false;
      }
    }
    size_t first = 0;
    if (inclusive && e.key == key_marker) {
      first = all.size();
      for (size_t i = 0; i < all.size(); ++i) {
        if (all[i].version_id == vid_marker) {
          first = i + 1;
          break;
        }
      }
    }
    for (size_t i = first; i < all.size(); ++i) {
      if (!add(e.key, all[i], i == 0)) return false;
    }
    return true;
  }));
  STRATUS_RETURN_IF_ERROR(status);
  Json out{{"Name", bucket},         {"Prefix", enc(prefix)},   {"KeyMarker", enc(key_marker)},
           {"VersionIdMarker", vid_marker}, {"MaxKeys", max_keys}, {"IsTruncated", truncated}};
  if (!delimiter.empty()) out["Delimiter"] = enc(delimiter);
  if (!encoding.empty()) out["EncodingType"] = encoding;
  if (!versions.empty()) out["Versions"] = std::move(versions);
  if (!markers.empty()) out["DeleteMarkers"] = std::move(markers);
  if (!prefixes.empty()) out["CommonPrefixes"] = std::move(prefixes);
  if (truncated) {
    out["NextKeyMarker"] = enc(next_key);
    if (!next_vid.empty()) out["NextVersionIdMarker"] = next_vid;
  }
  return out;
}

}  // namespace stratus::services::s3

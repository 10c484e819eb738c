// Buckets: create/head/delete/list, location and region rules, versioning, stored configurations.
#include <algorithm>

#include "core/strings.h"
#include "services/s3/errors.h"
#include "services/s3/events.h"
#include "services/s3/keys.h"
#include "services/s3/names.h"
#include "services/s3/s3_store.h"

namespace stratus::services::s3 {

namespace {

constexpr std::string_view kDefaultRegion = "us-east-1";
constexpr int64_t kMaxListBuckets = 10000;

}  // namespace

Result<Bucket> S3Store::LoadBucket(store::ReadTxn& txn, const std::string& name) {
  STRATUS_ASSIGN_OR_RETURN(auto value, txn.Get(keys::Bucket(name)));
  if (!value) return NoSuchBucket(name);
  return Bucket::FromJson(name, *value);
}

namespace {
// Buckets whose parsed records LoadBucketCached keeps; past this the cache starts again.
constexpr size_t kBucketCacheEntries = 256;
}  // namespace

Result<std::shared_ptr<const Bucket>> S3Store::LoadBucketCached(store::ReadTxn& txn,
                                                                const std::string& name) {
  STRATUS_ASSIGN_OR_RETURN(auto value, txn.Get(keys::Bucket(name)));
  if (!value) return NoSuchBucket(name);
  {
    std::lock_guard lock(bucket_cache_mu_);
    auto it = bucket_cache_.find(name);
    if (it != bucket_cache_.end() && it->second.text == *value) return it->second.bucket;
  }
  STRATUS_ASSIGN_OR_RETURN(Bucket parsed, Bucket::FromJson(name, *value));
  auto bucket = std::make_shared<const Bucket>(std::move(parsed));
  std::lock_guard lock(bucket_cache_mu_);
  if (bucket_cache_.size() >= kBucketCacheEntries && !bucket_cache_.contains(name)) {
    bucket_cache_.clear();
  }
  bucket_cache_[name] = CachedBucket{std::move(*value), bucket};
  return bucket;
}

Result<Bucket> S3Store::GetBucket(const std::string& name) const {
  if (name.empty()) return NoSuchBucket(name);
  STRATUS_ASSIGN_OR_RETURN(auto value, store_.Get(keys::Bucket(name)));
  if (!value) return NoSuchBucket(name);
  return Bucket::FromJson(name, *value);
}

Result<Json> S3Store::CreateBucket(const RequestInfo& req, const Json& input) {
  std::string name = input.value("Bucket", "");
  if (!ValidBucketName(name)) return InvalidBucketName(name);
  std::string constraint;
  if (auto cfg = input.find("CreateBucketConfiguration"); cfg != input.end() && cfg->is_object()) {
    constraint = cfg->value("LocationConstraint", "");
    if (cfg->contains("LocationConstraint") && (constraint.empty() || constraint == kDefaultRegion ||
                                                !ValidRegionName(constraint))) {
      if (constraint != "EU") return InvalidLocationConstraint();
    }
  }
  if (constraint == "EU") constraint = "eu-west-1";
  std::string region = req.region.empty() ? std::string(kDefaultRegion) : req.region;
  // The us-east-1 (global) endpoint creates buckets in any region; a regional endpoint only in
  // its own.
  if (region != kDefaultRegion) {
    if (constraint.empty() || constraint != region) {
      return IllegalLocationConstraint(region, constraint);
    }
  }
  std::string bucket_region = constraint.empty() ? std::string(kDefaultRegion) : constraint;
  Bucket b;
  b.name = name;
  b.owner = req.account;
  b.region = bucket_region;
  b.created_ms = req.now_ms;
  if (auto acl = input.find("ACL"); acl != input.end()) b.config["canned_acl"] = *acl;
  if (auto own = input.find("ObjectOwnership"); own != input.end()) {
    b.config["ownership"] = Json{{"Rules", Json::array({Json{{"ObjectOwnership", *own}}})}};
  }
  bool existed_in_us_east_1 = false;
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto existing, txn.Get(keys::Bucket(name)));
    if (existing) {
      STRATUS_ASSIGN_OR_RETURN(Bucket old, Bucket::FromJson(name, *existing));
      if (old.owner != req.account) return BucketAlreadyExists(name);
      // S3 keeps the legacy answer in us-east-1: 200 for a bucket you already own there.
      if (old.region == kDefaultRegion && bucket_region == kDefaultRegion) {
        existed_in_us_east_1 = true;
        return Status::Ok();
      }
      return BucketAlreadyOwnedByYou(name);
    }
    STRATUS_RETURN_IF_ERROR(txn.Put(keys::Bucket(name), b.ToJson().dump()));
    return txn.Put(keys::AccountBucket(req.account, name), "");
  });
  STRATUS_RETURN_IF_ERROR(st);
  (void)existed_in_us_east_1;
  return Json{{"Location", "/" + name}};
}

Result<Json> S3Store::HeadBucket(const Json& input) const {
  STRATUS_ASSIGN_OR_RETURN(Bucket b, GetBucket(input.value("Bucket", "")));
  return Json{{"BucketRegion", b.region}, {"AccessPointAlias", false}};
}

Status S3Store::DeleteBucket(const RequestInfo& req, const std::string& name) {
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Bucket b, LoadBucket(txn, name));
    STRATUS_ASSIGN_OR_RETURN(auto objects, txn.Scan(store::PrefixScan(keys::ObjectPrefix(name), 1)));
    STRATUS_ASSIGN_OR_RETURN(auto versions,
                             txn.Scan(store::PrefixScan(keys::VersionPrefix(name), 1)));
    if (!objects.empty() || !versions.empty()) return BucketNotEmpty(name, b.Versioned());
    // Uploads in progress go with the bucket.
    STRATUS_ASSIGN_OR_RETURN(auto uploads, txn.Scan(store::PrefixScan(keys::UploadPrefix(name))));
    for (const auto& kv : uploads) {
      STRATUS_ASSIGN_OR_RETURN(UploadRecord u, UploadRecord::FromJson(kv.value));
      STRATUS_ASSIGN_OR_RETURN(auto parts, txn.Scan(store::PrefixScan(keys::PartPrefix(u.upload_id))));
      for (const auto& p : parts) {
        STRATUS_ASSIGN_OR_RETURN(PartRecord part, PartRecord::FromJson(p.value));
        STRATUS_RETURN_IF_ERROR(blobs_.Unreference(txn, part.blob, req.now_ms));
      }
      auto removed = txn.DeleteRange(keys::PartPrefix(u.upload_id),
                                     store::PrefixEnd(keys::PartPrefix(u.upload_id)));
      if (!removed.ok()) return std::move(removed).error();
      STRATUS_RETURN_IF_ERROR(txn.Delete(kv.key));
    }
    STRATUS_RETURN_IF_ERROR(txn.Delete(keys::AccountBucket(b.owner, name)));
    return txn.Delete(keys::Bucket(name));
  });
}

Result<Json> S3Store::ListBuckets(const RequestInfo& req, const Json& input) const {
  std::string prefix = input.value("Prefix", "");
  std::string region_filter = input.value("BucketRegion", "");
  int64_t max = input.value("MaxBuckets", kMaxListBuckets);
  std::string base = keys::AccountBucketPrefix(req.account);
  store::ScanOptions scan = store::PrefixScan(base + prefix);
  if (auto token = input.find("ContinuationToken"); token != input.end()) {
    scan.start = std::max(scan.start, base + token->get<std::string>() + std::string(1, '\0'));
  }
  STRATUS_ASSIGN_OR_RETURN(auto names, store_.Scan(scan));
  Json buckets = Json::array();
  std::string last;
  bool truncated = false;
  for (const auto& kv : names) {
    std::string name = kv.key.substr(base.size());
    auto b = GetBucket(name);
    if (!b.ok()) continue;
    if (!region_filter.empty() && b->region != region_filter) continue;
    if (static_cast<int64_t>(buckets.size()) >= max) {
      truncated = true;
      break;
    }
    buckets.push_back(Json{{"Name", name},
                           {"CreationDate", static_cast<double>(b->created_ms) / 1000.0},
                           {"BucketRegion", b->region}});
    last = name;
  }
  Json out{{"Buckets", std::move(buckets)}, {"Owner", OwnerJson(req.account)}};
  if (!prefix.empty()) out["Prefix"] = prefix;
  if (truncated) out["ContinuationToken"] = last;
  return out;
}

Status S3Store::PutVersioning(const std::string& bucket, const Json& config) {
  std::string status = config.value("Status", "");
  if (status != "Enabled" && status != "Suspended") return MalformedXml();
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Bucket b, LoadBucket(txn, bucket));
    // A bucket that never had versioning stays unversioned when suspended.
    if (status == "Suspended" && b.versioning.empty()) return Status::Ok();
    b.versioning = status;
    return txn.Put(keys::Bucket(bucket), b.ToJson().dump());
  });
}

Result<std::optional<Json>> S3Store::GetConfig(const std::string& bucket,
                                               const std::string& name) const {
  STRATUS_ASSIGN_OR_RETURN(Bucket b, GetBucket(bucket));
  auto it = b.config.find(name);
  if (it == b.config.end() || it->is_null()) return std::optional<Json>();
  return std::optional<Json>(*it);
}

Status S3Store::PutConfig(const std::string& bucket, const std::string& name, Json value) {
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Bucket b, LoadBucket(txn, bucket));
    b.config[name] = value;
    return txn.Put(keys::Bucket(bucket), b.ToJson().dump());
  });
}

Status S3Store::DeleteConfig(const std::string& bucket, const std::string& name) {
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Bucket b, LoadBucket(txn, bucket));
    b.config.erase(name);
    return txn.Put(keys::Bucket(bucket), b.ToJson().dump());
  });
}

Status S3Store::PutNotification(const RequestInfo& req, const std::string& bucket, Json config,
                                bool send_test_events) {
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Bucket b, LoadBucket(txn, bucket));
    b.config["notification"] = config;
    STRATUS_RETURN_IF_ERROR(txn.Put(keys::Bucket(bucket), b.ToJson().dump()));
    return send_test_events ? QueueTestEvents(txn, b, config, req) : Status::Ok();
  });
}

}  // namespace stratus::services::s3

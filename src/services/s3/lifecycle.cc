// Lifecycle expiration: current versions (Expiration Days/Date), expired delete markers,
// noncurrent versions (NoncurrentVersionExpiration) and incomplete multipart uploads
// (AbortIncompleteMultipartUpload). Transitions are accepted and stored but do nothing: there is
// one storage class on disk.
#include <spdlog/spdlog.h>

#include "core/strings.h"
#include "services/s3/events.h"
#include "services/s3/keys.h"
#include "services/s3/s3_store.h"

namespace stratus::services::s3 {

namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr size_t kBatch = 512;

// S3 rounds expiration to the next midnight UTC after the object's age passes the rule's days.
int64_t ExpiryOf(int64_t since_ms, int64_t days) {
  int64_t t = since_ms + days * kDayMs;
  int64_t rem = t % kDayMs;
  return rem == 0 ? t : t - rem + kDayMs;
}

struct Rule {
  std::string prefix;
  Json tags = Json::object();
  std::optional<uint64_t> size_greater, size_less;
  std::optional<int64_t> days, date_ms;
  bool expired_marker = false;
  std::optional<int64_t> noncurrent_days;
  std::optional<int64_t> abort_days;
};

std::vector<Rule> RulesOf(const Json& config) {
  std::vector<Rule> rules;
  for (const auto& r : config.value("Rules", Json::array())) {
    if (r.value("Status", "") != "Enabled") continue;
    Rule rule;
    rule.prefix = r.value("Prefix", "");
    if (auto f = r.find("Filter"); f != r.end() && f->is_object()) {
      Json scope = f->contains("And") ? f->value("And", Json::object()) : *f;
      rule.prefix = scope.value("Prefix", rule.prefix);
      if (auto t = f->find("Tag"); t != f->end()) rule.tags[t->value("Key", "")] = t->value("Value", "");
      for (const auto& t : scope.value("Tags", Json::array())) {
        rule.tags[t.value("Key", "")] = t.value("Value", "");
      }
      if (scope.contains("ObjectSizeGreaterThan")) rule.size_greater = scope["ObjectSizeGreaterThan"].get<uint64_t>();
      if (scope.contains("ObjectSizeLessThan")) rule.size_less = scope["ObjectSizeLessThan"].get<uint64_t>();
    }
    if (auto e = r.find("Expiration"); e != r.end()) {
      if (e->contains("Days")) rule.days = (*e)["Days"].get<int64_t>();
      if (e->contains("Date")) rule.date_ms = static_cast<int64_t>((*e)["Date"].get<double>() * 1000);
      rule.expired_marker = e->value("ExpiredObjectDeleteMarker", false);
    }
    if (auto n = r.find("NoncurrentVersionExpiration"); n != r.end() && n->contains("NoncurrentDays")) {
      rule.noncurrent_days = (*n)["NoncurrentDays"].get<int64_t>();
    }
    if (auto a = r.find("AbortIncompleteMultipartUpload"); a != r.end() && a->contains("DaysAfterInitiation")) {
      rule.abort_days = (*a)["DaysAfterInitiation"].get<int64_t>();
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

bool Applies(const Rule& r, const std::string& key, const ObjectRecord& rec) {
  if (!StartsWith(key, r.prefix)) return false;
  for (const auto& [k, v] : r.tags.items()) {
    if (!rec.tags.contains(k) || rec.tags[k] != v) return false;
  }
  if (r.size_greater && !(rec.size > *r.size_greater)) return false;
  if (r.size_less && !(rec.size < *r.size_less)) return false;
  return true;
}

}  // namespace

Result<int64_t> S3Store::ApplyLifecycle(const RequestInfo& req, const std::string& only_bucket) {
  const int64_t now = req.now_ms;
  int64_t expired = 0;
  STRATUS_ASSIGN_OR_RETURN(auto buckets, store_.Scan(store::PrefixScan(
                                             only_bucket.empty() ? "s3/b/" : keys::Bucket(only_bucket))));
  for (const auto& bkv : buckets) {
    std::string name = bkv.key.substr(5);
    if (!only_bucket.empty() && name != only_bucket) continue;
    STRATUS_ASSIGN_OR_RETURN(Bucket b, Bucket::FromJson(name, bkv.value));
    auto cfg = b.config.find("lifecycle");
    if (cfg == b.config.end() || !cfg->is_object()) continue;
    std::vector<Rule> rules = RulesOf(*cfg);
    if (rules.empty()) continue;
    RequestInfo sweep = req;
    sweep.account = b.owner;
    // Current versions and their noncurrent ones.
    std::string start = keys::ObjectPrefix(name);
    const std::string end = store::PrefixEnd(start);
    while (true) {
      STRATUS_ASSIGN_OR_RETURN(auto rows, store_.Scan(store::ScanOptions{start, end, kBatch}));
      for (const auto& row : rows) {
        std::string key = row.key.substr(keys::ObjectPrefix(name).size());
        STRATUS_ASSIGN_OR_RETURN(ObjectRecord cur, ObjectRecord::FromJson(row.value));
        bool expire_current = false, remove_marker = false;
        std::optional<int64_t> noncurrent_days;
        for (const Rule& r : rules) {
          if (!Applies(r, key, cur)) continue;
          if (!cur.delete_marker) {
            if ((r.days && now >= ExpiryOf(cur.last_modified_ms, *r.days)) ||
                (r.date_ms && now >= *r.date_ms)) {
              expire_current = true;
            }
          } else if (r.expired_marker || r.days) {
            remove_marker = true;
          }
          if (r.noncurrent_days) noncurrent_days = r.noncurrent_days;
        }
        Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
          STRATUS_ASSIGN_OR_RETURN(Bucket fresh, LoadBucket(txn, name));
          STRATUS_ASSIGN_OR_RETURN(auto now_text, txn.Get(row.key));
          if (!now_text || *now_text != row.value) return Status::Ok();  // changed meanwhile
          if (noncurrent_days) {
            STRATUS_ASSIGN_OR_RETURN(auto versions,
                                     txn.Scan(store::PrefixScan(keys::KeyVersionPrefix(name, key))));
            int64_t newer_modified = cur.last_modified_ms;
            for (const auto& kv : versions) {
              STRATUS_ASSIGN_OR_RETURN(ObjectRecord v, ObjectRecord::FromJson(kv.value));
              if (now >= ExpiryOf(newer_modified, *noncurrent_days)) {
                STRATUS_RETURN_IF_ERROR(DropData(txn, v, now));
                STRATUS_RETURN_IF_ERROR(txn.Delete(kv.key));
                ++expired;
              }
              newer_modified = v.last_modified_ms;
            }
          }
          if (expire_current) {
            STRATUS_ASSIGN_OR_RETURN(auto marker, DeleteCurrent(txn, fresh, key, sweep));
            ++expired;
            return QueueEvents(txn, fresh,
                               marker ? "LifecycleExpiration:DeleteMarkerCreated"
                                      : "LifecycleExpiration:Delete",
                               key, marker ? *marker : cur, sweep);
          }
          if (remove_marker) {
            STRATUS_ASSIGN_OR_RETURN(auto rest,
                                     txn.Scan(store::PrefixScan(keys::KeyVersionPrefix(name, key), 1)));
            if (rest.empty()) {
              STRATUS_RETURN_IF_ERROR(txn.Delete(row.key));
              ++expired;
            }
          }
          return Status::Ok();
        });
        if (!st.ok()) spdlog::warn("s3: lifecycle of {}/{} failed: {}", name, key, st.error().message);
      }
      if (rows.size() < kBatch) break;
      start = rows.back().key;
      start.push_back('\0');
    }
    // Incomplete multipart uploads.
    std::optional<int64_t> abort_days;
    for (const Rule& r : rules) {
      if (r.abort_days) abort_days = r.abort_days;
    }
    if (!abort_days) continue;
    STRATUS_ASSIGN_OR_RETURN(auto uploads, store_.Scan(store::PrefixScan(keys::UploadPrefix(name))));
    for (const auto& kv : uploads) {
      STRATUS_ASSIGN_OR_RETURN(UploadRecord u, UploadRecord::FromJson(kv.value));
      bool matches = false;
      for (const Rule& r : rules) matches = matches || (r.abort_days && StartsWith(u.key, r.prefix));
      if (!matches || now < ExpiryOf(u.initiated_ms, *abort_days)) continue;
      Status st = AbortMultipartUpload(sweep, Json{{"Bucket", name}, {"Key", u.key}, {"UploadId", u.upload_id}});
      if (st.ok()) ++expired;
    }
  }
  return expired;
}

}  // namespace stratus::services::s3

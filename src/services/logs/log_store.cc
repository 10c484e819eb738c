#include "services/logs/log_store.h"

#include <algorithm>

#include "core/strings.h"
#include "services/logs/event_rows.h"
#include "services/logs/keys.h"

namespace stratus::services::logs {

namespace {

constexpr int64_t kMaxDescribeLimit = 50;
// The retention periods CloudWatch Logs accepts, in days.
constexpr int64_t kRetentionDays[] = {1,   3,   5,   7,   14,   30,   60,   90,   120,  150,  180,
                                      365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653};
constexpr size_t kMaxTagsPerGroup = 50;

Result<Json> LoadJson(store::ReadTxn& txn, const std::string& key) {
  STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(key));
  if (!raw) return Json();  // null = absent
  Json j = ParseJsonOrDiscarded(*raw);
  if (j.is_discarded()) return InternalFailure("corrupt record at " + key);
  return j;
}

Error GroupNotFound() { return ResourceNotFound("The specified log group does not exist."); }
Error StreamNotFound() { return ResourceNotFound("The specified log stream does not exist."); }

Status CheckRetention(int64_t days) {
  for (int64_t d : kRetentionDays) {
    if (d == days) return Status::Ok();
  }
  std::vector<std::string> allowed;
  for (int64_t d : kRetentionDays) allowed.push_back(std::to_string(d));
  return InvalidParameter("1 validation error detected: Value '" + std::to_string(days) +
                          "' at 'retentionInDays' failed to satisfy constraint: Member must "
                          "satisfy enum value set: [" +
                          Join(allowed, ", ") + "]");
}

Status CheckTags(const Json& tags) {
  if (!tags.is_object()) return InvalidParameter("tags must be a map");
  if (tags.size() > kMaxTagsPerGroup) {
    return Error("TooManyTagsException", "A resource can have no more than 50 tags.");
  }
  return Status::Ok();
}

// Opaque pagination tokens: base64 of the last name returned.
std::string NameToken(const std::string& name) { return Base64Encode(name); }
Result<std::string> TokenName(const std::string& token) {
  auto d = Base64Decode(token);
  if (!d) return InvalidParameter("The specified nextToken is invalid.");
  return *d;
}

}  // namespace

Error ResourceNotFound(std::string message) {
  return Error("ResourceNotFoundException", std::move(message));
}
Error ResourceAlreadyExists(std::string message) {
  return Error("ResourceAlreadyExistsException", std::move(message));
}
Error InvalidParameter(std::string message) {
  return Error("InvalidParameterException", std::move(message));
}

std::string LogStore::GroupArn(const Scope& s, const std::string& group, bool star) {
  return "arn:aws:logs:" + s.region + ":" + s.account + ":log-group:" + group + (star ? ":*" : "");
}

Result<std::string> LogStore::GroupNameFrom(const Json& input) {
  auto name = input.find("logGroupName");
  auto ident = input.find("logGroupIdentifier");
  bool has_name = name != input.end() && name->is_string();
  bool has_ident = ident != input.end() && ident->is_string();
  if (has_name && has_ident) {
    return InvalidParameter("LogGroup name and LogGroup ARN are mutually exclusive parameters.");
  }
  if (has_name) return name->get<std::string>();
  if (has_ident) {
    std::string id = ident->get<std::string>();
    // arn:aws:logs:region:acct:log-group:NAME[:*]
    auto pos = id.find(":log-group:");
    if (StartsWith(id, "arn:") && pos != std::string::npos) {
      std::string n = id.substr(pos + 11);
      if (EndsWith(n, ":*")) n.resize(n.size() - 2);
      return n;
    }
    return id;
  }
  return InvalidParameter("Should provide either name or ARN of the log group.");
}

Status LogStore::CreateGroup(const Scope& s, const Json& input) {
  std::string name = input.value("logGroupName", "");
  Json tags = input.value("tags", Json::object());
  STRATUS_RETURN_IF_ERROR(CheckTags(tags));
  std::string kms = input.value("kmsKeyId", "");
  std::string group_class = input.value("logGroupClass", "STANDARD");
  int64_t now = clock_.NowMillis();
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    std::string key = keys::Group(s, name);
    STRATUS_ASSIGN_OR_RETURN(auto existing, txn.Get(key));
    if (existing) return ResourceAlreadyExists("The specified log group already exists");
    Json g = {{"creationTime", now}, {"tags", tags}, {"logGroupClass", group_class},
              {"storedBytes", 0}};
    if (!kms.empty()) g["kmsKeyId"] = kms;
    if (input.contains("deletionProtectionEnabled")) {
      g["deletionProtectionEnabled"] = input["deletionProtectionEnabled"];
    }
    return txn.Put(key, g.dump());
  });
}

Status LogStore::DeleteGroup(const Scope& s, const std::string& group) {
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    std::string key = keys::Group(s, group);
    STRATUS_ASSIGN_OR_RETURN(Json g, LoadJson(txn, key));
    if (g.is_null()) return GroupNotFound();
    if (g.value("deletionProtectionEnabled", false)) {
      return Error("OperationAbortedException",
                   "Log group " + group + " has deletion protection enabled.");
    }
    STRATUS_RETURN_IF_ERROR(txn.Delete(key));
    std::string sp = keys::StreamPrefix(s, group);
    auto streams = txn.DeleteRange(sp, store::PrefixEnd(sp));
    if (!streams.ok()) return streams.error();
    std::string ep = keys::GroupEventPrefix(s, group);
    auto deleted = txn.DeleteRange(ep, store::PrefixEnd(ep));
    if (!deleted.ok()) return deleted.error();
    return Status::Ok();
  });
}

Result<Json> LogStore::DescribeGroups(const Scope& s, const Json& input) {
  int64_t limit = input.value("limit", kMaxDescribeLimit);
  if (limit < 1 || limit > kMaxDescribeLimit) limit = kMaxDescribeLimit;
  std::string prefix = input.value("logGroupNamePrefix", "");
  std::string pattern = ToLower(input.value("logGroupNamePattern", ""));
  if (!prefix.empty() && !pattern.empty()) {
    return InvalidParameter(
        "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.");
  }
  std::string base = keys::GroupPrefix(s);
  store::ScanOptions scan = store::PrefixScan(base + prefix);
  if (input.contains("nextToken")) {
    STRATUS_ASSIGN_OR_RETURN(std::string after, TokenName(input["nextToken"].get<std::string>()));
    scan.start = base + after + std::string(1, '\0');
  }
  Json groups = Json::array();
  std::string last;
  bool more = false;
  // Scan in pages so that a pattern that matches little still terminates quickly.
  constexpr size_t kPage = 256;
  scan.limit = kPage;
  while (true) {
    STRATUS_ASSIGN_OR_RETURN(auto rows, store_.Scan(scan));
    for (const auto& row : rows) {
      std::string name = row.key.substr(base.size());
      if (!pattern.empty() && ToLower(name).find(pattern) == std::string::npos) continue;
      if (static_cast<int64_t>(groups.size()) == limit) {
        more = true;
        break;
      }
      Json g = ParseJsonOrDiscarded(row.value);
      if (g.is_discarded()) continue;
      Json out = {{"logGroupName", name},
                  {"creationTime", g.value("creationTime", int64_t{0})}};
      if (g.contains("retentionInDays")) out["retentionInDays"] = g["retentionInDays"];
      out["metricFilterCount"] = 0;
      out["arn"] = GroupArn(s, name, true);
      out["storedBytes"] = g.value("storedBytes", int64_t{0});
      if (g.contains("kmsKeyId")) out["kmsKeyId"] = g["kmsKeyId"];
      out["logGroupClass"] = g.value("logGroupClass", "STANDARD");
      out["logGroupArn"] = GroupArn(s, name, false);
      if (g.contains("deletionProtectionEnabled")) {
        out["deletionProtectionEnabled"] = g["deletionProtectionEnabled"];
      }
      groups.push_back(std::move(out));
      last = name;
    }
    if (more || rows.size() < kPage) break;
    scan.start = rows.back().key + std::string(1, '\0');
  }
  Json result = {{"logGroups", std::move(groups)}};
  if (more) result["nextToken"] = NameToken(last);
  return result;
}

Status LogStore::PutRetention(const Scope& s, const std::string& group, int64_t days) {
  STRATUS_RETURN_IF_ERROR(CheckRetention(days));
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    std::string key = keys::Group(s, group);
    STRATUS_ASSIGN_OR_RETURN(Json g, LoadJson(txn, key));
    if (g.is_null()) return GroupNotFound();
    g["retentionInDays"] = days;
    return txn.Put(key, g.dump());
  });
}

Status LogStore::DeleteRetention(const Scope& s, const std::string& group) {
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    std::string key = keys::Group(s, group);
    STRATUS_ASSIGN_OR_RETURN(Json g, LoadJson(txn, key));
    if (g.is_null()) return GroupNotFound();
    g.erase("retentionInDays");
    return txn.Put(key, g.dump());
  });
}

Status LogStore::TagGroup(const Scope& s, const std::string& group, const Json& tags) {
  STRATUS_RETURN_IF_ERROR(CheckTags(tags));
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    std::string key = keys::Group(s, group);
    STRATUS_ASSIGN_OR_RETURN(Json g, LoadJson(txn, key));
    if (g.is_null()) return GroupNotFound();
    Json& current = g["tags"];
    if (!current.is_object()) current = Json::object();
    for (const auto& [k, v] : tags.items()) current[k] = v;
    STRATUS_RETURN_IF_ERROR(CheckTags(current));
    return txn.Put(key, g.dump());
  });
}

Status LogStore::UntagGroup(const Scope& s, const std::string& group,
                            const std::vector<std::string>& tag_keys) {
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    std::string key = keys::Group(s, group);
    STRATUS_ASSIGN_OR_RETURN(Json g, LoadJson(txn, key));
    if (g.is_null()) return GroupNotFound();
    if (g.contains("tags") && g["tags"].is_object()) {
      for (const auto& k : tag_keys) g["tags"].erase(k);
    }
    return txn.Put(key, g.dump());
  });
}

Result<Json> LogStore::ListGroupTags(const Scope& s, const std::string& group) {
  Json g;
  STRATUS_RETURN_IF_ERROR(store_.Read([&](store::ReadTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(g, LoadJson(txn, keys::Group(s, group)));
    return Status::Ok();
  }));
  if (g.is_null()) return GroupNotFound();
  return g.value("tags", Json::object());
}

Status LogStore::CreateStream(const Scope& s, const std::string& group, const std::string& stream) {
  int64_t now = clock_.NowMillis();
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto g, txn.Get(keys::Group(s, group)));
    if (!g) return GroupNotFound();
    std::string key = keys::Stream(s, group, stream);
    STRATUS_ASSIGN_OR_RETURN(auto existing, txn.Get(key));
    if (existing) return ResourceAlreadyExists("The specified log stream already exists");
    Json st = {{"creationTime", now}, {"nextSeq", 1}, {"storedBytes", 0}};
    return txn.Put(key, st.dump());
  });
}

Status LogStore::DeleteStream(const Scope& s, const std::string& group, const std::string& stream) {
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto g, txn.Get(keys::Group(s, group)));
    if (!g) return GroupNotFound();
    std::string key = keys::Stream(s, group, stream);
    STRATUS_ASSIGN_OR_RETURN(auto existing, txn.Get(key));
    if (!existing) return StreamNotFound();
    STRATUS_RETURN_IF_ERROR(txn.Delete(key));
    std::string ep = keys::EventPrefix(s, group, stream);
    auto deleted = txn.DeleteRange(ep, store::PrefixEnd(ep));
    if (!deleted.ok()) return deleted.error();
    return Status::Ok();
  });
}

Result<Json> LogStore::DescribeStreams(const Scope& s, const std::string& group, const Json& input) {
  int64_t limit = input.value("limit", kMaxDescribeLimit);
  if (limit < 1 || limit > kMaxDescribeLimit) limit = kMaxDescribeLimit;
  std::string order = input.value("orderBy", "LogStreamName");
  bool descending = input.value("descending", false);
  std::string prefix = input.value("logStreamNamePrefix", "");
  if (order == "LastEventTime" && !prefix.empty()) {
    return InvalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.");
  }
  size_t offset = 0;
  if (input.contains("nextToken")) {
    STRATUS_ASSIGN_OR_RETURN(std::string t, TokenName(input["nextToken"].get<std::string>()));
    auto n = ParseInt64(t);
    if (!n || *n < 0) return InvalidParameter("The specified nextToken is invalid.");
    offset = static_cast<size_t>(*n);
  }
  std::vector<store::KeyValue> rows;
  STRATUS_RETURN_IF_ERROR(store_.Read([&](store::ReadTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto g, txn.Get(keys::Group(s, group)));
    if (!g) return GroupNotFound();
    std::string base = keys::StreamPrefix(s, group);
    STRATUS_ASSIGN_OR_RETURN(rows, txn.Scan(store::PrefixScan(base + prefix)));
    return Status::Ok();
  }));
  std::string base = keys::StreamPrefix(s, group);
  std::vector<Json> streams;
  streams.reserve(rows.size());
  for (const auto& row : rows) {
    Json st = ParseJsonOrDiscarded(row.value);
    if (st.is_discarded()) continue;
    std::string name = row.key.substr(base.size());
    Json out = {{"logStreamName", name}, {"creationTime", st.value("creationTime", int64_t{0})}};
    for (const char* f : {"firstEventTimestamp", "lastEventTimestamp", "lastIngestionTime"}) {
      if (st.contains(f)) out[f] = st[f];
    }
    out["uploadSequenceToken"] = std::to_string(st.value("nextSeq", int64_t{1}));
    out["arn"] = "arn:aws:logs:" + s.region + ":" + s.account + ":log-group:" + group +
                 ":log-stream:" + name;
    out["storedBytes"] = st.value("storedBytes", int64_t{0});
    streams.push_back(std::move(out));
  }
  if (order == "LastEventTime") {
    std::stable_sort(streams.begin(), streams.end(), [](const Json& a, const Json& b) {
      return a.value("lastEventTimestamp", int64_t{0}) < b.value("lastEventTimestamp", int64_t{0});
    });
  }
  if (descending) std::reverse(streams.begin(), streams.end());
  Json page = Json::array();
  for (size_t i = offset; i < streams.size() && page.size() < static_cast<size_t>(limit); ++i) {
    page.push_back(std::move(streams[i]));
  }
  Json result = {{"logStreams", std::move(page)}};
  size_t next = offset + result["logStreams"].size();
  if (next < streams.size()) result["nextToken"] = NameToken(std::to_string(next));
  return result;
}

Result<int64_t> LogStore::SweepExpired() {
  // Every group of every account and region with a retention: delete events older than it.
  STRATUS_ASSIGN_OR_RETURN(auto groups, store_.Scan(store::PrefixScan("logs/")));
  int64_t now = clock_.NowMillis();
  int64_t deleted = 0;
  for (const auto& row : groups) {
    // logs/<acct>/<region>/g/<group>
    auto parts = Split(row.key, '/');
    if (parts.size() < 5 || parts[3] != "g") continue;
    Json g = ParseJsonOrDiscarded(row.value);
    if (g.is_discarded() || !g.contains("retentionInDays")) continue;
    Scope s{parts[1], parts[2]};
    std::string group = row.key.substr(keys::GroupPrefix(s).size());
    int64_t cutoff = now - g["retentionInDays"].get<int64_t>() * 86'400'000;
    STRATUS_ASSIGN_OR_RETURN(auto streams, store_.Scan(store::PrefixScan(keys::StreamPrefix(s, group))));
    for (const auto& st : streams) {
      std::string stream = st.key.substr(keys::StreamPrefix(s, group).size());
      std::string ep = keys::EventPrefix(s, group, stream);
      Status w = store_.Write([&](store::WriteTxn& txn) -> Status {
        STRATUS_ASSIGN_OR_RETURN(int64_t n, rows::DeleteBefore(txn, ep, keys::Position(cutoff, 0)));
        deleted += n;
        return Status::Ok();
      });
      STRATUS_RETURN_IF_ERROR(w);
    }
  }
  return deleted;
}

}  // namespace stratus::services::logs

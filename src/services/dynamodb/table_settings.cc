// Table settings outside the key schema: tags, TTL, point-in-time-recovery flags, and the list
// of TTL-enabled tables the sweeper visits.
#include <set>

#include "core/strings.h"
#include "services/dynamodb/attr.h"
#include "services/dynamodb/table.h"

namespace stratus::services::dynamodb {

namespace {
constexpr size_t kMaxTags = 50;

Status ValidateTagCount(const Json& tags) {
  if (tags.size() > kMaxTags) {
    return Validation("One or more parameter values were invalid: Too many tags");
  }
  return Status::Ok();
}
}  // namespace

std::string TableCatalog::TableNameFromArn(const Scope& s, const std::string& arn, Status& st) {
  // arn:aws:dynamodb:<region>:<account>:table/<name>
  auto parts = Split(arn, ':');
  if (parts.size() < 6 || parts[0] != "arn" || parts[2] != "dynamodb" || !StartsWith(parts[5], "table/")) {
    st = Validation("Invalid TableArn: Invalid ResourceArn provided as input " + arn);
    return {};
  }
  std::string name = parts[5].substr(6);
  auto slash = name.find('/');
  if (slash != std::string::npos) name.resize(slash);
  if (parts[3] != s.region || parts[4] != s.account) {
    st = Error("AccessDeniedException", "User is not authorized to access resource " + arn);
    return {};
  }
  st = Status::Ok();
  return name;
}

Status TableCatalog::Tag(const Scope& s, const Json& in) {
  Status st;
  std::string name = TableNameFromArn(s, in.value("ResourceArn", ""), st);
  STRATUS_RETURN_IF_ERROR(st);
  auto r = Modify(s, name, [&](store::WriteTxn&, const Table&, Json& rec) -> Status {
    Json tags = rec.value("tags", Json::array());
    for (const auto& t : in.value("Tags", Json::array())) {
      bool replaced = false;
      for (auto& e : tags) {
        if (e.value("Key", "") == t.value("Key", "")) {
          e["Value"] = t.value("Value", "");
          replaced = true;
        }
      }
      if (!replaced) tags.push_back(t);
    }
    STRATUS_RETURN_IF_ERROR(ValidateTagCount(tags));
    rec["tags"] = tags;
    return Status::Ok();
  });
  if (!r.ok()) {
    if (r.error().code == "ResourceNotFoundException") {
      return ResourceNotFound("Requested resource not found: ResourcArn: " + in.value("ResourceArn", "") + " not found");
    }
    return r.error();
  }
  return Status::Ok();
}

Status TableCatalog::Untag(const Scope& s, const Json& in) {
  Status st;
  std::string name = TableNameFromArn(s, in.value("ResourceArn", ""), st);
  STRATUS_RETURN_IF_ERROR(st);
  auto r = Modify(s, name, [&](store::WriteTxn&, const Table&, Json& rec) -> Status {
    Json kept = Json::array();
    std::set<std::string> drop;
    for (const auto& k : in.value("TagKeys", Json::array())) drop.insert(k.get<std::string>());
    for (const auto& e : rec.value("tags", Json::array())) {
      if (!drop.count(e.value("Key", ""))) kept.push_back(e);
    }
    rec["tags"] = kept;
    return Status::Ok();
  });
  if (!r.ok()) {
    if (r.error().code == "ResourceNotFoundException") {
      return ResourceNotFound("Requested resource not found: ResourcArn: " + in.value("ResourceArn", "") + " not found");
    }
    return r.error();
  }
  return Status::Ok();
}

Result<Json> TableCatalog::ListTags(const Scope& s, const Json& in) {
  Status st;
  std::string name = TableNameFromArn(s, in.value("ResourceArn", ""), st);
  STRATUS_RETURN_IF_ERROR(st);
  auto t = Get(s, name);
  if (!t.ok()) {
    return ResourceNotFound("Requested resource not found: ResourcArn: " + in.value("ResourceArn", "") + " not found");
  }
  return Json{{"Tags", (*t)->record.value("tags", Json::array())}};
}

Result<Json> TableCatalog::UpdateTtl(const Scope& s, const Json& in) {
  std::string name = in.value("TableName", "");
  Json spec = in.value("TimeToLiveSpecification", Json::object());
  bool enable = spec.value("Enabled", false);
  std::string attr = spec.value("AttributeName", "");
  STRATUS_ASSIGN_OR_RETURN(TablePtr t, Modify(s, name, [&](store::WriteTxn&, const Table& old, Json& rec) -> Status {
    if (enable && old.ttl_enabled) return Validation("TimeToLive is already enabled");
    if (!enable && !old.ttl_enabled) return Validation("TimeToLive is already disabled");
    if (!enable && old.ttl_attribute != attr) {
      return Validation("TimeToLive attribute name does not match: " + old.ttl_attribute);
    }
    rec["ttl"] = Json{{"attr", attr}, {"enabled", enable}};
    return Status::Ok();
  }));
  return Json{{"TimeToLiveSpecification", spec}};
}

Result<Json> TableCatalog::DescribeTtl(const Scope& s, std::string_view name) {
  STRATUS_ASSIGN_OR_RETURN(TablePtr t, Get(s, name));
  Json d = {{"TimeToLiveStatus", t->ttl_enabled ? "ENABLED" : "DISABLED"}};
  if (t->ttl_enabled) d["AttributeName"] = t->ttl_attribute;
  return Json{{"TimeToLiveDescription", d}};
}

Result<Json> TableCatalog::DescribeContinuousBackups(const Scope& s, std::string_view name) {
  auto t = Get(s, name);
  if (!t.ok()) return Error("TableNotFoundException", "Table not found: " + std::string(name));
  bool pitr = (*t)->record.value("pitr", false);
  Json p = {{"PointInTimeRecoveryStatus", pitr ? "ENABLED" : "DISABLED"}};
  if (pitr) {
    double now = static_cast<double>(clock_.NowMillis()) / 1000.0;
    p["EarliestRestorableDateTime"] = (*t)->record.value("created", now);
    p["LatestRestorableDateTime"] = now;
    p["RecoveryPeriodInDays"] = 35;
  }
  return Json{{"ContinuousBackupsDescription",
               {{"ContinuousBackupsStatus", "ENABLED"}, {"PointInTimeRecoveryDescription", p}}}};
}

Result<Json> TableCatalog::UpdateContinuousBackups(const Scope& s, const Json& in) {
  std::string name = in.value("TableName", "");
  bool on = in.value("PointInTimeRecoverySpecification", Json::object()).value("PointInTimeRecoveryEnabled", false);
  auto r = Modify(s, name, [&](store::WriteTxn&, const Table&, Json& rec) -> Status {
    rec["pitr"] = on;
    return Status::Ok();
  });
  if (!r.ok()) {
    if (r.error().code == "ResourceNotFoundException") return Error("TableNotFoundException", "Table not found: " + name);
    return r.error();
  }
  return DescribeContinuousBackups(s, name);
}

Result<std::vector<std::pair<Scope, TablePtr>>> TableCatalog::TtlTables() {
  std::vector<std::pair<Scope, TablePtr>> out;
  STRATUS_ASSIGN_OR_RETURN(auto rows, store_.Scan(store::PrefixScan("ddb/t/")));
  for (auto& kv : rows) {
    auto t = Parse(kv.value);
    if (!t.ok() || !(*t)->ttl_enabled) continue;
    // ddb/t/<acct>/<region>/<name>
    auto parts = Split(kv.key.substr(6), '/');
    if (parts.size() < 3) continue;
    out.push_back({Scope{parts[0], parts[1]}, *t});
  }
  return out;
}

}  // namespace stratus::services::dynamodb

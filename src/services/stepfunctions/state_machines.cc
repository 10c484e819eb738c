#include "services/stepfunctions/state_machines.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/stepfunctions/api_util.h"
#include "services/stepfunctions/asl.h"
#include "services/stepfunctions/runner.h"

namespace stratus::services::stepfunctions {

// ---- versions and aliases -------------------------------------------------------------------

namespace {

constexpr int64_t kMaxVersions = 1000;
constexpr size_t kMaxRoutes = 2;
constexpr int64_t kFullWeight = 100;

std::string Base(const std::string& account, const std::string& region) {
  return "stepfunctions/" + account + "/" + region;
}
std::string VersionPrefix(const ArnParts& a) { return Base(a.account, a.region) + "/smv/" + a.name + "/"; }
std::string AliasPrefix(const ArnParts& a) { return Base(a.account, a.region) + "/sma/" + a.name + "/"; }
std::string VersionKey(const ArnParts& a, int64_t version) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%010lld", static_cast<long long>(version));
  return VersionPrefix(a) + buf;
}
std::string UnqualifiedArn(const ArnParts& a) {
  return "arn:aws:states:" + a.region + ":" + a.account + ":stateMachine:" + a.name;
}
bool IsVersionNumber(const std::string& s) {
  return !s.empty() && s.size() <= 10 && std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}
Error ResourceNotFound(const std::string& arn) {
  return Error("ResourceNotFound", "Resource not found: '" + arn + "'");
}

// Publishes the machine's current revision inside `txn` (the record `sm` is updated in place and
// must be written by the caller). Returns the version record (an existing one when the current
// revision was already published).
Result<Json> PublishIn(store::WriteTxn& txn, const ArnParts& a, Json& sm, const std::string& description,
                       int64_t now_ms) {
  std::string revision = sm.value("revisionId", "");
  if (sm.value("publishedRevisionId", "") == revision && sm.contains("latestVersion")) {
    auto existing = txn.Get(VersionKey(a, sm.value("latestVersion", int64_t{0})));
    if (!existing.ok()) return existing.error();
    if (existing->has_value()) return ParseJsonOrDiscarded(**existing);
  }
  int64_t version = sm.value("nextVersion", int64_t{1});
  auto count = txn.Scan(store::PrefixScan(VersionPrefix(a)));
  if (!count.ok()) return count.error();
  if (static_cast<int64_t>(count->size()) >= kMaxVersions) {
    return Error("ServiceQuotaExceededException",
                 "Your request exceeds the quota of " + std::to_string(kMaxVersions) +
                     " versions for the state machine '" + UnqualifiedArn(a) + "'.");
  }
  Json v{{"stateMachineVersionArn", UnqualifiedArn(a) + ":" + std::to_string(version)},
         {"version", version},
         {"name", sm["name"]},
         {"definition", sm["definition"]},
         {"roleArn", sm["roleArn"]},
         {"type", sm["type"]},
         {"loggingConfiguration", sm["loggingConfiguration"]},
         {"tracingConfiguration", sm["tracingConfiguration"]},
         {"revisionId", revision},
         {"creationDate", Seconds(now_ms)},
         {"status", "ACTIVE"}};
  if (!description.empty()) v["description"] = description;
  STRATUS_RETURN_IF_ERROR(txn.Put(VersionKey(a, version), DumpJson(v)));
  sm["nextVersion"] = version + 1;
  sm["latestVersion"] = version;
  sm["publishedRevisionId"] = revision;
  return v;
}

}  // namespace

Result<Json> StateMachines::Load(const std::string& arn) {
  auto a = ParseStatesArn(arn);
  if (!a || a->type != "stateMachine" || !a->extra.empty()) return InvalidArn(arn);
  auto v = store_.Get(StateMachineKey(a->account, a->region, a->name));
  if (!v.ok()) return v.error();
  if (!v->has_value()) return NotFound("StateMachineDoesNotExist", "State Machine", arn);
  return ParseJsonOrDiscarded(**v);
}

Result<Json> StateMachines::Create(aws::CallContext& c, const Json& in) {
  std::string name = in.value("name", "");
  if (!ValidName(name)) return Error("InvalidName", "Invalid Name: '" + name + "'");
  std::string type = in.value("type", "STANDARD");
  std::string def_text = in.value("definition", "");
  auto def = ParseDefinition(def_text);
  if (!def.ok()) return def.error();
  std::string arn = "arn:aws:states:" + c.region + ":" + c.caller.account_id + ":stateMachine:" + name;
  Json rec{{"stateMachineArn", arn},
           {"name", name},
           {"definition", def_text},
           {"roleArn", in.value("roleArn", "")},
           {"type", type},
           {"creationDate", Seconds(c.now_ms)},
           {"status", "ACTIVE"},
           {"loggingConfiguration", in.value("loggingConfiguration", Json{{"level", "OFF"}, {"includeExecutionData", false}})},
           {"tracingConfiguration", in.value("tracingConfiguration", Json{{"enabled", false}})},
           {"revisionId", NewUuid()},
           {"tags", Json::object()}};
  if (in.contains("description")) rec["description"] = in["description"];
  for (const auto& t : in.value("tags", Json::array())) rec["tags"][t.value("key", "")] = t.value("value", "");
  std::string key = StateMachineKey(c.caller.account_id, c.region, name);
  Json created = rec;
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    auto existing = txn.Get(key);
    if (!existing.ok()) return existing.error();
    if (existing->has_value()) {
      Json old = ParseJsonOrDiscarded(**existing);
      if (old.value("definition", "") == def_text && old.value("roleArn", "") == rec["roleArn"] &&
          old.value("type", "") == type) {
        created = old;
        return Status::Ok();
      }
      return Error("StateMachineAlreadyExists", "State Machine Already Exists: '" + arn + "'");
    }
    if (in.value("publish", false)) {
      auto a = ParseStatesArn(arn);
      auto v = PublishIn(txn, *a, rec, in.value("versionDescription", ""), c.now_ms);
      if (!v.ok()) return v.error();
      created["stateMachineVersionArn"] = (*v)["stateMachineVersionArn"];
    }
    return txn.Put(key, DumpJson(rec));
  }));
  Json out{{"stateMachineArn", arn}, {"creationDate", created["creationDate"]}};
  if (created.contains("stateMachineVersionArn")) out["stateMachineVersionArn"] = created["stateMachineVersionArn"];
  return out;
}

Result<Json> StateMachines::Describe(aws::CallContext& c, const Json& in) {
  std::string arn = in.value("stateMachineArn", "");
  auto a = ParseStatesArn(arn);
  Json rec;
  if (a && a->type == "stateMachine" && !a->extra.empty()) {
    STRATUS_ASSIGN_OR_RETURN(rec, LoadVersion(arn));
    rec["stateMachineArn"] = arn;
  } else {
    STRATUS_ASSIGN_OR_RETURN(rec, Load(arn));
  }
  Json out = Json::object();
  for (const char* k : {"stateMachineArn", "name", "status", "definition", "roleArn", "type", "creationDate",
                        "loggingConfiguration", "tracingConfiguration", "revisionId", "description"}) {
    if (rec.contains(k)) out[k] = rec[k];
  }
  return out;
}

Result<Json> StateMachines::Update(aws::CallContext& c, const Json& in) {
  std::string arn = in.value("stateMachineArn", "");
  STRATUS_ASSIGN_OR_RETURN(Json rec, Load(arn));
  const Json before = rec;
  if (!in.contains("definition") && !in.contains("roleArn") && !in.contains("loggingConfiguration") &&
      !in.contains("tracingConfiguration")) {
    return Error("MissingRequiredParameter", "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified");
  }
  if (in.contains("definition")) {
    auto def = ParseDefinition(in.value("definition", ""));
    if (!def.ok()) return def.error();
    rec["definition"] = in["definition"];
  }
  for (const char* k : {"roleArn", "loggingConfiguration", "tracingConfiguration"}) {
    if (in.contains(k)) rec[k] = in[k];
  }
  // An update that changes nothing keeps the revision (publishing it again is then a no-op).
  if (before.value("definition", "") != rec.value("definition", "") || before["roleArn"] != rec["roleArn"] ||
      before["loggingConfiguration"] != rec["loggingConfiguration"] ||
      before["tracingConfiguration"] != rec["tracingConfiguration"]) {
    rec["revisionId"] = NewUuid();
  }
  auto a = ParseStatesArn(arn);
  std::string key = StateMachineKey(a->account, a->region, a->name);
  Json out{{"updateDate", Seconds(c.now_ms)}, {"revisionId", rec["revisionId"]}};
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    if (in.value("publish", false)) {
      auto v = PublishIn(txn, *a, rec, in.value("versionDescription", ""), c.now_ms);
      if (!v.ok()) return v.error();
      out["stateMachineVersionArn"] = (*v)["stateMachineVersionArn"];
    }
    return txn.Put(key, DumpJson(rec));
  }));
  return out;
}

Result<Json> StateMachines::Delete(aws::CallContext& c, const Json& in) {
  std::string arn = in.value("stateMachineArn", "");
  auto a = ParseStatesArn(arn);
  if (!a || a->type != "stateMachine") return InvalidArn(arn);
  if (!a->extra.empty()) {
    // A version or alias ARN deletes that version or alias.
    Json sub = Json::object();
    if (IsVersionNumber(a->extra)) {
      sub["stateMachineVersionArn"] = arn;
      return DeleteVersion(c, sub);
    }
    sub["stateMachineAliasArn"] = arn;
    return DeleteAlias(c, sub);
  }
  // The machine goes with its versions and aliases.
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    for (const std::string& prefix : {VersionPrefix(*a), AliasPrefix(*a)}) {
      auto rows = txn.Scan(store::PrefixScan(prefix));
      if (!rows.ok()) return rows.error();
      for (const auto& kv : *rows) STRATUS_RETURN_IF_ERROR(txn.Delete(kv.key));
    }
    return txn.Delete(StateMachineKey(a->account, a->region, a->name));
  }));
  return Json::object();
}

Result<Json> StateMachines::List(aws::CallContext& c, const Json& in) {
  auto rows = store_.Scan(store::PrefixScan(StateMachineKey(c.caller.account_id, c.region, "")));
  if (!rows.ok()) return rows.error();
  Json items = Json::array();
  for (const auto& kv : *rows) {
    Json r = ParseJsonOrDiscarded(kv.value);
    items.push_back(Json{{"stateMachineArn", r["stateMachineArn"]}, {"name", r["name"]}, {"type", r["type"]},
                         {"creationDate", r["creationDate"]}});
  }
  return Paginate(std::move(items), in, "stateMachines");
}


Result<Json> StateMachines::Publish(aws::CallContext& c, const std::string& arn,
                                    const std::optional<std::string>& revision_id,
                                    const std::string& description) {
  auto a = ParseStatesArn(arn);
  if (!a || a->type != "stateMachine" || !a->extra.empty()) return InvalidArn(arn);
  std::string key = StateMachineKey(a->account, a->region, a->name);
  Json version;
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    auto raw = txn.Get(key);
    if (!raw.ok()) return raw.error();
    if (!raw->has_value()) return NotFound("StateMachineDoesNotExist", "State Machine", arn);
    Json sm = ParseJsonOrDiscarded(**raw);
    if (revision_id && *revision_id != sm.value("revisionId", "")) {
      return Error("ConflictException", "Failed to publish the State Machine version for revision " +
                                            *revision_id + ". The current State Machine revision is " +
                                            sm.value("revisionId", "") + ".");
    }
    auto v = PublishIn(txn, *a, sm, description, c.now_ms);
    if (!v.ok()) return v.error();
    version = std::move(*v);
    return txn.Put(key, DumpJson(sm));
  }));
  return version;
}

Result<Json> StateMachines::PublishVersion(aws::CallContext& c, const Json& in) {
  std::optional<std::string> revision;
  if (in.contains("revisionId")) revision = in.value("revisionId", "");
  STRATUS_ASSIGN_OR_RETURN(Json v, Publish(c, in.value("stateMachineArn", ""), revision, in.value("description", "")));
  return Json{{"creationDate", v["creationDate"]}, {"stateMachineVersionArn", v["stateMachineVersionArn"]}};
}

Result<Json> StateMachines::ListVersions(aws::CallContext& c, const Json& in) {
  std::string arn = in.value("stateMachineArn", "");
  auto a = ParseStatesArn(arn);
  if (!a || a->type != "stateMachine" || !a->extra.empty()) return InvalidArn(arn);
  if (auto sm = Load(arn); !sm.ok()) return sm.error();
  auto rows = store_.Scan(store::PrefixScan(VersionPrefix(*a), 0, /*reverse=*/true));
  if (!rows.ok()) return rows.error();
  Json items = Json::array();
  for (const auto& kv : *rows) {
    Json v = ParseJsonOrDiscarded(kv.value);
    items.push_back(Json{{"stateMachineVersionArn", v["stateMachineVersionArn"]}, {"creationDate", v["creationDate"]}});
  }
  return Paginate(std::move(items), in, "stateMachineVersions");
}

Result<Json> StateMachines::DeleteVersion(aws::CallContext& c, const Json& in) {
  std::string arn = in.value("stateMachineVersionArn", "");
  auto a = ParseStatesArn(arn);
  if (!a || a->type != "stateMachine" || !IsVersionNumber(a->extra)) return InvalidArn(arn);
  int64_t version = ParseInt64(a->extra).value_or(0);
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    auto aliases = txn.Scan(store::PrefixScan(AliasPrefix(*a)));
    if (!aliases.ok()) return aliases.error();
    std::vector<std::string> referencing;
    for (const auto& kv : *aliases) {
      Json alias = ParseJsonOrDiscarded(kv.value);
      for (const auto& r : alias.value("routingConfiguration", Json::array())) {
        if (r.value("stateMachineVersionArn", "") == arn) referencing.push_back(alias.value("stateMachineAliasArn", ""));
      }
    }
    if (!referencing.empty()) {
      std::string list;
      for (const auto& r : referencing) list += (list.empty() ? "" : ", ") + r;
      return Error("ConflictException",
                   "Version to be deleted must not be referenced by an alias. Current list of aliases "
                   "referencing this version: [" + list + "]");
    }
    return txn.Delete(VersionKey(*a, version));
  }));
  return Json::object();
}

Result<Json> StateMachines::LoadVersion(const std::string& arn) {
  auto a = ParseStatesArn(arn);
  if (!a || a->type != "stateMachine" || !IsVersionNumber(a->extra)) return InvalidArn(arn);
  auto raw = store_.Get(VersionKey(*a, ParseInt64(a->extra).value_or(0)));
  if (!raw.ok()) return raw.error();
  if (!raw->has_value()) return NotFound("StateMachineDoesNotExist", "State Machine", arn);
  return ParseJsonOrDiscarded(**raw);
}

Result<Json> StateMachines::LoadAlias(const std::string& arn) {
  auto a = ParseStatesArn(arn);
  if (!a || a->type != "stateMachine" || a->extra.empty() || IsVersionNumber(a->extra)) return InvalidArn(arn);
  auto raw = store_.Get(AliasPrefix(*a) + a->extra);
  if (!raw.ok()) return raw.error();
  if (!raw->has_value()) return ResourceNotFound(arn);
  return ParseJsonOrDiscarded(**raw);
}

// Routing: 1-2 versions of this machine, each existing, weights 0-100 summing to 100.
Status StateMachines::ValidateRouting(const ArnParts& sm, const Json& routing) {
  if (!routing.is_array() || routing.empty() || routing.size() > kMaxRoutes) {
    return Error("ValidationException", "1 validation error detected: Value at 'routingConfiguration' failed to "
                                        "satisfy constraint: Member must have length less than or equal to 2");
  }
  int64_t total = 0;
  std::set<std::string> seen;
  for (const auto& r : routing) {
    std::string v = r.value("stateMachineVersionArn", "");
    auto a = ParseStatesArn(v);
    if (!a || a->type != "stateMachine" || !IsVersionNumber(a->extra) || a->name != sm.name ||
        a->account != sm.account || a->region != sm.region) {
      return Error("ValidationException", "Routing configuration must contain state machine version ARNs of the "
                                          "same state machine: '" + v + "'");
    }
    if (!seen.insert(v).second) {
      return Error("ValidationException", "Routing configuration must contain distinct state machine version ARNs");
    }
    auto loaded = LoadVersion(v);
    if (!loaded.ok()) {
      if (loaded.error().code == "StateMachineDoesNotExist") return ResourceNotFound(v);
      return loaded.error();
    }
    total += r.value("weight", int64_t{0});
  }
  if (total != kFullWeight) {
    return Error("ValidationException", "Sum of routing configuration weights must be equal to 100");
  }
  return Status::Ok();
}

Result<Json> StateMachines::CreateAlias(aws::CallContext& c, const Json& in) {
  std::string name = in.value("name", "");
  if (!ValidName(name) || IsVersionNumber(name)) return Error("ValidationException", "Invalid alias name: '" + name + "'");
  Json routing = in.value("routingConfiguration", Json::array());
  if (routing.empty()) return Error("ValidationException", "Routing configuration must not be empty");
  auto first = ParseStatesArn(routing[0].value("stateMachineVersionArn", ""));
  if (!first || first->type != "stateMachine") return InvalidArn(routing[0].value("stateMachineVersionArn", ""));
  STRATUS_RETURN_IF_ERROR(ValidateRouting(*first, routing));
  std::string arn = UnqualifiedArn(*first) + ":" + name;
  Json rec{{"stateMachineAliasArn", arn},
           {"name", name},
           {"routingConfiguration", routing},
           {"creationDate", Seconds(c.now_ms)},
           {"updateDate", Seconds(c.now_ms)}};
  if (in.contains("description")) rec["description"] = in["description"];
  std::string key = AliasPrefix(*first) + name;
  Json created = rec;
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    auto sm = txn.Get(StateMachineKey(first->account, first->region, first->name));
    if (!sm.ok()) return sm.error();
    if (!sm->has_value()) return ResourceNotFound(UnqualifiedArn(*first));
    auto existing = txn.Get(key);
    if (!existing.ok()) return existing.error();
    if (existing->has_value()) {
      Json old = ParseJsonOrDiscarded(**existing);
      if (old["routingConfiguration"] == routing && old.value("description", Json()) == rec.value("description", Json())) {
        created = old;
        return Status::Ok();
      }
      return Error("ConflictException", "Failed to create alias because an alias with the same name and a "
                                        "different routing configuration already exists.");
    }
    return txn.Put(key, DumpJson(rec));
  }));
  return Json{{"stateMachineAliasArn", arn}, {"creationDate", created["creationDate"]}};
}

Result<Json> StateMachines::DescribeAlias(aws::CallContext& c, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json rec, LoadAlias(in.value("stateMachineAliasArn", "")));
  return rec;
}

Result<Json> StateMachines::UpdateAlias(aws::CallContext& c, const Json& in) {
  std::string arn = in.value("stateMachineAliasArn", "");
  STRATUS_ASSIGN_OR_RETURN(Json rec, LoadAlias(arn));
  if (!in.contains("description") && !in.contains("routingConfiguration")) {
    return Error("MissingRequiredParameter", "Either the description or the RoutingConfiguration must be specified");
  }
  auto a = ParseStatesArn(arn);
  if (in.contains("routingConfiguration")) {
    STRATUS_RETURN_IF_ERROR(ValidateRouting(*a, in["routingConfiguration"]));
    rec["routingConfiguration"] = in["routingConfiguration"];
  }
  if (in.contains("description")) rec["description"] = in["description"];
  rec["updateDate"] = Seconds(c.now_ms);
  STRATUS_RETURN_IF_ERROR(store_.Put(AliasPrefix(*a) + a->extra, DumpJson(rec)));
  return Json{{"updateDate", rec["updateDate"]}};
}

Result<Json> StateMachines::DeleteAlias(aws::CallContext& c, const Json& in) {
  std::string arn = in.value("stateMachineAliasArn", "");
  if (auto alias = LoadAlias(arn); !alias.ok()) return alias.error();
  auto a = ParseStatesArn(arn);
  STRATUS_RETURN_IF_ERROR(store_.Delete(AliasPrefix(*a) + a->extra));
  return Json::object();
}

Result<Json> StateMachines::ListAliases(aws::CallContext& c, const Json& in) {
  std::string arn = in.value("stateMachineArn", "");
  auto a = ParseStatesArn(arn);
  if (!a || a->type != "stateMachine" || !a->extra.empty()) return InvalidArn(arn);
  auto sm = Load(arn);
  if (!sm.ok()) return sm.error().code == "StateMachineDoesNotExist" ? ResourceNotFound(arn) : sm.error();
  auto rows = store_.Scan(store::PrefixScan(AliasPrefix(*a)));
  if (!rows.ok()) return rows.error();
  Json items = Json::array();
  for (const auto& kv : *rows) {
    Json r = ParseJsonOrDiscarded(kv.value);
    items.push_back(Json{{"stateMachineAliasArn", r["stateMachineAliasArn"]}, {"creationDate", r["creationDate"]}});
  }
  return Paginate(std::move(items), in, "stateMachineAliases");
}

Result<StartTarget> StateMachines::ResolveForStart(const std::string& arn) {
  auto a = ParseStatesArn(arn);
  if (!a || a->type != "stateMachine") return InvalidArn(arn);
  StartTarget t;
  t.state_machine_arn = UnqualifiedArn(*a);
  if (a->extra.empty()) {
    STRATUS_ASSIGN_OR_RETURN(t.record, Load(arn));
    return t;
  }
  if (!IsVersionNumber(a->extra)) {
    auto alias = LoadAlias(arn);
    if (!alias.ok()) {
      if (alias.error().code == "ResourceNotFound") return NotFound("StateMachineDoesNotExist", "State Machine", arn);
      return alias.error();
    }
    t.alias_arn = arn;
    // Weighted choice between the alias's versions.
    const Json& routing = (*alias)["routingConfiguration"];
    std::string random = RandomBytes(sizeof(uint64_t));
    uint64_t r64 = 0;
    for (unsigned char ch : random) r64 = (r64 << 8) | ch;
    int64_t pick = static_cast<int64_t>(r64 % static_cast<uint64_t>(kFullWeight));
    for (const auto& r : routing) {
      t.version_arn = r.value("stateMachineVersionArn", "");
      pick -= r.value("weight", int64_t{0});
      if (pick < 0) break;
    }
  } else {
    t.version_arn = arn;
  }
  STRATUS_ASSIGN_OR_RETURN(t.record, LoadVersion(t.version_arn));
  return t;
}

}  // namespace stratus::services::stepfunctions

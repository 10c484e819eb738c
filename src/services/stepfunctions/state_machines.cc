#include "services/stepfunctions/state_machines.h"

#include "core/crypto.h"
#include "services/stepfunctions/api_util.h"
#include "services/stepfunctions/asl.h"
#include "services/stepfunctions/runner.h"

namespace stratus::services::stepfunctions {

Result<Json> StateMachines::Load(const std::string& arn) {
  auto a = ParseStatesArn(arn);
  if (!a || a->type != "stateMachine") return InvalidArn(arn);
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
    return txn.Put(key, DumpJson(rec));
  }));
  return Json{{"stateMachineArn", arn}, {"creationDate", created["creationDate"]}};
}

Result<Json> StateMachines::Describe(aws::CallContext& c, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json rec, Load(in.value("stateMachineArn", "")));
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
  rec["revisionId"] = NewUuid();
  auto a = ParseStatesArn(arn);
  STRATUS_RETURN_IF_ERROR(store_.Put(StateMachineKey(a->account, a->region, a->name), DumpJson(rec)));
  return Json{{"updateDate", Seconds(c.now_ms)}, {"revisionId", rec["revisionId"]}};
}

Result<Json> StateMachines::Delete(aws::CallContext& c, const Json& in) {
  std::string arn = in.value("stateMachineArn", "");
  auto a = ParseStatesArn(arn);
  if (!a || a->type != "stateMachine") return InvalidArn(arn);
  STRATUS_RETURN_IF_ERROR(store_.Delete(StateMachineKey(a->account, a->region, a->name)));
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

}  // namespace stratus::services::stepfunctions

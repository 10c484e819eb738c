// Event invoke configs (async retries, event age, destinations) and dead-letter targets.
#include "services/lambda/registry_internal.h"

#include "core/strings.h"
#include "services/lambda/errors.h"

namespace stratus::services::lambda {

// ---- event invoke configs ------------------------------------------------------------------------

Result<Json> Registry::PutEventInvokeConfig(const Scope& s, const FunctionRef& ref, const Json& in,
                                            bool merge) {
  Impl& d = *impl_;
  std::string q = ref.qualifier.empty() ? "$LATEST" : ref.qualifier;
  if (Has(in, "DestinationConfig")) {
    for (const char* k : {"OnSuccess", "OnFailure"}) {
      std::string dest = Has(in["DestinationConfig"], k)
                             ? in["DestinationConfig"][k].value("Destination", "")
                             : "";
      if (dest.empty()) continue;
      auto parts = Split(dest, ':');
      std::string service = parts.size() > 2 ? parts[2] : "";
      if (parts.size() < 6 || parts[0] != "arn" ||
          (service != "sqs" && service != "sns" && service != "lambda" && service != "events" &&
           service != "s3")) {
        return InvalidParameterValue("The destination ARN " + dest + " is invalid.");
      }
      if (service == "events" || service == "s3") {
        return NotSupported("Destinations of type " + service);
      }
    }
  }
  Json out;
  STRATUS_RETURN_IF_ERROR(d.store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, d.LoadFunction(txn, s, ref.name));
    STRATUS_RETURN_IF_ERROR(d.CheckQualifier(txn, s, ref));
    Json& all = fn["eic"];
    if (!all.is_object()) all = Json::object();
    if (merge && !all.contains(q)) {
      return ResourceNotFound("The function " + FunctionArn(s.region, s.account, ref.name, q) +
                              " doesn't have an EventInvokeConfig");
    }
    Json cfg = merge ? all[q] : Json::object();
    for (const char* k : {"MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig"}) {
      if (Has(in, k)) cfg[k] = in[k];
    }
    if (!Has(cfg, "DestinationConfig")) {
      cfg["DestinationConfig"] = Json{{"OnSuccess", Json::object()}, {"OnFailure", Json::object()}};
    }
    cfg["LastModified"] = static_cast<double>(d.clock.NowMillis()) / 1000.0;
    cfg["FunctionArn"] = FunctionArn(s.region, s.account, ref.name, q);
    all[q] = cfg;
    out = cfg;
    return txn.Put(FnKey(s, ref.name), DumpJson(fn));
  }));
  return out;
}

Result<Json> Registry::GetEventInvokeConfig(const Scope& s, const FunctionRef& ref) {
  std::string q = ref.qualifier.empty() ? "$LATEST" : ref.qualifier;
  STRATUS_ASSIGN_OR_RETURN(Json fn, impl_->ReadFunction(s, ref.name));
  auto all = fn.value("eic", Json::object());
  if (!all.contains(q)) {
    return ResourceNotFound("The function " + FunctionArn(s.region, s.account, ref.name, q) +
                            " doesn't have an EventInvokeConfig");
  }
  return all[q];
}

Status Registry::DeleteEventInvokeConfig(const Scope& s, const FunctionRef& ref) {
  std::string q = ref.qualifier.empty() ? "$LATEST" : ref.qualifier;
  return impl_->store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, impl_->LoadFunction(txn, s, ref.name));
    if (!Has(fn, "eic") || !fn["eic"].contains(q)) {
      return ResourceNotFound("The function " + FunctionArn(s.region, s.account, ref.name, q) +
                              " doesn't have an EventInvokeConfig");
    }
    fn["eic"].erase(q);
    return txn.Put(FnKey(s, ref.name), DumpJson(fn));
  });
}

Result<Json> Registry::ListEventInvokeConfigs(const Scope& s, const FunctionRef& ref) {
  STRATUS_ASSIGN_OR_RETURN(Json fn, impl_->ReadFunction(s, ref.name));
  Json list = Json::array();
  const Json configs = fn.value("eic", Json::object());
  for (auto& [q, cfg] : configs.items()) list.push_back(cfg);
  return Json{{"FunctionEventInvokeConfigs", std::move(list)}};
}

Json Registry::EventInvokeConfigFor(const Scope& s, const std::string& name,
                                    const std::string& qualifier) {
  auto fn = impl_->ReadFunction(s, name);
  if (!fn.ok()) return Json();
  auto all = fn->value("eic", Json::object());
  std::string q = qualifier.empty() ? "$LATEST" : qualifier;
  return all.contains(q) ? all[q] : Json();
}

std::string Registry::DeadLetterTarget(const Scope& s, const std::string& name,
                                       const std::string& version) {
  auto rec = impl_->ReadVersion(s, name, version);
  if (!rec.ok()) return {};
  const Json& c = (*rec)["config"];
  return Has(c, "DeadLetterConfig") ? c["DeadLetterConfig"].value("TargetArn", "") : "";
}

}  // namespace stratus::services::lambda

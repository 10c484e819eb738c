// Resource policies: one statement list per qualifier, kept in the function record.
#include "services/lambda/registry_internal.h"

#include "core/strings.h"
#include "services/lambda/errors.h"

namespace stratus::services::lambda {

namespace {

constexpr size_t kMaxPolicyBytes = 20 * 1024;

Json PolicyOf(const Json& fn, const std::string& q) {
  if (!Has(fn, "policies")) return Json();
  auto it = fn["policies"].find(q);
  return it == fn["policies"].end() ? Json() : *it;
}

}  // namespace

// ---- policies ------------------------------------------------------------------------------------

Result<Json> Registry::AddPermission(const Scope& s, const FunctionRef& ref, const Json& in) {
  Impl& d = *impl_;
  std::string sid = in.value("StatementId", "");
  std::string principal = in.value("Principal", "");
  Json statement{{"Sid", sid}, {"Effect", "Allow"}};
  if (principal == "*") {
    statement["Principal"] = "*";
  } else if (principal.find(".amazonaws.com") != std::string::npos) {
    statement["Principal"] = Json{{"Service", principal}};
  } else {
    std::string p = principal;
    if (IsVersionNumber(p) && p.size() == 12) p = "arn:aws:iam::" + p + ":root";
    statement["Principal"] = Json{{"AWS", p}};
  }
  statement["Action"] = in.value("Action", "");
  statement["Resource"] = FunctionArn(s.region, s.account, ref.name, ref.qualifier);
  Json condition = Json::object();
  if (Has(in, "SourceArn")) condition["ArnLike"] = Json{{"AWS:SourceArn", in["SourceArn"]}};
  if (Has(in, "SourceAccount")) condition["StringEquals"]["AWS:SourceAccount"] = in["SourceAccount"];
  if (Has(in, "PrincipalOrgID")) condition["StringEquals"]["aws:PrincipalOrgID"] = in["PrincipalOrgID"];
  if (Has(in, "EventSourceToken")) {
    condition["StringEquals"]["lambda:EventSourceToken"] = in["EventSourceToken"];
  }
  if (Has(in, "FunctionUrlAuthType")) {
    condition["StringEquals"]["lambda:FunctionUrlAuthType"] = in["FunctionUrlAuthType"];
  }
  if (!condition.empty()) statement["Condition"] = condition;
  STRATUS_RETURN_IF_ERROR(d.store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, d.LoadFunction(txn, s, ref.name));
    STRATUS_RETURN_IF_ERROR(d.CheckQualifier(txn, s, ref));
    STRATUS_RETURN_IF_ERROR(CheckRevision(in, fn["config"]));
    Json& list = fn["policies"][ref.qualifier];
    if (!list.is_array()) list = Json::array();
    for (const auto& st : list) {
      if (st.value("Sid", "") == sid) {
        return ResourceConflict("The statement id (" + sid +
                                ") provided already exists. Please provide a new statement id, or "
                                "remove the existing statement.");
      }
    }
    list.push_back(statement);
    if (DumpJson(list).size() > kMaxPolicyBytes) {
      return Error("PolicyLengthExceededException", "The final policy size is bigger than the limit.", 400);
    }
    return txn.Put(FnKey(s, ref.name), DumpJson(fn));
  }));
  return Json{{"Statement", DumpJson(statement)}};
}

Status Registry::RemovePermission(const Scope& s, const FunctionRef& ref, const std::string& sid,
                                  const std::string& revision) {
  Impl& d = *impl_;
  return d.store.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Json fn, d.LoadFunction(txn, s, ref.name));
    STRATUS_RETURN_IF_ERROR(CheckRevision(Json{{"RevisionId", revision}}, fn["config"]));
    Json list = PolicyOf(fn, ref.qualifier);
    if (!list.is_array() || list.empty()) {
      return ResourceNotFound("No policy is associated with the given resource.");
    }
    Json kept = Json::array();
    bool removed = false;
    for (auto& st : list) {
      if (st.value("Sid", "") == sid) {
        removed = true;
      } else {
        kept.push_back(st);
      }
    }
    if (!removed) return ResourceNotFound("Statement " + sid + " is not found in resource policy.");
    if (kept.empty()) {
      fn["policies"].erase(ref.qualifier);
    } else {
      fn["policies"][ref.qualifier] = kept;
    }
    return txn.Put(FnKey(s, ref.name), DumpJson(fn));
  });
}

Result<Json> Registry::GetPolicy(const Scope& s, const FunctionRef& ref) {
  STRATUS_ASSIGN_OR_RETURN(Json fn, impl_->ReadFunction(s, ref.name));
  Json list = PolicyOf(fn, ref.qualifier);
  if (!list.is_array() || list.empty()) {
    return ResourceNotFound("The resource you requested does not exist.");
  }
  Json policy{{"Version", "2012-10-17"}, {"Id", "default"}, {"Statement", list}};
  return Json{{"Policy", DumpJson(policy)}, {"RevisionId", fn["config"].value("RevisionId", "")}};
}

}  // namespace stratus::services::lambda

#include "services/apigateway/iam_auth.h"

#include "core/strings.h"
#include "core/time_format.h"
#include "identity/policy/context.h"

namespace stratus::services::apigateway {

namespace {

constexpr std::string_view kShortArnPrefix = "execute-api:/";

Json NullIfEmpty(const std::string& s) { return s.empty() ? Json() : Json(s); }

void ExpandResources(Json& value, const std::string& prefix) {
  auto expand = [&](Json& r) {
    if (r.is_string() && StartsWith(r.get<std::string>(), kShortArnPrefix)) {
      r = prefix + r.get<std::string>().substr(kShortArnPrefix.size());
    }
  };
  if (value.is_array()) {
    for (auto& r : value) expand(r);
  } else {
    expand(value);
  }
}

}  // namespace

std::string ExecuteApiArn(const std::string& region, const std::string& account,
                          const std::string& api_id, const std::string& stage,
                          const std::string& method, const std::string& path) {
  std::string p = path.empty() ? "/" : path;
  if (p.front() != '/') p.insert(p.begin(), '/');
  return "arn:aws:execute-api:" + region + ":" + account + ":" + api_id + "/" + stage + "/" +
         method + p;
}

std::string ExpandResourcePolicy(const std::string& policy, const std::string& region,
                                 const std::string& account, const std::string& api_id) {
  if (Trim(policy).empty()) return {};
  Json doc = ParseJsonOrDiscarded(policy);
  // Not JSON: handed to IAM unchanged, whose parser reports what is wrong with it.
  if (doc.is_discarded() || !doc.is_object()) return policy;
  std::string prefix = "arn:aws:execute-api:" + region + ":" + account + ":" + api_id + "/";
  Json& statements = doc["Statement"];
  auto fix = [&](Json& st) {
    if (!st.is_object()) return;
    if (st.contains("Resource")) ExpandResources(st["Resource"], prefix);
    if (st.contains("NotResource")) ExpandResources(st["NotResource"], prefix);
  };
  if (statements.is_array()) {
    for (auto& st : statements) fix(st);
  } else {
    fix(statements);
  }
  return DumpJson(doc);
}

std::string PolicySourceArn(const aws::Caller& caller) {
  if (caller.anonymous) return {};
  const std::string& arn = caller.arn;
  if (arn.find(":user/") != std::string::npos || arn.find(":role/") != std::string::npos) return arn;
  auto assumed = arn.find(":assumed-role/");
  if (StartsWith(arn, "arn:aws:sts::") && assumed != std::string::npos) {
    std::string account = arn.substr(13, assumed - 13);
    std::string rest = arn.substr(assumed + 14);  // "<role>/<session>"
    std::string role = rest.substr(0, rest.find('/'));
    return "arn:aws:iam::" + account + ":role/" + role;
  }
  return {};  // the account root (or a federated user, evaluated as root: see docs)
}

Json InvokeSimulation(const std::string& source_arn, const std::string& caller_arn,
                      const std::string& resource_arn, const std::string& resource_policy,
                      const std::string& api_account, const std::string& source_ip) {
  Json in{{"PolicySourceArn", source_arn},
          {"ActionNames", Json::array({kExecuteApiInvoke})},
          {"ResourceArns", Json::array({resource_arn})},
          {"ResourceOwner", "arn:aws:iam::" + api_account + ":root"}};
  Json entries = Json::array();
  entries.push_back(Json{{"ContextKeyName", "aws:PrincipalArn"},
                         {"ContextKeyValues", Json::array({caller_arn})},
                         {"ContextKeyType", "string"}});
  if (!source_ip.empty()) {
    entries.push_back(Json{{"ContextKeyName", "aws:SourceIp"},
                           {"ContextKeyValues", Json::array({source_ip})},
                           {"ContextKeyType", "ip"}});
  }
  in["ContextEntries"] = std::move(entries);
  if (!resource_policy.empty()) in["ResourcePolicy"] = resource_policy;
  return in;
}

Result<InvokeDecision> DecisionFrom(const Json& out) {
  const Json results = out.is_object() ? out.value("EvaluationResults", Json::array()) : Json::array();
  if (!results.is_array() || results.empty() || !results[0].is_object()) {
    return Error("InternalFailure", "IAM's simulation answered without an evaluation result");
  }
  std::string d = results[0].value("EvalDecision", "");
  if (d == "allowed") return InvokeDecision::kAllowed;
  if (d == "explicitDeny") return InvokeDecision::kExplicitDeny;
  if (d == "implicitDeny") return InvokeDecision::kImplicitDeny;
  return Error("InternalFailure", "IAM's simulation answered an unknown decision '" + d + "'");
}

Result<identity::policy::PolicyPtr> ResourcePolicyCache::Get(const std::string& policy,
                                                              const std::string& region,
                                                              const std::string& account,
                                                              const std::string& api_id) {
  if (Trim(policy).empty()) return identity::policy::PolicyPtr();
  std::string key = region + "/" + account + "/" + api_id + "\n" + policy;
  {
    std::lock_guard lock(mu_);
    auto it = parsed_.find(key);
    if (it != parsed_.end()) return it->second;
  }
  auto parsed = identity::policy::ParsePolicy(ExpandResourcePolicy(policy, region, account, api_id),
                                              identity::policy::PolicyKind::kResource);
  if (!parsed.ok()) return parsed.error();
  std::lock_guard lock(mu_);
  if (parsed_.size() >= 1000) parsed_.clear();
  parsed_[key] = *parsed;
  return *parsed;
}

InvokeDecision PolicyOnlyDecision(const identity::policy::Policy& policy,
                                  const aws::Caller* root_caller, const std::string& resource_arn,
                                  const std::string& api_account, const std::string& source_ip,
                                  int64_t now_ms) {
  namespace pol = identity::policy;
  pol::RequestContext context;
  if (!source_ip.empty()) context.Set("aws:SourceIp", source_ip);
  context.Set("aws:CurrentTime", FormatIso8601(static_cast<double>(now_ms) / 1000.0));
  context.Set("aws:EpochTime", std::to_string(now_ms / 1000));
  context.Set("aws:SecureTransport", "false");
  pol::EvaluationInput in;
  if (root_caller) {
    in.request.principal = pol::Principal{pol::PrincipalType::kRoot, root_caller->arn, "",
                                          root_caller->account_id};
    context.Set("aws:PrincipalArn", root_caller->arn);
    context.Set("aws:PrincipalAccount", root_caller->account_id);
  } else {
    in.request.principal = pol::Principal{pol::PrincipalType::kAnonymous, "", "", ""};
  }
  in.request.action = kExecuteApiInvoke;
  in.request.resource = resource_arn;
  in.request.resource_account = api_account;
  in.request.context = &context;
  in.resource_policy = &policy;
  pol::Outcome o = pol::Evaluate(in);
  if (o.decision == pol::Decision::kAllow) return InvokeDecision::kAllowed;
  return o.decision == pol::Decision::kExplicitDeny ? InvokeDecision::kExplicitDeny
                                                    : InvokeDecision::kImplicitDeny;
}

std::string DenialMessage(const std::string& caller_arn, const std::string& resource_arn,
                          InvokeDecision decision) {
  std::string m = "User: " + (caller_arn.empty() ? std::string("anonymous") : caller_arn) +
                  " is not authorized to perform: " + kExecuteApiInvoke + " on resource: " +
                  resource_arn;
  if (decision == InvokeDecision::kExplicitDeny) m += " with an explicit deny";
  return m;
}

Json V1Identity(const aws::Caller& caller) {
  return Json{{"accessKey", NullIfEmpty(caller.access_key_id)},
              {"accountId", NullIfEmpty(caller.account_id)},
              {"caller", NullIfEmpty(caller.user_id)},
              {"user", NullIfEmpty(caller.user_id)},
              {"userArn", NullIfEmpty(caller.arn)}};
}

Json V2IamAuthorizer(const aws::Caller& caller) {
  return Json{{"iam", Json{{"accessKey", caller.access_key_id},
                           {"accountId", caller.account_id},
                           {"callerId", caller.user_id},
                           {"cognitoIdentity", Json()},
                           {"principalOrgId", Json()},
                           {"userArn", caller.arn},
                           {"userId", caller.user_id}}}};
}

}  // namespace stratus::services::apigateway

// IAM's policy simulator: SimulatePrincipalPolicy and SimulateCustomPolicy over the same engine
// that enforcement uses (identity/policy).
#include <algorithm>

#include "core/strings.h"
#include "core/time_format.h"
#include "services/iam/iam_common.h"

namespace stratus::services::iam {

namespace {

using Call = aws::CallContext;
namespace pol = identity::policy;

Result<std::vector<pol::PolicyPtr>> ParseList(Iam& iam, const Json& list, pol::PolicyKind kind) {
  std::vector<pol::PolicyPtr> out;
  if (!list.is_array()) return out;
  for (const auto& doc : list) {
    if (!doc.is_string()) continue;
    auto p = iam.cache.Get(doc.get<std::string>(), kind);
    if (!p.ok()) return p.error();
    out.push_back(*p);
  }
  return out;
}

pol::RequestContext ContextFrom(const Json& entries) {
  pol::RequestContext ctx;
  if (!entries.is_array()) return ctx;
  for (const auto& e : entries) {
    std::string key = e.value("ContextKeyName", "");
    std::string type = e.value("ContextKeyType", "string");
    std::vector<std::string> values;
    for (const auto& v : e.value("ContextKeyValues", Json::array())) {
      if (v.is_string()) values.push_back(v.get<std::string>());
    }
    if (key.empty()) continue;
    if (EndsWith(type, "List")) {
      ctx.SetMulti(key, std::move(values));
    } else if (!values.empty()) {
      ctx.Set(key, values.front());
    }
  }
  return ctx;
}

bool IsAccountId(const std::string& s) {
  return s.size() == 12 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

struct Simulation {
  pol::Principal principal;
  std::string principal_arn, role_arn, account;
  std::vector<pol::PolicyPtr> identity;
  pol::PolicyPtr boundary;
  pol::PolicyPtr resource_policy;
  std::string resource_owner;
  identity::Tags tags;
};

Result<Json> Run(Iam& iam, Simulation& sim, const Json& in) {
  pol::RequestContext ctx = ContextFrom(in.value("ContextEntries", Json::array()));
  if (!sim.principal_arn.empty() && !ctx.Find("aws:principalarn")) {
    ctx.Set("aws:PrincipalArn", sim.principal_arn);
  }
  for (const auto& [k, v] : sim.tags) {
    if (!ctx.Find(ToLower("aws:PrincipalTag/" + k))) ctx.Set("aws:PrincipalTag/" + k, v);
  }
  if (!ctx.Find("aws:currenttime")) ctx.Set("aws:CurrentTime", FormatIso8601(iam.Now()));
  std::vector<std::string> resources;
  for (const auto& r : in.value("ResourceArns", Json::array())) resources.push_back(r);
  if (resources.empty()) resources.push_back("*");
  std::vector<const pol::Policy*> id;
  for (const auto& p : sim.identity) id.push_back(p.get());
  std::string owner_account =
      sim.resource_owner.empty() ? std::string() : identity::AccountFromArn(sim.resource_owner);
  if (owner_account.empty() && IsAccountId(sim.resource_owner)) owner_account = sim.resource_owner;
  Json results = Json::array();
  for (const auto& action_json : in.value("ActionNames", Json::array())) {
    std::string action = action_json.get<std::string>();
    Json per_resource = Json::array();
    std::string overall = "allowed";
    for (const auto& resource : resources) {
      pol::EvaluationInput ev;
      ev.request.principal = sim.principal;
      ev.request.action = action;
      ev.request.resource = resource;
      ev.request.resource_account = owner_account;
      ev.request.context = &ctx;
      ev.identity = id;
      ev.boundary = sim.boundary.get();
      ev.resource_policy = sim.resource_policy.get();
      pol::Outcome o = pol::Evaluate(ev);
      std::string decision = o.decision == pol::Decision::kAllow ? "allowed"
                             : o.decision == pol::Decision::kExplicitDeny ? "explicitDeny"
                                                                          : "implicitDeny";
      if (decision == "explicitDeny" || (decision == "implicitDeny" && overall == "allowed")) {
        overall = decision;
      }
      Json r{{"EvalResourceName", resource}, {"EvalResourceDecision", decision},
             {"MatchedStatements", Json::array()}, {"MissingContextValues", Json::array()}};
      if (sim.boundary) {
        r["PermissionsBoundaryDecisionDetail"] = Json{
            {"AllowedByPermissionsBoundary", !(o.by == pol::PolicyType::kBoundary && o.decision != pol::Decision::kAllow)}};
      }
      per_resource.push_back(std::move(r));
    }
    Json result{{"EvalActionName", action}, {"EvalResourceName", resources.size() == 1 ? resources[0] : "*"},
                {"EvalDecision", overall}, {"MatchedStatements", Json::array()},
                {"MissingContextValues", Json::array()}};
    if (resources.size() > 1 || resources[0] != "*") result["ResourceSpecificResults"] = std::move(per_resource);
    results.push_back(std::move(result));
  }
  return Json{{"EvaluationResults", std::move(results)}, {"IsTruncated", false}};
}

}  // namespace

void RegisterSimulateHandlers(Iam& iam, const Registrar& on) {
  on("SimulateCustomPolicy", [&iam](Call& c, const Json& in) -> Result<Json> {
    Simulation sim;
    STRATUS_ASSIGN_OR_RETURN(sim.identity, ParseList(iam, in.value("PolicyInputList", Json::array()),
                                                     pol::PolicyKind::kIdentity));
    STRATUS_ASSIGN_OR_RETURN(auto boundaries,
                             ParseList(iam, in.value("PermissionsBoundaryPolicyInputList", Json::array()),
                                       pol::PolicyKind::kBoundary));
    if (!boundaries.empty()) sim.boundary = boundaries.front();
    if (in.contains("ResourcePolicy")) {
      auto rp = iam.cache.Get(in.value("ResourcePolicy", ""), pol::PolicyKind::kResource);
      if (!rp.ok()) return rp.error();
      sim.resource_policy = *rp;
    }
    sim.principal_arn = in.value("CallerArn", "arn:aws:iam::" + c.caller.account_id + ":user/simulated");
    sim.account = identity::AccountFromArn(sim.principal_arn);
    if (sim.account.empty()) sim.account = c.caller.account_id;
    sim.principal = pol::Principal{pol::PrincipalType::kUser, sim.principal_arn, "", sim.account};
    sim.resource_owner = in.value("ResourceOwner", "");
    return Run(iam, sim, in);
  });
  on("SimulatePrincipalPolicy", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string source = in.value("PolicySourceArn", "");
    std::string account = c.caller.account_id;
    std::string name = identity::NameFromArn(source);
    Simulation sim;
    PrincipalPolicies pp;
    if (source.find(":user/") != std::string::npos) {
      pp = UserPolicies(iam.state, iam.cache, account, name);
      sim.principal = pol::Principal{pol::PrincipalType::kUser, source, "", account};
    } else if (source.find(":role/") != std::string::npos) {
      pp = RolePolicies(iam.state, iam.cache, account, name);
      sim.role_arn = source;
      sim.principal = pol::Principal{pol::PrincipalType::kAssumedRole, source, source, account};
    } else if (source.find(":group/") != std::string::npos) {
      // A group simulates as a user holding only the group's policies.
      bool found = iam.state.Read(account, [&](const AccountState* a) {
        return a && a->groups.count(ToLower(name)) > 0;
      });
      if (found) {
        pp.found = true;
        auto docs = iam.state.Read(account, [&](const AccountState* a) {
          std::vector<std::string> d;
          const GroupRecord& g = a->groups.at(ToLower(name));
          for (const auto& [n, doc] : g.inline_policies) d.push_back(doc);
          for (const auto& arn : g.attached) {
            const ManagedPolicyRecord* p = AwsManagedPolicy(arn);
            if (!p && a->policies.count(arn)) p = &a->policies.at(arn);
            if (p && p->Default()) d.push_back(p->Default()->document);
          }
          return d;
        });
        for (const auto& d : docs) {
          if (auto p = iam.cache.Get(d, pol::PolicyKind::kIdentity); p.ok()) pp.identity.push_back(*p);
        }
      }
      sim.principal = pol::Principal{pol::PrincipalType::kUser, source, "", account};
    }
    if (!pp.found) {
      for (const char* kind : {"user", "role", "group"}) {
        if (source.find(std::string(":") + kind + "/") != std::string::npos) {
          return NoSuchEntity("The " + std::string(kind) + " with name " + name + " cannot be found.");
        }
      }
      return InvalidInput("Invalid Entity Arn: " + source + " does not clearly define entity type and name.");
    }
    sim.principal_arn = source;
    sim.account = account;
    sim.identity = pp.identity;
    sim.boundary = pp.boundary;
    sim.tags = pp.tags;
    STRATUS_ASSIGN_OR_RETURN(auto extra, ParseList(iam, in.value("PolicyInputList", Json::array()),
                                                   pol::PolicyKind::kIdentity));
    for (auto& p : extra) sim.identity.push_back(std::move(p));
    STRATUS_ASSIGN_OR_RETURN(auto boundaries,
                             ParseList(iam, in.value("PermissionsBoundaryPolicyInputList", Json::array()),
                                       pol::PolicyKind::kBoundary));
    if (!boundaries.empty()) sim.boundary = boundaries.front();
    if (in.contains("ResourcePolicy")) {
      auto rp = iam.cache.Get(in.value("ResourcePolicy", ""), pol::PolicyKind::kResource);
      if (!rp.ok()) return rp.error();
      sim.resource_policy = *rp;
    }
    sim.resource_owner = in.value("ResourceOwner", "");
    return Run(iam, sim, in);
  });
}

}  // namespace stratus::services::iam

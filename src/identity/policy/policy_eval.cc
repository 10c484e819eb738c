// iam_policy_eval: decides a JSON array of cases with stratus's engine and prints the decisions
// as a JSON array ("Allowed", "ExplicitlyDenied", "ImplicitlyDenied", or "Error: <message>" for a
// policy that does not parse). The cross-check against @cloud-copilot/iam-simulate
// (tests/iam-simulate/crosscheck.mjs) runs it on the shared corpus.
//
// A case: {principal, action, resource, resourceAccount, context: {key: value | [values]},
//          identity: [policy], boundary: policy|null, session: policy|null, resourcePolicy: policy|null}
#include <fstream>
#include <iostream>
#include <sstream>

#include "identity/policy/policy.h"

namespace pol = stratus::identity::policy;
using stratus::Json;

namespace {

std::string AccountOf(const std::string& arn) {
  size_t pos = 0;
  for (int i = 0; i < 4 && pos != std::string::npos; ++i) pos = arn.find(':', pos + 1);
  if (pos == std::string::npos) return {};
  size_t end = arn.find(':', pos + 1);
  return arn.substr(pos + 1, end == std::string::npos ? std::string::npos : end - pos - 1);
}

std::string Decide(const Json& c) {
  auto parse = [](const Json& doc, pol::PolicyKind kind) -> stratus::Result<pol::PolicyPtr> {
    return pol::ParsePolicy(doc.dump(), kind);
  };
  std::vector<pol::PolicyPtr> keep;
  std::vector<const pol::Policy*> identity, session;
  for (const auto& d : c.value("identity", Json::array())) {
    auto p = parse(d, pol::PolicyKind::kIdentity);
    if (!p.ok()) return "Error: " + p.error().message;
    keep.push_back(*p);
    identity.push_back(p->get());
  }
  const pol::Policy* boundary = nullptr;
  const pol::Policy* resource = nullptr;
  if (c.contains("boundary") && c["boundary"].is_object()) {
    auto p = parse(c["boundary"], pol::PolicyKind::kBoundary);
    if (!p.ok()) return "Error: " + p.error().message;
    keep.push_back(*p);
    boundary = p->get();
  }
  if (c.contains("session") && c["session"].is_object()) {
    auto p = parse(c["session"], pol::PolicyKind::kSession);
    if (!p.ok()) return "Error: " + p.error().message;
    keep.push_back(*p);
    session.push_back(p->get());
  }
  if (c.contains("resourcePolicy") && c["resourcePolicy"].is_object()) {
    auto p = parse(c["resourcePolicy"], pol::PolicyKind::kResource);
    if (!p.ok()) return "Error: " + p.error().message;
    keep.push_back(*p);
    resource = p->get();
  }
  std::string arn = c.value("principal", "");
  std::string account = AccountOf(arn);
  std::string role_arn;
  pol::PrincipalType type = pol::PrincipalType::kUser;
  if (arn.find(":assumed-role/") != std::string::npos) {
    type = pol::PrincipalType::kAssumedRole;
    std::string rest = arn.substr(arn.find(":assumed-role/") + 14);
    role_arn = "arn:aws:iam::" + account + ":role/" + rest.substr(0, rest.find('/'));
  } else if (arn.find(":federated-user/") != std::string::npos) {
    type = pol::PrincipalType::kFederatedUser;
  } else if (arn.ends_with(":root")) {
    type = pol::PrincipalType::kRoot;
  }
  pol::RequestContext context;
  for (auto it = c["context"].begin(); it != c["context"].end(); ++it) {
    if (it->is_array()) {
      std::vector<std::string> values;
      for (const auto& v : *it) values.push_back(v.get<std::string>());
      context.SetMulti(it.key(), std::move(values));
    } else {
      context.Set(it.key(), it->get<std::string>());
    }
  }
  std::string action = c.value("action", "");
  std::string resource_arn = c.value("resource", "");
  std::string resource_account = c.value("resourceAccount", "");
  pol::EvaluationInput in;
  in.request.principal = pol::Principal{type, arn, role_arn, account};
  in.request.action = action;
  in.request.resource = resource_arn;
  in.request.resource_account = resource_account;
  in.request.context = &context;
  in.identity = identity;
  in.boundary = boundary;
  in.session = session;
  in.has_session_policies = !session.empty();
  in.resource_policy = resource;
  pol::Outcome o = pol::Evaluate(in);
  switch (o.decision) {
    case pol::Decision::kAllow: return "Allowed";
    case pol::Decision::kExplicitDeny: return "ExplicitlyDenied";
    case pol::Decision::kImplicitDeny: return "ImplicitlyDenied";
  }
  return "ImplicitlyDenied";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: iam_policy_eval cases.json\n";
    return 2;
  }
  std::ifstream f(argv[1]);
  std::stringstream text;
  text << f.rdbuf();
  Json cases = Json::parse(text.str(), nullptr, false);
  if (!cases.is_array()) {
    std::cerr << "iam_policy_eval: " << argv[1] << " is not a JSON array\n";
    return 2;
  }
  Json out = Json::array();
  for (const auto& c : cases) out.push_back(Decide(c));
  std::cout << out.dump() << "\n";
  return 0;
}

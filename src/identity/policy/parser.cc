// ParsePolicy: JSON text → a validated, compiled Policy, with AWS's MalformedPolicyDocument
// messages for the failures IAM reports.
#include <unordered_set>

#include "core/json.h"
#include "core/strings.h"
#include "identity/policy/condition.h"
#include "identity/policy/policy.h"

namespace stratus::identity::policy {

namespace {

constexpr std::string_view kMalformed = "MalformedPolicyDocument";
constexpr std::string_view kSyntax = "Syntax errors in policy.";
constexpr std::string_view kVendor =
    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";

Error Malformed(std::string message) { return Error(std::string(kMalformed), std::move(message)); }

bool IsKnownStatementKey(const std::string& k) {
  static const std::unordered_set<std::string> kKeys = {
      "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
      "Resource", "NotResource", "Condition"};
  return kKeys.count(k) > 0;
}

// A string or an array of strings (the shape of Action, Resource and principal values).
Result<std::vector<std::string>> StringList(const Json& v) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
    return out;
  }
  if (!v.is_array()) return Malformed(std::string(kSyntax));
  out.reserve(v.size());
  for (const auto& e : v) {
    if (!e.is_string()) return Malformed(std::string(kSyntax));
    out.push_back(e.get<std::string>());
  }
  return out;
}

bool ValidAction(std::string_view a) {
  if (a == "*") return true;
  auto colon = a.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == a.size()) return false;
  for (char c : a.substr(0, colon)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '*' || c == '?';
    if (!ok) return false;
  }
  return true;
}

bool IsAccountId(std::string_view s) {
  if (s.size() != 12) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool ValidAwsPrincipal(std::string_view p) {
  if (p == "*" || IsAccountId(p)) return true;
  std::string_view f[5], r;
  if (!SplitArn(p, f, r)) return false;
  if (f[0] != "arn" || r.empty()) return false;
  if (f[2] != "iam" && f[2] != "sts") return false;
  return IsAccountId(f[4]) || f[4].empty();
}

Status ParsePrincipal(const Json& v, const std::string& element, Statement& st) {
  st.has_principal = true;
  st.not_principal = element == "NotPrincipal";
  if (v.is_string()) {
    if (v.get<std::string>() != "*") {
      return Malformed("Invalid principal in policy: \"" + v.get<std::string>() + "\"");
    }
    st.principals.push_back(PrincipalEntry{PrincipalEntry::Type::kAws, "*"});
    return Status::Ok();
  }
  if (!v.is_object() || v.empty()) return Malformed(std::string(kSyntax));
  for (auto it = v.begin(); it != v.end(); ++it) {
    PrincipalEntry::Type type;
    if (it.key() == "AWS") {
      type = PrincipalEntry::Type::kAws;
    } else if (it.key() == "Service") {
      type = PrincipalEntry::Type::kService;
    } else if (it.key() == "Federated") {
      type = PrincipalEntry::Type::kFederated;
    } else if (it.key() == "CanonicalUser") {
      type = PrincipalEntry::Type::kCanonicalUser;
    } else {
      return Malformed("Invalid principal in policy: \"" + it.key() + "\"");
    }
    STRATUS_ASSIGN_OR_RETURN(auto values, StringList(it.value()));
    for (auto& value : values) {
      if (type == PrincipalEntry::Type::kAws && !ValidAwsPrincipal(value)) {
        return Malformed("Invalid principal in policy: \"AWS\":\"" + value + "\"");
      }
      st.principals.push_back(PrincipalEntry{type, std::move(value)});
    }
  }
  return Status::Ok();
}

Status ParseConditions(const Json& v, bool variables, Statement& st) {
  if (!v.is_object()) return Malformed(std::string(kSyntax));
  for (auto op_it = v.begin(); op_it != v.end(); ++op_it) {
    auto parsed = ParseOperator(op_it.key());
    if (!parsed) return Malformed("Invalid Condition type : " + op_it.key() + ".");
    if (!op_it.value().is_object()) return Malformed(std::string(kSyntax));
    for (auto key_it = op_it.value().begin(); key_it != op_it.value().end(); ++key_it) {
      if (key_it.key().find(':') == std::string::npos) return Malformed(std::string(kVendor));
      Condition c;
      c.op = parsed->op;
      c.qualifier = parsed->qualifier;
      c.if_exists = parsed->if_exists;
      c.key_as_written = key_it.key();
      c.key = ToLower(key_it.key());
      auto add = [&](const Json& value) -> Status {
        std::string text;
        if (value.is_string()) {
          text = value.get<std::string>();
        } else if (value.is_boolean()) {
          text = value.get<bool>() ? "true" : "false";
        } else if (value.is_number_integer()) {
          text = std::to_string(value.get<int64_t>());
        } else if (value.is_number()) {
          text = value.dump();
        } else {
          return Malformed(std::string(kSyntax));
        }
        c.values.push_back(CompileConditionValue(c.op, text, variables));
        return Status::Ok();
      };
      if (key_it.value().is_array()) {
        for (const auto& e : key_it.value()) STRATUS_RETURN_IF_ERROR(add(e));
      } else {
        STRATUS_RETURN_IF_ERROR(add(key_it.value()));
      }
      st.conditions.push_back(std::move(c));
    }
  }
  return Status::Ok();
}

Result<Statement> ParseStatement(const Json& s, PolicyKind kind, bool variables) {
  if (!s.is_object()) return Malformed(std::string(kSyntax));
  for (auto it = s.begin(); it != s.end(); ++it) {
    if (!IsKnownStatementKey(it.key())) return Malformed(std::string(kSyntax));
  }
  Statement st;
  if (auto it = s.find("Sid"); it != s.end()) {
    if (!it->is_string()) return Malformed(std::string(kSyntax));
    st.sid = it->get<std::string>();
  }
  auto effect = s.find("Effect");
  if (effect == s.end()) return Malformed("Missing required field Effect");
  if (!effect->is_string()) return Malformed(std::string(kSyntax));
  if (*effect == "Allow") {
    st.effect = Effect::kAllow;
  } else if (*effect == "Deny") {
    st.effect = Effect::kDeny;
  } else {
    return Malformed("Invalid effect: " + effect->get<std::string>());
  }

  bool has_principal = s.contains("Principal"), has_not_principal = s.contains("NotPrincipal");
  if (has_principal && has_not_principal) return Malformed(std::string(kSyntax));
  bool identity_like = kind == PolicyKind::kIdentity || kind == PolicyKind::kBoundary ||
                       kind == PolicyKind::kSession;
  if (has_principal || has_not_principal) {
    if (identity_like) return Malformed("Policy document should not specify a principal.");
    const char* element = has_principal ? "Principal" : "NotPrincipal";
    STRATUS_RETURN_IF_ERROR(ParsePrincipal(s.at(element), element, st));
  } else if (!identity_like) {
    return Malformed("Missing required field Principal");
  }

  bool has_action = s.contains("Action"), has_not_action = s.contains("NotAction");
  if (has_action && has_not_action) return Malformed(std::string(kSyntax));
  if (!has_action && !has_not_action) return Malformed("Policy statement must contain actions.");
  st.not_action = has_not_action;
  STRATUS_ASSIGN_OR_RETURN(auto actions, StringList(s.at(has_action ? "Action" : "NotAction")));
  if (actions.empty()) return Malformed("Policy statement must contain actions.");
  for (const auto& a : actions) {
    if (!ValidAction(a)) return Malformed(std::string(kVendor));
    if (kind == PolicyKind::kTrust) {
      std::string lower = ToLower(a);
      if (!StartsWith(lower, "sts:") && lower != "*") {
        return Malformed("AssumeRole policy may only specify STS AssumeRole actions.");
      }
    }
    st.actions.push_back(Glob::Compile(a, /*case_insensitive=*/true));
  }

  bool has_resource = s.contains("Resource"), has_not_resource = s.contains("NotResource");
  if (has_resource && has_not_resource) return Malformed(std::string(kSyntax));
  if (kind == PolicyKind::kTrust && (has_resource || has_not_resource)) {
    return Malformed(std::string("Has prohibited field ") +
                     (has_resource ? "Resource" : "NotResource"));
  }
  if (has_resource || has_not_resource) {
    st.has_resource = true;
    st.not_resource = has_not_resource;
    STRATUS_ASSIGN_OR_RETURN(st.resources,
                             StringList(s.at(has_resource ? "Resource" : "NotResource")));
    if (st.resources.empty()) return Malformed("Policy statement must contain resources.");
    for (const auto& r : st.resources) {
      if (r != "*" && !StartsWith(r, "arn:")) {
        return Malformed("Resource " + r + " must be in ARN format or \"*\".");
      }
      st.resource_patterns.push_back(ResourcePattern::Compile(r));
    }
  } else if (identity_like) {
    return Malformed("Policy statement must contain resources.");
  }

  if (auto it = s.find("Condition"); it != s.end()) {
    STRATUS_RETURN_IF_ERROR(ParseConditions(*it, variables, st));
  }
  return st;
}

bool ValidSid(std::string_view sid) {
  for (char c : sid) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<PolicyPtr> ParsePolicy(std::string_view document, PolicyKind kind) {
  Json doc = ParseJsonOrDiscarded(document);
  if (doc.is_discarded() || !doc.is_object()) return Malformed(std::string(kSyntax));
  auto policy = std::make_shared<Policy>();
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& k = it.key();
    if (k == "Version") {
      if (!it->is_string()) return Malformed(std::string(kSyntax));
      policy->version = it->get<std::string>();
      if (policy->version != "2012-10-17" && policy->version != "2008-10-17") {
        return Malformed("The policy failed legacy parsing");
      }
    } else if (k == "Id") {
      if (!it->is_string()) return Malformed(std::string(kSyntax));
      policy->id = it->get<std::string>();
    } else if (k != "Statement") {
      return Malformed(std::string(kSyntax));
    }
  }
  auto statements = doc.find("Statement");
  if (statements == doc.end()) return Malformed(std::string(kSyntax));
  bool variables = policy->variables_enabled();
  // Resource-based policies written for services (SQS, SNS, S3) may hold statements that name
  // the resource: the same grammar, so kResource parses them all.
  auto add = [&](const Json& s) -> Status {
    STRATUS_ASSIGN_OR_RETURN(Statement st, ParseStatement(s, kind, variables));
    policy->statements.push_back(std::move(st));
    return Status::Ok();
  };
  if (statements->is_array()) {
    if (statements->empty()) return Malformed(std::string(kSyntax));
    policy->statements.reserve(statements->size());
    for (const auto& s : *statements) STRATUS_RETURN_IF_ERROR(add(s));
  } else {
    STRATUS_RETURN_IF_ERROR(add(*statements));
  }
  std::unordered_set<std::string_view> sids;
  for (const auto& st : policy->statements) {
    if (st.sid.empty()) continue;
    // Resource-based policies allow richer Sids ("Allow-SNS 1"); identity policies do not.
    if ((kind == PolicyKind::kIdentity || kind == PolicyKind::kBoundary) && !ValidSid(st.sid)) {
      return Malformed(
          "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the "
          "regular expression [0-9A-Za-z]*");
    }
    if (!sids.insert(st.sid).second) {
      return Malformed("Statement IDs (SID) in a single policy must be unique.");
    }
  }
  return PolicyPtr(std::move(policy));
}

}  // namespace stratus::identity::policy

// Evaluate: AWS's policy evaluation logic over parsed policies (see policy.h).
#include "identity/policy/condition.h"
#include "identity/policy/policy.h"

namespace stratus::identity::policy {

namespace {

// How a resource policy's Principal element named the caller: it decides whether boundaries
// and session policies still apply (AWS: naming the role ARN, not the session, keeps them).
enum class PrincipalMatch { kNone, kAccount, kRole, kDirect };

bool IsAccountId(std::string_view s) {
  if (s.size() != 12) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

PrincipalMatch MatchEntry(const PrincipalEntry& e, const Principal& p) {
  using T = PrincipalEntry::Type;
  if (e.value == "*" && e.type == T::kAws) return PrincipalMatch::kDirect;
  switch (e.type) {
    case T::kService:
      return p.type == PrincipalType::kService && e.value == p.arn ? PrincipalMatch::kDirect
                                                                   : PrincipalMatch::kNone;
    case T::kFederated:
      return p.type == PrincipalType::kWebIdentity && e.value == p.arn ? PrincipalMatch::kDirect
                                                                       : PrincipalMatch::kNone;
    case T::kCanonicalUser: return PrincipalMatch::kNone;
    case T::kAws: break;
  }
  if (p.type == PrincipalType::kService || p.type == PrincipalType::kAnonymous ||
      p.type == PrincipalType::kWebIdentity) {
    return PrincipalMatch::kNone;
  }
  std::string_view v = e.value;
  std::string_view account;
  if (IsAccountId(v)) {
    account = v;
  } else if (v.starts_with("arn:") && v.ends_with(":root")) {
    std::string_view f[5], r;
    if (SplitArn(v, f, r) && r == "root") account = f[4];
  }
  if (!account.empty()) {
    if (account != p.account) return PrincipalMatch::kNone;
    return p.type == PrincipalType::kRoot ? PrincipalMatch::kDirect : PrincipalMatch::kAccount;
  }
  if (v == p.arn) return PrincipalMatch::kDirect;
  if (!p.role_arn.empty() && v == p.role_arn) return PrincipalMatch::kRole;
  return PrincipalMatch::kNone;
}

PrincipalMatch MatchPrincipal(const Statement& st, const Principal& p) {
  PrincipalMatch best = PrincipalMatch::kNone;
  for (const auto& e : st.principals) {
    PrincipalMatch m = MatchEntry(e, p);
    if (static_cast<int>(m) > static_cast<int>(best)) best = m;
  }
  if (st.not_principal) {
    return best == PrincipalMatch::kNone ? PrincipalMatch::kDirect : PrincipalMatch::kNone;
  }
  return best;
}

bool ActionMatches(const Statement& st, std::string_view action) {
  bool any = false;
  for (const auto& g : st.actions) {
    if (g.Matches(action)) {
      any = true;
      break;
    }
  }
  return st.not_action ? !any : any;
}

bool ResourceMatches(const Statement& st, const Request& r, bool variables, bool expand_short) {
  if (!st.has_resource) return true;
  bool any = false;
  for (size_t i = 0; i < st.resource_patterns.size() && !any; ++i) {
    const ResourcePattern& p = st.resource_patterns[i];
    if (variables && p.text().find("${") != std::string::npos) {
      auto resolved = ResolveVariables(p.text(), r.context);
      if (!resolved) continue;  // an unresolvable variable matches nothing
      any = ResourcePattern::Compile(*resolved).Matches(r.resource, expand_short);
    } else {
      any = p.Matches(r.resource, expand_short);
    }
  }
  return st.not_resource ? !any : any;
}

bool ConditionsMatch(const Statement& st, const Request& r, bool variables) {
  for (const auto& c : st.conditions) {
    if (!EvaluateCondition(c, r.context, variables)) return false;
  }
  return true;
}

// Statement test without the principal (identity-side policies, or after it matched).
bool Applies(const Statement& st, const Request& r, bool variables, bool expand_short) {
  return ActionMatches(st, r.action) && ResourceMatches(st, r, variables, expand_short) &&
         ConditionsMatch(st, r, variables);
}

struct Scan {
  bool allow = false;
  bool deny = false;
};

Scan ScanIdentity(const Policy& p, const Request& r) {
  Scan s;
  bool vars = p.variables_enabled();
  for (const auto& st : p.statements) {
    if (st.effect == Effect::kAllow && s.allow) continue;  // one allow is enough; keep looking for denies
    if (Applies(st, r, vars, true)) {
      if (st.effect == Effect::kDeny) {
        s.deny = true;
        return s;
      }
      s.allow = true;
    }
  }
  return s;
}

struct ResourceScan {
  PrincipalMatch allow = PrincipalMatch::kNone;
  bool deny = false;
};

ResourceScan ScanResource(const Policy& p, const Request& r) {
  ResourceScan s;
  bool vars = p.variables_enabled();
  for (const auto& st : p.statements) {
    PrincipalMatch m = MatchPrincipal(st, r.principal);
    if (m == PrincipalMatch::kNone) continue;
    if (st.effect == Effect::kAllow && static_cast<int>(m) <= static_cast<int>(s.allow)) continue;
    if (!Applies(st, r, vars, false)) continue;
    if (st.effect == Effect::kDeny) {
      s.deny = true;
      return s;
    }
    s.allow = m;
  }
  return s;
}

}  // namespace

bool StatementApplies(const Statement& statement, const Request& request, bool variables_enabled,
                      PolicyKind kind) {
  bool resource_side = kind == PolicyKind::kResource || kind == PolicyKind::kTrust;
  if (resource_side && statement.has_principal &&
      MatchPrincipal(statement, request.principal) == PrincipalMatch::kNone) {
    return false;
  }
  return Applies(statement, request, variables_enabled, !resource_side);
}

Outcome Evaluate(const EvaluationInput& in) {
  const Request& r = in.request;
  const Principal& p = r.principal;
  bool principal_side = p.type != PrincipalType::kService && p.type != PrincipalType::kAnonymous &&
                        p.type != PrincipalType::kWebIdentity;

  // 1. Explicit denies, in the order AWS's messages name them.
  bool identity_allow = false;
  if (principal_side) {
    for (const Policy* policy : in.identity) {
      Scan s = ScanIdentity(*policy, r);
      if (s.deny) return {Decision::kExplicitDeny, PolicyType::kIdentity};
      identity_allow = identity_allow || s.allow;
    }
  }
  ResourceScan rs;
  if (in.resource_policy) {
    rs = ScanResource(*in.resource_policy, r);
    if (rs.deny) return {Decision::kExplicitDeny, PolicyType::kResource};
  }
  bool boundary_allow = true;
  if (principal_side && in.boundary) {
    Scan s = ScanIdentity(*in.boundary, r);
    if (s.deny) return {Decision::kExplicitDeny, PolicyType::kBoundary};
    boundary_allow = s.allow;
  }
  bool session_allow = true;
  if (principal_side && in.has_session_policies) {
    session_allow = false;
    for (const Policy* policy : in.session) {
      Scan s = ScanIdentity(*policy, r);
      if (s.deny) return {Decision::kExplicitDeny, PolicyType::kSession};
      session_allow = session_allow || s.allow;
    }
  }

  bool same_account = r.resource_account.empty() || r.resource_account == p.account;
  if (!principal_side) {
    // Services, anonymous callers and web identities act only through resource policies.
    if (rs.allow != PrincipalMatch::kNone) return {Decision::kAllow, PolicyType::kNone};
    return {Decision::kImplicitDeny, PolicyType::kResource};
  }

  // 2. A resource-based policy in the principal's own account.
  if (same_account) {
    if (p.type == PrincipalType::kRoot) return {Decision::kAllow, PolicyType::kNone};
    if (rs.allow == PrincipalMatch::kDirect) return {Decision::kAllow, PolicyType::kNone};
    if (rs.allow == PrincipalMatch::kRole) {
      if (!boundary_allow) return {Decision::kImplicitDeny, PolicyType::kBoundary};
      if (!session_allow) return {Decision::kImplicitDeny, PolicyType::kSession};
      return {Decision::kAllow, PolicyType::kNone};
    }
  }

  // 3. Identity-based policies, limited by the boundary and the session.
  if (p.type != PrincipalType::kRoot && !identity_allow) {
    return {Decision::kImplicitDeny, PolicyType::kIdentity};
  }
  if (!boundary_allow) return {Decision::kImplicitDeny, PolicyType::kBoundary};
  if (!session_allow) return {Decision::kImplicitDeny, PolicyType::kSession};
  if (!same_account && rs.allow == PrincipalMatch::kNone) {
    return {Decision::kImplicitDeny, PolicyType::kResource};
  }
  return {Decision::kAllow, PolicyType::kNone};
}

bool ResourcePolicyAllows(const Policy& policy, const Request& request) {
  ResourceScan s = ScanResource(policy, request);
  return !s.deny && s.allow != PrincipalMatch::kNone;
}

std::string DenialMessage(std::string_view principal_arn, std::string_view action,
                          std::string_view resource, const Outcome& outcome) {
  std::string m = "User: ";
  m.append(principal_arn.empty() ? "anonymous" : principal_arn);
  m.append(" is not authorized to perform: ");
  m.append(action);
  if (!resource.empty() && resource != "*") {
    m.append(" on resource: ");
    m.append(resource);
  }
  std::string_view kind;
  switch (outcome.by) {
    case PolicyType::kResource: kind = "resource-based policy"; break;
    case PolicyType::kBoundary: kind = "permissions boundary"; break;
    case PolicyType::kSession: kind = "session policy"; break;
    default: kind = "identity-based policy"; break;
  }
  if (outcome.decision == Decision::kExplicitDeny) {
    m.append(" with an explicit deny in a");
    m.append(kind == "identity-based policy" ? "n " : " ");
    m.append(kind);
  } else {
    m.append(" because no ");
    m.append(kind);
    m.append(" allows the ");
    m.append(action);
    m.append(" action");
  }
  return m;
}

}  // namespace stratus::identity::policy

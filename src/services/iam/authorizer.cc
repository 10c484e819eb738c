#include "services/iam/authorizer.h"

#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "core/strings.h"
#include "core/time_format.h"
#include "services/iam/iam_common.h"
#include "services/iam/resources.h"

namespace stratus::services::iam {

namespace pol = identity::policy;

namespace {

constexpr size_t kMaxCachedSessions = 50000;

Error InvalidToken(aws::SigV4Dialect dialect, const std::string& key) {
  switch (dialect) {
    case aws::SigV4Dialect::kS3:
      return std::move(Error("InvalidAccessKeyId",
                             "The AWS Access Key Id you provided does not exist in our records.", 403)
                           .With("AWSAccessKeyId", key));
    case aws::SigV4Dialect::kJson:
      return Error("UnrecognizedClientException",
                   "The security token included in the request is invalid.", 400);
    default:
      return Error("InvalidClientTokenId", "The security token included in the request is invalid.",
                   403);
  }
}

Error ExpiredToken(aws::SigV4Dialect dialect) {
  switch (dialect) {
    case aws::SigV4Dialect::kS3: return Error("ExpiredToken", "The provided token has expired.", 400);
    case aws::SigV4Dialect::kJson:
      return Error("ExpiredTokenException", "The security token included in the request is expired", 400);
    default: return Error("ExpiredToken", "The security token included in the request is expired", 400);
  }
}

Error AccessDenied(aws::Protocol protocol, const std::string& service, std::string message) {
  if (service == "sns") return Error("AuthorizationError", std::move(message), 403);
  switch (protocol) {
    case aws::Protocol::kJson: return Error("AccessDeniedException", std::move(message), 400);
    case aws::Protocol::kRestJson: return Error("AccessDeniedException", std::move(message), 403);
    default: return Error("AccessDenied", std::move(message), 403);
  }
}

Error MissingToken(aws::Protocol protocol) {
  if (protocol == aws::Protocol::kJson || protocol == aws::Protocol::kRestJson) {
    return Error("MissingAuthenticationTokenException", "Request is missing Authentication Token", 403);
  }
  return Error("MissingAuthenticationToken", "Request is missing Authentication Token", 403);
}

bool IsServicePrincipal(std::string_view arn) {
  return !arn.starts_with("arn:") && arn.ends_with(".amazonaws.com");
}

}  // namespace

struct IamAuthorizer::Principal {
  pol::PrincipalType type = pol::PrincipalType::kRoot;
  std::string arn, role_arn, account, user_name, user_id;
  std::shared_ptr<const PrincipalPolicies> policies;  // identity + boundary + tags
  std::shared_ptr<const Session> session;
  bool known = true;  // a role or user that exists (an unknown role has no permissions)
};

IamAuthorizer::IamAuthorizer(aws::ServiceContext& context, IamState& state, PolicyCache& cache)
    : context_(context),
      state_(state),
      cache_(cache),
      enforcing_(context.config.enforce_iam),
      soft_(context.config.iam_soft_mode) {}

std::shared_ptr<const IamAuthorizer::Session> IamAuthorizer::FindSession(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(id);
    if (it != sessions_.end()) return it->second;
  }
  if (!StartsWith(id, "ASIA")) return nullptr;
  auto loaded = identity::LoadSession(context_.store, id);
  if (!loaded.ok() || !loaded->has_value()) return nullptr;
  auto s = std::make_shared<Session>();
  s->record = std::move(**loaded);
  for (const auto& doc : s->record.session_policies) {
    if (auto p = cache_.Get(doc, pol::PolicyKind::kSession); p.ok()) s->policies.push_back(*p);
  }
  std::lock_guard lock(mu_);
  if (sessions_.size() >= kMaxCachedSessions) {
    double now = static_cast<double>(context_.clock.NowMillis()) / 1000.0;
    std::erase_if(sessions_, [now](const auto& kv) { return kv.second->record.expiration < now; });
    if (sessions_.size() >= kMaxCachedSessions) sessions_.clear();
  }
  sessions_[id] = s;
  return s;
}

Status IamAuthorizer::Authenticate(const HttpRequest& request, const aws::SigV4Claim* claim,
                                   aws::SigV4Dialect dialect, int64_t now_ms,
                                   aws::Caller& caller) {
  if (!claim) return Status::Ok();
  const Config& config = context_.config;
  bool enforcing = enforcing_.load();
  const std::string& id = claim->access_key_id;
  std::string secret;
  double now = static_cast<double>(now_ms) / 1000.0;
  if (!config.iam_root_access_key_id.empty() && id == config.iam_root_access_key_id) {
    secret = config.iam_root_secret_access_key;
    caller.account_id = config.account_id;
    caller.arn = "arn:aws:iam::" + config.account_id + ":root";
    caller.user_id = config.account_id;
  } else if (auto key = state_.FindKey(id)) {
    if (!key->active) {
      if (enforcing) return InvalidToken(dialect, id);
      return Status::Ok();
    }
    secret = key->secret;
    caller.account_id = key->account;
    auto user = state_.Read(key->account, [&](const AccountState* a) -> std::optional<UserRecord> {
      if (!a) return std::nullopt;
      auto it = a->users.find(ToLower(key->user_name));
      if (it == a->users.end()) return std::nullopt;
      return it->second;
    });
    caller.arn = user ? user->arn : UserArn(key->account, "/", key->user_name);
    caller.user_id = user ? user->id : key->account;
    state_.NoteKeyUsed(id, now, claim->service, claim->region);
  } else if (auto session = FindSession(id)) {
    const identity::SessionRecord& s = session->record;
    if (s.expiration < now) {
      if (enforcing) return ExpiredToken(dialect);
      return Status::Ok();
    }
    if (!ConstantTimeEquals(claim->security_token, s.token)) {
      if (enforcing) return InvalidToken(dialect, id);
      return Status::Ok();
    }
    secret = s.secret;
    caller.account_id = s.account;
    caller.arn = s.arn;
    caller.user_id = s.user_id;
  } else {
    if (enforcing) return InvalidToken(dialect, id);
    return Status::Ok();
  }
  if (!enforcing) return Status::Ok();
  return aws::VerifySigV4(request, *claim, secret, now_ms / 1000, dialect, signing_keys_);
}

PrincipalPolicies IamAuthorizer::Policies(const std::string& account, bool role,
                                          const std::string& name) {
  std::string key = account + (role ? "/r/" : "/u/") + ToLower(name);
  uint64_t generation = state_.generation();
  {
    std::lock_guard lock(mu_);
    auto it = principals_.find(key);
    if (it != principals_.end() && it->second.generation == generation) return *it->second.policies;
  }
  auto p = std::make_shared<PrincipalPolicies>(role ? RolePolicies(state_, cache_, account, name)
                                                    : UserPolicies(state_, cache_, account, name));
  std::lock_guard lock(mu_);
  if (principals_.size() > 10000) principals_.clear();
  principals_[key] = CachedPolicies{generation, p};
  return *p;
}

IamAuthorizer::Principal IamAuthorizer::Resolve(const aws::CallContext& call, bool internal) {
  Principal p;
  const aws::Caller& c = call.caller;
  p.account = c.account_id;
  p.arn = c.arn;
  p.user_id = c.user_id;
  if (c.anonymous) {
    p.type = pol::PrincipalType::kAnonymous;
    p.arn.clear();
    return p;
  }
  auto load = [&](bool role, const std::string& name) {
    p.policies = std::make_shared<PrincipalPolicies>(Policies(p.account, role, name));
    p.known = p.policies->found;
  };
  if (!internal && !c.access_key_id.empty() && StartsWith(c.access_key_id, "ASIA")) {
    p.session = FindSession(c.access_key_id);
  }
  if (p.session) {
    const identity::SessionRecord& s = p.session->record;
    switch (s.kind) {
      case identity::SessionKind::kAssumedRole:
        p.type = pol::PrincipalType::kAssumedRole;
        p.role_arn = s.role_arn;
        load(true, s.role_name);
        return p;
      case identity::SessionKind::kFederatedUser:
        p.type = pol::PrincipalType::kFederatedUser;
        p.user_name = s.user_name;
        load(false, s.user_name);
        return p;
      case identity::SessionKind::kSessionToken:
        if (s.user_name.empty()) {
          p.type = pol::PrincipalType::kRoot;
          return p;
        }
        p.type = pol::PrincipalType::kUser;
        p.user_name = s.user_name;
        p.arn = s.arn;
        load(false, s.user_name);
        return p;
    }
  }
  if (IsServicePrincipal(c.arn)) {
    p.type = pol::PrincipalType::kService;
    p.account.clear();
    return p;
  }
  if (c.arn.find(":role/") != std::string::npos) {
    // A service acting as a role (a state machine's role, an integration's credentials).
    std::string name = identity::NameFromArn(c.arn);
    p.type = pol::PrincipalType::kAssumedRole;
    p.role_arn = c.arn;
    p.account = identity::AccountFromArn(c.arn);
    if (p.account.empty()) p.account = c.account_id;
    p.arn = "arn:aws:sts::" + p.account + ":assumed-role/" + name + "/stratus-" + call.service;
    load(true, name);
    return p;
  }
  if (c.arn.find(":user/") != std::string::npos) {
    p.type = pol::PrincipalType::kUser;
    p.user_name = identity::NameFromArn(c.arn);
    load(false, p.user_name);
    return p;
  }
  p.type = pol::PrincipalType::kRoot;
  return p;
}

Status IamAuthorizer::Decide(const aws::AuthorizationRequest& r, const Principal& principal,
                             const std::vector<std::string>& resources, const std::string& action,
                             const std::vector<pol::PolicyPtr>& resource_policies,
                             const pol::RequestContext& context) {
  std::vector<const pol::Policy*> identity_policies, session_policies;
  if (principal.policies) {
    for (const auto& p : principal.policies->identity) identity_policies.push_back(p.get());
  }
  if (principal.session) {
    for (const auto& p : principal.session->policies) session_policies.push_back(p.get());
  }
  const aws::CallContext& call = *r.call;
  bool is_assume = action == "sts:AssumeRole";
  for (size_t i = 0; i < resources.size(); ++i) {
    const std::string& resource = resources[i];
    const pol::Policy* resource_policy = i < resource_policies.size() ? resource_policies[i].get() : nullptr;
    pol::EvaluationInput in;
    std::string resource_account = identity::AccountFromArn(resource);
    in.request.principal = pol::Principal{principal.type, principal.arn, principal.role_arn, principal.account};
    in.request.action = action;
    in.request.resource = resource;
    in.request.resource_account = resource_account;
    in.request.context = &context;
    in.identity = identity_policies;
    in.boundary = principal.policies ? principal.policies->boundary.get() : nullptr;
    in.session = session_policies;
    in.has_session_policies = principal.session && principal.session->record.has_session_policies;
    in.resource_policy = resource_policy;
    pol::Outcome o = pol::Evaluate(in);
    bool service = principal.type == pol::PrincipalType::kService;
    if (service && !is_assume && o.decision == pol::Decision::kImplicitDeny) o = {pol::Decision::kAllow, pol::PolicyType::kNone};
    if (o.allowed() && is_assume && principal.type != pol::PrincipalType::kRoot &&
        (!resource_policy || !pol::ResourcePolicyAllows(*resource_policy, in.request))) {
      o = {pol::Decision::kImplicitDeny, pol::PolicyType::kResource};
    }
    if (o.allowed() && !principal.known && principal.type != pol::PrincipalType::kRoot) {
      o = {pol::Decision::kImplicitDeny, pol::PolicyType::kIdentity};
    }
    if (o.allowed()) continue;
    std::string message = pol::DenialMessage(principal.arn, action, resource, o);
    if (soft_) {
      spdlog::warn("iam soft mode: would deny {}.{}: {}", call.service,
                   call.operation ? call.operation->name : "?", message);
      continue;
    }
    spdlog::info("iam: denied {}.{}: {}", call.service, call.operation ? call.operation->name : "?",
                 message);
    return AccessDenied(r.protocol, call.service, std::move(message));
  }
  return Status::Ok();
}

void IamAuthorizer::Authorize(aws::AuthorizationRequest r, std::function<void(Status)> done) {
  const aws::CallContext& call = *r.call;
  const aws::Operation* op = call.operation;
  if (!op || op->auth_none || (call.service == "sts" && op->name == "GetCallerIdentity")) {
    done(Status::Ok());
    return;
  }
  if (call.caller.anonymous && call.service != "s3" && !r.internal) {
    done(soft_ ? Status::Ok() : Status(MissingToken(r.protocol)));
    return;
  }
  auto principal = std::make_shared<Principal>(Resolve(call, r.internal));
  if (principal->type == pol::PrincipalType::kRoot) {
    // The account's root user (and services' calls on the account's behalf). AWS lets only SCPs
    // and explicit denies in resource policies stop it; stratus has no SCPs and does not read
    // resource policies for the root (docs/iam.md).
    done(Status::Ok());
    return;
  }
  const Json& input = *r.input;
  OperationTarget target = TargetOf(call.service, *op, input, call.caller.account_id, call.region);

  auto context = std::make_shared<pol::RequestContext>();
  double now = static_cast<double>(call.now_ms) / 1000.0;
  context->Set("aws:CurrentTime", FormatIso8601(now));
  context->Set("aws:EpochTime", std::to_string(call.now_ms / 1000));
  context->Set("aws:SecureTransport", "false");
  context->Set("aws:RequestedRegion", call.region);
  if (!call.http.remote_address.empty() && !r.internal) context->Set("aws:SourceIp", call.http.remote_address);
  if (auto ua = call.http.headers.Get("user-agent")) context->Set("aws:UserAgent", std::string(*ua));
  context->Set("aws:ViaAWSService", r.internal ? "true" : "false");
  const Principal& p = *principal;
  if (p.type == pol::PrincipalType::kService) {
    context->Set("aws:PrincipalIsAWSService", "true");
    context->Set("aws:PrincipalServiceName", p.arn);
  } else if (p.type != pol::PrincipalType::kAnonymous) {
    context->Set("aws:PrincipalIsAWSService", "false");
    context->Set("aws:PrincipalAccount", p.account);
    context->Set("aws:PrincipalArn", p.role_arn.empty() ? p.arn : p.role_arn);
    context->Set("aws:userid", p.user_id);
    const char* type = "Account";
    switch (p.type) {
      case pol::PrincipalType::kUser: type = "User"; break;
      case pol::PrincipalType::kAssumedRole: type = "AssumedRole"; break;
      case pol::PrincipalType::kFederatedUser: type = "FederatedUser"; break;
      default: break;
    }
    context->Set("aws:PrincipalType", type);
    if (p.type == pol::PrincipalType::kUser) context->Set("aws:username", p.user_name);
    if (p.policies) {
      for (const auto& [k, v] : p.policies->tags) context->Set("aws:PrincipalTag/" + k, v);
    }
    if (p.session) {
      const identity::SessionRecord& s = p.session->record;
      for (const auto& [k, v] : s.tags) context->Set("aws:PrincipalTag/" + k, v);
      context->Set("aws:TokenIssueTime", FormatIso8601(s.issued));
      context->Set("aws:MultiFactorAuthPresent", "false");
      if (!s.source_identity.empty()) context->Set("aws:SourceIdentity", s.source_identity);
    }
  }
  AddInputKeys(call.service, input, *context);

  // sts:AssumeRole: the role's trust policy is the resource policy, and it is IAM's own.
  if (target.action == "sts:AssumeRole") {
    std::vector<pol::PolicyPtr> trust(target.resources.size());
    for (size_t i = 0; i < target.resources.size(); ++i) {
      std::string account = identity::AccountFromArn(target.resources[i]);
      std::string name = identity::NameFromArn(target.resources[i]);
      std::string doc = state_.Read(account, [&](const AccountState* a) {
        if (!a) return std::string();
        auto it = a->roles.find(ToLower(name));
        return it == a->roles.end() ? std::string() : it->second.trust_policy;
      });
      if (!doc.empty()) {
        if (auto parsed = cache_.Get(doc, pol::PolicyKind::kTrust); parsed.ok()) trust[i] = *parsed;
      }
    }
    done(Decide(r, p, target.resources, target.action, trust, *context));
    return;
  }

  // Resources whose service keeps resource-based policies: read them on a worker thread.
  std::vector<aws::InternalCall> fetches;
  std::vector<size_t> fetch_index;
  aws::OperationCaller* caller = context_.clients.operations;
  if (caller) {
    for (size_t i = 0; i < target.resources.size(); ++i) {
      // The operation that reads the policy itself is not re-authorized through a policy read.
      if (auto c = ResourcePolicyCall(target.resources[i], input, call.caller.account_id, call.region)) {
        if (c->service == call.service && c->operation == op->name) continue;
        fetches.push_back(std::move(*c));
        fetch_index.push_back(i);
      }
    }
  }
  if (fetches.empty()) {
    done(Decide(r, p, target.resources, target.action, {}, *context));
    return;
  }
  auto shared_target = std::make_shared<OperationTarget>(std::move(target));
  context_.workers.Submit([this, r = std::move(r), principal, context, shared_target, caller,
                           fetches = std::move(fetches), fetch_index = std::move(fetch_index),
                           done = std::move(done)]() mutable {
    std::vector<pol::PolicyPtr> policies(shared_target->resources.size());
    for (size_t k = 0; k < fetches.size(); ++k) {
      const std::string& resource = shared_target->resources[fetch_index[k]];
      aws::OperationResult out = caller->CallAndWait(fetches[k]);
      if (!out.ok()) continue;  // no such resource or no policy: identity policies decide
      std::string doc = ResourcePolicyFrom(resource, *out);
      if (doc.empty()) continue;
      auto parsed = cache_.Get(doc, pol::PolicyKind::kResource);
      if (!parsed.ok()) {
        spdlog::warn("iam: the policy of {} does not parse ({}); ignored", resource,
                     parsed.error().message);
        continue;
      }
      policies[fetch_index[k]] = *parsed;
    }
    done(Decide(r, *principal, shared_target->resources, shared_target->action, policies, *context));
  });
}

}  // namespace stratus::services::iam

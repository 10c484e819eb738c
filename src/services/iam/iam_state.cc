#include "services/iam/iam_state.h"

#include <spdlog/spdlog.h>

#include "core/strings.h"

namespace stratus::services::iam {

namespace pol = identity::policy;

namespace {

// "iam/<account>/<kind>/<rest>" → account, kind.
bool SplitKey(std::string_view key, std::string& account, std::string& kind) {
  if (!key.starts_with("iam/")) return false;
  key.remove_prefix(4);
  auto slash = key.find('/');
  if (slash == std::string_view::npos) return false;
  account.assign(key.substr(0, slash));
  key.remove_prefix(slash + 1);
  slash = key.find('/');
  kind.assign(key.substr(0, slash));
  return true;
}

ManagedPolicyRecord Builtin(std::string path, std::string name, std::string document) {
  ManagedPolicyRecord r;
  r.name = name;
  r.path = path;
  r.arn = "arn:aws:iam::aws:policy" + path + name;
  r.id = "ANPA" + ToUpper(ReplaceAll(name, "_", "")).substr(0, 17);
  r.created = 1423000000;  // 2015-02-03, when AWS published most of these
  r.updated = r.created;
  r.versions.push_back(identity::PolicyVersion{"v1", std::move(document), r.created});
  return r;
}

std::string AllowDoc(const std::string& actions, const std::string& resource = "\"*\"") {
  return R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":)" + actions +
         R"(,"Resource":)" + resource + "}]}";
}

const std::vector<ManagedPolicyRecord>& Builtins() {
  static const std::vector<ManagedPolicyRecord> kPolicies = [] {
    std::vector<ManagedPolicyRecord> v;
    v.push_back(Builtin("/", "AdministratorAccess", AllowDoc("\"*\"")));
    v.push_back(Builtin("/", "PowerUserAccess",
                        R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":["iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeOrganization","account:ListRegions"],"Resource":"*"}]})"));
    v.push_back(Builtin("/", "ReadOnlyAccess",
                        AllowDoc(R"(["*:Get*","*:List*","*:Describe*","*:BatchGet*","*:Query","*:Scan","s3:Head*","logs:FilterLogEvents","states:ValidateStateMachineDefinition"])")));
    v.push_back(Builtin("/", "IAMFullAccess", AllowDoc(R"(["iam:*","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"])")));
    v.push_back(Builtin("/", "IAMReadOnlyAccess", AllowDoc(R"(["iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"])")));
    v.push_back(Builtin("/", "AmazonS3FullAccess", AllowDoc(R"(["s3:*","s3-object-lambda:*"])")));
    v.push_back(Builtin("/", "AmazonS3ReadOnlyAccess", AllowDoc(R"(["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"])")));
    v.push_back(Builtin("/", "AmazonSQSFullAccess", AllowDoc(R"(["sqs:*"])")));
    v.push_back(Builtin("/", "AmazonSQSReadOnlyAccess", AllowDoc(R"(["sqs:GetQueueAttributes","sqs:GetQueueUrl","sqs:ListDeadLetterSourceQueues","sqs:ListQueues","sqs:ListMessageMoveTasks","sqs:ListQueueTags"])")));
    v.push_back(Builtin("/", "AmazonSNSFullAccess", AllowDoc(R"(["sns:*"])")));
    v.push_back(Builtin("/", "AmazonSNSReadOnlyAccess", AllowDoc(R"(["sns:GetTopicAttributes","sns:List*","sns:CheckIfPhoneNumberIsOptedOut","sns:GetEndpointAttributes","sns:GetDataProtectionPolicy","sns:GetPlatformApplicationAttributes","sns:GetSMSAttributes","sns:GetSMSSandboxAccountStatus","sns:GetSubscriptionAttributes"])")));
    v.push_back(Builtin("/", "AmazonDynamoDBFullAccess", AllowDoc(R"(["dynamodb:*"])")));
    v.push_back(Builtin("/", "AmazonDynamoDBReadOnlyAccess", AllowDoc(R"(["dynamodb:BatchGetItem","dynamodb:Describe*","dynamodb:List*","dynamodb:GetItem","dynamodb:Query","dynamodb:Scan","dynamodb:PartiQLSelect","dynamodb:GetRecords","dynamodb:GetShardIterator"])")));
    v.push_back(Builtin("/", "AWSLambda_FullAccess", AllowDoc(R"(["lambda:*","logs:*","iam:PassRole","iam:GetRole","iam:ListRoles","states:*","sqs:*","sns:*","s3:*","dynamodb:*"])")));
    v.push_back(Builtin("/", "AWSLambda_ReadOnlyAccess", AllowDoc(R"(["lambda:Get*","lambda:List*","logs:Describe*","logs:Get*","logs:FilterLogEvents"])")));
    v.push_back(Builtin("/", "AWSStepFunctionsFullAccess", AllowDoc(R"(["states:*"])")));
    v.push_back(Builtin("/", "AWSStepFunctionsReadOnlyAccess", AllowDoc(R"(["states:ListStateMachines","states:ListActivities","states:Describe*","states:GetExecutionHistory","states:ListExecutions","states:ListTagsForResource"])")));
    v.push_back(Builtin("/", "CloudWatchLogsFullAccess", AllowDoc(R"(["logs:*"])")));
    v.push_back(Builtin("/", "CloudWatchLogsReadOnlyAccess", AllowDoc(R"(["logs:Describe*","logs:Get*","logs:List*","logs:StartQuery","logs:StopQuery","logs:TestMetricFilter","logs:FilterLogEvents","logs:StartLiveTail","logs:StopLiveTail"])")));
    v.push_back(Builtin("/", "AmazonAPIGatewayAdministrator", AllowDoc(R"(["apigateway:*"])")));
    v.push_back(Builtin("/", "AmazonAPIGatewayInvokeFullAccess", AllowDoc(R"(["execute-api:Invoke","execute-api:ManageConnections"])")));
    v.push_back(Builtin("/", "AmazonCognitoPowerUser", AllowDoc(R"(["cognito-identity:*","cognito-idp:*","cognito-sync:*"])")));
    v.push_back(Builtin("/service-role/", "AWSLambdaBasicExecutionRole", AllowDoc(R"(["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"])")));
    v.push_back(Builtin("/service-role/", "AWSLambdaSQSQueueExecutionRole", AllowDoc(R"(["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes","logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"])")));
    v.push_back(Builtin("/service-role/", "AWSLambdaDynamoDBExecutionRole", AllowDoc(R"(["dynamodb:DescribeStream","dynamodb:GetRecords","dynamodb:GetShardIterator","dynamodb:ListStreams","logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"])")));
    v.push_back(Builtin("/service-role/", "AWSLambdaRole", AllowDoc(R"(["lambda:InvokeFunction"])")));
    return v;
  }();
  return kPolicies;
}

}  // namespace

const ManagedPolicyRecord* AwsManagedPolicy(std::string_view arn) {
  for (const auto& p : Builtins()) {
    if (p.arn == arn) return &p;
  }
  return nullptr;
}

std::vector<const ManagedPolicyRecord*> AwsManagedPolicies() {
  std::vector<const ManagedPolicyRecord*> v;
  for (const auto& p : Builtins()) v.push_back(&p);
  return v;
}

Status IamState::Load() {
  std::unique_lock lock(mu_);
  return LoadLocked();
}

Status IamState::LoadLocked() {
  auto rows = store_.Scan(store::PrefixScan("iam/"));
  if (!rows.ok()) return rows.error();
  accounts_.clear();
  keys_.clear();
  generation_.fetch_add(1);
  size_t corrupt = 0;
  for (const auto& kv : *rows) {
    Json j = ParseJsonOrDiscarded(kv.value);
    if (j.is_discarded()) {
      if (!kv.key.ends_with("/alias")) ++corrupt;
      continue;
    }
    if (kv.key.starts_with(identity::kAccessKeysPrefix)) {
      if (auto k = identity::AccessKeyFromJson(j)) keys_[k->id] = std::move(*k);
      continue;
    }
    if (kv.key.starts_with(identity::kSessionsPrefix)) continue;  // STS's, read on demand
    std::string account, kind;
    if (!SplitKey(kv.key, account, kind)) continue;
    AccountState& a = accounts_[account];
    if (kind == "user") {
      if (auto r = identity::UserFromJson(j)) a.users[ToLower(r->name)] = std::move(*r);
    } else if (kind == "group") {
      if (auto r = identity::GroupFromJson(j)) a.groups[ToLower(r->name)] = std::move(*r);
    } else if (kind == "role") {
      if (auto r = identity::RoleFromJson(j)) a.roles[ToLower(r->name)] = std::move(*r);
    } else if (kind == "policy") {
      if (auto r = identity::PolicyFromJson(j)) a.policies[r->arn] = std::move(*r);
    } else if (kind == "profile") {
      if (auto r = identity::ProfileFromJson(j)) a.profiles[ToLower(r->name)] = std::move(*r);
    } else if (kind == "oidc") {
      if (auto r = identity::OidcFromJson(j)) a.oidc[r->arn] = std::move(*r);
    } else if (kind == "saml") {
      if (auto r = identity::SamlFromJson(j)) a.saml[r->arn] = std::move(*r);
    } else if (kind == "alias" && j.is_string()) {
      a.alias = j.get<std::string>();
    }
  }
  if (corrupt > 0) spdlog::warn("iam: {} unreadable records skipped while loading", corrupt);
  return Status::Ok();
}

Status IamState::Commit(const Changes& changes) {
  return store_.Write([&changes](store::WriteTxn& txn) -> Status {
    for (const auto& k : changes.deletes_) STRATUS_RETURN_IF_ERROR(txn.Delete(k));
    for (const auto& [k, v] : changes.puts_) STRATUS_RETURN_IF_ERROR(txn.Put(k, v));
    return Status::Ok();
  });
}

std::optional<AccessKeyRecord> IamState::FindKey(std::string_view id) const {
  std::shared_lock lock(mu_);
  auto it = keys_.find(std::string(id));
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

Status IamState::PutKey(const AccessKeyRecord& key) {
  std::unique_lock lock(mu_);
  STRATUS_RETURN_IF_ERROR(store_.Put(identity::AccessKeyKey(key.id), DumpJson(identity::ToJson(key))));
  keys_[key.id] = key;
  generation_.fetch_add(1);
  return Status::Ok();
}

Status IamState::DeleteKey(std::string_view id) {
  std::unique_lock lock(mu_);
  STRATUS_RETURN_IF_ERROR(store_.Delete(identity::AccessKeyKey(id)));
  keys_.erase(std::string(id));
  generation_.fetch_add(1);
  return Status::Ok();
}

std::vector<AccessKeyRecord> IamState::KeysOf(const std::string& account,
                                              const std::string& user) const {
  std::shared_lock lock(mu_);
  std::vector<AccessKeyRecord> out;
  for (const auto& [id, k] : keys_) {
    if (k.account == account && ToLower(k.user_name) == ToLower(user)) out.push_back(k);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.created < b.created; });
  return out;
}

void IamState::NoteKeyUsed(std::string_view id, double when, std::string_view service,
                           std::string_view region) {
  // In memory only: a store write per request would cost more than the request.
  std::unique_lock lock(mu_);
  auto it = keys_.find(std::string(id));
  if (it == keys_.end()) return;
  it->second.last_used = when;
  it->second.last_used_service.assign(service);
  it->second.last_used_region.assign(region);
}

Result<pol::PolicyPtr> PolicyCache::Get(const std::string& document, pol::PolicyKind kind) {
  std::string key;
  key.reserve(document.size() + 1);
  key.push_back(static_cast<char>('0' + static_cast<int>(kind)));
  key.append(document);
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) return it->second;
  }
  auto parsed = pol::ParsePolicy(document, kind);
  if (!parsed.ok()) return parsed.error();
  std::lock_guard lock(mu_);
  if (entries_.size() >= kMaxEntries) entries_.clear();
  entries_.emplace(std::move(key), *parsed);
  return *parsed;
}

namespace {

void AddManaged(const AccountState* a, PolicyCache& cache, const std::string& arn,
                std::vector<pol::PolicyPtr>& out) {
  const ManagedPolicyRecord* p = AwsManagedPolicy(arn);
  if (!p && a) {
    auto it = a->policies.find(arn);
    if (it != a->policies.end()) p = &it->second;
  }
  if (!p) return;
  const identity::PolicyVersion* v = p->Default();
  if (!v) return;
  if (auto parsed = cache.Get(v->document, pol::PolicyKind::kIdentity); parsed.ok()) {
    out.push_back(*parsed);
  }
}

void AddInline(PolicyCache& cache, const std::map<std::string, std::string>& docs,
               std::vector<pol::PolicyPtr>& out) {
  for (const auto& [name, doc] : docs) {
    if (auto parsed = cache.Get(doc, pol::PolicyKind::kIdentity); parsed.ok()) out.push_back(*parsed);
  }
}

pol::PolicyPtr Boundary(const AccountState* a, PolicyCache& cache, const std::string& arn) {
  if (arn.empty()) return nullptr;
  std::vector<pol::PolicyPtr> v;
  AddManaged(a, cache, arn, v);
  if (v.empty()) {
    // A boundary that no longer resolves allows nothing (AWS refuses to delete it while set).
    static const pol::PolicyPtr kNothing = *pol::ParsePolicy(
        R"({"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":"*","Resource":"*"}})",
        pol::PolicyKind::kBoundary);
    return kNothing;
  }
  return v.front();
}

}  // namespace

PrincipalPolicies UserPolicies(const IamState& state, PolicyCache& cache,
                               const std::string& account, const std::string& user_name) {
  return state.Read(account, [&](const AccountState* a) {
    PrincipalPolicies p;
    if (!a) return p;
    auto it = a->users.find(ToLower(user_name));
    if (it == a->users.end()) return p;
    const UserRecord& u = it->second;
    p.found = true;
    p.id = u.id;
    p.arn = u.arn;
    p.tags = u.tags;
    AddInline(cache, u.inline_policies, p.identity);
    for (const auto& arn : u.attached) AddManaged(a, cache, arn, p.identity);
    for (const auto& g : u.groups) {
      auto git = a->groups.find(ToLower(g));
      if (git == a->groups.end()) continue;
      AddInline(cache, git->second.inline_policies, p.identity);
      for (const auto& arn : git->second.attached) AddManaged(a, cache, arn, p.identity);
    }
    p.boundary = Boundary(a, cache, u.boundary_arn);
    return p;
  });
}

PrincipalPolicies RolePolicies(const IamState& state, PolicyCache& cache,
                               const std::string& account, const std::string& role_name) {
  return state.Read(account, [&](const AccountState* a) {
    PrincipalPolicies p;
    if (!a) return p;
    auto it = a->roles.find(ToLower(role_name));
    if (it == a->roles.end()) return p;
    const RoleRecord& r = it->second;
    p.found = true;
    p.id = r.id;
    p.arn = r.arn;
    p.tags = r.tags;
    AddInline(cache, r.inline_policies, p.identity);
    for (const auto& arn : r.attached) AddManaged(a, cache, arn, p.identity);
    p.boundary = Boundary(a, cache, r.boundary_arn);
    return p;
  });
}

}  // namespace stratus::services::iam

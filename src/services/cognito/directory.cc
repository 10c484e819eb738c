#include "services/cognito/directory.h"

#include <functional>

#include "core/crypto.h"
#include "core/strings.h"

namespace stratus::services::cognito {

namespace {

constexpr size_t kPoolIdChars = 9;
constexpr size_t kClientIdChars = 26;
constexpr size_t kClientSecretChars = 51;
constexpr int64_t kDefaultPageSize = 60;
constexpr std::string_view kLowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789";

const char* const kStandardAttributes[] = {
    "sub", "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
    "profile", "picture", "website", "email", "email_verified", "gender", "birthdate",
    "zoneinfo", "locale", "phone_number", "phone_number_verified", "address", "updated_at"};

Json StandardSchema() {
  Json out = Json::array();
  for (const char* name : kStandardAttributes) {
    std::string n = name;
    std::string type = "String";
    if (n == "email_verified" || n == "phone_number_verified") type = "Boolean";
    if (n == "updated_at") type = "Number";
    Json a = Json{{"Name", n}, {"AttributeDataType", type}, {"DeveloperOnlyAttribute", false},
                  {"Mutable", n != "sub"}, {"Required", n == "sub"}};
    if (type == "String") {
      a["StringAttributeConstraints"] =
          Json{{"MinLength", n == "sub" ? "1" : "0"}, {"MaxLength", n == "sub" ? "2048" : "2048"}};
    }
    if (type == "Number") a["NumberAttributeConstraints"] = Json{{"MinValue", "0"}};
    out.push_back(std::move(a));
  }
  return out;
}

Json DefaultPasswordPolicy() {
  return Json{{"MinimumLength", 8},          {"RequireUppercase", true},
              {"RequireLowercase", true},    {"RequireNumbers", true},
              {"RequireSymbols", true},      {"TemporaryPasswordValidityDays", 7}};
}

// Merges a requested schema (custom attributes get "custom:"; standard ones refine the default).
Status MergeSchema(Json& schema, const Json& requested) {
  for (const auto& a : requested) {
    std::string name = a.value("Name", "");
    bool standard = false;
    for (const char* s : kStandardAttributes) standard = standard || name == s;
    if (standard) {
      for (auto& existing : schema) {
        if (existing["Name"] == name) {
          for (const auto& [k, v] : a.items()) existing[k] = v;
        }
      }
      continue;
    }
    if (a.value("Required", false)) {
      return InvalidParameter("Required custom attributes are not supported currently.");
    }
    Json custom = a;
    custom["Name"] = StartsWith(name, "custom:") ? name : "custom:" + name;
    if (!custom.contains("AttributeDataType")) custom["AttributeDataType"] = "String";
    if (!custom.contains("Mutable")) custom["Mutable"] = true;
    if (!custom.contains("DeveloperOnlyAttribute")) custom["DeveloperOnlyAttribute"] = false;
    custom["Required"] = false;
    for (const auto& existing : schema) {
      if (existing["Name"] == custom["Name"]) {
        return InvalidParameter("Existing attribute already has name " + custom["Name"].get<std::string>() + ".");
      }
    }
    schema.push_back(std::move(custom));
  }
  return Status::Ok();
}

// The members of CreateUserPool/UpdateUserPool copied onto the record as given.
const char* const kPoolSettings[] = {
    "Policies", "DeletionProtection", "LambdaConfig", "AutoVerifiedAttributes",
    "SmsVerificationMessage", "EmailVerificationMessage", "EmailVerificationSubject",
    "VerificationMessageTemplate", "SmsAuthenticationMessage", "MfaConfiguration",
    "UserAttributeUpdateSettings", "DeviceConfiguration", "EmailConfiguration",
    "SmsConfiguration", "AdminCreateUserConfig", "UserPoolAddOns", "AccountRecoverySetting",
    "UserPoolTier"};

void ApplyPoolDefaults(Json& pool) {
  if (!pool.contains("Policies")) pool["Policies"] = Json::object();
  if (!pool["Policies"].contains("PasswordPolicy")) {
    pool["Policies"]["PasswordPolicy"] = DefaultPasswordPolicy();
  }
  if (!pool["Policies"].contains("SignInPolicy")) {
    pool["Policies"]["SignInPolicy"] = Json{{"AllowedFirstAuthFactors", Json::array({"PASSWORD"})}};
  }
  if (!pool.contains("DeletionProtection")) pool["DeletionProtection"] = "INACTIVE";
  if (!pool.contains("LambdaConfig")) pool["LambdaConfig"] = Json::object();
  if (!pool.contains("MfaConfiguration")) pool["MfaConfiguration"] = "OFF";
  if (!pool.contains("AdminCreateUserConfig")) {
    pool["AdminCreateUserConfig"] = Json{{"AllowAdminCreateUserOnly", false},
                                         {"UnusedAccountValidityDays", 7}};
  }
  if (!pool.contains("VerificationMessageTemplate")) {
    pool["VerificationMessageTemplate"] = Json{{"DefaultEmailOption", "CONFIRM_WITH_CODE"}};
  }
  if (!pool.contains("UserPoolTier")) pool["UserPoolTier"] = "ESSENTIALS";
}

Json PoolDescription(const Json& p) {
  Json d = Json{{"Id", p["Id"]}, {"Name", p["Name"]}, {"LambdaConfig", p.value("LambdaConfig", Json::object())}};
  d["LastModifiedDate"] = p["LastModifiedDate"];
  d["CreationDate"] = p["CreationDate"];
  return d;
}

bool AllowedUrl(std::string_view url) {
  if (StartsWith(url, "https://")) return true;
  if (StartsWith(url, "http://localhost") || StartsWith(url, "http://127.0.0.1")) return true;
  // Native apps' custom schemes ("myapp://callback") are allowed; plain http elsewhere is not.
  auto colon = url.find("://");
  return colon != std::string_view::npos && colon > 0 && !StartsWith(url, "http://");
}

}  // namespace

bool IsStandardScope(std::string_view scope) {
  return scope == "openid" || scope == "email" || scope == "phone" || scope == "profile" ||
         scope == "aws.cognito.signin.user.admin";
}

// ---------------------------------------------------------------- pools

Result<Json> Directory::CreatePool(const Scope& s, const Json& in) {
  if (in.contains("AliasAttributes") && in.contains("UsernameAttributes")) {
    return InvalidParameter("Only one of the aliasAttributes or usernameAttributes can be set in a User Pool.");
  }
  std::string id = s.region + "_" + RandomAlnum(kPoolIdChars);
  double now = clock_.NowSeconds();
  Json pool = Json{{"Id", id}, {"Name", in["PoolName"]}};
  for (const char* k : kPoolSettings) {
    if (in.contains(k)) pool[k] = in[k];
  }
  for (const char* k : {"AliasAttributes", "UsernameAttributes", "UsernameConfiguration"}) {
    if (in.contains(k)) pool[k] = in[k];
  }
  ApplyPoolDefaults(pool);
  Json schema = StandardSchema();
  if (in.contains("Schema")) STRATUS_RETURN_IF_ERROR(MergeSchema(schema, in["Schema"]));
  pool["SchemaAttributes"] = std::move(schema);
  pool["LastModifiedDate"] = now;
  pool["CreationDate"] = now;
  pool["EstimatedNumberOfUsers"] = 0;
  pool["Arn"] = "arn:aws:cognito-idp:" + s.region + ":" + s.account + ":userpool/" + id;
  if (in.contains("UserPoolTags")) pool["UserPoolTags"] = in["UserPoolTags"];
  pool["_Account"] = s.account;
  pool["_Region"] = s.region;
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(txn.Put(keys::Pool(id), DumpJson(pool)));
    return txn.Put(keys::Index(s) + id, "");
  }));
  return Public(pool);
}

Result<std::optional<Json>> Directory::ReadParsed(const std::string& key) {
  STRATUS_ASSIGN_OR_RETURN(auto raw, store_.Get(key));
  if (!raw) return std::optional<Json>();
  return std::optional<Json>(*parsed_.Parse(key, std::move(*raw)));
}

Result<Json> Directory::PoolById(std::string_view pool_id) {
  STRATUS_ASSIGN_OR_RETURN(auto pool, ReadParsed(keys::Pool(pool_id)));
  if (!pool) return ResourceNotFound("User pool " + std::string(pool_id) + " does not exist.");
  return std::move(*pool);
}

Result<std::shared_ptr<const Json>> Directory::PoolById(store::ReadTxn& txn, std::string_view pool_id) {
  std::string key = keys::Pool(pool_id);
  STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(key));
  if (!raw) return ResourceNotFound("User pool " + std::string(pool_id) + " does not exist.");
  return parsed_.Parse(key, std::move(*raw));
}

Result<Json> Directory::Pool(const Scope& s, std::string_view pool_id) {
  auto p = PoolById(pool_id);
  if (!p.ok()) return p;
  if (p->value("_Account", "") != s.account || p->value("_Region", "") != s.region) {
    return ResourceNotFound("User pool " + std::string(pool_id) + " does not exist.");
  }
  return p;
}

Result<Json> Directory::DescribePool(const Scope& s, std::string_view pool_id) {
  STRATUS_ASSIGN_OR_RETURN(Json p, Pool(s, pool_id));
  // The user count is kept by scanning: pools here are small enough that this stays cheap.
  STRATUS_ASSIGN_OR_RETURN(auto users, store_.Scan(store::PrefixScan(keys::PoolPrefix(pool_id) + "u/")));
  p["EstimatedNumberOfUsers"] = users.size();
  return Public(p);
}

Status Directory::UpdatePool(const Scope& s, const Json& in) {
  std::string id = in.value("UserPoolId", "");
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(keys::Pool(id)));
    if (!raw) return ResourceNotFound("User pool " + id + " does not exist.");
    Json pool = ParseJsonOrDiscarded(*raw);
    if (pool.value("_Account", "") != s.account) return ResourceNotFound("User pool " + id + " does not exist.");
    // As in AWS, settings the request leaves out return to their defaults.
    for (const char* k : kPoolSettings) {
      if (std::string_view(k) == "UserPoolTier" && !in.contains(k)) continue;
      if (in.contains(k)) {
        pool[k] = in[k];
      } else {
        pool.erase(k);
      }
    }
    if (in.contains("UserPoolTags")) pool["UserPoolTags"] = in["UserPoolTags"];
    if (in.contains("PoolName")) pool["Name"] = in["PoolName"];
    ApplyPoolDefaults(pool);
    pool["LastModifiedDate"] = clock_.NowSeconds();
    return txn.Put(keys::Pool(id), DumpJson(pool));
  });
}

Status Directory::DeletePool(const Scope& s, std::string_view pool_id) {
  STRATUS_ASSIGN_OR_RETURN(Json pool, Pool(s, pool_id));
  if (pool.value("DeletionProtection", "") == "ACTIVE") {
    return InvalidParameter("The user pool cannot be deleted because deletion protection is activated. Deletion protection must be inactivated first.");
  }
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto clients, txn.Scan(store::PrefixScan(keys::PoolPrefix(pool_id) + "c/")));
    for (const auto& kv : clients) {
      Json c = ParseJsonOrDiscarded(kv.value);
      STRATUS_RETURN_IF_ERROR(txn.Delete(keys::ClientIndex(c.value("ClientId", ""))));
    }
    if (pool.contains("Domain")) STRATUS_RETURN_IF_ERROR(txn.Delete(keys::Domain(pool["Domain"].get<std::string>())));
    if (pool.contains("CustomDomain")) STRATUS_RETURN_IF_ERROR(txn.Delete(keys::Domain(pool["CustomDomain"].get<std::string>())));
    std::string prefix = keys::PoolPrefix(pool_id);
    STRATUS_RETURN_IF_ERROR(txn.DeleteRange(prefix, store::PrefixEnd(prefix)));
    STRATUS_RETURN_IF_ERROR(txn.Delete(keys::Pool(pool_id)));
    return txn.Delete(keys::Index(s) + std::string(pool_id));
  });
}

Result<Json> Directory::ListPools(const Scope& s, const Json& in) {
  int64_t max = in.value("MaxResults", int64_t{60});
  std::string prefix = keys::Index(s);
  store::ScanOptions opt = store::PrefixScan(prefix, static_cast<size_t>(max) + 1);
  if (in.contains("NextToken")) opt.start = prefix + in["NextToken"].get<std::string>();
  STRATUS_ASSIGN_OR_RETURN(auto rows, store_.Scan(opt));
  Json out = Json{{"UserPools", Json::array()}};
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string id = rows[i].key.substr(prefix.size());
    if (static_cast<int64_t>(i) == max) {
      out["NextToken"] = id;
      break;
    }
    auto p = PoolById(id);
    if (p.ok()) out["UserPools"].push_back(PoolDescription(*p));
  }
  return out;
}

Status Directory::AddCustomAttributes(const Scope& s, const Json& in) {
  std::string id = in.value("UserPoolId", "");
  STRATUS_RETURN_IF_ERROR(Pool(s, id));
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(keys::Pool(id)));
    if (!raw) return ResourceNotFound("User pool " + id + " does not exist.");
    Json pool = ParseJsonOrDiscarded(*raw);
    STRATUS_RETURN_IF_ERROR(MergeSchema(pool["SchemaAttributes"], in["CustomAttributes"]));
    pool["LastModifiedDate"] = clock_.NowSeconds();
    return txn.Put(keys::Pool(id), DumpJson(pool));
  });
}

Result<Json> Directory::GetMfaConfig(const Scope& s, std::string_view pool_id) {
  STRATUS_ASSIGN_OR_RETURN(Json p, Pool(s, pool_id));
  Json out = Json{{"MfaConfiguration", p.value("MfaConfiguration", "OFF")}};
  if (p.contains("_SoftwareTokenMfa")) out["SoftwareTokenMfaConfiguration"] = p["_SoftwareTokenMfa"];
  if (p.contains("_SmsMfa")) out["SmsMfaConfiguration"] = p["_SmsMfa"];
  if (p.contains("_EmailMfa")) out["EmailMfaConfiguration"] = p["_EmailMfa"];
  return out;
}

Result<Json> Directory::SetMfaConfig(const Scope& s, const Json& in) {
  std::string id = in.value("UserPoolId", "");
  STRATUS_RETURN_IF_ERROR(Pool(s, id));
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(keys::Pool(id)));
    if (!raw) return ResourceNotFound("User pool " + id + " does not exist.");
    Json pool = ParseJsonOrDiscarded(*raw);
    if (in.contains("MfaConfiguration")) pool["MfaConfiguration"] = in["MfaConfiguration"];
    if (in.contains("SoftwareTokenMfaConfiguration")) pool["_SoftwareTokenMfa"] = in["SoftwareTokenMfaConfiguration"];
    if (in.contains("SmsMfaConfiguration")) pool["_SmsMfa"] = in["SmsMfaConfiguration"];
    if (in.contains("EmailMfaConfiguration")) pool["_EmailMfa"] = in["EmailMfaConfiguration"];
    return txn.Put(keys::Pool(id), DumpJson(pool));
  }));
  return GetMfaConfig(s, id);
}

// ---------------------------------------------------------------- clients

Result<Json> Directory::ValidateClient(std::string_view pool_id, Json c) {
  for (const auto& flow : c.value("ExplicitAuthFlows", Json::array())) {
    std::string f = flow.get<std::string>();
    bool legacy = !StartsWith(f, "ALLOW_");
    if (legacy) {
      for (const auto& other : c["ExplicitAuthFlows"]) {
        if (StartsWith(other.get<std::string>(), "ALLOW_")) {
          return InvalidParameter("ExplicitAuthFlows can not have both ALLOW_xxx and xxx values.");
        }
      }
    }
  }
  for (const auto& url : c.value("CallbackURLs", Json::array())) {
    if (!AllowedUrl(url.get<std::string>())) {
      return InvalidParameter("1 validation error detected: Value at 'callbackURLs' failed to satisfy constraint: http is only allowed for localhost; use https.");
    }
  }
  for (const auto& url : c.value("LogoutURLs", Json::array())) {
    if (!AllowedUrl(url.get<std::string>())) {
      return InvalidParameter("1 validation error detected: Value at 'logoutURLs' failed to satisfy constraint: http is only allowed for localhost; use https.");
    }
  }
  if (c.contains("DefaultRedirectURI")) {
    bool listed = false;
    for (const auto& url : c.value("CallbackURLs", Json::array())) listed = listed || url == c["DefaultRedirectURI"];
    if (!listed) return InvalidParameter("DefaultRedirectURI should be present in the CallbackURLs.");
  }
  const Json& flows = c.value("AllowedOAuthFlows", Json::array());
  for (const auto& f : flows) {
    if (f == "client_credentials") {
      if (!c.contains("ClientSecret")) {
        return CognitoError("InvalidOAuthFlowException",
                            "client_credentials flow can not be selected if client does not have a client secret.");
      }
      if (flows.size() > 1) {
        return CognitoError("InvalidOAuthFlowException",
                            "client_credentials flow can not be selected with other flows.");
      }
    }
    if ((f == "code" || f == "implicit") && c.value("CallbackURLs", Json::array()).empty()) {
      return InvalidParameter("CallbackURLs can not be empty when the code or implicit flow is allowed.");
    }
  }
  for (const auto& scope : c.value("AllowedOAuthScopes", Json::array())) {
    std::string sc = scope.get<std::string>();
    if (!ScopeExists(pool_id, sc)) {
      return CognitoError("ScopeDoesNotExistException", "Invalid scope requested: " + sc);
    }
    bool cc = false;
    for (const auto& f : flows) cc = cc || f == "client_credentials";
    if (cc && IsStandardScope(sc)) {
      return CognitoError("InvalidOAuthFlowException",
                          "The client_credentials flow can only be used with custom scopes.");
    }
  }
  for (const auto& p : c.value("SupportedIdentityProviders", Json::array())) {
    std::string name = p.get<std::string>();
    if (name == "COGNITO") continue;
    auto found = store_.Get(keys::Provider(pool_id, name));
    if (!found.ok() || !*found) {
      return InvalidParameter("The provider " + name + " does not exist for User Pool " + std::string(pool_id));
    }
  }
  return c;
}

Result<Json> Directory::CreateClient(const Scope& s, const Json& in) {
  std::string pool_id = in.value("UserPoolId", "");
  STRATUS_RETURN_IF_ERROR(Pool(s, pool_id));
  double now = clock_.NowSeconds();
  Json c = in;
  c["ClientId"] = RandomAlnum(kClientIdChars, kLowerAlnum);
  bool gen = in.value("GenerateSecret", false);
  c.erase("GenerateSecret");
  if (gen && !in.contains("ClientSecret")) c["ClientSecret"] = RandomAlnum(kClientSecretChars, kLowerAlnum);
  if (!gen) c.erase("ClientSecret");
  c["LastModifiedDate"] = now;
  c["CreationDate"] = now;
  if (!c.contains("RefreshTokenValidity")) c["RefreshTokenValidity"] = 30;
  if (!c.contains("TokenValidityUnits")) c["TokenValidityUnits"] = Json::object();
  if (!c.contains("AllowedOAuthFlowsUserPoolClient")) c["AllowedOAuthFlowsUserPoolClient"] = false;
  if (!c.contains("EnableTokenRevocation")) c["EnableTokenRevocation"] = true;
  if (!c.contains("EnablePropagateAdditionalUserContextData")) c["EnablePropagateAdditionalUserContextData"] = false;
  if (!c.contains("AuthSessionValidity")) c["AuthSessionValidity"] = 3;
  if (!c.contains("PreventUserExistenceErrors")) c["PreventUserExistenceErrors"] = "LEGACY";
  STRATUS_ASSIGN_OR_RETURN(c, ValidateClient(pool_id, std::move(c)));
  std::string id = c["ClientId"];
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(txn.Put(keys::Client(pool_id, id), DumpJson(c)));
    return txn.Put(keys::ClientIndex(id), pool_id);
  }));
  return c;
}

Result<Json> Directory::DescribeClient(const Scope& s, std::string_view pool_id, std::string_view id) {
  STRATUS_RETURN_IF_ERROR(Pool(s, pool_id));
  return ReadChild(keys::Client(pool_id, id),
                   ResourceNotFound("User pool client " + std::string(id) + " does not exist."));
}

Result<Json> Directory::UpdateClient(const Scope& s, const Json& in) {
  std::string pool_id = in.value("UserPoolId", "");
  std::string id = in.value("ClientId", "");
  STRATUS_ASSIGN_OR_RETURN(Json old, DescribeClient(s, pool_id, id));
  // As in AWS, members the request leaves out return to their defaults.
  Json c = in;
  for (const char* keep : {"ClientSecret", "CreationDate"}) {
    if (old.contains(keep)) c[keep] = old[keep];
  }
  if (!c.contains("ClientName")) c["ClientName"] = old["ClientName"];
  c["LastModifiedDate"] = clock_.NowSeconds();
  if (!c.contains("RefreshTokenValidity")) c["RefreshTokenValidity"] = 30;
  if (!c.contains("TokenValidityUnits")) c["TokenValidityUnits"] = Json::object();
  if (!c.contains("AllowedOAuthFlowsUserPoolClient")) c["AllowedOAuthFlowsUserPoolClient"] = false;
  if (!c.contains("EnableTokenRevocation")) c["EnableTokenRevocation"] = old.value("EnableTokenRevocation", true);
  if (!c.contains("AuthSessionValidity")) c["AuthSessionValidity"] = 3;
  if (!c.contains("PreventUserExistenceErrors")) c["PreventUserExistenceErrors"] = old.value("PreventUserExistenceErrors", "LEGACY");
  STRATUS_ASSIGN_OR_RETURN(c, ValidateClient(pool_id, std::move(c)));
  STRATUS_RETURN_IF_ERROR(store_.Put(keys::Client(pool_id, id), DumpJson(c)));
  return c;
}

Status Directory::DeleteClient(const Scope& s, std::string_view pool_id, std::string_view id) {
  STRATUS_RETURN_IF_ERROR(DescribeClient(s, pool_id, id));
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(txn.Delete(keys::Client(pool_id, id)));
    return txn.Delete(keys::ClientIndex(id));
  });
}

Result<Json> Directory::ListClients(const Scope& s, const Json& in) {
  std::string pool_id = in.value("UserPoolId", "");
  STRATUS_RETURN_IF_ERROR(Pool(s, pool_id));
  return ListChildren(keys::PoolPrefix(pool_id) + "c/", in, "MaxResults", "NextToken",
                      "UserPoolClients", [](const Json& c) {
                        return Json{{"ClientId", c["ClientId"]},
                                    {"UserPoolId", c["UserPoolId"]},
                                    {"ClientName", c["ClientName"]}};
                      });
}

Result<std::pair<Json, Json>> Directory::ClientById(std::string_view client_id) {
  Error missing = ResourceNotFound("User pool client " + std::string(client_id) + " does not exist.");
  STRATUS_ASSIGN_OR_RETURN(auto pool_id, store_.Get(keys::ClientIndex(client_id)));
  if (!pool_id) return missing;
  STRATUS_ASSIGN_OR_RETURN(auto client, ReadParsed(keys::Client(*pool_id, client_id)));
  if (!client) return missing;
  STRATUS_ASSIGN_OR_RETURN(Json pool, PoolById(*pool_id));
  return std::make_pair(std::move(pool), std::move(*client));
}

// ---------------------------------------------------------------- domains

Result<Json> Directory::CreateDomain(const Scope& s, const Json& in) {
  std::string pool_id = in.value("UserPoolId", "");
  std::string domain = in.value("Domain", "");
  bool custom = in.contains("CustomDomainConfig");
  STRATUS_RETURN_IF_ERROR(Pool(s, pool_id));
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto taken, txn.Get(keys::Domain(domain)));
    if (taken) return InvalidParameter("Domain already associated with another user pool.");
    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(keys::Pool(pool_id)));
    if (!raw) return ResourceNotFound("User pool " + pool_id + " does not exist.");
    Json pool = ParseJsonOrDiscarded(*raw);
    const char* member = custom ? "CustomDomain" : "Domain";
    if (pool.contains(member)) {
      return InvalidParameter("User pool already has a domain configured.");
    }
    pool[member] = domain;
    pool["_ManagedLoginVersion"] = in.value("ManagedLoginVersion", int64_t{1});
    STRATUS_RETURN_IF_ERROR(txn.Put(keys::Pool(pool_id), DumpJson(pool)));
    return txn.Put(keys::Domain(domain), pool_id);
  }));
  Json out = Json{{"ManagedLoginVersion", in.value("ManagedLoginVersion", int64_t{1})}};
  if (custom) out["CloudFrontDomain"] = domain;
  return out;
}

Result<Json> Directory::DescribeDomain(const Scope& s, std::string_view domain) {
  Json desc = Json::object();
  auto pool_id = PoolForDomain(domain);
  if (!pool_id.ok()) return Json{{"DomainDescription", desc}};
  auto pool = Pool(s, *pool_id);
  if (!pool.ok()) return Json{{"DomainDescription", desc}};
  desc = Json{{"UserPoolId", *pool_id},
              {"AWSAccountId", s.account},
              {"Domain", std::string(domain)},
              {"S3Bucket", "aws-cognito-prod-" + s.region + "-assets"},
              {"CloudFrontDistribution", std::string(domain) + ".auth." + s.region + ".amazoncognito.com"},
              {"Version", "20230101000000"},
              {"Status", "ACTIVE"},
              {"ManagedLoginVersion", pool->value("_ManagedLoginVersion", int64_t{1})}};
  return Json{{"DomainDescription", desc}};
}

Status Directory::DeleteDomain(const Scope& s, const Json& in) {
  std::string pool_id = in.value("UserPoolId", "");
  std::string domain = in.value("Domain", "");
  STRATUS_RETURN_IF_ERROR(Pool(s, pool_id));
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto owner, txn.Get(keys::Domain(domain)));
    if (!owner || *owner != pool_id) return InvalidParameter("No such domain or user pool exists.");
    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(keys::Pool(pool_id)));
    if (raw) {
      Json pool = ParseJsonOrDiscarded(*raw);
      if (pool.value("Domain", "") == domain) pool.erase("Domain");
      if (pool.value("CustomDomain", "") == domain) pool.erase("CustomDomain");
      STRATUS_RETURN_IF_ERROR(txn.Put(keys::Pool(pool_id), DumpJson(pool)));
    }
    return txn.Delete(keys::Domain(domain));
  });
}

Result<std::string> Directory::PoolForDomain(std::string_view domain) {
  STRATUS_ASSIGN_OR_RETURN(auto id, store_.Get(keys::Domain(domain)));
  if (!id) return ResourceNotFound("No user pool has the domain " + std::string(domain) + ".");
  return *id;
}

// ---------------------------------------------------------------- children (shared)

Result<Json> Directory::ReadChild(std::string_view key, Error missing) {
  STRATUS_ASSIGN_OR_RETURN(auto raw, store_.Get(key));
  if (!raw) return missing;
  return ParseJsonOrDiscarded(*raw);
}

Result<Json> Directory::ListChildren(std::string_view prefix, const Json& in,
                                     std::string_view limit_name, std::string_view token_name,
                                     std::string_view out_name,
                                     const std::function<Json(const Json&)>& shape) {
  int64_t max = in.value(std::string(limit_name), kDefaultPageSize);
  if (max <= 0) max = kDefaultPageSize;
  store::ScanOptions opt = store::PrefixScan(prefix, static_cast<size_t>(max) + 1);
  std::string token(token_name);
  if (in.contains(token)) opt.start = std::string(prefix) + in[token].get<std::string>();
  STRATUS_ASSIGN_OR_RETURN(auto rows, store_.Scan(opt));
  Json out = Json{{std::string(out_name), Json::array()}};
  for (size_t i = 0; i < rows.size(); ++i) {
    if (static_cast<int64_t>(i) == max) {
      out[token] = rows[i].key.substr(prefix.size());
      break;
    }
    out[std::string(out_name)].push_back(shape(ParseJsonOrDiscarded(rows[i].value)));
  }
  return out;
}

// ---------------------------------------------------------------- groups

Result<Json> Directory::CreateGroup(const Scope& s, const Json& in) {
  std::string pool_id = in.value("UserPoolId", "");
  std::string name = in.value("GroupName", "");
  STRATUS_RETURN_IF_ERROR(Pool(s, pool_id));
  double now = clock_.NowSeconds();
  Json g = in;
  g["LastModifiedDate"] = now;
  g["CreationDate"] = now;
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto exists, txn.Get(keys::Group(pool_id, name)));
    if (exists) return CognitoError("GroupExistsException", "A group with the name " + name + " already exists.");
    return txn.Put(keys::Group(pool_id, name), DumpJson(g));
  }));
  return Json{{"Group", g}};
}

Result<Json> Directory::GetGroup(const Scope& s, std::string_view pool_id, std::string_view name) {
  STRATUS_RETURN_IF_ERROR(Pool(s, pool_id));
  return ReadChild(keys::Group(pool_id, name), ResourceNotFound("Group not found."));
}

Result<Json> Directory::UpdateGroup(const Scope& s, const Json& in) {
  std::string pool_id = in.value("UserPoolId", "");
  std::string name = in.value("GroupName", "");
  STRATUS_ASSIGN_OR_RETURN(Json g, GetGroup(s, pool_id, name));
  for (const char* k : {"Description", "RoleArn", "Precedence"}) {
    if (in.contains(k)) g[k] = in[k];
  }
  g["LastModifiedDate"] = clock_.NowSeconds();
  STRATUS_RETURN_IF_ERROR(store_.Put(keys::Group(pool_id, name), DumpJson(g)));
  return Json{{"Group", g}};
}

Status Directory::DeleteGroup(const Scope& s, std::string_view pool_id, std::string_view name) {
  STRATUS_RETURN_IF_ERROR(GetGroup(s, pool_id, name));
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    std::string prefix = keys::Member(pool_id, name, "");
    STRATUS_ASSIGN_OR_RETURN(auto members, txn.Scan(store::PrefixScan(prefix)));
    for (const auto& kv : members) {
      STRATUS_RETURN_IF_ERROR(txn.Delete(keys::UserGroup(pool_id, kv.key.substr(prefix.size()), name)));
    }
    STRATUS_RETURN_IF_ERROR(txn.DeleteRange(prefix, store::PrefixEnd(prefix)));
    return txn.Delete(keys::Group(pool_id, name));
  });
}

Result<Json> Directory::ListGroups(const Scope& s, const Json& in) {
  std::string pool_id = in.value("UserPoolId", "");
  STRATUS_RETURN_IF_ERROR(Pool(s, pool_id));
  return ListChildren(keys::PoolPrefix(pool_id) + "g/", in, "Limit", "NextToken", "Groups",
                      [](const Json& g) { return g; });
}

// ---------------------------------------------------------------- resource servers

Result<Json> Directory::CreateResourceServer(const Scope& s, const Json& in) {
  std::string pool_id = in.value("UserPoolId", "");
  std::string id = in.value("Identifier", "");
  STRATUS_RETURN_IF_ERROR(Pool(s, pool_id));
  Json rs = in;
  if (!rs.contains("Scopes")) rs["Scopes"] = Json::array();
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto exists, txn.Get(keys::ResourceServer(pool_id, id)));
    if (exists) return InvalidParameter(id + " already exists in this user pool");
    return txn.Put(keys::ResourceServer(pool_id, id), DumpJson(rs));
  }));
  return Json{{"ResourceServer", rs}};
}

Result<Json> Directory::DescribeResourceServer(const Scope& s, std::string_view pool_id, std::string_view id) {
  STRATUS_RETURN_IF_ERROR(Pool(s, pool_id));
  STRATUS_ASSIGN_OR_RETURN(Json rs, ReadChild(keys::ResourceServer(pool_id, id),
                                              ResourceNotFound("Resource server " + std::string(id) + " does not exist.")));
  return Json{{"ResourceServer", rs}};
}

Result<Json> Directory::UpdateResourceServer(const Scope& s, const Json& in) {
  std::string pool_id = in.value("UserPoolId", "");
  std::string id = in.value("Identifier", "");
  STRATUS_RETURN_IF_ERROR(DescribeResourceServer(s, pool_id, id));
  Json rs = in;
  if (!rs.contains("Scopes")) rs["Scopes"] = Json::array();
  STRATUS_RETURN_IF_ERROR(store_.Put(keys::ResourceServer(pool_id, id), DumpJson(rs)));
  return Json{{"ResourceServer", rs}};
}

Status Directory::DeleteResourceServer(const Scope& s, std::string_view pool_id, std::string_view id) {
  STRATUS_RETURN_IF_ERROR(DescribeResourceServer(s, pool_id, id));
  return store_.Delete(keys::ResourceServer(pool_id, id));
}

Result<Json> Directory::ListResourceServers(const Scope& s, const Json& in) {
  std::string pool_id = in.value("UserPoolId", "");
  STRATUS_RETURN_IF_ERROR(Pool(s, pool_id));
  return ListChildren(keys::PoolPrefix(pool_id) + "rs/", in, "MaxResults", "NextToken",
                      "ResourceServers", [](const Json& r) { return r; });
}

bool Directory::ScopeExists(std::string_view pool_id, std::string_view scope) {
  if (IsStandardScope(scope)) return true;
  auto slash = scope.rfind('/');
  if (slash == std::string_view::npos) return false;
  auto raw = store_.Get(keys::ResourceServer(pool_id, scope.substr(0, slash)));
  if (!raw.ok() || !*raw) return false;
  Json rs = ParseJsonOrDiscarded(**raw);
  for (const auto& sc : rs.value("Scopes", Json::array())) {
    if (sc.value("ScopeName", "") == scope.substr(slash + 1)) return true;
  }
  return false;
}

// ---------------------------------------------------------------- identity providers

Result<Json> Directory::CreateProvider(const Scope& s, const Json& in) {
  std::string pool_id = in.value("UserPoolId", "");
  std::string name = in.value("ProviderName", "");
  STRATUS_RETURN_IF_ERROR(Pool(s, pool_id));
  std::string type = in.value("ProviderType", "");
  if (type != "OIDC" && type != "SAML") {
    return InvalidParameter("Provider type " + type + " is not supported in stratus (OIDC and SAML are).");
  }
  const Json& d = in.value("ProviderDetails", Json::object());
  if (type == "OIDC" && (!d.contains("client_id") || !d.contains("oidc_issuer") || !d.contains("authorize_scopes"))) {
    return InvalidParameter("client_id, oidc_issuer and authorize_scopes are required for an OIDC provider.");
  }
  if (type == "SAML" && !d.contains("MetadataFile") && !d.contains("MetadataURL")) {
    return InvalidParameter("MetadataFile or MetadataURL is required for a SAML provider.");
  }
  double now = clock_.NowSeconds();
  Json p = in;
  if (!p.contains("AttributeMapping")) p["AttributeMapping"] = Json::object();
  if (!p.contains("IdpIdentifiers")) p["IdpIdentifiers"] = Json::array();
  p["LastModifiedDate"] = now;
  p["CreationDate"] = now;
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto exists, txn.Get(keys::Provider(pool_id, name)));
    if (exists) {
      return CognitoError("DuplicateProviderException",
                          "A provider with the name " + name + " already exists in this user pool.");
    }
    return txn.Put(keys::Provider(pool_id, name), DumpJson(p));
  }));
  return Json{{"IdentityProvider", p}};
}

Result<Json> Directory::ProviderById(std::string_view pool_id, std::string_view name) {
  return ReadChild(keys::Provider(pool_id, name),
                   ResourceNotFound("Identity provider " + std::string(name) + " does not exist."));
}

Result<Json> Directory::DescribeProvider(const Scope& s, std::string_view pool_id, std::string_view name) {
  STRATUS_RETURN_IF_ERROR(Pool(s, pool_id));
  STRATUS_ASSIGN_OR_RETURN(Json p, ProviderById(pool_id, name));
  return Json{{"IdentityProvider", p}};
}

Result<Json> Directory::UpdateProvider(const Scope& s, const Json& in) {
  std::string pool_id = in.value("UserPoolId", "");
  std::string name = in.value("ProviderName", "");
  STRATUS_RETURN_IF_ERROR(Pool(s, pool_id));
  STRATUS_ASSIGN_OR_RETURN(Json p, ProviderById(pool_id, name));
  for (const char* k : {"ProviderDetails", "AttributeMapping", "IdpIdentifiers"}) {
    if (in.contains(k)) p[k] = in[k];
  }
  p["LastModifiedDate"] = clock_.NowSeconds();
  STRATUS_RETURN_IF_ERROR(store_.Put(keys::Provider(pool_id, name), DumpJson(p)));
  return Json{{"IdentityProvider", p}};
}

Status Directory::DeleteProvider(const Scope& s, std::string_view pool_id, std::string_view name) {
  STRATUS_RETURN_IF_ERROR(DescribeProvider(s, pool_id, name));
  return store_.Delete(keys::Provider(pool_id, name));
}

Result<Json> Directory::ListProviders(const Scope& s, const Json& in) {
  std::string pool_id = in.value("UserPoolId", "");
  STRATUS_RETURN_IF_ERROR(Pool(s, pool_id));
  return ListChildren(keys::PoolPrefix(pool_id) + "idp/", in, "MaxResults", "NextToken",
                      "Providers", [](const Json& p) {
                        return Json{{"ProviderName", p["ProviderName"]},
                                    {"ProviderType", p["ProviderType"]},
                                    {"LastModifiedDate", p["LastModifiedDate"]},
                                    {"CreationDate", p["CreationDate"]}};
                      });
}

Result<Json> Directory::ProviderByIdentifier(const Scope& s, std::string_view pool_id,
                                             std::string_view idp_id) {
  STRATUS_RETURN_IF_ERROR(Pool(s, pool_id));
  STRATUS_ASSIGN_OR_RETURN(auto rows, store_.Scan(store::PrefixScan(keys::PoolPrefix(pool_id) + "idp/")));
  for (const auto& kv : rows) {
    Json p = ParseJsonOrDiscarded(kv.value);
    for (const auto& id : p.value("IdpIdentifiers", Json::array())) {
      if (id == idp_id) return Json{{"IdentityProvider", p}};
    }
  }
  return ResourceNotFound("Identity provider with identifier " + std::string(idp_id) + " does not exist.");
}

// ---------------------------------------------------------------- tags

Result<std::string> Directory::PoolFromArn(const Scope& s, std::string_view arn) {
  auto slash = arn.rfind("userpool/");
  if (!StartsWith(arn, "arn:") || slash == std::string_view::npos) {
    return InvalidParameter("Invalid resource ARN: " + std::string(arn));
  }
  std::string id(arn.substr(slash + 9));
  STRATUS_RETURN_IF_ERROR(Pool(s, id));
  return id;
}

Status Directory::Tag(const Scope& s, std::string_view arn, const Json& tags) {
  STRATUS_ASSIGN_OR_RETURN(std::string id, PoolFromArn(s, arn));
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(keys::Pool(id)));
    if (!raw) return ResourceNotFound("User pool " + id + " does not exist.");
    Json pool = ParseJsonOrDiscarded(*raw);
    if (!pool.contains("UserPoolTags")) pool["UserPoolTags"] = Json::object();
    for (const auto& [k, v] : tags.items()) pool["UserPoolTags"][k] = v;
    return txn.Put(keys::Pool(id), DumpJson(pool));
  });
}

Status Directory::Untag(const Scope& s, std::string_view arn, const Json& tag_keys) {
  STRATUS_ASSIGN_OR_RETURN(std::string id, PoolFromArn(s, arn));
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(keys::Pool(id)));
    if (!raw) return ResourceNotFound("User pool " + id + " does not exist.");
    Json pool = ParseJsonOrDiscarded(*raw);
    for (const auto& k : tag_keys) {
      if (pool.contains("UserPoolTags")) pool["UserPoolTags"].erase(k.get<std::string>());
    }
    return txn.Put(keys::Pool(id), DumpJson(pool));
  });
}

Result<Json> Directory::ListTags(const Scope& s, std::string_view arn) {
  STRATUS_ASSIGN_OR_RETURN(std::string id, PoolFromArn(s, arn));
  STRATUS_ASSIGN_OR_RETURN(Json pool, Pool(s, id));
  return Json{{"Tags", pool.value("UserPoolTags", Json::object())}};
}

}  // namespace stratus::services::cognito

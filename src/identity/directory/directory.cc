#include "identity/directory/directory.h"

#include "core/crypto.h"
#include "core/strings.h"

namespace stratus::identity {

namespace {

constexpr std::string_view kUpperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

Json TagsJson(const Tags& tags) {
  Json a = Json::array();
  for (const auto& [k, v] : tags) a.push_back(Json{{"Key", k}, {"Value", v}});
  return a;
}
Tags TagsFrom(const Json& j) {
  Tags t;
  if (!j.is_array()) return t;
  for (const auto& e : j) t.emplace_back(e.value("Key", ""), e.value("Value", ""));
  return t;
}
std::vector<std::string> Strings(const Json& j) {
  std::vector<std::string> v;
  if (!j.is_array()) return v;
  for (const auto& e : j) {
    if (e.is_string()) v.push_back(e.get<std::string>());
  }
  return v;
}
std::map<std::string, std::string> StringMap(const Json& j) {
  std::map<std::string, std::string> m;
  if (!j.is_object()) return m;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it->is_string()) m[it.key()] = it->get<std::string>();
  }
  return m;
}
Json MapJson(const std::map<std::string, std::string>& m) {
  Json o = Json::object();
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

template <class T>
Result<std::optional<T>> LoadAs(store::Store& store, const std::string& key,
                                std::optional<T> (*from)(const Json&)) {
  auto v = store.Get(key);
  if (!v.ok()) return v.error();
  if (!v->has_value()) return std::optional<T>();
  Json j = ParseJsonOrDiscarded(**v);
  if (j.is_discarded()) return std::optional<T>();
  return from(j);
}

}  // namespace

const PolicyVersion* ManagedPolicyRecord::Default() const {
  for (const auto& v : versions) {
    if (v.id == default_version) return &v;
  }
  return nullptr;
}

Credentials NewCredentials(std::string_view prefix, bool with_token) {
  Credentials c;
  c.access_key_id = std::string(prefix) + RandomAlnum(20 - prefix.size(), kUpperDigits);
  c.secret_access_key = RandomAlnum(40);
  if (with_token) {
    // Opaque, about the size of AWS's tokens, base64 so clients pass it through unchanged.
    c.session_token = "IQoJb3JpZ2luX2VjE" + Base64Encode(RandomBytes(240));
  }
  return c;
}

std::string NewPrincipalId(std::string_view prefix) {
  return std::string(prefix) + RandomAlnum(17, kUpperDigits);
}

std::string AccountPrefix(std::string_view account) { return "iam/" + std::string(account) + "/"; }
std::string UserKey(std::string_view a, std::string_view n) {
  return AccountPrefix(a) + "user/" + ToLower(n);
}
std::string GroupKey(std::string_view a, std::string_view n) {
  return AccountPrefix(a) + "group/" + ToLower(n);
}
std::string RoleKey(std::string_view a, std::string_view n) {
  return AccountPrefix(a) + "role/" + ToLower(n);
}
std::string PolicyKey(std::string_view a, std::string_view arn) {
  return AccountPrefix(a) + "policy/" + std::string(arn);
}
std::string ProfileKey(std::string_view a, std::string_view n) {
  return AccountPrefix(a) + "profile/" + ToLower(n);
}
std::string OidcKey(std::string_view a, std::string_view arn) {
  return AccountPrefix(a) + "oidc/" + std::string(arn);
}
std::string SamlKey(std::string_view a, std::string_view arn) {
  return AccountPrefix(a) + "saml/" + std::string(arn);
}
std::string AccessKeyKey(std::string_view id) { return std::string(kAccessKeysPrefix) + std::string(id); }
std::string SessionKey(std::string_view id) { return std::string(kSessionsPrefix) + std::string(id); }

Json ToJson(const UserRecord& r) {
  Json j{{"name", r.name}, {"path", r.path}, {"id", r.id}, {"arn", r.arn}, {"created", r.created},
         {"boundary", r.boundary_arn}, {"tags", TagsJson(r.tags)},
         {"inline", MapJson(r.inline_policies)}, {"attached", r.attached}, {"groups", r.groups},
         {"password_last_used", r.password_last_used}};
  if (r.login_password) j["login"] = *r.login_password;
  return j;
}
std::optional<UserRecord> UserFromJson(const Json& j) {
  if (!j.is_object() || !j.contains("name")) return std::nullopt;
  UserRecord r;
  r.name = j.value("name", "");
  r.path = j.value("path", "/");
  r.id = j.value("id", "");
  r.arn = j.value("arn", "");
  r.created = j.value("created", 0.0);
  r.boundary_arn = j.value("boundary", "");
  r.tags = TagsFrom(j.value("tags", Json::array()));
  r.inline_policies = StringMap(j.value("inline", Json::object()));
  r.attached = Strings(j.value("attached", Json::array()));
  r.groups = Strings(j.value("groups", Json::array()));
  if (j.contains("login")) r.login_password = j.value("login", "");
  r.password_last_used = j.value("password_last_used", 0.0);
  return r;
}

Json ToJson(const GroupRecord& r) {
  return Json{{"name", r.name}, {"path", r.path}, {"id", r.id}, {"arn", r.arn},
              {"created", r.created}, {"inline", MapJson(r.inline_policies)},
              {"attached", r.attached}};
}
std::optional<GroupRecord> GroupFromJson(const Json& j) {
  if (!j.is_object() || !j.contains("name")) return std::nullopt;
  GroupRecord r;
  r.name = j.value("name", "");
  r.path = j.value("path", "/");
  r.id = j.value("id", "");
  r.arn = j.value("arn", "");
  r.created = j.value("created", 0.0);
  r.inline_policies = StringMap(j.value("inline", Json::object()));
  r.attached = Strings(j.value("attached", Json::array()));
  return r;
}

Json ToJson(const RoleRecord& r) {
  return Json{{"name", r.name}, {"path", r.path}, {"id", r.id}, {"arn", r.arn},
              {"created", r.created}, {"trust", r.trust_policy}, {"description", r.description},
              {"max_session", r.max_session_seconds}, {"boundary", r.boundary_arn},
              {"tags", TagsJson(r.tags)}, {"inline", MapJson(r.inline_policies)},
              {"attached", r.attached}, {"last_used", r.last_used},
              {"last_used_region", r.last_used_region}};
}
std::optional<RoleRecord> RoleFromJson(const Json& j) {
  if (!j.is_object() || !j.contains("name")) return std::nullopt;
  RoleRecord r;
  r.name = j.value("name", "");
  r.path = j.value("path", "/");
  r.id = j.value("id", "");
  r.arn = j.value("arn", "");
  r.created = j.value("created", 0.0);
  r.trust_policy = j.value("trust", "");
  r.description = j.value("description", "");
  r.max_session_seconds = j.value("max_session", int64_t{3600});
  r.boundary_arn = j.value("boundary", "");
  r.tags = TagsFrom(j.value("tags", Json::array()));
  r.inline_policies = StringMap(j.value("inline", Json::object()));
  r.attached = Strings(j.value("attached", Json::array()));
  r.last_used = j.value("last_used", 0.0);
  r.last_used_region = j.value("last_used_region", "");
  return r;
}

Json ToJson(const ManagedPolicyRecord& r) {
  Json versions = Json::array();
  for (const auto& v : r.versions) {
    versions.push_back(Json{{"id", v.id}, {"document", v.document}, {"created", v.created}});
  }
  return Json{{"name", r.name}, {"path", r.path}, {"id", r.id}, {"arn", r.arn},
              {"description", r.description}, {"created", r.created}, {"updated", r.updated},
              {"default", r.default_version}, {"next", r.next_version},
              {"versions", std::move(versions)}, {"tags", TagsJson(r.tags)}};
}
std::optional<ManagedPolicyRecord> PolicyFromJson(const Json& j) {
  if (!j.is_object() || !j.contains("arn")) return std::nullopt;
  ManagedPolicyRecord r;
  r.name = j.value("name", "");
  r.path = j.value("path", "/");
  r.id = j.value("id", "");
  r.arn = j.value("arn", "");
  r.description = j.value("description", "");
  r.created = j.value("created", 0.0);
  r.updated = j.value("updated", 0.0);
  r.default_version = j.value("default", "v1");
  r.next_version = j.value("next", 2);
  for (const auto& v : j.value("versions", Json::array())) {
    r.versions.push_back(
        PolicyVersion{v.value("id", ""), v.value("document", ""), v.value("created", 0.0)});
  }
  r.tags = TagsFrom(j.value("tags", Json::array()));
  return r;
}

Json ToJson(const InstanceProfileRecord& r) {
  return Json{{"name", r.name}, {"path", r.path}, {"id", r.id}, {"arn", r.arn},
              {"created", r.created}, {"roles", r.roles}, {"tags", TagsJson(r.tags)}};
}
std::optional<InstanceProfileRecord> ProfileFromJson(const Json& j) {
  if (!j.is_object() || !j.contains("name")) return std::nullopt;
  InstanceProfileRecord r;
  r.name = j.value("name", "");
  r.path = j.value("path", "/");
  r.id = j.value("id", "");
  r.arn = j.value("arn", "");
  r.created = j.value("created", 0.0);
  r.roles = Strings(j.value("roles", Json::array()));
  r.tags = TagsFrom(j.value("tags", Json::array()));
  return r;
}

Json ToJson(const OidcProviderRecord& r) {
  return Json{{"arn", r.arn}, {"url", r.url}, {"client_ids", r.client_ids},
              {"thumbprints", r.thumbprints}, {"created", r.created}, {"tags", TagsJson(r.tags)}};
}
std::optional<OidcProviderRecord> OidcFromJson(const Json& j) {
  if (!j.is_object() || !j.contains("arn")) return std::nullopt;
  OidcProviderRecord r;
  r.arn = j.value("arn", "");
  r.url = j.value("url", "");
  r.client_ids = Strings(j.value("client_ids", Json::array()));
  r.thumbprints = Strings(j.value("thumbprints", Json::array()));
  r.created = j.value("created", 0.0);
  r.tags = TagsFrom(j.value("tags", Json::array()));
  return r;
}

Json ToJson(const SamlProviderRecord& r) {
  return Json{{"arn", r.arn}, {"name", r.name}, {"metadata", r.metadata}, {"created", r.created},
              {"valid_until", r.valid_until}, {"tags", TagsJson(r.tags)}};
}
std::optional<SamlProviderRecord> SamlFromJson(const Json& j) {
  if (!j.is_object() || !j.contains("arn")) return std::nullopt;
  SamlProviderRecord r;
  r.arn = j.value("arn", "");
  r.name = j.value("name", "");
  r.metadata = j.value("metadata", "");
  r.created = j.value("created", 0.0);
  r.valid_until = j.value("valid_until", 0.0);
  r.tags = TagsFrom(j.value("tags", Json::array()));
  return r;
}

Json ToJson(const AccessKeyRecord& r) {
  return Json{{"id", r.id}, {"secret", r.secret}, {"account", r.account}, {"user", r.user_name},
              {"active", r.active}, {"created", r.created}, {"last_used", r.last_used},
              {"last_used_service", r.last_used_service},
              {"last_used_region", r.last_used_region}};
}
std::optional<AccessKeyRecord> AccessKeyFromJson(const Json& j) {
  if (!j.is_object() || !j.contains("id")) return std::nullopt;
  AccessKeyRecord r;
  r.id = j.value("id", "");
  r.secret = j.value("secret", "");
  r.account = j.value("account", "");
  r.user_name = j.value("user", "");
  r.active = j.value("active", true);
  r.created = j.value("created", 0.0);
  r.last_used = j.value("last_used", 0.0);
  r.last_used_service = j.value("last_used_service", "");
  r.last_used_region = j.value("last_used_region", "");
  return r;
}

Json ToJson(const SessionRecord& r) {
  return Json{{"id", r.access_key_id}, {"secret", r.secret}, {"token", r.token},
              {"account", r.account}, {"kind", static_cast<int>(r.kind)}, {"arn", r.arn},
              {"user_id", r.user_id}, {"role_arn", r.role_arn}, {"role_name", r.role_name},
              {"user_name", r.user_name}, {"policies", r.session_policies},
              {"has_policies", r.has_session_policies}, {"tags", TagsJson(r.tags)},
              {"transitive", r.transitive_tag_keys}, {"source_identity", r.source_identity},
              {"provider", r.web_identity_provider}, {"subject", r.web_identity_subject},
              {"issued", r.issued}, {"expiration", r.expiration}};
}
std::optional<SessionRecord> SessionFromJson(const Json& j) {
  if (!j.is_object() || !j.contains("id")) return std::nullopt;
  SessionRecord r;
  r.access_key_id = j.value("id", "");
  r.secret = j.value("secret", "");
  r.token = j.value("token", "");
  r.account = j.value("account", "");
  int kind = j.value("kind", 0);
  r.kind = kind == 1 ? SessionKind::kFederatedUser
                     : kind == 2 ? SessionKind::kSessionToken : SessionKind::kAssumedRole;
  r.arn = j.value("arn", "");
  r.user_id = j.value("user_id", "");
  r.role_arn = j.value("role_arn", "");
  r.role_name = j.value("role_name", "");
  r.user_name = j.value("user_name", "");
  r.session_policies = Strings(j.value("policies", Json::array()));
  r.has_session_policies = j.value("has_policies", false);
  r.tags = TagsFrom(j.value("tags", Json::array()));
  r.transitive_tag_keys = Strings(j.value("transitive", Json::array()));
  r.source_identity = j.value("source_identity", "");
  r.web_identity_provider = j.value("provider", "");
  r.web_identity_subject = j.value("subject", "");
  r.issued = j.value("issued", 0.0);
  r.expiration = j.value("expiration", 0.0);
  return r;
}

Result<std::optional<RoleRecord>> LoadRole(store::Store& store, std::string_view account,
                                           std::string_view name) {
  return LoadAs<RoleRecord>(store, RoleKey(account, name), &RoleFromJson);
}
Result<std::optional<ManagedPolicyRecord>> LoadPolicy(store::Store& store,
                                                      std::string_view account,
                                                      std::string_view arn) {
  return LoadAs<ManagedPolicyRecord>(store, PolicyKey(account, arn), &PolicyFromJson);
}
Result<std::optional<OidcProviderRecord>> LoadOidc(store::Store& store, std::string_view account,
                                                   std::string_view arn) {
  return LoadAs<OidcProviderRecord>(store, OidcKey(account, arn), &OidcFromJson);
}
Result<std::optional<SamlProviderRecord>> LoadSaml(store::Store& store, std::string_view account,
                                                   std::string_view arn) {
  return LoadAs<SamlProviderRecord>(store, SamlKey(account, arn), &SamlFromJson);
}
Result<std::optional<SessionRecord>> LoadSession(store::Store& store, std::string_view id) {
  return LoadAs<SessionRecord>(store, SessionKey(id), &SessionFromJson);
}
Status SaveSession(store::Store& store, const SessionRecord& session) {
  return store.Put(SessionKey(session.access_key_id), DumpJson(ToJson(session)));
}

std::string NameFromArn(std::string_view arn) {
  auto slash = arn.rfind('/');
  if (slash != std::string_view::npos) return std::string(arn.substr(slash + 1));
  auto colon = arn.rfind(':');
  return std::string(colon == std::string_view::npos ? arn : arn.substr(colon + 1));
}

std::string AccountFromArn(std::string_view arn) {
  if (!arn.starts_with("arn:")) return {};
  size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string_view::npos) return {};
    ++pos;
  }
  auto end = arn.find(':', pos);
  if (end == std::string_view::npos) return {};
  return std::string(arn.substr(pos, end - pos));
}

}  // namespace stratus::identity

#include "services/cognito/users.h"

#include <algorithm>
#include <atomic>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/cognito/secrets.h"
#include "services/cognito/srp.h"

namespace stratus::services::cognito {

namespace {

constexpr size_t kMaxOutbox = 1000;  // per listing

bool CaseInsensitive(const Json& pool) {
  const Json& cfg = pool.value("UsernameConfiguration", Json::object());
  return cfg.is_object() && cfg.contains("CaseSensitive") && !cfg["CaseSensitive"].get<bool>();
}

std::string AliasValue(std::string_view attr, std::string_view value) {
  return attr == "email" ? ToLower(value) : std::string(value);
}

std::string OutboxSeq(int64_t ms) {
  static std::atomic<uint32_t> seq{0};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016lld%08x", static_cast<long long>(ms), seq.fetch_add(1));
  return buf;
}

}  // namespace

std::string Users::UsernameKey(const Json& pool, std::string_view username) {
  return CaseInsensitive(pool) ? ToLower(username) : std::string(username);
}

std::vector<std::pair<std::string, std::string>> Users::AliasEntries(const Json& pool,
                                                                     const Json& user) {
  std::vector<std::pair<std::string, std::string>> out;
  const Json& attrs = user.value("Attributes", Json::object());
  if (attrs.contains("sub")) out.emplace_back("sub", attrs["sub"].get<std::string>());
  const Json& username_attrs = pool.value("UsernameAttributes", Json::array());
  const Json& alias_attrs = pool.value("AliasAttributes", Json::array());
  for (const char* a : {"email", "phone_number", "preferred_username"}) {
    if (!attrs.contains(a)) continue;
    std::string v = attrs[a].get<std::string>();
    if (ListHas(username_attrs, a)) {
      out.emplace_back(a, AliasValue(a, v));
    } else if (ListHas(alias_attrs, a)) {
      std::string verified = std::string(a) + "_verified";
      bool ok = std::string_view(a) == "preferred_username" ||
                attrs.value(verified, Json("false")) == "true";
      if (ok) out.emplace_back(a, AliasValue(a, v));
    }
  }
  return out;
}

Result<Json> Users::Get(const Json& pool, std::string_view username) {
  std::string key = keys::User(pool.value("Id", ""), UsernameKey(pool, username));
  STRATUS_ASSIGN_OR_RETURN(auto raw, store_.Get(key));
  if (!raw) return UserNotFound();
  return *parsed_.Parse(key, std::move(*raw));
}

Result<std::shared_ptr<const Json>> Users::Get(store::ReadTxn& txn, const Json& pool,
                                               std::string_view username) {
  std::string key = keys::User(pool.value("Id", ""), UsernameKey(pool, username));
  STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(key));
  if (!raw) return UserNotFound();
  return parsed_.Parse(key, std::move(*raw));
}

Result<Json> Users::Find(const Json& pool, std::string_view name) {
  if (name.empty()) return UserNotFound();
  std::string pool_id = pool.value("Id", "");
  auto direct = Get(pool, name);
  if (direct.ok() || direct.error().code != "UserNotFoundException") return direct;
  for (const char* a : {"email", "phone_number", "preferred_username"}) {
    STRATUS_ASSIGN_OR_RETURN(auto owner, store_.Get(keys::Alias(pool_id, a, AliasValue(a, name))));
    if (owner) return Get(pool, *owner);
  }
  return UserNotFound();
}

Status Users::Create(const Json& pool, const Json& user) {
  std::string pool_id = pool.value("Id", "");
  std::string key = UsernameKey(pool, user["Username"].get<std::string>());
  auto aliases = AliasEntries(pool, user);
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto exists, txn.Get(keys::User(pool_id, key)));
    if (exists) return CognitoError("UsernameExistsException", "User account already exists");
    for (const auto& [attr, value] : aliases) {
      STRATUS_ASSIGN_OR_RETURN(auto taken, txn.Get(keys::Alias(pool_id, attr, value)));
      if (taken) {
        if (ListHas(pool.value("UsernameAttributes", Json::array()), attr)) {
          return CognitoError("UsernameExistsException",
                              "An account with the given " + attr + " already exists.");
        }
        return CognitoError("AliasExistsException", "An account with the " + attr + " already exists.");
      }
      STRATUS_RETURN_IF_ERROR(txn.Put(keys::Alias(pool_id, attr, value), key));
    }
    return txn.Put(keys::User(pool_id, key), DumpJson(user));
  });
}

Result<Json> Users::Update(const Json& pool, std::string_view username,
                           const std::function<Status(Json&)>& fn) {
  std::string pool_id = pool.value("Id", "");
  std::string key = UsernameKey(pool, username);
  Json written;
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(keys::User(pool_id, key)));
    if (!raw) return UserNotFound();
    Json user = ParseJsonOrDiscarded(*raw);
    auto before = AliasEntries(pool, user);
    STRATUS_RETURN_IF_ERROR(fn(user));
    auto after = AliasEntries(pool, user);
    for (const auto& e : before) {
      if (std::find(after.begin(), after.end(), e) == after.end()) {
        STRATUS_RETURN_IF_ERROR(txn.Delete(keys::Alias(pool_id, e.first, e.second)));
      }
    }
    for (const auto& e : after) {
      if (std::find(before.begin(), before.end(), e) != before.end()) continue;
      STRATUS_ASSIGN_OR_RETURN(auto taken, txn.Get(keys::Alias(pool_id, e.first, e.second)));
      if (taken && *taken != key) {
        if (ListHas(pool.value("UsernameAttributes", Json::array()), e.first)) {
          return CognitoError("AliasExistsException", "An account with the given " + e.first + " already exists.");
        }
        return CognitoError("AliasExistsException", "An account with the " + e.first + " already exists.");
      }
      STRATUS_RETURN_IF_ERROR(txn.Put(keys::Alias(pool_id, e.first, e.second), key));
    }
    written = user;
    return txn.Put(keys::User(pool_id, key), DumpJson(user));
  }));
  return written;
}

Status Users::Delete(const Json& pool, std::string_view username) {
  std::string pool_id = pool.value("Id", "");
  std::string key = UsernameKey(pool, username);
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(keys::User(pool_id, key)));
    if (!raw) return UserNotFound();
    Json user = ParseJsonOrDiscarded(*raw);
    for (const auto& e : AliasEntries(pool, user)) {
      STRATUS_RETURN_IF_ERROR(txn.Delete(keys::Alias(pool_id, e.first, e.second)));
    }
    std::string prefix = keys::UserGroup(pool_id, key, "");
    STRATUS_ASSIGN_OR_RETURN(auto groups, txn.Scan(store::PrefixScan(prefix)));
    for (const auto& kv : groups) {
      STRATUS_RETURN_IF_ERROR(txn.Delete(keys::Member(pool_id, kv.key.substr(prefix.size()), key)));
    }
    STRATUS_RETURN_IF_ERROR(txn.DeleteRange(prefix, store::PrefixEnd(prefix)));
    return txn.Delete(keys::User(pool_id, key));
  });
}

void Users::SetPassword(const Json& pool, Json& user, std::string_view password) {
  user.erase("_Password");  // records written before verifier-only passwords had a hash too
  auto v = srp::MakeVerifier(PoolShortName(pool.value("Id", "")), user["Username"].get<std::string>(),
                             password);
  user["_Srp"] = Json{{"salt", v.salt_hex}, {"v", v.verifier_hex}};
}

bool Users::CheckPassword(const Json& pool, const Json& user, std::string_view password) {
  const Json& srp = user.value("_Srp", Json::object());
  if (!srp.contains("salt") || !srp.contains("v")) return false;  // no password set (federated)
  return srp::CheckPassword(PoolShortName(pool.value("Id", "")), user["Username"].get<std::string>(),
                            password, srp::Verifier{srp["salt"].get<std::string>(), srp["v"].get<std::string>()});
}

Json Users::MfaOptions(const Json& user) {
  Json out = Json::array();
  const Json& mfa = user.value("_Mfa", Json::object());
  if (ListHas(mfa.value("Enabled", Json::array()), "SMS_MFA")) {
    out.push_back(Json{{"DeliveryMedium", "SMS"}, {"AttributeName", "phone_number"}});
  }
  return out;
}

Json Users::UserType(const Json& user) {
  Json out = Json{{"Username", user["Username"]},
                  {"Attributes", AttributeList(user.value("Attributes", Json::object()))},
                  {"UserCreateDate", user["UserCreateDate"]},
                  {"UserLastModifiedDate", user["UserLastModifiedDate"]},
                  {"Enabled", user.value("Enabled", true)},
                  {"UserStatus", user["UserStatus"]}};
  Json mfa = MfaOptions(user);
  if (!mfa.empty()) out["MFAOptions"] = mfa;
  return out;
}

Json Users::AdminGetUser(const Json& user) {
  Json out = Json{{"Username", user["Username"]},
                  {"UserAttributes", AttributeList(user.value("Attributes", Json::object()))},
                  {"UserCreateDate", user["UserCreateDate"]},
                  {"UserLastModifiedDate", user["UserLastModifiedDate"]},
                  {"Enabled", user.value("Enabled", true)},
                  {"UserStatus", user["UserStatus"]}};
  const Json& mfa = user.value("_Mfa", Json::object());
  if (mfa.contains("Preferred")) out["PreferredMfaSetting"] = mfa["Preferred"];
  if (!mfa.value("Enabled", Json::array()).empty()) out["UserMFASettingList"] = mfa["Enabled"];
  Json opts = MfaOptions(user);
  if (!opts.empty()) out["MFAOptions"] = opts;
  return out;
}

Json Users::GetUser(const Json& user) {
  // Read in place: value() would copy the attribute map and the MFA settings on every call.
  static const Json kNone = Json::object();
  auto member = [&](const Json& obj, const char* key) -> const Json& {
    auto it = obj.find(key);
    return it == obj.end() ? kNone : *it;
  };
  Json out = Json::object();
  out["Username"] = user["Username"];
  out["UserAttributes"] = AttributeList(member(user, "Attributes"));
  const Json& mfa = member(user, "_Mfa");
  if (mfa.contains("Preferred")) out["PreferredMfaSetting"] = mfa["Preferred"];
  const Json& enabled = member(mfa, "Enabled");
  if (enabled.is_array() && !enabled.empty()) {
    out["UserMFASettingList"] = enabled;
    if (ListHas(enabled, "SMS_MFA")) out["MFAOptions"] = MfaOptions(user);
  }
  return out;
}

std::optional<UserFilter> ParseUserFilter(std::string_view f) {
  UserFilter out;
  size_t i = 0;
  auto skip = [&] {
    while (i < f.size() && f[i] == ' ') ++i;
  };
  skip();
  size_t start = i;
  while (i < f.size() && f[i] != ' ' && f[i] != '=' && f[i] != '^') ++i;
  out.attribute = std::string(f.substr(start, i - start));
  skip();
  if (f.substr(i, 2) == "^=") {
    out.prefix = true;
    i += 2;
  } else if (i < f.size() && f[i] == '=') {
    ++i;
  } else {
    return std::nullopt;
  }
  skip();
  if (i >= f.size() || f[i] != '"') return std::nullopt;
  ++i;
  while (i < f.size() && f[i] != '"') {
    if (f[i] == '\\' && i + 1 < f.size()) ++i;
    out.value.push_back(f[i++]);
  }
  if (i >= f.size()) return std::nullopt;
  ++i;
  skip();
  if (i != f.size() || out.attribute.empty()) return std::nullopt;
  static const char* const kAllowed[] = {"username", "email", "phone_number", "name", "given_name",
                                         "family_name", "preferred_username", "cognito:user_status",
                                         "status", "sub"};
  bool ok = false;
  for (const char* a : kAllowed) ok = ok || out.attribute == a;
  if (!ok) return std::nullopt;
  return out;
}

bool MatchesFilter(const UserFilter& f, const Json& user) {
  std::string actual;
  if (f.attribute == "username") {
    actual = user.value("Username", "");
  } else if (f.attribute == "cognito:user_status") {
    actual = user.value("UserStatus", "");
  } else if (f.attribute == "status") {
    actual = user.value("Enabled", true) ? "Enabled" : "Disabled";
  } else {
    const Json& attrs = user.value("Attributes", Json::object());
    if (!attrs.contains(f.attribute)) return false;
    actual = attrs[f.attribute].get<std::string>();
  }
  return f.prefix ? StartsWith(actual, f.value) : actual == f.value;
}

Result<Json> Users::List(const Json& pool, const Json& in) {
  std::string pool_id = pool.value("Id", "");
  std::optional<UserFilter> filter;
  if (in.contains("Filter") && !in["Filter"].get<std::string>().empty()) {
    filter = ParseUserFilter(in["Filter"].get<std::string>());
    if (!filter) return InvalidParameter("Error while parsing filter.");
  }
  int64_t limit = in.value("Limit", int64_t{60});
  if (limit <= 0) limit = 60;
  std::string prefix = keys::PoolPrefix(pool_id) + "u/";
  store::ScanOptions opt = store::PrefixScan(prefix);
  if (in.contains("PaginationToken")) opt.start = prefix + in["PaginationToken"].get<std::string>();
  STRATUS_ASSIGN_OR_RETURN(auto rows, store_.Scan(opt));
  Json users = Json::array();
  Json out = Json::object();
  for (const auto& kv : rows) {
    Json u = ParseJsonOrDiscarded(kv.value);
    if (filter && !MatchesFilter(*filter, u)) continue;
    if (static_cast<int64_t>(users.size()) == limit) {
      out["PaginationToken"] = kv.key.substr(prefix.size());
      break;
    }
    Json shaped = UserType(u);
    if (in.contains("AttributesToGet")) {
      Json keep = Json::array();
      for (const auto& a : shaped["Attributes"]) {
        if (ListHas(in["AttributesToGet"], a["Name"].get<std::string>())) keep.push_back(a);
      }
      shaped["Attributes"] = keep;
    }
    users.push_back(std::move(shaped));
  }
  out["Users"] = std::move(users);
  return out;
}

Status Users::AddToGroup(const Json& pool, std::string_view username, std::string_view group) {
  std::string pool_id = pool.value("Id", "");
  std::string key = UsernameKey(pool, username);
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto g, txn.Get(keys::Group(pool_id, group)));
    if (!g) return ResourceNotFound("Group not found.");
    STRATUS_ASSIGN_OR_RETURN(auto u, txn.Get(keys::User(pool_id, key)));
    if (!u) return UserNotFound();
    STRATUS_RETURN_IF_ERROR(txn.Put(keys::Member(pool_id, group, key), ""));
    return txn.Put(keys::UserGroup(pool_id, key, group), "");
  });
}

Status Users::RemoveFromGroup(const Json& pool, std::string_view username, std::string_view group) {
  std::string pool_id = pool.value("Id", "");
  std::string key = UsernameKey(pool, username);
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto g, txn.Get(keys::Group(pool_id, group)));
    if (!g) return ResourceNotFound("Group not found.");
    STRATUS_ASSIGN_OR_RETURN(auto u, txn.Get(keys::User(pool_id, key)));
    if (!u) return UserNotFound();
    STRATUS_RETURN_IF_ERROR(txn.Delete(keys::Member(pool_id, group, key)));
    return txn.Delete(keys::UserGroup(pool_id, key, group));
  });
}

Result<std::vector<Json>> Users::GroupsOf(std::string_view pool_id, std::string_view username) {
  std::vector<Json> out;
  STRATUS_RETURN_IF_ERROR(store_.Read([&](store::ReadTxn& txn) -> Status {
    std::string prefix = keys::UserGroup(pool_id, username, "");
    STRATUS_ASSIGN_OR_RETURN(auto rows, txn.Scan(store::PrefixScan(prefix)));
    for (const auto& kv : rows) {
      STRATUS_ASSIGN_OR_RETURN(auto g, txn.Get(keys::Group(pool_id, kv.key.substr(prefix.size()))));
      if (g) out.push_back(ParseJsonOrDiscarded(*g));
    }
    return Status::Ok();
  }));
  std::stable_sort(out.begin(), out.end(), [](const Json& a, const Json& b) {
    int64_t pa = a.value("Precedence", INT64_MAX), pb = b.value("Precedence", INT64_MAX);
    return pa < pb;
  });
  return out;
}

Result<Json> Users::ListUsersInGroup(const Json& pool, const Json& in) {
  std::string pool_id = pool.value("Id", "");
  std::string group = in.value("GroupName", "");
  STRATUS_ASSIGN_OR_RETURN(auto g, store_.Get(keys::Group(pool_id, group)));
  if (!g) return ResourceNotFound("Group not found.");
  int64_t limit = in.value("Limit", int64_t{60});
  if (limit <= 0) limit = 60;
  std::string prefix = keys::Member(pool_id, group, "");
  store::ScanOptions opt = store::PrefixScan(prefix, static_cast<size_t>(limit) + 1);
  if (in.contains("NextToken")) opt.start = prefix + in["NextToken"].get<std::string>();
  STRATUS_ASSIGN_OR_RETURN(auto rows, store_.Scan(opt));
  Json out = Json{{"Users", Json::array()}};
  for (size_t i = 0; i < rows.size(); ++i) {
    std::string name = rows[i].key.substr(prefix.size());
    if (static_cast<int64_t>(i) == limit) {
      out["NextToken"] = name;
      break;
    }
    auto u = store_.Get(keys::User(pool_id, name));
    if (u.ok() && *u) out["Users"].push_back(UserType(ParseJsonOrDiscarded(**u)));
  }
  return out;
}

Result<Json> Users::ListGroupsForUser(const Json& pool, const Json& in) {
  STRATUS_ASSIGN_OR_RETURN(Json user, Get(pool, in.value("Username", "")));
  STRATUS_ASSIGN_OR_RETURN(auto groups, GroupsOf(pool.value("Id", ""), UsernameKey(pool, user["Username"].get<std::string>())));
  Json out = Json{{"Groups", Json::array()}};
  for (auto& g : groups) out["Groups"].push_back(std::move(g));
  return out;
}

Status Users::Deliver(std::string_view pool_id, Json message) {
  int64_t now = clock_.NowMillis();
  message["Timestamp"] = static_cast<double>(now) / 1000.0;
  message["UserPoolId"] = std::string(pool_id);
  return store_.Put(keys::Outbox(pool_id) + OutboxSeq(now), DumpJson(message));
}

Result<Json> Users::Outbox(std::string_view pool_id, std::string_view username,
                           std::string_view destination) {
  std::string prefix = pool_id.empty() ? std::string("cognito/p/") : keys::Outbox(pool_id);
  STRATUS_ASSIGN_OR_RETURN(auto rows, store_.Scan(store::PrefixScan(prefix)));
  Json out = Json::array();
  for (const auto& kv : rows) {
    if (kv.key.find("/o/") == std::string::npos) continue;
    Json m = ParseJsonOrDiscarded(kv.value);
    if (!username.empty() && m.value("Username", "") != username) continue;
    if (!destination.empty() && m.value("Destination", "") != destination) continue;
    out.push_back(std::move(m));
  }
  while (out.size() > kMaxOutbox) out.erase(out.begin());
  return out;
}

Status Users::ClearOutbox(std::string_view pool_id) {
  std::string prefix = keys::Outbox(pool_id);
  return store_.Write([&](store::WriteTxn& txn) -> Status {
    return txn.DeleteRange(prefix, store::PrefixEnd(prefix)).ok() ? Status::Ok()
                                                                  : InternalError("outbox");
  });
}

}  // namespace stratus::services::cognito

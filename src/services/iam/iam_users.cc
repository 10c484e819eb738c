// IAM handlers: users, groups, access keys, login profiles, the account alias and summary.
#include "core/strings.h"
#include "services/iam/iam_common.h"

namespace stratus::services::iam {

namespace {

using Call = aws::CallContext;
constexpr size_t kMaxAccessKeysPerUser = 2;

std::string Acct(const Call& c) { return c.caller.account_id; }
Json Empty() { return Json::object(); }

Error NoUser(const std::string& name) {
  return NoSuchEntity("The user with name " + name + " cannot be found.");
}
Error NoGroup(const std::string& name) {
  return NoSuchEntity("The group with name " + name + " cannot be found.");
}

// The user a request names: UserName, or the caller itself when it is an IAM user.
std::string UserNameOr(const Call& c, const Json& in) {
  std::string name = in.value("UserName", "");
  if (!name.empty()) return name;
  auto pos = c.caller.arn.find(":user/");
  if (pos == std::string::npos) return {};
  return c.caller.arn.substr(c.caller.arn.rfind('/') + 1);
}

void RegisterUsers(Iam& iam, const Registrar& on) {
  on("CreateUser", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("UserName", "");
    std::string path = in.value("Path", "/");
    identity::Tags tags = TagsFromInput(in);
    std::string boundary = in.value("PermissionsBoundary", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      if (a.users.count(ToLower(name))) {
        return EntityAlreadyExists("User with name " + name + " already exists.");
      }
      if (!boundary.empty() && !AwsManagedPolicy(boundary) && !a.policies.count(boundary)) {
        return NoSuchEntity("Scope ARN: " + boundary + " does not exist or is not attachable.");
      }
      UserRecord u;
      u.name = name;
      u.path = path;
      u.id = identity::NewPrincipalId("AIDA");
      u.arn = UserArn(Acct(c), path, name);
      u.created = iam.Now();
      u.boundary_arn = boundary;
      STRATUS_RETURN_IF_ERROR(MergeTags(u.tags, tags));
      ch.Put(identity::UserKey(Acct(c), name), identity::ToJson(u));
      Json out{{"User", UserJson(u)}};
      a.users[ToLower(name)] = std::move(u);
      return out;
    });
  });
  on("GetUser", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = UserNameOr(c, in);
    if (name.empty()) {
      // The root user: AWS answers with the account's root identity.
      return Json{{"User", Json{{"Path", "/"}, {"UserName", ""}, {"UserId", Acct(c)},
                                {"Arn", "arn:aws:iam::" + Acct(c) + ":root"},
                                {"CreateDate", 0}}}};
    }
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      if (!a || !a->users.count(ToLower(name))) return NoUser(name);
      return Json{{"User", UserJson(a->users.at(ToLower(name)))}};
    });
  });
  on("ListUsers", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string prefix = in.value("PathPrefix", "/");
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      std::vector<const UserRecord*> users;
      if (a) {
        for (const auto& [k, u] : a->users) {
          if (StartsWith(u.path, prefix)) users.push_back(&u);
        }
      }
      Page page = Paginate(users.size(), in);
      Json list = Json::array();
      for (size_t i = page.begin; i < page.end; ++i) list.push_back(UserJson(*users[i], false));
      Json out{{"Users", std::move(list)}};
      AddPage(out, page);
      return out;
    });
  });
  on("UpdateUser", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("UserName", "");
    std::string new_name = in.value("NewUserName", name);
    std::string new_path = in.value("NewPath", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      auto it = a.users.find(ToLower(name));
      if (it == a.users.end()) return NoUser(name);
      if (ToLower(new_name) != ToLower(name) && a.users.count(ToLower(new_name))) {
        return EntityAlreadyExists("User with name " + new_name + " already exists.");
      }
      UserRecord u = it->second;
      a.users.erase(it);
      ch.Delete(identity::UserKey(Acct(c), name));
      u.name = new_name;
      if (!new_path.empty()) u.path = new_path;
      u.arn = UserArn(Acct(c), u.path, u.name);
      ch.Put(identity::UserKey(Acct(c), u.name), identity::ToJson(u));
      a.users[ToLower(u.name)] = std::move(u);
      return Empty();
    });
  });
  on("DeleteUser", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("UserName", "");
    bool has_keys = !iam.state.KeysOf(Acct(c), name).empty();
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      auto it = a.users.find(ToLower(name));
      if (it == a.users.end()) return NoUser(name);
      const UserRecord& u = it->second;
      if (has_keys) return DeleteConflict("Cannot delete entity, must delete access keys first.");
      if (!u.inline_policies.empty()) return DeleteConflict("Cannot delete entity, must delete policies first.");
      if (!u.attached.empty()) return DeleteConflict("Cannot delete entity, must detach all policies first.");
      if (!u.groups.empty()) return DeleteConflict("Cannot delete entity, must remove users from group first.");
      if (u.login_password) return DeleteConflict("Cannot delete entity, must delete login profile first.");
      ch.Delete(identity::UserKey(Acct(c), name));
      a.users.erase(it);
      return Empty();
    });
  });
  on("TagUser", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("UserName", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      auto it = a.users.find(ToLower(name));
      if (it == a.users.end()) return NoUser(name);
      STRATUS_RETURN_IF_ERROR(MergeTags(it->second.tags, TagsFromInput(in)));
      ch.Put(identity::UserKey(Acct(c), name), identity::ToJson(it->second));
      return Empty();
    });
  });
  on("UntagUser", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("UserName", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      auto it = a.users.find(ToLower(name));
      if (it == a.users.end()) return NoUser(name);
      RemoveTags(it->second.tags, in.value("TagKeys", Json::array()));
      ch.Put(identity::UserKey(Acct(c), name), identity::ToJson(it->second));
      return Empty();
    });
  });
  on("ListUserTags", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("UserName", "");
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      if (!a || !a->users.count(ToLower(name))) return NoUser(name);
      return Json{{"Tags", TagsJson(a->users.at(ToLower(name)).tags)}, {"IsTruncated", false}};
    });
  });
  auto set_boundary = [&iam](Call& c, const Json& in, bool set) -> Result<Json> {
    std::string name = in.value("UserName", "");
    std::string arn = in.value("PermissionsBoundary", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      auto it = a.users.find(ToLower(name));
      if (it == a.users.end()) return NoUser(name);
      if (set && !AwsManagedPolicy(arn) && !a.policies.count(arn)) {
        return NoSuchEntity("Scope ARN: " + arn + " does not exist or is not attachable.");
      }
      it->second.boundary_arn = set ? arn : "";
      ch.Put(identity::UserKey(Acct(c), name), identity::ToJson(it->second));
      return Empty();
    });
  };
  on("PutUserPermissionsBoundary",
     [set_boundary](Call& c, const Json& in) { return set_boundary(c, in, true); });
  on("DeleteUserPermissionsBoundary",
     [set_boundary](Call& c, const Json& in) { return set_boundary(c, in, false); });
}

void RegisterGroups(Iam& iam, const Registrar& on) {
  on("CreateGroup", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("GroupName", "");
    std::string path = in.value("Path", "/");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      if (a.groups.count(ToLower(name))) {
        return EntityAlreadyExists("Group with name " + name + " already exists.");
      }
      GroupRecord g;
      g.name = name;
      g.path = path;
      g.id = identity::NewPrincipalId("AGPA");
      g.arn = IamArn(Acct(c), "group", path, name);
      g.created = iam.Now();
      ch.Put(identity::GroupKey(Acct(c), name), identity::ToJson(g));
      Json out{{"Group", GroupJson(g)}};
      a.groups[ToLower(name)] = std::move(g);
      return out;
    });
  });
  on("GetGroup", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("GroupName", "");
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      if (!a || !a->groups.count(ToLower(name))) return NoGroup(name);
      const GroupRecord& g = a->groups.at(ToLower(name));
      std::vector<const UserRecord*> members;
      for (const auto& [k, u] : a->users) {
        for (const auto& gn : u.groups) {
          if (ToLower(gn) == ToLower(name)) members.push_back(&u);
        }
      }
      Page page = Paginate(members.size(), in);
      Json users = Json::array();
      for (size_t i = page.begin; i < page.end; ++i) users.push_back(UserJson(*members[i], false));
      Json out{{"Group", GroupJson(g)}, {"Users", std::move(users)}};
      AddPage(out, page);
      return out;
    });
  });
  on("ListGroups", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string prefix = in.value("PathPrefix", "/");
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      std::vector<const GroupRecord*> groups;
      if (a) {
        for (const auto& [k, g] : a->groups) {
          if (StartsWith(g.path, prefix)) groups.push_back(&g);
        }
      }
      Page page = Paginate(groups.size(), in);
      Json list = Json::array();
      for (size_t i = page.begin; i < page.end; ++i) list.push_back(GroupJson(*groups[i]));
      Json out{{"Groups", std::move(list)}};
      AddPage(out, page);
      return out;
    });
  });
  on("UpdateGroup", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("GroupName", "");
    std::string new_name = in.value("NewGroupName", name);
    std::string new_path = in.value("NewPath", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      auto it = a.groups.find(ToLower(name));
      if (it == a.groups.end()) return NoGroup(name);
      if (ToLower(new_name) != ToLower(name) && a.groups.count(ToLower(new_name))) {
        return EntityAlreadyExists("Group with name " + new_name + " already exists.");
      }
      GroupRecord g = it->second;
      a.groups.erase(it);
      ch.Delete(identity::GroupKey(Acct(c), name));
      g.name = new_name;
      if (!new_path.empty()) g.path = new_path;
      g.arn = IamArn(Acct(c), "group", g.path, g.name);
      for (auto& [k, u] : a.users) {
        bool changed = false;
        for (auto& gn : u.groups) {
          if (ToLower(gn) == ToLower(name)) {
            gn = new_name;
            changed = true;
          }
        }
        if (changed) ch.Put(identity::UserKey(Acct(c), u.name), identity::ToJson(u));
      }
      ch.Put(identity::GroupKey(Acct(c), g.name), identity::ToJson(g));
      a.groups[ToLower(g.name)] = std::move(g);
      return Empty();
    });
  });
  on("DeleteGroup", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("GroupName", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      auto it = a.groups.find(ToLower(name));
      if (it == a.groups.end()) return NoGroup(name);
      for (const auto& [k, u] : a.users) {
        for (const auto& gn : u.groups) {
          if (ToLower(gn) == ToLower(name)) {
            return DeleteConflict("Cannot delete entity, must remove users from group first.");
          }
        }
      }
      if (!it->second.inline_policies.empty()) {
        return DeleteConflict("Cannot delete entity, must delete policies first.");
      }
      if (!it->second.attached.empty()) {
        return DeleteConflict("Cannot delete entity, must detach all policies first.");
      }
      ch.Delete(identity::GroupKey(Acct(c), name));
      a.groups.erase(it);
      return Empty();
    });
  });
  auto membership = [&iam](Call& c, const Json& in, bool add) -> Result<Json> {
    std::string group = in.value("GroupName", "");
    std::string user = in.value("UserName", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      auto git = a.groups.find(ToLower(group));
      if (git == a.groups.end()) return NoGroup(group);
      auto uit = a.users.find(ToLower(user));
      if (uit == a.users.end()) return NoUser(user);
      auto& groups = uit->second.groups;
      std::erase_if(groups, [&](const std::string& g) { return ToLower(g) == ToLower(group); });
      if (add) groups.push_back(git->second.name);
      ch.Put(identity::UserKey(Acct(c), user), identity::ToJson(uit->second));
      return Empty();
    });
  };
  on("AddUserToGroup", [membership](Call& c, const Json& in) { return membership(c, in, true); });
  on("RemoveUserFromGroup",
     [membership](Call& c, const Json& in) { return membership(c, in, false); });
  on("ListGroupsForUser", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("UserName", "");
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      if (!a || !a->users.count(ToLower(name))) return NoUser(name);
      Json list = Json::array();
      for (const auto& g : a->users.at(ToLower(name)).groups) {
        auto it = a->groups.find(ToLower(g));
        if (it != a->groups.end()) list.push_back(GroupJson(it->second));
      }
      return Json{{"Groups", std::move(list)}, {"IsTruncated", false}};
    });
  });
}

void RegisterKeys(Iam& iam, const Registrar& on) {
  on("CreateAccessKey", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = UserNameOr(c, in);
    if (name.empty()) {
      return InvalidInput("Root access keys are configured with --iam-root-access-key-id, not created through IAM.");
    }
    bool exists = iam.state.Read(Acct(c), [&](const AccountState* a) {
      return a && a->users.count(ToLower(name)) > 0;
    });
    if (!exists) return NoUser(name);
    if (iam.state.KeysOf(Acct(c), name).size() >= kMaxAccessKeysPerUser) {
      return LimitExceeded("Cannot exceed quota for AccessKeysPerUser: 2");
    }
    identity::Credentials creds = identity::NewCredentials("AKIA", false);
    AccessKeyRecord k;
    k.id = creds.access_key_id;
    k.secret = creds.secret_access_key;
    k.account = Acct(c);
    k.user_name = iam.state.Read(Acct(c), [&](const AccountState* a) {
      return a->users.at(ToLower(name)).name;
    });
    k.created = iam.Now();
    STRATUS_RETURN_IF_ERROR(iam.state.PutKey(k));
    return Json{{"AccessKey", Json{{"UserName", k.user_name}, {"AccessKeyId", k.id},
                                   {"Status", "Active"}, {"SecretAccessKey", k.secret},
                                   {"CreateDate", k.created}}}};
  });
  on("ListAccessKeys", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = UserNameOr(c, in);
    bool exists = iam.state.Read(Acct(c), [&](const AccountState* a) {
      return a && a->users.count(ToLower(name)) > 0;
    });
    if (!exists) return NoUser(name);
    Json list = Json::array();
    for (const auto& k : iam.state.KeysOf(Acct(c), name)) {
      list.push_back(Json{{"UserName", k.user_name}, {"AccessKeyId", k.id},
                          {"Status", k.active ? "Active" : "Inactive"}, {"CreateDate", k.created}});
    }
    return Json{{"AccessKeyMetadata", std::move(list)}, {"IsTruncated", false}};
  });
  auto find_key = [&iam](const Call& c, const Json& in) -> Result<AccessKeyRecord> {
    std::string id = in.value("AccessKeyId", "");
    auto k = iam.state.FindKey(id);
    std::string user = UserNameOr(c, in);
    if (!k || k->account != Acct(c) || (!user.empty() && ToLower(k->user_name) != ToLower(user))) {
      return NoSuchEntity("The Access Key with id " + id + " cannot be found.");
    }
    return *k;
  };
  on("UpdateAccessKey", [&iam, find_key](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(AccessKeyRecord k, find_key(c, in));
    k.active = in.value("Status", "Active") == "Active";
    STRATUS_RETURN_IF_ERROR(iam.state.PutKey(k));
    return Empty();
  });
  on("DeleteAccessKey", [&iam, find_key](Call& c, const Json& in) -> Result<Json> {
    STRATUS_ASSIGN_OR_RETURN(AccessKeyRecord k, find_key(c, in));
    STRATUS_RETURN_IF_ERROR(iam.state.DeleteKey(k.id));
    return Empty();
  });
  on("GetAccessKeyLastUsed", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string id = in.value("AccessKeyId", "");
    auto k = iam.state.FindKey(id);
    if (!k || k->account != Acct(c)) {
      return NoSuchEntity("The Access Key with id " + id + " cannot be found.");
    }
    Json used{{"ServiceName", k->last_used > 0 ? k->last_used_service : "N/A"},
              {"Region", k->last_used > 0 ? k->last_used_region : "N/A"}};
    if (k->last_used > 0) used["LastUsedDate"] = k->last_used;
    return Json{{"UserName", k->user_name}, {"AccessKeyLastUsed", std::move(used)}};
  });
}

void RegisterLogins(Iam& iam, const Registrar& on) {
  auto login = [&iam](Call& c, const Json& in, int mode) -> Result<Json> {
    // mode: 0 create, 1 get, 2 update, 3 delete
    std::string name = UserNameOr(c, in);
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      auto it = a.users.find(ToLower(name));
      if (it == a.users.end()) return NoUser(name);
      UserRecord& u = it->second;
      if (mode == 0 && u.login_password) {
        return EntityAlreadyExists("Login Profile for user " + name + " already exists.");
      }
      if (mode != 0 && !u.login_password) {
        return NoSuchEntity("Login Profile for User " + name + " cannot be found.");
      }
      Json profile{{"UserName", u.name}, {"CreateDate", u.created},
                   {"PasswordResetRequired", in.value("PasswordResetRequired", false)}};
      if (mode == 1) return Json{{"LoginProfile", profile}};
      if (mode == 3) {
        u.login_password.reset();
      } else if (in.contains("Password")) {
        u.login_password = in.value("Password", "");
      } else if (mode == 0) {
        u.login_password = "";
      }
      ch.Put(identity::UserKey(Acct(c), u.name), identity::ToJson(u));
      return mode == 0 ? Json{{"LoginProfile", profile}} : Empty();
    });
  };
  on("CreateLoginProfile", [login](Call& c, const Json& in) { return login(c, in, 0); });
  on("GetLoginProfile", [login](Call& c, const Json& in) { return login(c, in, 1); });
  on("UpdateLoginProfile", [login](Call& c, const Json& in) { return login(c, in, 2); });
  on("DeleteLoginProfile", [login](Call& c, const Json& in) { return login(c, in, 3); });
}

void RegisterAccount(Iam& iam, const Registrar& on) {
  on("CreateAccountAlias", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string alias = in.value("AccountAlias", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      a.alias = alias;
      ch.Put(identity::AccountPrefix(Acct(c)) + "alias", Json(alias));
      return Empty();
    });
  });
  on("DeleteAccountAlias", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string alias = in.value("AccountAlias", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      if (a.alias != alias) {
        return NoSuchEntity("The account alias " + alias + " cannot be found.");
      }
      a.alias.clear();
      ch.Delete(identity::AccountPrefix(Acct(c)) + "alias");
      return Empty();
    });
  });
  on("ListAccountAliases", [&iam](Call& c, const Json&) -> Result<Json> {
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      Json list = Json::array();
      if (a && !a->alias.empty()) list.push_back(a->alias);
      return Json{{"AccountAliases", std::move(list)}, {"IsTruncated", false}};
    });
  });
  on("GetAccountSummary", [&iam](Call& c, const Json&) -> Result<Json> {
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      auto n = [](size_t v) { return static_cast<int64_t>(v); };
      Json m{{"Users", a ? n(a->users.size()) : 0}, {"Groups", a ? n(a->groups.size()) : 0},
             {"Roles", a ? n(a->roles.size()) : 0}, {"Policies", a ? n(a->policies.size()) : 0},
             {"InstanceProfiles", a ? n(a->profiles.size()) : 0},
             {"Providers", a ? n(a->oidc.size() + a->saml.size()) : 0},
             {"UsersQuota", 5000}, {"GroupsQuota", 300}, {"RolesQuota", 1000},
             {"PoliciesQuota", 1500}, {"AccessKeysPerUserQuota", 2},
             {"AttachedPoliciesPerUserQuota", 10}, {"AttachedPoliciesPerRoleQuota", 10},
             {"AttachedPoliciesPerGroupQuota", 10}, {"PolicySizeQuota", 6144},
             {"UserPolicySizeQuota", 2048}, {"RolePolicySizeQuota", 10240},
             {"GroupPolicySizeQuota", 5120}, {"VersionsPerPolicyQuota", 5},
             {"AccountMFAEnabled", 0}, {"AccountAccessKeysPresent", 1}};
      return Json{{"SummaryMap", std::move(m)}};
    });
  });
}

}  // namespace

void RegisterUserHandlers(Iam& iam, const Registrar& on) {
  RegisterUsers(iam, on);
  RegisterGroups(iam, on);
  RegisterKeys(iam, on);
  RegisterLogins(iam, on);
  RegisterAccount(iam, on);
}

}  // namespace stratus::services::iam

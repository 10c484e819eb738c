// IAM handlers: managed policies and their versions, inline policies, attachments,
// GetAccountAuthorizationDetails and the policy simulator.
#include <algorithm>

#include "core/strings.h"
#include "services/iam/iam_common.h"

namespace stratus::services::iam {

namespace {

using Call = aws::CallContext;
namespace pol = identity::policy;

std::string Acct(const Call& c) { return c.caller.account_id; }
Json Empty() { return Json::object(); }
constexpr size_t kMaxVersions = 5;
constexpr size_t kMaxAttached = 10;

// The three kinds of entities policies attach to, handled alike.
enum class Kind { kUser, kGroup, kRole };
struct KindInfo {
  Kind kind;
  const char* member;   // "UserName"
  const char* noun;     // "user"
  size_t inline_limit;
  const char* quota;
};
constexpr KindInfo kUser{Kind::kUser, "UserName", "user", kUserInlineLimit, "PolicySize"};
constexpr KindInfo kGroup{Kind::kGroup, "GroupName", "group", kGroupInlineLimit, "PolicySize"};
constexpr KindInfo kRole{Kind::kRole, "RoleName", "role", kRoleInlineLimit, "PolicySize"};

// The inline map and attachment list of an entity, plus how to save it.
struct Entity {
  std::map<std::string, std::string>* inline_policies = nullptr;
  std::vector<std::string>* attached = nullptr;
  std::function<void(Changes&)> save;
};

Result<Entity> FindEntity(AccountState& a, const std::string& account, const KindInfo& k,
                          const std::string& name) {
  Entity e;
  std::string key = ToLower(name);
  switch (k.kind) {
    case Kind::kUser: {
      auto it = a.users.find(key);
      if (it == a.users.end()) break;
      e.inline_policies = &it->second.inline_policies;
      e.attached = &it->second.attached;
      e.save = [&r = it->second, account](Changes& ch) { ch.Put(identity::UserKey(account, r.name), identity::ToJson(r)); };
      return e;
    }
    case Kind::kGroup: {
      auto it = a.groups.find(key);
      if (it == a.groups.end()) break;
      e.inline_policies = &it->second.inline_policies;
      e.attached = &it->second.attached;
      e.save = [&r = it->second, account](Changes& ch) { ch.Put(identity::GroupKey(account, r.name), identity::ToJson(r)); };
      return e;
    }
    case Kind::kRole: {
      auto it = a.roles.find(key);
      if (it == a.roles.end()) break;
      e.inline_policies = &it->second.inline_policies;
      e.attached = &it->second.attached;
      e.save = [&r = it->second, account](Changes& ch) { ch.Put(identity::RoleKey(account, r.name), identity::ToJson(r)); };
      return e;
    }
  }
  return NoSuchEntity("The " + std::string(k.noun) + " with name " + name + " cannot be found.");
}

const ManagedPolicyRecord* FindManaged(const AccountState* a, const std::string& arn) {
  if (const auto* p = AwsManagedPolicy(arn)) return p;
  if (!a) return nullptr;
  auto it = a->policies.find(arn);
  return it == a->policies.end() ? nullptr : &it->second;
}

Error NoPolicy(const std::string& arn) {
  return NoSuchEntity("Policy " + arn + " does not exist or is not attachable.");
}

void RegisterInline(Iam& iam, const Registrar& on, const KindInfo& k, const std::string& noun) {
  on("Put" + noun + "Policy", [&iam, &k](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value(k.member, "");
    std::string policy = in.value("PolicyName", "");
    std::string doc = in.value("PolicyDocument", "");
    STRATUS_RETURN_IF_ERROR(CheckDocument(iam, doc, pol::PolicyKind::kIdentity, k.inline_limit, k.quota));
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(Entity e, FindEntity(a, Acct(c), k, name));
      (*e.inline_policies)[policy] = doc;
      e.save(ch);
      return Empty();
    });
  });
  on("Get" + noun + "Policy", [&iam, &k](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value(k.member, "");
    std::string policy = in.value("PolicyName", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes&) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(Entity e, FindEntity(a, Acct(c), k, name));
      auto it = e.inline_policies->find(policy);
      if (it == e.inline_policies->end()) {
        return NoSuchEntity("The " + std::string(k.noun) + " policy with name " + policy +
                            " cannot be found.");
      }
      return Json{{k.member, name}, {"PolicyName", policy},
                  {"PolicyDocument", UrlEncodeDocument(it->second)}};
    });
  });
  on("Delete" + noun + "Policy", [&iam, &k](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value(k.member, "");
    std::string policy = in.value("PolicyName", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(Entity e, FindEntity(a, Acct(c), k, name));
      if (!e.inline_policies->erase(policy)) {
        return NoSuchEntity("The " + std::string(k.noun) + " policy with name " + policy +
                            " cannot be found.");
      }
      e.save(ch);
      return Empty();
    });
  });
  on("List" + noun + "Policies", [&iam, &k](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value(k.member, "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes&) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(Entity e, FindEntity(a, Acct(c), k, name));
      Json names = Json::array();
      for (const auto& [n, d] : *e.inline_policies) names.push_back(n);
      return Json{{"PolicyNames", std::move(names)}, {"IsTruncated", false}};
    });
  });
  on("Attach" + noun + "Policy", [&iam, &k](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value(k.member, "");
    std::string arn = in.value("PolicyArn", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(Entity e, FindEntity(a, Acct(c), k, name));
      if (!FindManaged(&a, arn)) return NoPolicy(arn);
      if (std::find(e.attached->begin(), e.attached->end(), arn) != e.attached->end()) {
        return Empty();
      }
      if (e.attached->size() >= kMaxAttached) {
        return LimitExceeded("Cannot exceed quota for PoliciesPer" +
                             std::string(k.kind == Kind::kUser ? "User" : k.kind == Kind::kGroup ? "Group" : "Role") +
                             ": 10");
      }
      e.attached->push_back(arn);
      e.save(ch);
      return Empty();
    });
  });
  on("Detach" + noun + "Policy", [&iam, &k](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value(k.member, "");
    std::string arn = in.value("PolicyArn", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(Entity e, FindEntity(a, Acct(c), k, name));
      auto it = std::find(e.attached->begin(), e.attached->end(), arn);
      if (it == e.attached->end()) return NoSuchEntity("Policy " + arn + " was not found.");
      e.attached->erase(it);
      e.save(ch);
      return Empty();
    });
  });
  on("ListAttached" + noun + "Policies", [&iam, &k](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value(k.member, "");
    std::string prefix = in.value("PathPrefix", "/");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes&) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(Entity e, FindEntity(a, Acct(c), k, name));
      Json list = Json::array();
      for (const auto& arn : *e.attached) {
        const ManagedPolicyRecord* p = FindManaged(&a, arn);
        if (p && StartsWith(p->path, prefix)) {
          list.push_back(Json{{"PolicyName", p->name}, {"PolicyArn", arn}});
        }
      }
      return Json{{"AttachedPolicies", std::move(list)}, {"IsTruncated", false}};
    });
  });
}

Json VersionJson(const identity::PolicyVersion& v, bool is_default, bool with_document) {
  Json j = Json::object();
  if (with_document) j["Document"] = UrlEncodeDocument(v.document);
  j["VersionId"] = v.id;
  j["IsDefaultVersion"] = is_default;
  j["CreateDate"] = v.created;
  return j;
}

void RegisterManaged(Iam& iam, const Registrar& on) {
  on("CreatePolicy", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("PolicyName", "");
    std::string path = in.value("Path", "/");
    std::string doc = in.value("PolicyDocument", "");
    STRATUS_RETURN_IF_ERROR(CheckDocument(iam, doc, pol::PolicyKind::kIdentity, kManagedLimit, "PolicySize"));
    std::string arn = IamArn(Acct(c), "policy", path, name);
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      for (const auto& [parn, p] : a.policies) {
        if (p.name == name) {
          return EntityAlreadyExists("A policy called " + name + " already exists. Duplicate names are not allowed.");
        }
      }
      ManagedPolicyRecord p;
      p.name = name;
      p.path = path;
      p.arn = arn;
      p.id = identity::NewPrincipalId("ANPA");
      p.description = in.value("Description", "");
      p.created = p.updated = iam.Now();
      p.versions.push_back(identity::PolicyVersion{"v1", doc, p.created});
      p.tags = TagsFromInput(in);
      ch.Put(identity::PolicyKey(Acct(c), arn), identity::ToJson(p));
      Json out{{"Policy", PolicyJson(p, 0)}};
      a.policies[arn] = std::move(p);
      return out;
    });
  });
  on("GetPolicy", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string arn = in.value("PolicyArn", "");
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      const ManagedPolicyRecord* p = FindManaged(a, arn);
      if (!p) return NoSuchEntity("Policy " + arn + " was not found.");
      return Json{{"Policy", PolicyJson(*p, a ? AttachmentCount(*a, arn) : 0)}};
    });
  });
  on("ListPolicies", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string scope = in.value("Scope", "All");
    bool only_attached = in.value("OnlyAttached", false);
    std::string prefix = in.value("PathPrefix", "/");
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      std::vector<std::pair<const ManagedPolicyRecord*, int>> items;
      auto consider = [&](const ManagedPolicyRecord& p) {
        int n = a ? AttachmentCount(*a, p.arn) : 0;
        if ((only_attached && n == 0) || !StartsWith(p.path, prefix)) return;
        items.emplace_back(&p, n);
      };
      if (scope != "Local") {
        for (const auto* p : AwsManagedPolicies()) consider(*p);
      }
      if (scope != "AWS" && a) {
        for (const auto& [arn, p] : a->policies) consider(p);
      }
      Page page = Paginate(items.size(), in);
      Json list = Json::array();
      for (size_t i = page.begin; i < page.end; ++i) {
        list.push_back(PolicyJson(*items[i].first, items[i].second, false));
      }
      Json out{{"Policies", std::move(list)}};
      AddPage(out, page);
      return out;
    });
  });
  on("DeletePolicy", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string arn = in.value("PolicyArn", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      auto it = a.policies.find(arn);
      if (it == a.policies.end()) return NoSuchEntity("Policy " + arn + " was not found.");
      if (AttachmentCount(a, arn) > 0 || BoundaryCount(a, arn) > 0) {
        return DeleteConflict("Cannot delete a policy attached to entities.");
      }
      if (it->second.versions.size() > 1) {
        return DeleteConflict("Cannot delete a policy with non-default versions; delete them first.");
      }
      ch.Delete(identity::PolicyKey(Acct(c), arn));
      a.policies.erase(it);
      return Empty();
    });
  });
  on("CreatePolicyVersion", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string arn = in.value("PolicyArn", "");
    std::string doc = in.value("PolicyDocument", "");
    STRATUS_RETURN_IF_ERROR(CheckDocument(iam, doc, pol::PolicyKind::kIdentity, kManagedLimit, "PolicySize"));
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      auto it = a.policies.find(arn);
      if (it == a.policies.end()) return NoSuchEntity("Policy " + arn + " was not found.");
      ManagedPolicyRecord& p = it->second;
      if (p.versions.size() >= kMaxVersions) {
        return LimitExceeded("A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.");
      }
      identity::PolicyVersion v{"v" + std::to_string(p.next_version++), doc, iam.Now()};
      bool make_default = in.value("SetAsDefault", false);
      if (make_default) p.default_version = v.id;
      p.updated = v.created;
      p.versions.push_back(v);
      ch.Put(identity::PolicyKey(Acct(c), arn), identity::ToJson(p));
      return Json{{"PolicyVersion", VersionJson(v, make_default, false)}};
    });
  });
  on("GetPolicyVersion", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string arn = in.value("PolicyArn", "");
    std::string id = in.value("VersionId", "");
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      const ManagedPolicyRecord* p = FindManaged(a, arn);
      if (!p) return NoSuchEntity("Policy " + arn + " was not found.");
      for (const auto& v : p->versions) {
        if (v.id == id) return Json{{"PolicyVersion", VersionJson(v, v.id == p->default_version, true)}};
      }
      return NoSuchEntity("Policy " + arn + " version " + id + " does not exist or is not attachable.");
    });
  });
  on("ListPolicyVersions", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string arn = in.value("PolicyArn", "");
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      const ManagedPolicyRecord* p = FindManaged(a, arn);
      if (!p) return NoSuchEntity("Policy " + arn + " was not found.");
      Json list = Json::array();
      for (auto it = p->versions.rbegin(); it != p->versions.rend(); ++it) {
        list.push_back(VersionJson(*it, it->id == p->default_version, false));
      }
      return Json{{"Versions", std::move(list)}, {"IsTruncated", false}};
    });
  });
  on("DeletePolicyVersion", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string arn = in.value("PolicyArn", "");
    std::string id = in.value("VersionId", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      auto it = a.policies.find(arn);
      if (it == a.policies.end()) return NoSuchEntity("Policy " + arn + " was not found.");
      ManagedPolicyRecord& p = it->second;
      if (p.default_version == id) {
        return DeleteConflict("Cannot delete the default version of a policy.");
      }
      auto before = p.versions.size();
      std::erase_if(p.versions, [&](const auto& v) { return v.id == id; });
      if (p.versions.size() == before) {
        return NoSuchEntity("Policy " + arn + " version " + id + " does not exist or is not attachable.");
      }
      ch.Put(identity::PolicyKey(Acct(c), arn), identity::ToJson(p));
      return Empty();
    });
  });
  on("SetDefaultPolicyVersion", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string arn = in.value("PolicyArn", "");
    std::string id = in.value("VersionId", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      auto it = a.policies.find(arn);
      if (it == a.policies.end()) return NoSuchEntity("Policy " + arn + " was not found.");
      ManagedPolicyRecord& p = it->second;
      bool found = std::any_of(p.versions.begin(), p.versions.end(), [&](const auto& v) { return v.id == id; });
      if (!found) {
        return NoSuchEntity("Policy " + arn + " version " + id + " does not exist or is not attachable.");
      }
      p.default_version = id;
      p.updated = iam.Now();
      ch.Put(identity::PolicyKey(Acct(c), arn), identity::ToJson(p));
      return Empty();
    });
  });
  auto tag_policy = [&iam](Call& c, const Json& in, bool add) -> Result<Json> {
    std::string arn = in.value("PolicyArn", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      auto it = a.policies.find(arn);
      if (it == a.policies.end()) return NoSuchEntity("Policy " + arn + " was not found.");
      if (add) {
        STRATUS_RETURN_IF_ERROR(MergeTags(it->second.tags, TagsFromInput(in)));
      } else {
        RemoveTags(it->second.tags, in.value("TagKeys", Json::array()));
      }
      ch.Put(identity::PolicyKey(Acct(c), arn), identity::ToJson(it->second));
      return Empty();
    });
  };
  on("TagPolicy", [tag_policy](Call& c, const Json& in) { return tag_policy(c, in, true); });
  on("UntagPolicy", [tag_policy](Call& c, const Json& in) { return tag_policy(c, in, false); });
  on("ListPolicyTags", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string arn = in.value("PolicyArn", "");
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      const ManagedPolicyRecord* p = FindManaged(a, arn);
      if (!p) return NoSuchEntity("Policy " + arn + " was not found.");
      return Json{{"Tags", TagsJson(p->tags)}, {"IsTruncated", false}};
    });
  });
  on("ListEntitiesForPolicy", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string arn = in.value("PolicyArn", "");
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      if (!FindManaged(a, arn)) return NoSuchEntity("Policy " + arn + " was not found.");
      Json users = Json::array(), groups = Json::array(), roles = Json::array();
      auto has = [&](const std::vector<std::string>& v) {
        return std::find(v.begin(), v.end(), arn) != v.end();
      };
      if (a) {
        for (const auto& [k, u] : a->users) {
          if (has(u.attached)) users.push_back(Json{{"UserName", u.name}, {"UserId", u.id}});
        }
        for (const auto& [k, g] : a->groups) {
          if (has(g.attached)) groups.push_back(Json{{"GroupName", g.name}, {"GroupId", g.id}});
        }
        for (const auto& [k, r] : a->roles) {
          if (has(r.attached)) roles.push_back(Json{{"RoleName", r.name}, {"RoleId", r.id}});
        }
      }
      return Json{{"PolicyGroups", std::move(groups)}, {"PolicyUsers", std::move(users)},
                  {"PolicyRoles", std::move(roles)}, {"IsTruncated", false}};
    });
  });
}

Json InlineList(const std::map<std::string, std::string>& policies) {
  Json list = Json::array();
  for (const auto& [n, d] : policies) {
    list.push_back(Json{{"PolicyName", n}, {"PolicyDocument", UrlEncodeDocument(d)}});
  }
  return list;
}

Json AttachedList(const AccountState& a, const std::vector<std::string>& arns) {
  Json list = Json::array();
  for (const auto& arn : arns) {
    const ManagedPolicyRecord* p = FindManaged(&a, arn);
    list.push_back(Json{{"PolicyName", p ? p->name : identity::NameFromArn(arn)}, {"PolicyArn", arn}});
  }
  return list;
}

void RegisterDetails(Iam& iam, const Registrar& on) {
  on("GetAccountAuthorizationDetails", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::vector<std::string> filter;
    for (const auto& f : in.value("Filter", Json::array())) filter.push_back(f);
    auto want = [&](const char* kind) {
      return filter.empty() || std::find(filter.begin(), filter.end(), kind) != filter.end();
    };
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      Json users = Json::array(), groups = Json::array(), roles = Json::array(),
           policies = Json::array();
      if (a) {
        if (want("User")) {
          for (const auto& [k, u] : a->users) {
            Json j = UserJson(u, false);
            j["UserPolicyList"] = InlineList(u.inline_policies);
            j["GroupList"] = u.groups;
            j["AttachedManagedPolicies"] = AttachedList(*a, u.attached);
            j["Tags"] = TagsJson(u.tags);
            users.push_back(std::move(j));
          }
        }
        if (want("Group")) {
          for (const auto& [k, g] : a->groups) {
            Json j = GroupJson(g);
            j["GroupPolicyList"] = InlineList(g.inline_policies);
            j["AttachedManagedPolicies"] = AttachedList(*a, g.attached);
            groups.push_back(std::move(j));
          }
        }
        if (want("Role")) {
          for (const auto& [k, r] : a->roles) {
            Json j = RoleJson(r, true);
            j["RolePolicyList"] = InlineList(r.inline_policies);
            j["AttachedManagedPolicies"] = AttachedList(*a, r.attached);
            Json profiles = Json::array();
            for (const auto& [pk, p] : a->profiles) {
              if (std::find(p.roles.begin(), p.roles.end(), r.name) != p.roles.end()) {
                profiles.push_back(ProfileJson(p, *a));
              }
            }
            j["InstanceProfileList"] = std::move(profiles);
            roles.push_back(std::move(j));
          }
        }
        if (want("LocalManagedPolicy")) {
          for (const auto& [arn, p] : a->policies) {
            Json j = PolicyJson(p, AttachmentCount(*a, arn), false);
            Json versions = Json::array();
            for (const auto& v : p.versions) versions.push_back(VersionJson(v, v.id == p.default_version, true));
            j["PolicyVersionList"] = std::move(versions);
            policies.push_back(std::move(j));
          }
        }
      }
      return Json{{"UserDetailList", std::move(users)}, {"GroupDetailList", std::move(groups)},
                  {"RoleDetailList", std::move(roles)}, {"Policies", std::move(policies)},
                  {"IsTruncated", false}};
    });
  });
}

}  // namespace

void RegisterSimulateHandlers(Iam& iam, const Registrar& on);  // iam_simulate.cc

void RegisterPolicyHandlers(Iam& iam, const Registrar& on) {
  RegisterInline(iam, on, kUser, "User");
  RegisterInline(iam, on, kGroup, "Group");
  RegisterInline(iam, on, kRole, "Role");
  RegisterManaged(iam, on);
  RegisterDetails(iam, on);
  RegisterSimulateHandlers(iam, on);
}

}  // namespace stratus::services::iam

// IAM handlers: roles, instance profiles, OpenID Connect and SAML providers.
#include "core/strings.h"
#include "services/iam/iam_common.h"

namespace stratus::services::iam {

namespace {

using Call = aws::CallContext;
namespace pol = identity::policy;

std::string Acct(const Call& c) { return c.caller.account_id; }
Json Empty() { return Json::object(); }

Error NoRole(const std::string& name) {
  return NoSuchEntity("The role with name " + name + " cannot be found.");
}
Error NoProfile(const std::string& name) {
  return NoSuchEntity("Instance Profile " + name + " cannot be found.");
}

// Runs `fn(RoleRecord&)` on an existing role and saves it.
Result<Json> UpdateRole(Iam& iam, const Call& c, const std::string& name,
                        const std::function<Status(AccountState&, RoleRecord&)>& fn) {
  return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
    auto it = a.roles.find(ToLower(name));
    if (it == a.roles.end()) return NoRole(name);
    STRATUS_RETURN_IF_ERROR(fn(a, it->second));
    ch.Put(identity::RoleKey(Acct(c), it->second.name), identity::ToJson(it->second));
    return Empty();
  });
}

void RegisterRoles(Iam& iam, const Registrar& on) {
  on("CreateRole", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("RoleName", "");
    std::string path = in.value("Path", "/");
    std::string trust = in.value("AssumeRolePolicyDocument", "");
    STRATUS_RETURN_IF_ERROR(CheckDocument(iam, trust, pol::PolicyKind::kTrust, kTrustLimit,
                                          "ACLSizePerRole"));
    std::string boundary = in.value("PermissionsBoundary", "");
    identity::Tags tags = TagsFromInput(in);
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      if (a.roles.count(ToLower(name))) {
        return EntityAlreadyExists("Role with name " + name + " already exists.");
      }
      if (!boundary.empty() && !AwsManagedPolicy(boundary) && !a.policies.count(boundary)) {
        return NoSuchEntity("Scope ARN: " + boundary + " does not exist or is not attachable.");
      }
      RoleRecord r;
      r.name = name;
      r.path = path;
      r.id = identity::NewPrincipalId("AROA");
      r.arn = IamArn(Acct(c), "role", path, name);
      r.created = iam.Now();
      r.trust_policy = trust;
      r.description = in.value("Description", "");
      r.max_session_seconds = in.value("MaxSessionDuration", int64_t{3600});
      r.boundary_arn = boundary;
      STRATUS_RETURN_IF_ERROR(MergeTags(r.tags, tags));
      ch.Put(identity::RoleKey(Acct(c), name), identity::ToJson(r));
      Json role = RoleJson(r, false);
      if (!r.tags.empty()) role["Tags"] = TagsJson(r.tags);
      a.roles[ToLower(name)] = std::move(r);
      return Json{{"Role", std::move(role)}};
    });
  });
  on("GetRole", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("RoleName", "");
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      if (!a || !a->roles.count(ToLower(name))) return NoRole(name);
      return Json{{"Role", RoleJson(a->roles.at(ToLower(name)))}};
    });
  });
  on("ListRoles", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string prefix = in.value("PathPrefix", "/");
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      std::vector<const RoleRecord*> roles;
      if (a) {
        for (const auto& [k, r] : a->roles) {
          if (StartsWith(r.path, prefix)) roles.push_back(&r);
        }
      }
      Page page = Paginate(roles.size(), in);
      Json list = Json::array();
      for (size_t i = page.begin; i < page.end; ++i) list.push_back(RoleJson(*roles[i], false));
      Json out{{"Roles", std::move(list)}};
      AddPage(out, page);
      return out;
    });
  });
  on("DeleteRole", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("RoleName", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      auto it = a.roles.find(ToLower(name));
      if (it == a.roles.end()) return NoRole(name);
      if (!it->second.inline_policies.empty()) {
        return DeleteConflict("Cannot delete entity, must delete policies first.");
      }
      if (!it->second.attached.empty()) {
        return DeleteConflict("Cannot delete entity, must detach all policies first.");
      }
      for (const auto& [k, p] : a.profiles) {
        for (const auto& r : p.roles) {
          if (ToLower(r) == ToLower(name)) {
            return DeleteConflict("Cannot delete entity, must remove roles from instance profile first.");
          }
        }
      }
      ch.Delete(identity::RoleKey(Acct(c), name));
      a.roles.erase(it);
      return Empty();
    });
  });
  on("UpdateRole", [&iam](Call& c, const Json& in) -> Result<Json> {
    return UpdateRole(iam, c, in.value("RoleName", ""), [&](AccountState&, RoleRecord& r) {
      if (in.contains("Description")) r.description = in.value("Description", "");
      if (in.contains("MaxSessionDuration")) {
        r.max_session_seconds = in.value("MaxSessionDuration", int64_t{3600});
      }
      return Status::Ok();
    });
  });
  on("UpdateRoleDescription", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("RoleName", "");
    STRATUS_RETURN_IF_ERROR(UpdateRole(iam, c, name, [&](AccountState&, RoleRecord& r) {
      r.description = in.value("Description", "");
      return Status::Ok();
    }));
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      return Json{{"Role", RoleJson(a->roles.at(ToLower(name)))}};
    });
  });
  on("UpdateAssumeRolePolicy", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string doc = in.value("PolicyDocument", "");
    STRATUS_RETURN_IF_ERROR(CheckDocument(iam, doc, pol::PolicyKind::kTrust, kTrustLimit,
                                          "ACLSizePerRole"));
    return UpdateRole(iam, c, in.value("RoleName", ""), [&](AccountState&, RoleRecord& r) {
      r.trust_policy = doc;
      return Status::Ok();
    });
  });
  on("TagRole", [&iam](Call& c, const Json& in) -> Result<Json> {
    return UpdateRole(iam, c, in.value("RoleName", ""), [&](AccountState&, RoleRecord& r) {
      return MergeTags(r.tags, TagsFromInput(in));
    });
  });
  on("UntagRole", [&iam](Call& c, const Json& in) -> Result<Json> {
    return UpdateRole(iam, c, in.value("RoleName", ""), [&](AccountState&, RoleRecord& r) {
      RemoveTags(r.tags, in.value("TagKeys", Json::array()));
      return Status::Ok();
    });
  });
  on("ListRoleTags", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("RoleName", "");
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      if (!a || !a->roles.count(ToLower(name))) return NoRole(name);
      return Json{{"Tags", TagsJson(a->roles.at(ToLower(name)).tags)}, {"IsTruncated", false}};
    });
  });
  on("PutRolePermissionsBoundary", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string arn = in.value("PermissionsBoundary", "");
    return UpdateRole(iam, c, in.value("RoleName", ""), [&](AccountState& a, RoleRecord& r) -> Status {
      if (!AwsManagedPolicy(arn) && !a.policies.count(arn)) {
        return NoSuchEntity("Scope ARN: " + arn + " does not exist or is not attachable.");
      }
      r.boundary_arn = arn;
      return Status::Ok();
    });
  });
  on("DeleteRolePermissionsBoundary", [&iam](Call& c, const Json& in) -> Result<Json> {
    return UpdateRole(iam, c, in.value("RoleName", ""), [&](AccountState&, RoleRecord& r) {
      r.boundary_arn.clear();
      return Status::Ok();
    });
  });
}

void RegisterProfiles(Iam& iam, const Registrar& on) {
  on("CreateInstanceProfile", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("InstanceProfileName", "");
    std::string path = in.value("Path", "/");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      if (a.profiles.count(ToLower(name))) {
        return EntityAlreadyExists("Instance Profile " + name + " already exists.");
      }
      InstanceProfileRecord p;
      p.name = name;
      p.path = path;
      p.id = identity::NewPrincipalId("AIPA");
      p.arn = IamArn(Acct(c), "instance-profile", path, name);
      p.created = iam.Now();
      p.tags = TagsFromInput(in);
      ch.Put(identity::ProfileKey(Acct(c), name), identity::ToJson(p));
      Json out{{"InstanceProfile", ProfileJson(p, a)}};
      a.profiles[ToLower(name)] = std::move(p);
      return out;
    });
  });
  on("GetInstanceProfile", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("InstanceProfileName", "");
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      if (!a || !a->profiles.count(ToLower(name))) return NoProfile(name);
      return Json{{"InstanceProfile", ProfileJson(a->profiles.at(ToLower(name)), *a)}};
    });
  });
  auto list = [&iam](Call& c, const Json& in, const std::string& role) -> Result<Json> {
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      if (!role.empty() && (!a || !a->roles.count(ToLower(role)))) return NoRole(role);
      Json items = Json::array();
      if (a) {
        for (const auto& [k, p] : a->profiles) {
          bool has = role.empty();
          for (const auto& r : p.roles) has = has || ToLower(r) == ToLower(role);
          if (has) items.push_back(ProfileJson(p, *a));
        }
      }
      return Json{{"InstanceProfiles", std::move(items)}, {"IsTruncated", false}};
    });
  };
  on("ListInstanceProfiles", [list](Call& c, const Json& in) { return list(c, in, ""); });
  on("ListInstanceProfilesForRole",
     [list](Call& c, const Json& in) { return list(c, in, in.value("RoleName", "")); });
  on("DeleteInstanceProfile", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("InstanceProfileName", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      auto it = a.profiles.find(ToLower(name));
      if (it == a.profiles.end()) return NoProfile(name);
      if (!it->second.roles.empty()) {
        return DeleteConflict("Cannot delete entity, must remove roles from instance profile first.");
      }
      ch.Delete(identity::ProfileKey(Acct(c), name));
      a.profiles.erase(it);
      return Empty();
    });
  });
  auto membership = [&iam](Call& c, const Json& in, bool add) -> Result<Json> {
    std::string name = in.value("InstanceProfileName", "");
    std::string role = in.value("RoleName", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      auto it = a.profiles.find(ToLower(name));
      if (it == a.profiles.end()) return NoProfile(name);
      if (!a.roles.count(ToLower(role))) return NoRole(role);
      auto& roles = it->second.roles;
      if (add && !roles.empty()) {
        return LimitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1");
      }
      std::erase_if(roles, [&](const std::string& r) { return ToLower(r) == ToLower(role); });
      if (add) roles.push_back(a.roles.at(ToLower(role)).name);
      ch.Put(identity::ProfileKey(Acct(c), name), identity::ToJson(it->second));
      return Empty();
    });
  };
  on("AddRoleToInstanceProfile", [membership](Call& c, const Json& in) { return membership(c, in, true); });
  on("RemoveRoleFromInstanceProfile",
     [membership](Call& c, const Json& in) { return membership(c, in, false); });
}

std::string StripScheme(std::string url) {
  if (StartsWith(url, "https://")) url = url.substr(8);
  if (StartsWith(url, "http://")) url = url.substr(7);
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

void RegisterProviders(Iam& iam, const Registrar& on) {
  on("CreateOpenIDConnectProvider", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string url = StripScheme(in.value("Url", ""));
    std::string arn = "arn:aws:iam::" + Acct(c) + ":oidc-provider/" + url;
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      if (a.oidc.count(arn)) {
        return EntityAlreadyExists("Provider with url " + in.value("Url", "") + " already exists.");
      }
      OidcProviderRecord p;
      p.arn = arn;
      p.url = url;
      for (const auto& id : in.value("ClientIDList", Json::array())) p.client_ids.push_back(id);
      for (const auto& t : in.value("ThumbprintList", Json::array())) p.thumbprints.push_back(t);
      p.created = iam.Now();
      p.tags = TagsFromInput(in);
      ch.Put(identity::OidcKey(Acct(c), arn), identity::ToJson(p));
      a.oidc[arn] = std::move(p);
      Json out{{"OpenIDConnectProviderArn", arn}};
      if (!a.oidc[arn].tags.empty()) out["Tags"] = TagsJson(a.oidc[arn].tags);
      return out;
    });
  });
  auto no_oidc = [](const std::string& arn) {
    return NoSuchEntity("OpenIDConnect Provider not found for arn " + arn);
  };
  on("GetOpenIDConnectProvider", [&iam, no_oidc](Call& c, const Json& in) -> Result<Json> {
    std::string arn = in.value("OpenIDConnectProviderArn", "");
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      if (!a || !a->oidc.count(arn)) return no_oidc(arn);
      const auto& p = a->oidc.at(arn);
      return Json{{"Url", p.url}, {"ClientIDList", p.client_ids},
                  {"ThumbprintList", p.thumbprints}, {"CreateDate", p.created},
                  {"Tags", TagsJson(p.tags)}};
    });
  });
  on("ListOpenIDConnectProviders", [&iam](Call& c, const Json&) -> Result<Json> {
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      Json list = Json::array();
      if (a) {
        for (const auto& [arn, p] : a->oidc) list.push_back(Json{{"Arn", arn}});
      }
      return Json{{"OpenIDConnectProviderList", std::move(list)}};
    });
  });
  auto update_oidc = [&iam, no_oidc](Call& c, const Json& in,
                                     const std::function<void(OidcProviderRecord&)>& fn) -> Result<Json> {
    std::string arn = in.value("OpenIDConnectProviderArn", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      auto it = a.oidc.find(arn);
      if (it == a.oidc.end()) return no_oidc(arn);
      fn(it->second);
      ch.Put(identity::OidcKey(Acct(c), arn), identity::ToJson(it->second));
      return Empty();
    });
  };
  on("AddClientIDToOpenIDConnectProvider", [update_oidc](Call& c, const Json& in) {
    return update_oidc(c, in, [&](OidcProviderRecord& p) {
      std::string id = in.value("ClientID", "");
      if (std::find(p.client_ids.begin(), p.client_ids.end(), id) == p.client_ids.end()) {
        p.client_ids.push_back(id);
      }
    });
  });
  on("RemoveClientIDFromOpenIDConnectProvider", [update_oidc](Call& c, const Json& in) {
    return update_oidc(c, in, [&](OidcProviderRecord& p) {
      std::erase(p.client_ids, in.value("ClientID", ""));
    });
  });
  on("UpdateOpenIDConnectProviderThumbprint", [update_oidc](Call& c, const Json& in) {
    return update_oidc(c, in, [&](OidcProviderRecord& p) {
      p.thumbprints.clear();
      for (const auto& t : in.value("ThumbprintList", Json::array())) p.thumbprints.push_back(t);
    });
  });
  on("DeleteOpenIDConnectProvider", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string arn = in.value("OpenIDConnectProviderArn", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      if (a.oidc.erase(arn)) ch.Delete(identity::OidcKey(Acct(c), arn));
      return Empty();  // AWS does not fail for an absent provider
    });
  });

  on("CreateSAMLProvider", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string name = in.value("Name", "");
    std::string arn = "arn:aws:iam::" + Acct(c) + ":saml-provider/" + name;
    std::string metadata = in.value("SAMLMetadataDocument", "");
    if (metadata.find("EntityDescriptor") == std::string::npos) {
      return InvalidInput("Could not parse metadata");
    }
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      if (a.saml.count(arn)) return EntityAlreadyExists("SAMLProvider " + name + " already exists");
      SamlProviderRecord p;
      p.arn = arn;
      p.name = name;
      p.metadata = metadata;
      p.created = iam.Now();
      p.valid_until = p.created + 100.0 * 365 * 86400;
      p.tags = TagsFromInput(in);
      ch.Put(identity::SamlKey(Acct(c), arn), identity::ToJson(p));
      a.saml[arn] = std::move(p);
      return Json{{"SAMLProviderArn", arn}};
    });
  });
  on("GetSAMLProvider", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string arn = in.value("SAMLProviderArn", "");
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      if (!a || !a->saml.count(arn)) return NoSuchEntity("Manifest not found for arn " + arn);
      const auto& p = a->saml.at(arn);
      return Json{{"SAMLMetadataDocument", p.metadata}, {"CreateDate", p.created},
                  {"ValidUntil", p.valid_until}, {"Tags", TagsJson(p.tags)}};
    });
  });
  on("ListSAMLProviders", [&iam](Call& c, const Json&) -> Result<Json> {
    return iam.state.Read(Acct(c), [&](const AccountState* a) -> Result<Json> {
      Json list = Json::array();
      if (a) {
        for (const auto& [arn, p] : a->saml) {
          list.push_back(Json{{"Arn", arn}, {"ValidUntil", p.valid_until}, {"CreateDate", p.created}});
        }
      }
      return Json{{"SAMLProviderList", std::move(list)}};
    });
  });
  on("UpdateSAMLProvider", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string arn = in.value("SAMLProviderArn", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      auto it = a.saml.find(arn);
      if (it == a.saml.end()) return NoSuchEntity("Manifest not found for arn " + arn);
      if (in.contains("SAMLMetadataDocument")) it->second.metadata = in.value("SAMLMetadataDocument", "");
      ch.Put(identity::SamlKey(Acct(c), arn), identity::ToJson(it->second));
      return Json{{"SAMLProviderArn", arn}};
    });
  });
  on("DeleteSAMLProvider", [&iam](Call& c, const Json& in) -> Result<Json> {
    std::string arn = in.value("SAMLProviderArn", "");
    return iam.state.Mutate<Json>(Acct(c), [&](AccountState& a, Changes& ch) -> Result<Json> {
      if (!a.saml.erase(arn)) return NoSuchEntity("Manifest not found for arn " + arn);
      ch.Delete(identity::SamlKey(Acct(c), arn));
      return Empty();
    });
  });
}

}  // namespace

void RegisterRoleHandlers(Iam& iam, const Registrar& on) {
  RegisterRoles(iam, on);
  RegisterProfiles(iam, on);
  RegisterProviders(iam, on);
}

}  // namespace stratus::services::iam

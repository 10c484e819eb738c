#include "services/iam/iam_common.h"

#include <cctype>

#include "core/strings.h"

namespace stratus::services::iam {

namespace pol = identity::policy;

Error NoSuchEntity(std::string message) { return Error("NoSuchEntity", std::move(message), 404); }
Error EntityAlreadyExists(std::string message) {
  return Error("EntityAlreadyExists", std::move(message), 409);
}
Error DeleteConflict(std::string message) { return Error("DeleteConflict", std::move(message), 409); }
Error InvalidInput(std::string message) { return Error("InvalidInput", std::move(message), 400); }
Error LimitExceeded(std::string message) { return Error("LimitExceeded", std::move(message), 409); }
Error Malformed(std::string message) {
  return Error("MalformedPolicyDocument", std::move(message), 400);
}

std::string UrlEncodeDocument(std::string_view document) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(document.size() * 2);
  for (unsigned char c : document) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Status CheckPath(const std::string& path) {
  if (path.empty() || path.front() != '/' || path.back() != '/') {
    return Error("ValidationError", "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.");
  }
  return Status::Ok();
}

Status CheckDocument(Iam& iam, const std::string& document, pol::PolicyKind kind, size_t limit,
                     std::string_view quota) {
  size_t size = 0;
  for (char c : document) {
    if (!std::isspace(static_cast<unsigned char>(c))) ++size;
  }
  if (size > limit) {
    return LimitExceeded("Cannot exceed quota for " + std::string(quota) + ": " +
                         std::to_string(limit));
  }
  auto parsed = iam.cache.Get(document, kind);
  if (!parsed.ok()) return parsed.error();
  return Status::Ok();
}

Json TagsJson(const identity::Tags& tags) {
  Json a = Json::array();
  for (const auto& [k, v] : tags) a.push_back(Json{{"Key", k}, {"Value", v}});
  return a;
}

identity::Tags TagsFromInput(const Json& input, std::string_view member) {
  identity::Tags tags;
  auto it = input.find(std::string(member));
  if (it == input.end() || !it->is_array()) return tags;
  for (const auto& t : *it) tags.emplace_back(t.value("Key", ""), t.value("Value", ""));
  return tags;
}

Status MergeTags(identity::Tags& tags, const identity::Tags& add) {
  for (const auto& [k, v] : add) {
    bool replaced = false;
    for (auto& [ek, ev] : tags) {
      if (ToLower(ek) == ToLower(k)) {
        ev = v;
        replaced = true;
      }
    }
    if (!replaced) tags.emplace_back(k, v);
  }
  if (tags.size() > 50) {
    return LimitExceeded("The number of tags has reached the maximum limit.");
  }
  return Status::Ok();
}

void RemoveTags(identity::Tags& tags, const Json& keys) {
  if (!keys.is_array()) return;
  for (const auto& k : keys) {
    if (!k.is_string()) continue;
    std::string key = ToLower(k.get<std::string>());
    std::erase_if(tags, [&](const auto& t) { return ToLower(t.first) == key; });
  }
}

Json UserJson(const UserRecord& u, bool with_tags) {
  Json j{{"Path", u.path}, {"UserName", u.name}, {"UserId", u.id}, {"Arn", u.arn},
         {"CreateDate", u.created}};
  if (u.password_last_used > 0) j["PasswordLastUsed"] = u.password_last_used;
  if (!u.boundary_arn.empty()) {
    j["PermissionsBoundary"] = Json{{"PermissionsBoundaryType", "Policy"},
                                    {"PermissionsBoundaryArn", u.boundary_arn}};
  }
  if (with_tags && !u.tags.empty()) j["Tags"] = TagsJson(u.tags);
  return j;
}

Json GroupJson(const GroupRecord& g) {
  return Json{{"Path", g.path}, {"GroupName", g.name}, {"GroupId", g.id}, {"Arn", g.arn},
              {"CreateDate", g.created}};
}

Json RoleJson(const RoleRecord& r, bool with_details) {
  Json j{{"Path", r.path}, {"RoleName", r.name}, {"RoleId", r.id}, {"Arn", r.arn},
         {"CreateDate", r.created},
         {"AssumeRolePolicyDocument", UrlEncodeDocument(r.trust_policy)}};
  if (!r.description.empty()) j["Description"] = r.description;
  j["MaxSessionDuration"] = r.max_session_seconds;
  if (!r.boundary_arn.empty()) {
    j["PermissionsBoundary"] = Json{{"PermissionsBoundaryType", "Policy"},
                                    {"PermissionsBoundaryArn", r.boundary_arn}};
  }
  if (with_details) {
    if (!r.tags.empty()) j["Tags"] = TagsJson(r.tags);
    Json used = Json::object();
    if (r.last_used > 0) {
      used["LastUsedDate"] = r.last_used;
      used["Region"] = r.last_used_region;
    }
    j["RoleLastUsed"] = used;
  }
  return j;
}

Json PolicyJson(const ManagedPolicyRecord& p, int attachments, bool with_tags) {
  Json j{{"PolicyName", p.name}, {"PolicyId", p.id}, {"Arn", p.arn}, {"Path", p.path},
         {"DefaultVersionId", p.default_version}, {"AttachmentCount", attachments},
         {"PermissionsBoundaryUsageCount", 0}, {"IsAttachable", true}};
  if (!p.description.empty()) j["Description"] = p.description;
  j["CreateDate"] = p.created;
  j["UpdateDate"] = p.updated;
  if (with_tags && !p.tags.empty()) j["Tags"] = TagsJson(p.tags);
  return j;
}

Json ProfileJson(const InstanceProfileRecord& p, const AccountState& a) {
  Json roles = Json::array();
  for (const auto& name : p.roles) {
    auto it = a.roles.find(ToLower(name));
    if (it != a.roles.end()) roles.push_back(RoleJson(it->second, false));
  }
  Json j{{"Path", p.path}, {"InstanceProfileName", p.name}, {"InstanceProfileId", p.id},
         {"Arn", p.arn}, {"CreateDate", p.created}, {"Roles", std::move(roles)}};
  if (!p.tags.empty()) j["Tags"] = TagsJson(p.tags);
  return j;
}

Page Paginate(size_t total, const Json& input) {
  Page p;
  int64_t max_items = input.value("MaxItems", int64_t{100});
  if (max_items <= 0) max_items = 100;
  if (auto m = input.find("Marker"); m != input.end() && m->is_string()) {
    if (auto n = ParseInt64(m->get<std::string>()); n && *n >= 0) {
      p.begin = std::min(total, static_cast<size_t>(*n));
    }
  }
  p.end = std::min(total, p.begin + static_cast<size_t>(max_items));
  p.truncated = p.end < total;
  if (p.truncated) p.next_marker = std::to_string(p.end);
  return p;
}

void AddPage(Json& out, const Page& page) {
  out["IsTruncated"] = page.truncated;
  if (page.truncated) out["Marker"] = page.next_marker;
}

std::string IamArn(const std::string& account, std::string_view kind, const std::string& path,
                   const std::string& name) {
  return "arn:aws:iam::" + account + ":" + std::string(kind) + path + name;
}

std::string UserArn(const std::string& account, const std::string& path, const std::string& name) {
  return IamArn(account, "user", path, name);
}

int AttachmentCount(const AccountState& a, const std::string& arn) {
  int n = 0;
  auto count = [&](const std::vector<std::string>& v) {
    n += static_cast<int>(std::count(v.begin(), v.end(), arn));
  };
  for (const auto& [k, u] : a.users) count(u.attached);
  for (const auto& [k, g] : a.groups) count(g.attached);
  for (const auto& [k, r] : a.roles) count(r.attached);
  return n;
}

int BoundaryCount(const AccountState& a, const std::string& arn) {
  int n = 0;
  for (const auto& [k, u] : a.users) n += u.boundary_arn == arn;
  for (const auto& [k, r] : a.roles) n += r.boundary_arn == arn;
  return n;
}

}  // namespace stratus::services::iam

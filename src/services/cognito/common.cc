#include "services/cognito/common.h"

namespace stratus::services::cognito {

Json AttributeList(const Json& map) {
  Json out = Json::array();
  if (!map.is_object()) return out;
  for (auto it = map.begin(); it != map.end(); ++it) {
    Json& a = out.emplace_back(Json::object());
    a["Name"] = it.key();
    a["Value"] = it.value();
  }
  return out;
}

Json AttributeMap(const Json& list) {
  Json out = Json::object();
  if (!list.is_array()) return out;
  for (const auto& a : list) {
    if (a.is_object() && a.contains("Name")) out[a["Name"].get<std::string>()] = a.value("Value", "");
  }
  return out;
}

std::string PoolShortName(std::string_view pool_id) {
  auto us = pool_id.find('_');
  return std::string(us == std::string_view::npos ? pool_id : pool_id.substr(us + 1));
}

std::string PoolRegion(std::string_view pool_id) {
  auto us = pool_id.find('_');
  return std::string(us == std::string_view::npos ? std::string_view() : pool_id.substr(0, us));
}

std::string MaskDestination(std::string_view attr, std::string_view value) {
  if (attr == "email") {
    auto at = value.find('@');
    if (at == std::string_view::npos || at == 0) return "***";
    std::string out(1, value[0]);
    out += "***@";
    if (at + 1 < value.size()) out.push_back(value[at + 1]);
    out += "***";
    return out;
  }
  std::string out = "+";
  size_t keep = value.size() >= 4 ? 4 : value.size();
  for (size_t i = 1; i + keep < value.size(); ++i) out.push_back('*');
  out.append(value.substr(value.size() - keep));
  return out;
}

Json Public(const Json& record) {
  Json out = Json::object();
  for (const auto& [k, v] : record.items()) {
    if (!k.empty() && k[0] != '_') out[k] = v;
  }
  return out;
}

bool ListHas(const Json& list, std::string_view v) {
  if (!list.is_array()) return false;
  for (const auto& x : list) {
    if (x.is_string() && x.get<std::string>() == v) return true;
  }
  return false;
}

std::shared_ptr<const Json> ParsedRecords::Parse(std::string_view key, std::string raw) {
  std::shared_ptr<const Record> hit;
  {
    std::lock_guard lock(mu_);
    auto it = records_.find(key);
    if (it != records_.end()) hit = it->second;
  }
  // Compared outside the lock: records are immutable once published.
  if (hit && hit->raw == raw) return std::shared_ptr<const Json>(hit, &hit->json);
  Json json = ParseJsonOrDiscarded(raw);
  auto fresh = std::make_shared<const Record>(Record{std::move(raw), std::move(json)});
  {
    std::lock_guard lock(mu_);
    if (records_.size() >= capacity_) records_.clear();
    records_.insert_or_assign(std::string(key), fresh);
  }
  return std::shared_ptr<const Json>(fresh, &fresh->json);
}

}  // namespace stratus::services::cognito

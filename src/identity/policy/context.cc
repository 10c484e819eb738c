#include "identity/policy/context.h"

#include "core/strings.h"

namespace stratus::identity::policy {

RequestContext::Entry* RequestContext::FindEntry(std::string_view lowercase_key) {
  for (auto& e : entries_) {
    if (e.key == lowercase_key) return &e;
  }
  return nullptr;
}

const ContextValue* RequestContext::Find(std::string_view lowercase_key) const {
  for (const auto& e : entries_) {
    if (e.key == lowercase_key) return &e.value;
  }
  return nullptr;
}

void RequestContext::Set(std::string_view key, std::string value) {
  std::string k = ToLower(key);
  Entry* e = FindEntry(k);
  if (!e) {
    entries_.push_back(Entry{std::move(k), {}});
    e = &entries_.back();
  }
  e->value.values.clear();
  e->value.values.push_back(std::move(value));
  e->value.multivalued = false;
}

void RequestContext::SetMulti(std::string_view key, std::vector<std::string> values) {
  std::string k = ToLower(key);
  Entry* e = FindEntry(k);
  if (!e) {
    entries_.push_back(Entry{std::move(k), {}});
    e = &entries_.back();
  }
  e->value.values = std::move(values);
  e->value.multivalued = true;
}

void RequestContext::Remove(std::string_view key) {
  std::string k = ToLower(key);
  std::erase_if(entries_, [&](const Entry& e) { return e.key == k; });
}

}  // namespace stratus::identity::policy

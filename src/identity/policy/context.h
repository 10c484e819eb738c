#pragma once
// The request context: the condition keys a request carries (aws:SourceIp, aws:CurrentTime,
// aws:PrincipalTag/team, s3:prefix, ...) with their values. Keys are case-insensitive (stored
// lowercased); a key is single-valued (one string) or multivalued (a set, e.g. aws:TagKeys),
// which decides how operators without ForAllValues/ForAnyValue treat it, as AWS does.
//
// A RequestContext is built per request by its owner and read during evaluation; not
// thread-safe for concurrent writes, safe for concurrent reads.
#include <string>
#include <string_view>
#include <vector>

namespace stratus::identity::policy {

struct ContextValue {
  std::vector<std::string> values;
  bool multivalued = false;
};

class RequestContext {
 public:
  // Sets a single-valued key (replacing any earlier value).
  void Set(std::string_view key, std::string value);
  // Sets a multivalued key (a set; may be empty).
  void SetMulti(std::string_view key, std::vector<std::string> values);
  void Remove(std::string_view key);
  // The value of `lowercase_key`, or null when the request does not carry it.
  const ContextValue* Find(std::string_view lowercase_key) const;
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string key;  // lowercased
    ContextValue value;
  };
  Entry* FindEntry(std::string_view lowercase_key);
  std::vector<Entry> entries_;  // few keys per request: a linear scan beats hashing
};

}  // namespace stratus::identity::policy

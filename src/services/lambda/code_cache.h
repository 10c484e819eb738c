#pragma once
// The node-local cache of unpacked code: function and layer zips (authoritative in the store,
// content-addressed by SHA-256) are extracted once under <root>/code/<sha>/, and a function's
// layers are merged once under <root>/opt/<hash of the layer list>/. Derived data only: a
// missing or removed directory is rebuilt from the store on next use.
//
// Thread-safe: concurrent calls for the same content extract once (per-key lock) and readers
// only see complete trees (extraction renames a finished temporary tree into place).
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.h"

namespace stratus::services::lambda {

class CodeCache {
 public:
  // `load_zip(sha)` returns the zip bytes for a SHA-256 (hex) from the store.
  CodeCache(std::string root, std::function<Result<std::string>(const std::string&)> load_zip)
      : root_(std::move(root)), load_zip_(std::move(load_zip)) {}

  const std::string& root() const { return root_; }

  // The directory holding the unpacked zip `sha`, extracting it first when needed.
  Result<std::string> CodeDir(const std::string& sha);
  // Extracts `zip` (whose hash is `sha`) now, e.g. at upload time.
  Status Prime(const std::string& sha, std::string_view zip);
  // The merged /opt of `layer_shas` (later layers win), "" when the list is empty.
  Result<std::string> OptDir(const std::vector<std::string>& layer_shas);

 private:
  std::mutex& LockFor(const std::string& key);

  const std::string root_;
  const std::function<Result<std::string>(const std::string&)> load_zip_;
  std::mutex mu_;  // guards locks_
  std::unordered_map<std::string, std::unique_ptr<std::mutex>> locks_;
};

}  // namespace stratus::services::lambda

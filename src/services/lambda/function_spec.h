#pragma once
// What an instance runs: an immutable snapshot of one function version's configuration, built
// from the stored configuration when an invocation resolves its target.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace stratus::services::lambda {

struct FunctionSpec {
  std::string account;
  std::string region;
  std::string name;
  std::string version;       // "$LATEST" or "1", "2", ...
  std::string function_arn;  // unqualified
  std::string runtime;
  std::string handler;
  std::string role;
  int timeout_s = 3;
  int memory_mb = 128;
  int ephemeral_mb = 512;
  std::vector<std::pair<std::string, std::string>> env;  // Environment.Variables
  std::string code_sha;                  // hex SHA-256 of the zip (content address)
  std::vector<std::string> layer_shas;   // in the function's layer order
  std::string log_group;                 // "/aws/lambda/<name>"
  std::optional<int> reserved_concurrency;
  // Changes whenever code or configuration changes: instances of another revision retire.
  std::string revision;

  // Instances are shared between invocations of the same key: FunctionKey()/version/revision.
  // Each is built in one buffer (they are made on every invoke).
  std::string Key() const {
    std::string key;
    key.reserve(account.size() + region.size() + name.size() + version.size() + revision.size() +
                4);
    key.append(account).append("/").append(region).append("/").append(name);
    key.append("/").append(version).append("/").append(revision);
    return key;
  }
  std::string FunctionKey() const {
    std::string key;
    key.reserve(account.size() + region.size() + name.size() + 2);
    key.append(account).append("/").append(region).append("/").append(name);
    return key;
  }
};

}  // namespace stratus::services::lambda

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

  // Instances are shared between invocations of the same key.
  std::string Key() const {
    return account + "/" + region + "/" + name + "/" + version + "/" + revision;
  }
  std::string FunctionKey() const { return account + "/" + region + "/" + name; }
};

}  // namespace stratus::services::lambda

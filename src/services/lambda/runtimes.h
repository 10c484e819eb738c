#pragma once
// The runtimes stratus runs and how: every identifier AWS lists for python and Node.js maps to
// the interpreter installed on the host (docs/lambda.md has the table), with bootstraps written
// for stratus; provided.* runs the package's own `bootstrap`.
//
// The bootstraps are embedded in the binary and written out by WriteBootstraps when the service
// starts (one self-contained binary; nothing to install beside it). Thread-safe after start.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace stratus::services::lambda {

enum class RuntimeKind { kPython, kNode, kProvided };

struct RuntimeInfo {
  std::string_view id;  // "python3.12"
  RuntimeKind kind;
};

// The runtime `id` when stratus runs it, else nullopt.
std::optional<RuntimeInfo> FindRuntime(std::string_view id);
// True for identifiers AWS has deprecated for creates and updates (python3.8, nodejs16.x, ...).
bool IsDeprecatedRuntime(std::string_view id);
// Every supported identifier, for messages and docs.
std::vector<std::string_view> SupportedRuntimes();

// Interpreters found on the host at start.
struct Interpreters {
  std::string python;  // "/usr/bin/python3", empty when missing
  std::string node;    // "/usr/bin/node", empty when missing
};
Interpreters FindInterpreters();

// Writes the bootstraps under `dir` (dir/python/bootstrap.py, dir/node/bootstrap.js), readable
// by every user, so instances can run them.
Status WriteBootstraps(const std::string& dir);

}  // namespace stratus::services::lambda

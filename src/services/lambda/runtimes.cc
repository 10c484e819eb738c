#include "services/lambda/runtimes.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/strings.h"

namespace stratus::services::lambda {

extern const std::string_view kPythonBootstrap;
extern const std::string_view kNodeBootstrap;

namespace {

constexpr std::array<RuntimeInfo, 13> kRuntimes = {{
    {"python3.9", RuntimeKind::kPython},     {"python3.10", RuntimeKind::kPython},
    {"python3.11", RuntimeKind::kPython},    {"python3.12", RuntimeKind::kPython},
    {"python3.13", RuntimeKind::kPython},    {"python3.14", RuntimeKind::kPython},
    {"nodejs18.x", RuntimeKind::kNode},      {"nodejs20.x", RuntimeKind::kNode},
    {"nodejs22.x", RuntimeKind::kNode},      {"nodejs24.x", RuntimeKind::kNode},
    {"provided", RuntimeKind::kProvided},    {"provided.al2", RuntimeKind::kProvided},
    {"provided.al2023", RuntimeKind::kProvided},
}};

constexpr std::array<std::string_view, 14> kDeprecated = {
    "python2.7", "python3.6", "python3.7", "python3.8", "nodejs", "nodejs4.3", "nodejs6.10",
    "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x", "nodejs16.x", "dotnetcore1.0",
    "dotnetcore2.1"};

std::string SearchPath(std::string_view name, std::string_view preferred) {
  if (!preferred.empty() && ::access(std::string(preferred).c_str(), X_OK) == 0) {
    return std::string(preferred);
  }
  const char* path = std::getenv("PATH");
  for (const auto& dir : Split(path ? path : "/usr/local/bin:/usr/bin:/bin", ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + std::string(name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

Status WriteFile(const std::filesystem::path& path, std::string_view content) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  ::chmod(path.parent_path().c_str(), 0755);
  std::string tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) return InternalFailure("cannot write " + tmp);
  }
  ::chmod(tmp.c_str(), 0644);
  std::filesystem::rename(tmp, path, ec);
  if (ec) return InternalFailure("cannot write " + path.string() + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

std::optional<RuntimeInfo> FindRuntime(std::string_view id) {
  for (const auto& r : kRuntimes) {
    if (r.id == id) return r;
  }
  return std::nullopt;
}

bool IsDeprecatedRuntime(std::string_view id) {
  for (auto d : kDeprecated) {
    if (d == id) return true;
  }
  return false;
}

std::vector<std::string_view> SupportedRuntimes() {
  std::vector<std::string_view> out;
  for (const auto& r : kRuntimes) out.push_back(r.id);
  return out;
}

Interpreters FindInterpreters() {
  return Interpreters{SearchPath("python3", "/usr/bin/python3"), SearchPath("node", "")};
}

Status WriteBootstraps(const std::string& dir) {
  std::filesystem::path root(dir);
  STRATUS_RETURN_IF_ERROR(WriteFile(root / "python" / "bootstrap.py", kPythonBootstrap));
  STRATUS_RETURN_IF_ERROR(WriteFile(root / "node" / "bootstrap.js", kNodeBootstrap));
  ::chmod(dir.c_str(), 0755);
  return Status::Ok();
}

}  // namespace stratus::services::lambda

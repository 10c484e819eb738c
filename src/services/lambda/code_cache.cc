#include "services/lambda/code_cache.h"

#include <sys/stat.h>

#include <filesystem>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/lambda/zip_archive.h"

namespace stratus::services::lambda {

namespace fs = std::filesystem;

std::mutex& CodeCache::LockFor(const std::string& key) {
  std::lock_guard lock(mu_);
  auto& m = locks_[key];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

Status CodeCache::Prime(const std::string& sha, std::string_view zip) {
  std::string dir = root_ + "/code/" + sha;
  std::error_code ec;
  if (fs::exists(dir, ec)) return Status::Ok();
  std::lock_guard lock(LockFor(sha));
  return ExtractZip(zip, dir);
}

Result<std::string> CodeCache::CodeDir(const std::string& sha) {
  std::string dir = root_ + "/code/" + sha;
  std::error_code ec;
  if (fs::exists(dir, ec)) return dir;
  std::lock_guard lock(LockFor(sha));
  if (fs::exists(dir, ec)) return dir;
  STRATUS_ASSIGN_OR_RETURN(std::string zip, load_zip_(sha));
  STRATUS_RETURN_IF_ERROR(ExtractZip(zip, dir));
  return dir;
}

Result<std::string> CodeCache::OptDir(const std::vector<std::string>& layer_shas) {
  if (layer_shas.empty()) return std::string();
  std::string id = Sha256Hex(Join(layer_shas, ","));
  std::string dir = root_ + "/opt/" + id;
  std::error_code ec;
  if (fs::exists(dir, ec)) return dir;
  std::lock_guard lock(LockFor("opt/" + id));
  if (fs::exists(dir, ec)) return dir;
  std::string tmp = dir + ".tmp-" + HexEncode(RandomBytes(6));
  fs::create_directories(tmp, ec);
  if (ec) return InternalFailure("cannot create " + tmp + ": " + ec.message());
  ::chmod(tmp.c_str(), 0755);
  for (const auto& sha : layer_shas) {
    auto layer = CodeDir(sha);
    if (!layer.ok()) {
      fs::remove_all(tmp, ec);
      return layer.error();
    }
    fs::copy(*layer, tmp,
             fs::copy_options::recursive | fs::copy_options::overwrite_existing |
                 fs::copy_options::copy_symlinks,
             ec);
    if (ec) {
      fs::remove_all(tmp, ec);
      return InternalFailure("cannot merge layers: " + ec.message());
    }
  }
  fs::rename(tmp, dir, ec);
  if (ec) {
    fs::remove_all(tmp, ec);
    if (!fs::exists(dir)) return InternalFailure("cannot merge layers: " + ec.message());
  }
  return dir;
}

}  // namespace stratus::services::lambda

#include "services/lambda/zip_archive.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/lambda/errors.h"

namespace stratus::services::lambda {

namespace {

namespace fs = std::filesystem;

constexpr size_t kChunkBytes = 64 * 1024;
constexpr size_t kMaxSymlinkTargetBytes = 4096;
constexpr size_t kMaxEntryNameBytes = 4096;

Error UnzipError() {
  return InvalidParameterValue(
      "Could not unzip uploaded file. Please check your file, then try to upload again.");
}

Error TooLarge(uint64_t max_bytes) {
  return InvalidParameterValue("Unzipped size must be smaller than " + std::to_string(max_bytes) +
                               " bytes");
}

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct FileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;
using ZipFilePtr = std::unique_ptr<zip_file_t, FileCloser>;

Result<ZipPtr> Open(std::string_view data) {
  if (data.empty()) return UnzipError();
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(data.data(), data.size(), 0, &error);
  if (!src) {
    zip_error_fini(&error);
    return UnzipError();
  }
  zip_t* z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  zip_error_fini(&error);
  if (!z) {
    zip_source_free(src);
    return UnzipError();
  }
  return ZipPtr(z);
}

// Unix mode bits of an entry, or 0 when the archive was not made on unix.
uint32_t EntryMode(zip_t* z, zip_uint64_t index) {
  zip_uint8_t opsys = 0;
  zip_uint32_t attributes = 0;
  if (zip_file_get_external_attributes(z, index, 0, &opsys, &attributes) != 0) return 0;
  if (opsys != ZIP_OPSYS_UNIX) return 0;
  return attributes >> 16;
}

// Lexically resolves `target` relative to the directory of `entry`; false when it leaves the
// root or is absolute.
bool LexicallyInside(std::string_view entry, std::string_view target) {
  if (target.empty() || target.front() == '/') return false;
  std::vector<std::string> stack;
  auto parts = Split(entry, '/');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!parts[i].empty()) stack.push_back(parts[i]);
  }
  for (const auto& p : Split(target, '/')) {
    if (p.empty() || p == ".") continue;
    if (p == "..") {
      if (stack.empty()) return false;
      stack.pop_back();
    } else {
      stack.push_back(p);
    }
  }
  return true;
}

struct Entry {
  zip_uint64_t index = 0;
  std::string name;
  uint32_t mode = 0;
  bool dir = false;
  bool symlink = false;
  uint64_t size = 0;
};

Result<std::vector<Entry>> ListEntries(zip_t* z) {
  zip_int64_t n = zip_get_num_entries(z, 0);
  if (n < 0) return UnzipError();
  if (static_cast<uint64_t>(n) > kMaxZipEntries) {
    return InvalidParameterValue("The deployment package has " + std::to_string(n) +
                                 " entries; at most " + std::to_string(kMaxZipEntries) +
                                 " are supported.");
  }
  std::vector<Entry> entries;
  entries.reserve(static_cast<size_t>(n));
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z, static_cast<zip_uint64_t>(i), 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME)) {
      return UnzipError();
    }
    Entry e;
    e.index = static_cast<zip_uint64_t>(i);
    e.name = st.name;
    e.size = (st.valid & ZIP_STAT_SIZE) ? st.size : 0;
    e.mode = EntryMode(z, e.index);
    e.dir = !e.name.empty() && e.name.back() == '/';
    if (e.dir) e.name.pop_back();
    e.symlink = !e.dir && e.mode != 0 && S_ISLNK(e.mode);
    if (e.mode != 0 && S_ISDIR(e.mode)) e.dir = true;
    if (e.name.size() > kMaxEntryNameBytes || !IsSafeEntryName(e.name)) {
      return InvalidParameterValue("The deployment package contains an unsafe entry name: " +
                                   e.name.substr(0, 200));
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

Status MakeParents(const fs::path& root, const std::string& name) {
  fs::path parent = (root / name).parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return InvalidParameterValue("Could not extract " + name + ": " + ec.message());
  return Status::Ok();
}

Result<std::string> ReadEntry(zip_t* z, const Entry& e, size_t max_bytes) {
  ZipFilePtr f(zip_fopen_index(z, e.index, 0));
  if (!f) return UnzipError();
  std::string out;
  char buf[kChunkBytes];
  while (true) {
    zip_int64_t n = zip_fread(f.get(), buf, sizeof(buf));
    if (n < 0) return UnzipError();
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) return UnzipError();
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status WriteFile(zip_t* z, const Entry& e, const fs::path& root, uint64_t& total,
                 uint64_t max_bytes) {
  STRATUS_RETURN_IF_ERROR(MakeParents(root, e.name));
  mode_t mode = (e.mode & 0100) ? 0755 : 0644;
  std::string path = (root / e.name).string();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return UnzipError();
  ZipFilePtr f(zip_fopen_index(z, e.index, 0));
  if (!f) {
    ::close(fd);
    return UnzipError();
  }
  char buf[kChunkBytes];
  Status st;
  while (st.ok()) {
    zip_int64_t n = zip_fread(f.get(), buf, sizeof(buf));
    if (n < 0) {
      st = UnzipError();
      break;
    }
    if (n == 0) break;
    total += static_cast<uint64_t>(n);
    if (total > max_bytes) {
      st = TooLarge(max_bytes);
      break;
    }
    const char* p = buf;
    size_t left = static_cast<size_t>(n);
    while (left > 0) {
      ssize_t w = ::write(fd, p, left);
      if (w < 0) {
        if (errno == EINTR) continue;
        st = InternalFailure(std::string("cannot write function code: ") + strerror(errno));
        break;
      }
      p += w;
      left -= static_cast<size_t>(w);
    }
  }
  ::close(fd);
  return st;
}

}  // namespace

bool IsSafeEntryName(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.find('\0') != std::string_view::npos ||
      name.find('\\') != std::string_view::npos) {
    return false;
  }
  for (const auto& part : Split(name, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

Result<ZipSummary> InspectZip(std::string_view zip) {
  STRATUS_ASSIGN_OR_RETURN(ZipPtr z, Open(zip));
  STRATUS_ASSIGN_OR_RETURN(std::vector<Entry> entries, ListEntries(z.get()));
  ZipSummary summary;
  summary.entries = entries.size();
  for (const auto& e : entries) {
    summary.uncompressed_bytes += e.size;
    if (e.symlink && e.size > kMaxSymlinkTargetBytes) return UnzipError();
  }
  if (summary.uncompressed_bytes > kMaxUnzippedBytes) return TooLarge(kMaxUnzippedBytes);
  // Symlink targets are small: check them now so a bad package fails at upload time.
  for (const auto& e : entries) {
    if (!e.symlink) continue;
    STRATUS_ASSIGN_OR_RETURN(std::string target, ReadEntry(z.get(), e, kMaxSymlinkTargetBytes));
    if (!LexicallyInside(e.name, target)) {
      return InvalidParameterValue("The deployment package contains a symbolic link that points "
                                   "outside of it: " + e.name.substr(0, 200));
    }
  }
  return summary;
}

Status ExtractZip(std::string_view zip, const std::string& dir, uint64_t max_bytes) {
  std::error_code ec;
  if (fs::exists(dir, ec)) return Status::Ok();
  STRATUS_ASSIGN_OR_RETURN(ZipPtr z, Open(zip));
  STRATUS_ASSIGN_OR_RETURN(std::vector<Entry> entries, ListEntries(z.get()));
  fs::path root = dir + ".tmp-" + HexEncode(RandomBytes(6));
  fs::create_directories(root, ec);
  if (ec) return InternalFailure("cannot create " + root.string() + ": " + ec.message());
  ::chmod(root.c_str(), 0755);
  auto fail = [&](Error e) -> Status {
    fs::remove_all(root, ec);
    return e;
  };
  uint64_t total = 0;
  // Directories and files first; symlinks last, so no write can pass through one.
  for (const auto& e : entries) {
    if (e.symlink) continue;
    if (e.dir) {
      fs::create_directories(root / e.name, ec);
      if (ec) return fail(UnzipError());
      continue;
    }
    Status st = WriteFile(z.get(), e, root, total, max_bytes);
    if (!st.ok()) return fail(std::move(st).error());
  }
  std::string real_root;
  {
    char buf[PATH_MAX];
    if (!::realpath(root.c_str(), buf)) return fail(InternalFailure("cannot resolve code root"));
    real_root = buf;
  }
  for (const auto& e : entries) {
    if (!e.symlink) continue;
    auto target = ReadEntry(z.get(), e, kMaxSymlinkTargetBytes);
    if (!target.ok()) return fail(target.error());
    if (!LexicallyInside(e.name, *target)) {
      return fail(InvalidParameterValue(
          "The deployment package contains a symbolic link that points outside of it: " +
          e.name.substr(0, 200)));
    }
    Status st = MakeParents(root, e.name);
    if (!st.ok()) return fail(std::move(st).error());
    std::string link = (root / e.name).string();
    if (::symlink(target->c_str(), link.c_str()) != 0) return fail(UnzipError());
  }
  // Symlinks through other symlinks can resolve differently than they read: check where each
  // one really lands.
  for (const auto& e : entries) {
    if (!e.symlink) continue;
    std::string link = (root / e.name).string();
    char buf[PATH_MAX];
    if (::realpath(link.c_str(), buf)) {
      std::string_view resolved(buf);
      if (resolved != real_root && !StartsWith(resolved, real_root + "/")) {
        return fail(InvalidParameterValue(
            "The deployment package contains a symbolic link that points outside of it: " +
            e.name.substr(0, 200)));
      }
    }
  }
  fs::create_directories(fs::path(dir).parent_path(), ec);
  if (::rename(root.c_str(), dir.c_str()) != 0) {
    int err = errno;
    fs::remove_all(root, ec);
    if (err == ENOTEMPTY || err == EEXIST) return Status::Ok();  // extracted concurrently
    return InternalFailure("cannot move extracted code into place: " + std::string(strerror(err)));
  }
  return Status::Ok();
}

}  // namespace stratus::services::lambda

#include "store/blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "core/strings.h"

namespace stratus::store {

namespace {

constexpr std::string_view kRefPrefix = "blob/ref/";
constexpr std::string_view kDeleteQueue = "blob/delete";
constexpr std::string_view kLiveRef = "";
constexpr std::string_view kDyingRef = "d";
constexpr size_t kIdBytes = 16;
constexpr size_t kDeletionBatch = 128;
constexpr int64_t kDeletionLeaseMs = 60'000;
constexpr size_t kOrphanCheckBatch = 512;
constexpr size_t kCopyBufferBytes = 1 << 20;
// A BlobWriter starts the writeback of what it has written each time this much more is written.
constexpr uint64_t kWritebackStepBytes = 8 << 20;

std::string RefKey(std::string_view id) { return std::string(kRefPrefix) + std::string(id); }

Error IoError(const std::string& what, const std::string& path) {
  std::string message = what + " " + path + ": " + std::strerror(errno);
  spdlog::error("blob store: {}", message);
  return InternalFailure(message);
}

// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Copies `length` bytes from `in` at `offset` to the end of `out`: copy_file_range where the
// kernel offers it, read/write otherwise.
bool CopyRange(int in, uint64_t offset, uint64_t length, int out) {
  loff_t in_off = static_cast<loff_t>(offset);
  bool kernel = true;
  std::string buffer;
  while (length > 0) {
    if (kernel) {
      ssize_t n = ::copy_file_range(in, &in_off, out, nullptr, length, 0);
      if (n > 0) {
        length -= static_cast<uint64_t>(n);
        continue;
      }
      if (n == 0) return false;  // the source is shorter than the range
      if (errno == EINTR) continue;
      if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) {
        return false;
      }
      kernel = false;
    }
    if (buffer.empty()) buffer.resize(kCopyBufferBytes);
    size_t want = static_cast<size_t>(std::min<uint64_t>(length, buffer.size()));
    ssize_t n = ::pread(in, buffer.data(), want, in_off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (!WriteAll(out, buffer.data(), static_cast<size_t>(n))) return false;
    in_off += n;
    length -= static_cast<uint64_t>(n);
  }
  return true;
}

Status FsyncDir(const std::string& path) {
  Fd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.fd < 0 || ::fsync(dir.fd) != 0) return IoError("cannot fsync directory", path);
  return Status::Ok();
}

int64_t MtimeMs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

}  // namespace

bool BlobStore::ValidId(std::string_view id) {
  if (id.size() != kIdBytes * 2) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<std::unique_ptr<BlobStore>> BlobStore::Open(Store& store, BlobOptions options) {
  std::string dir = options.dir;
  bool owns = false;
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/stratus-blobs-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      return IoError("cannot create a temporary blob directory", pattern);
    }
    dir = pattern;
    owns = true;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir + "/tmp", ec);
  if (ec) {
    return Error("InternalFailure", "cannot create the blob directory " + dir + ": " +
                                        ec.message() + " (check --data-dir and its permissions)");
  }
  if (options.fsync) STRATUS_RETURN_IF_ERROR(FsyncDir(dir));
  std::unique_ptr<SegmentStore> segments;
  if (options.segments) {
    SegmentOptions so;
    so.dir = options.segment_dir.empty() ? dir + "/segments" : options.segment_dir;
    so.fsync = options.fsync;
    so.segment_bytes = options.segment_bytes;
    auto opened = SegmentStore::Open(store, std::move(so));
    if (!opened.ok()) {
      if (owns) std::filesystem::remove_all(dir, ec);
      return std::move(opened).error();
    }
    segments = std::move(opened).value();
  }
  std::unique_ptr<BlobStore> blobs(new BlobStore(store, std::move(options), dir, owns));
  blobs->segments_ = std::move(segments);
  return blobs;
}

BlobStore::BlobStore(Store& store, BlobOptions options, std::string dir, bool owns_dir)
    : store_(store), options_(std::move(options)), dir_(std::move(dir)), owns_dir_(owns_dir) {}

BlobStore::~BlobStore() {
  segments_.reset();
  if (owns_dir_) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string BlobStore::PathOf(std::string_view id) const {
  std::string p;
  p.reserve(dir_.size() + 4 + id.size());
  p += dir_;
  p += '/';
  p += id.substr(0, 2);
  p += '/';
  p += id;
  return p;
}

Result<std::string> BlobStore::Publish(const std::string& tmp_path, const std::string& id,
                                       int fd) {
  if (options_.fsync && ::fdatasync(fd) != 0) {
    Error e = IoError("cannot fsync", tmp_path);
    ::unlink(tmp_path.c_str());
    return e;
  }
  std::string path = PathOf(id);
  std::string sub = dir_ + "/" + id.substr(0, 2);
  int renamed = ::rename(tmp_path.c_str(), path.c_str());
  if (renamed != 0 && errno == ENOENT) {
    // The fan-out directory is created on first use (and made durable before it is relied on).
    if (::mkdir(sub.c_str(), 0700) != 0 && errno != EEXIST) {
      Error e = IoError("cannot create", sub);
      ::unlink(tmp_path.c_str());
      return e;
    }
    if (options_.fsync) {
      Status st = FsyncDir(dir_);
      if (!st.ok()) {
        ::unlink(tmp_path.c_str());
        return std::move(st).error();
      }
    }
    renamed = ::rename(tmp_path.c_str(), path.c_str());
  }
  if (renamed != 0) {
    Error e = IoError("cannot rename into place", path);
    ::unlink(tmp_path.c_str());
    return e;
  }
  if (options_.fsync) {
    Status st = FsyncDir(sub);
    if (!st.ok()) {
      ::unlink(path.c_str());
      return std::move(st).error();
    }
  }
  return id;
}

Result<std::string> BlobStore::Put(std::string_view data,
                                   const std::function<void()>& while_flushing) {
  std::string id = HexEncode(RandomBytes(kIdBytes));
  std::string tmp = dir_ + "/tmp/" + id;
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.fd < 0) return IoError("cannot create", tmp);
  if (!WriteAll(fd.fd, data.data(), data.size())) {
    Error e = IoError("cannot write", tmp);
    ::unlink(tmp.c_str());
    return e;
  }
  if (while_flushing) {
    if (options_.fsync) ::sync_file_range(fd.fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    while_flushing();
  }
  return Publish(tmp, id, fd.fd);
}

Result<std::unique_ptr<BlobWriter>> BlobStore::NewWriter() {
  std::string id = HexEncode(RandomBytes(kIdBytes));
  std::string tmp = dir_ + "/tmp/" + id;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot create", tmp);
  return std::unique_ptr<BlobWriter>(new BlobWriter(*this, std::move(id), std::move(tmp), fd));
}

BlobWriter::BlobWriter(BlobStore& blobs, std::string id, std::string tmp_path, int fd)
    : blobs_(blobs), id_(std::move(id)), tmp_path_(std::move(tmp_path)), fd_(fd) {}

BlobWriter::~BlobWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_path_.c_str());
  }
}

Status BlobWriter::Append(std::string_view data) {
  if (failed_) return *failed_;
  if (fd_ < 0) return InternalFailure("bug: BlobWriter::Append after Finish");
  if (!WriteAll(fd_, data.data(), data.size())) {
    failed_ = IoError("cannot write", tmp_path_);
    return *failed_;
  }
  size_ += data.size();
  if (blobs_.options_.fsync && size_ - flushed_ >= kWritebackStepBytes) {
    ::sync_file_range(fd_, static_cast<off_t>(flushed_), static_cast<off_t>(size_ - flushed_),
                      SYNC_FILE_RANGE_WRITE);
    // What was handed to writeback a step earlier has had a step's time to reach the disk: its
    // clean pages are dropped now (pages still being written are skipped, never waited for), so
    // a long body recycles its own pages and Finish has little left to drop.
    if (previous_flushed_ > dropped_) {
      ::posix_fadvise(fd_, static_cast<off_t>(dropped_),
                      static_cast<off_t>(previous_flushed_ - dropped_), POSIX_FADV_DONTNEED);
      dropped_ = previous_flushed_;
    }
    previous_flushed_ = flushed_;
    flushed_ = size_;
  }
  return Status::Ok();
}

Result<std::string> BlobWriter::Finish() {
  if (failed_) return *failed_;
  if (fd_ < 0) return InternalFailure("bug: BlobWriter::Finish called twice");
  int fd = fd_;
  fd_ = -1;  // Publish removes the temporary file when it fails
  Result<std::string> id = blobs_.Publish(tmp_path_, id_, fd);
  // Durable now: its clean pages are dropped so that the next streamed body reuses them instead
  // of growing the page cache into memory the VM has not touched yet (5x the copy cost here).
  if (id.ok() && blobs_.options_.fsync) {
    ::posix_fadvise(fd, static_cast<off_t>(dropped_), 0, POSIX_FADV_DONTNEED);
  }
  ::close(fd);
  return id;
}

Result<std::string> BlobStore::Concat(const std::vector<BlobRange>& ranges) {
  std::string id = HexEncode(RandomBytes(kIdBytes));
  std::string tmp = dir_ + "/tmp/" + id;
  Fd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.fd < 0) return IoError("cannot create", tmp);
  for (const BlobRange& r : ranges) {
    if (!ValidId(r.id)) {
      ::unlink(tmp.c_str());
      return InternalFailure("bug: malformed blob id '" + r.id + "'");
    }
    std::string src = PathOf(r.id);
    Fd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
    if (in.fd < 0 || !CopyRange(in.fd, r.offset, r.length, out.fd)) {
      Error e = IoError("cannot copy from", src);
      ::unlink(tmp.c_str());
      return e;
    }
  }
  return Publish(tmp, id, out.fd);
}

Status BlobStore::Reference(WriteTxn& txn, std::string_view id) {
  if (!ValidId(id)) return InternalFailure("bug: malformed blob id '" + std::string(id) + "'");
  return txn.Put(RefKey(id), kLiveRef);
}

Status BlobStore::Unreference(WriteTxn& txn, std::string_view id, int64_t now_ms) {
  if (!ValidId(id)) return InternalFailure("bug: malformed blob id '" + std::string(id) + "'");
  STRATUS_RETURN_IF_ERROR(txn.Put(RefKey(id), kDyingRef));
  auto queued = txn.Enqueue(kDeleteQueue, id, now_ms + options_.delete_grace_ms);
  if (!queued.ok()) return std::move(queued).error();
  return Status::Ok();
}

void BlobStore::Discard(std::string_view id) {
  if (ValidId(id)) ::unlink(PathOf(id).c_str());
}

FileBody BlobStore::Body(std::string_view id, uint64_t offset, uint64_t length) const {
  return FileBody{PathOf(id), offset, length};
}

Result<std::string> BlobStore::Read(std::string_view id, uint64_t offset, uint64_t length) const {
  if (!ValidId(id)) return InternalFailure("bug: malformed blob id '" + std::string(id) + "'");
  std::string path = PathOf(id);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0) return IoError("cannot open", path);
  std::string out(length, '\0');
  size_t got = 0;
  while (got < length) {
    ssize_t n = ::pread(fd.fd, out.data() + got, length - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError("short read of", path);
    got += static_cast<size_t>(n);
  }
  return out;
}

Result<uint64_t> BlobStore::Size(std::string_view id) const {
  if (!ValidId(id)) return InternalFailure("bug: malformed blob id '" + std::string(id) + "'");
  struct stat st;
  std::string path = PathOf(id);
  if (::stat(path.c_str(), &st) != 0) return IoError("cannot stat", path);
  return static_cast<uint64_t>(st.st_size);
}

Result<int64_t> BlobStore::RunDeletions(int64_t now_ms) {
  int64_t deleted = 0;
  while (true) {
    STRATUS_ASSIGN_OR_RETURN(auto items,
                             store_.Lease(kDeleteQueue, kDeletionBatch, now_ms, kDeletionLeaseMs));
    if (items.empty()) return deleted;
    for (const QueueItem& item : items) {
      if (ValidId(item.payload) && ::unlink(PathOf(item.payload).c_str()) == 0) ++deleted;
    }
    STRATUS_RETURN_IF_ERROR(store_.Write([&](WriteTxn& txn) -> Status {
      for (const QueueItem& item : items) {
        // A blob referenced again meanwhile keeps its key (never happens: ids are not reused).
        auto ref = txn.Get(RefKey(item.payload));
        if (!ref.ok()) return std::move(ref).error();
        if (*ref && **ref == kDyingRef) STRATUS_RETURN_IF_ERROR(txn.Delete(RefKey(item.payload)));
        auto removed = txn.RemoveQueueItem(item.id);
        if (!removed.ok()) return std::move(removed).error();
      }
      return Status::Ok();
    }));
    if (items.size() < kDeletionBatch) return deleted;
  }
}

Result<int64_t> BlobStore::CollectOrphans(int64_t modified_before_ms) {
  int64_t removed = 0;
  auto old_enough = [&](const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           MtimeMs(st) < modified_before_ms;
  };
  // Temp files belong to writes that never published.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/tmp", ec)) {
    std::string path = entry.path().string();
    if (old_enough(path) && ::unlink(path.c_str()) == 0) ++removed;
  }
  std::vector<std::string> candidates;
  auto check = [&]() -> Status {
    if (candidates.empty()) return Status::Ok();
    std::vector<bool> referenced(candidates.size(), false);
    STRATUS_RETURN_IF_ERROR(store_.Read([&](ReadTxn& txn) -> Status {
      for (size_t i = 0; i < candidates.size(); ++i) {
        auto ref = txn.Get(RefKey(candidates[i]));
        if (!ref.ok()) return std::move(ref).error();
        referenced[i] = ref->has_value();
      }
      return Status::Ok();
    }));
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (!referenced[i] && ::unlink(PathOf(candidates[i]).c_str()) == 0) {
        spdlog::info("blob store: removed unreferenced blob {}", candidates[i]);
        ++removed;
      }
    }
    candidates.clear();
    return Status::Ok();
  };
  for (int i = 0; i < 256; ++i) {
    char sub[3];
    std::snprintf(sub, sizeof(sub), "%02x", i);
    for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/" + sub, ec)) {
      std::string name = entry.path().filename().string();
      if (!ValidId(name) || !old_enough(entry.path().string())) continue;
      candidates.push_back(std::move(name));
      if (candidates.size() >= kOrphanCheckBatch) STRATUS_RETURN_IF_ERROR(check());
    }
  }
  STRATUS_RETURN_IF_ERROR(check());
  return removed;
}

}  // namespace stratus::store

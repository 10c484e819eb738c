#include "store/segment_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <system_error>

#include <fmt/format.h>
#if defined(__x86_64__)
#include <nmmintrin.h>
#endif
#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "store/device_flush.h"
#include "store/segment_store_internal.h"

namespace stratus::store {

namespace {

// Reads `n` space-separated decimal numbers; false unless the text is exactly that.
bool ParseNumbers(std::string_view text, uint64_t* out, size_t n) {
  const char* p = text.data();
  const char* end = p + text.size();
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) {
      if (p == end || *p != ' ') return false;
      ++p;
    }
    auto [next, ec] = std::from_chars(p, end, out[i]);
    if (ec != std::errc()) return false;
    p = next;
  }
  return p == end;
}

}  // namespace

namespace internal {

int64_t WallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Error IoError(const std::string& what, const std::string& path) {
  std::string message = what + " " + path + ": " + std::strerror(errno);
  spdlog::error("segment store: {}", message);
  return InternalFailure(message);
}

std::string ExtentKey(std::string_view id) { return std::string(kExtentPrefix) + std::string(id); }
std::string CountsKey(uint64_t segment) {
  return fmt::format("{}{:016x}", kCountsPrefix, segment);
}

// Written with to_chars: fmt's formatting was ~950 instructions per small PUT on the store's
// writer thread.
std::string FormatExtent(const Extent& e) {
  char text[4 * 21];
  char* p = text;
  char* const end = text + sizeof(text);
  for (uint64_t v : {e.segment, e.offset, e.length, uint64_t{e.crc}}) {
    if (p != text) *p++ = ' ';
    p = std::to_chars(p, end, v).ptr;
  }
  return std::string(text, p);
}

Result<Extent> ParseExtent(std::string_view text) {
  uint64_t v[4];
  if (!ParseNumbers(text, v, 4) || v[3] > UINT32_MAX) {
    return InternalFailure("corrupt segment extent record: " + std::string(text));
  }
  return Extent{v[0], v[1], v[2], static_cast<uint32_t>(v[3])};
}

Result<Counts> ParseCounts(std::string_view text) {
  uint64_t v[2];
  if (!ParseNumbers(text, v, 2)) {
    return InternalFailure("corrupt segment counts record: " + std::string(text));
  }
  return Counts{v[0], v[1]};
}

Result<Counts> LoadCounts(ReadTxn& txn, uint64_t segment) {
  STRATUS_ASSIGN_OR_RETURN(auto text, txn.Get(CountsKey(segment)));
  if (!text) return Counts{};
  return ParseCounts(*text);
}

// Adds `live_delta` to a segment's live bytes (never below 0) and raises its end to `end`.
Status AdjustCounts(WriteTxn& txn, uint64_t segment, int64_t live_delta, uint64_t end) {
  STRATUS_ASSIGN_OR_RETURN(Counts c, LoadCounts(txn, segment));
  if (live_delta < 0 && c.live < static_cast<uint64_t>(-live_delta)) {
    spdlog::error("segment store: live bytes of segment {} would go negative", segment);
    c.live = 0;
  } else {
    c.live = static_cast<uint64_t>(static_cast<int64_t>(c.live) + live_delta);
  }
  c.end = std::max(c.end, end);
  return txn.Put(CountsKey(segment), fmt::format("{} {}", c.live, c.end));
}

// The segment number a file name stands for (16 hex digits + ".seg"), or nullopt.
std::optional<uint64_t> SegmentOfName(std::string_view name) {
  if (name.size() != kSegmentNameDigits + kSuffix.size() || !name.ends_with(kSuffix)) {
    return std::nullopt;
  }
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + kSegmentNameDigits, n, 16);
  if (ec != std::errc() || p != name.data() + kSegmentNameDigits) return std::nullopt;
  return n;
}

bool SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace internal

using namespace internal;  // NOLINT(google-build-using-namespace): this module's own helpers

namespace {

constexpr size_t kMaxIdBytes = 128;
// Zeros are written ahead in chunks of this size, starting at least kZeroLeadBytes past the
// active segment's end (a segment's first kZeroLeadBytes are appended as before).
constexpr uint64_t kZeroChunkBytes = uint64_t{256} << 10;
constexpr uint64_t kZeroLeadBytes = uint64_t{1} << 20;
// One write per page: larger writes make large page-cache folios, and a 4 KiB append then
// dirties a whole one (measured: 14 KiB to the disk per 4 KiB PUT with 256 KiB writes).
constexpr uint64_t kZeroWriteBytes = 4096;

// AddBeforeCommit's apply for live-byte counts: slot = segment, sum = live delta, mark = end.
Status ApplyCountTotals(WriteTxn& txn, const std::vector<WriteTxn::CommitTotal>& totals) {
  for (const WriteTxn::CommitTotal& t : totals) {
    STRATUS_RETURN_IF_ERROR(AdjustCounts(txn, t.slot, t.sum, t.mark));
  }
  return Status::Ok();
}

#if defined(__x86_64__)
// CRC32C with the SSE4.2 instruction, eight bytes at a time: the table-driven core::Crc32c
// (one byte per step) was ~4% of a 4 KiB PUT's server CPU.
__attribute__((target("sse4.2"))) uint32_t Crc32cSse42(std::string_view data) {
  uint64_t c = 0xFFFFFFFFu;
  const char* p = data.data();
  size_t n = data.size();
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<uint32_t>(c);
  for (; n > 0; ++p, --n) c32 = _mm_crc32_u8(c32, static_cast<unsigned char>(*p));
  return ~c32;
}
#endif

}  // namespace

uint32_t SegmentCrc32c(std::string_view data) {
#if defined(__x86_64__)
  static const bool kHardware = __builtin_cpu_supports("sse4.2");
  if (kHardware) return Crc32cSse42(data);
#endif
  return Crc32c(data);
}

Result<std::unique_ptr<SegmentStore>> SegmentStore::Open(Store& store, SegmentOptions options) {
  if (options.dir.empty()) return InternalFailure("segment store: no directory given");
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) {
    return InternalFailure("cannot create the segment directory " + options.dir + ": " +
                           ec.message() + " (check --data-dir and its permissions)");
  }
  std::unique_ptr<SegmentStore> s(new SegmentStore(store, std::move(options), 1));
  STRATUS_RETURN_IF_ERROR(s->Recover());
  if (s->options_.fsync && s->options_.range_sync) {
    s->flush_fd_ = internal::OpenDeviceFlushFile(s->options_.dir);
  }
  s->flusher_ = std::thread([p = s.get()] { p->FlushLoop(); });
  if (s->options_.background) s->compactor_ = std::thread([p = s.get()] { p->CompactLoop(); });
  if (s->options_.background && s->options_.fsync && s->options_.zero_ahead_bytes > 0) {
    s->zeroer_ = std::thread([p = s.get()] { p->ZeroLoop(); });
  }
  return s;
}

SegmentStore::SegmentStore(Store& store, SegmentOptions options, uint64_t next_segment)
    : store_(store), options_(std::move(options)), next_segment_(next_segment) {}

SegmentStore::~SegmentStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  flush_cv_.notify_all();
  compact_cv_.notify_all();
  zero_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  if (compactor_.joinable()) compactor_.join();
  if (zeroer_.joinable()) zeroer_.join();
  if (flush_fd_ >= 0) ::close(flush_fd_);
  SegmentStats st = Stats();
  if (st.appends > 0) {
    spdlog::info("segment store: closing after {} appends in {} syncs ({:.1f} per sync); {} "
                 "segments compacted ({} bytes moved), {} retired",
                 st.appends, st.syncs,
                 st.syncs > 0 ? static_cast<double>(st.appends) / static_cast<double>(st.syncs) : 0.0,
                 st.compacted_segments, st.moved_bytes, st.retired_segments);
  }
}

std::string SegmentStore::PathOf(uint64_t segment) const {
  return fmt::format("{}/{:016x}{}", options_.dir, segment, kSuffix);
}

Result<Extent> SegmentStore::WriteLocked(std::string_view data, uint32_t crc) {
  // Never where ZeroLoop writes zeros now: skip past them (dead space; rare, ZeroLoop leads).
  if (active_ && active_->fence_to > 0 && active_end_ < active_->fence_to &&
      active_end_ + data.size() > active_->fence_from) {
    active_end_ = active_->fence_to;
  }
  if (!active_ || (active_end_ > 0 && active_end_ + data.size() > options_.segment_bytes)) {
    if (active_) {
      sealed_since_compact_ = true;
      compact_cv_.notify_one();
    }
    uint64_t segment = next_segment_++;
    std::string path = PathOf(segment);
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || (options_.fsync && !SyncDir(options_.dir))) {
      Error err = IoError("cannot create", path);
      if (fd >= 0) ::close(fd);
      active_.reset();
      return err;
    }
    // Reserve the segment's blocks up front (the size stays 0): an append then allocates no
    // blocks, so its fdatasync writes the data and the new size only. Best effort: a file system
    // without fallocate allocates as it goes.
    (void)::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(options_.segment_bytes));
    active_ = std::make_shared<File>(segment, fd);
    active_end_ = 0;
    files_[segment] = active_;
  }
  Extent extent{active_->segment, active_end_, data.size(), crc};
  const char* p = data.data();
  size_t left = data.size();
  off_t at = static_cast<off_t>(active_end_);
  while (left > 0) {
    ssize_t n = ::pwrite(active_->fd, p, left, at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Nothing past active_end_ counts: the next append writes over whatever landed.
      return IoError("cannot write", PathOf(extent.segment));
    }
    p += n;
    at += n;
    left -= static_cast<size_t>(n);
  }
  active_end_ += data.size();
  ++pins_[extent.segment];
  ++stats_.appends;
  if (zeroer_.joinable() && NeedsZerosLocked()) zero_cv_.notify_one();
  return extent;
}

bool SegmentStore::NeedsZerosLocked() const {
  return active_ && active_->zeroed < options_.segment_bytes &&
         active_->zeroed < active_end_ + options_.zero_ahead_bytes;
}

void SegmentStore::ZeroLoop() {
  const std::string zeros(kZeroWriteBytes, '\0');
  std::unique_lock lock(mu_);
  while (true) {
    zero_cv_.wait(lock, [this] { return stopping_ || NeedsZerosLocked(); });
    if (stopping_) break;
    std::shared_ptr<File> file = active_;
    // Written without mu_, a lead ahead of the appends; an append that would still reach the
    // chunk meanwhile skips past it (WriteLocked), so the zeros never land on appended bytes.
    const uint64_t from = (std::max(file->zeroed, active_end_ + kZeroLeadBytes) +
                           kZeroWriteBytes - 1) / kZeroWriteBytes * kZeroWriteBytes;
    const uint64_t to = std::min(from + kZeroChunkBytes, options_.segment_bytes);
    if (from >= to) {  // the segment is nearly full: nothing to zero
      file->zeroed = options_.segment_bytes;
      continue;
    }
    file->fence_from = from;
    file->fence_to = to;
    zero_cv_.wait(lock, [this] { return stopping_ || !zero_paused_; });
    lock.unlock();
    uint64_t at = from;
    while (at < to) {
      ssize_t n = ::pwrite(file->fd, zeros.data(), std::min(to - at, kZeroWriteBytes),
                           static_cast<off_t>(at));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      at += static_cast<uint64_t>(n);
    }
    const bool written = at == to;
    const int write_errno = errno;
    if (written) (void)::fdatasync(file->fd);  // blocks and size durable before appends reach them
    lock.lock();
    file->fence_from = file->fence_to = 0;
    if (!written) {  // not fatal (appends write as before): this file gets no more zeros
      spdlog::warn("segment store: cannot write zeros ahead in {}: {}", PathOf(file->segment),
                   std::strerror(write_errno));
      file->zeroed = options_.segment_bytes;
      continue;
    }
    file->zeroed = to;
    if (from != file->zero_to) file->zero_from = from;
    file->zero_to = to;
    stats_.zeroed_bytes += static_cast<int64_t>(to - from);
  }
}

void SegmentStore::AppendAsync(std::string_view data, AppendDone done) {
  if (data.empty()) {
    done(InternalFailure("segment store: empty append"));
    return;
  }
  const uint32_t crc = SegmentCrc32c(data);
  std::unique_lock lock(mu_);
  if (stopping_) {
    lock.unlock();
    done(Error("ServiceUnavailable", "The server is shutting down.", 503));
    return;
  }
  Result<Extent> extent = WriteLocked(data, crc);
  if (!extent.ok() || !options_.fsync) {
    lock.unlock();
    done(std::move(extent));
    return;
  }
  pending_.push_back(Pending{*extent, std::move(done), active_});
  lock.unlock();
  flush_cv_.notify_one();
}

Result<Extent> SegmentStore::AppendForCommit(std::string_view data) {
  if (data.empty()) return InternalFailure("segment store: empty append");
  const uint32_t crc = SegmentCrc32c(data);
  std::lock_guard lock(mu_);
  if (stopping_) return Error("ServiceUnavailable", "The server is shutting down.", 503);
  STRATUS_ASSIGN_OR_RETURN(Extent extent, WriteLocked(data, crc));
  if (options_.fsync) {
    if (std::none_of(dirty_.begin(), dirty_.end(), [&](const auto& f) { return f == active_; })) {
      dirty_.push_back(active_);
    }
    File& f = *active_;
    const uint64_t end = extent.offset + extent.length;
    f.unsynced_from = std::min(f.unsynced_from, extent.offset);
    f.unsynced_to = std::max(f.unsynced_to, end);
    if (extent.offset < f.zero_from || end > f.zero_to) f.unsynced_needs_metadata = true;
  }
  return extent;
}

Status SegmentStore::SyncDirty() {
  struct Dirty {
    std::shared_ptr<File> file;
    uint64_t from = 0, to = 0;
    bool range_only = false;  // inside synced zeros: written, then one device flush for all
  };
  std::vector<Dirty> files;
  {
    std::lock_guard lock(mu_);
    // Taken before the syncs start: every write made before this call is covered; later ones
    // mark their file dirty again for the next batch.
    for (auto& file : dirty_) {
      Dirty d{file, file->unsynced_from, file->unsynced_to,
              flush_fd_ >= 0 && !file->unsynced_needs_metadata && file->unsynced_to > 0};
      file->unsynced_from = UINT64_MAX;
      file->unsynced_to = 0;
      file->unsynced_needs_metadata = false;
      files.push_back(std::move(d));
    }
    dirty_.clear();
  }
  std::optional<Error> failed;
  bool flush = false;
  auto fail = [&](const File& file, bool io_failed) {
    std::lock_guard lock(mu_);
    if (io_failed && !failed) failed = IoError("cannot sync", PathOf(file.segment));
    if (!failed) failed = InternalFailure("segment store: a sync of this segment failed before");
    // The file's state is unknown: nothing more is named in it, later appends go to a new one.
    broken_.insert(file.segment);
    if (active_.get() == &file) active_.reset();
  };
  for (const Dirty& d : files) {
    bool ok;
    if (d.range_only) {
      // The bytes' blocks and the file's size are durable already (the zeros' fdatasync): the
      // data alone is written, and the device flush below makes it stable. An fdatasync would
      // also write the inode whenever the appends changed its mtime (ext4 without a journal
      // writes the inode's block on every fsync when it is dirty: a second I/O round trip).
      ok = ::sync_file_range(d.file->fd, static_cast<off_t>(d.from),
                             static_cast<off_t>(d.to - d.from),
                             SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                                 SYNC_FILE_RANGE_WAIT_AFTER) == 0;
      flush = flush || ok;
    } else {
      ok = ::fdatasync(d.file->fd) == 0;
    }
    bool broken;
    {
      std::lock_guard lock(mu_);
      ++stats_.syncs;
      ++stats_.commit_syncs;
      if (d.range_only) ++stats_.range_syncs;
      broken = broken_.contains(d.file->segment);
    }
    if (!ok || broken) fail(*d.file, !ok);
  }
  // The device's cache flush: an fdatasync of a clean regular file (OpenDeviceFlushFile).
  if (flush && ::fdatasync(flush_fd_) != 0) {
    for (const Dirty& d : files) {
      if (d.range_only) fail(*d.file, true);
    }
  }
  if (failed) return *failed;
  return Status::Ok();
}

Result<Extent> SegmentStore::Append(std::string_view data) {
  std::promise<Result<Extent>> promise;
  auto future = promise.get_future();
  AppendAsync(data, [&promise](Result<Extent> r) { promise.set_value(std::move(r)); });
  return future.get();
}

void SegmentStore::Settle(const Extent& extent) {
  std::lock_guard lock(mu_);
  auto it = pins_.find(extent.segment);
  if (it == pins_.end()) return;
  if (--it->second <= 0) pins_.erase(it);
}

void SegmentStore::FlushLoop() {
  std::unique_lock lock(mu_);
  std::vector<Pending> batch;
  while (true) {
    flush_cv_.wait(lock, [this] { return stopping_ || (!pending_.empty() && !flush_paused_); });
    if (pending_.empty()) break;  // stopping, and every append answered
    batch.swap(pending_);
    lock.unlock();
    // One fdatasync per file covers every append of the group (usually one file; two when the
    // group spans a seal).
    std::vector<std::pair<File*, bool>> synced;
    for (const Pending& p : batch) {
      bool seen = std::any_of(synced.begin(), synced.end(),
                              [&](const auto& s) { return s.first == p.file.get(); });
      if (!seen) synced.emplace_back(p.file.get(), ::fdatasync(p.file->fd) == 0);
    }
    bool failed = false;
    for (Pending& p : batch) {
      bool ok = std::find_if(synced.begin(), synced.end(), [&](const auto& s) {
                  return s.first == p.file.get();
                })->second;
      if (ok) {
        p.done(p.extent);
      } else {
        failed = true;
        Settle(p.extent);
        p.done(IoError("cannot sync", PathOf(p.extent.segment)));
      }
    }
    batch.clear();
    lock.lock();
    stats_.syncs += static_cast<int64_t>(synced.size());
    // After a failed sync the file's state is unknown: later appends go to a new one.
    if (failed) {
      for (const auto& [file, ok] : synced) {
        if (!ok) broken_.insert(file->segment);
      }
      active_.reset();
    }
  }
}

Status SegmentStore::Reference(WriteTxn& txn, std::string_view id, const Extent& extent) {
  if (id.empty() || id.size() > kMaxIdBytes) {
    return InternalFailure("segment store: bad extent id");
  }
  if (options_.fsync) {
    {
      std::lock_guard lock(mu_);
      if (broken_.contains(extent.segment)) {
        return InternalFailure("segment store: the bytes were written to a segment whose sync "
                               "failed");
      }
    }
    STRATUS_RETURN_IF_ERROR(txn.SyncBeforeCommit(this, [this] { return SyncDirty(); }));
  }
  std::string key = ExtentKey(id);
  STRATUS_ASSIGN_OR_RETURN(auto existing, txn.Get(key));
  if (existing) return InternalFailure("segment store: extent id already in use: " + key);
  STRATUS_RETURN_IF_ERROR(txn.Put(key, FormatExtent(extent)));
  // The count row is read and written once per physical commit, not once per PUT.
  return txn.AddBeforeCommit(this, extent.segment, static_cast<int64_t>(extent.length),
                             extent.offset + extent.length, ApplyCountTotals);
}

Status SegmentStore::Unreference(WriteTxn& txn, std::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes) return Status::Ok();
  std::string key = ExtentKey(id);
  STRATUS_ASSIGN_OR_RETURN(auto text, txn.Get(key));
  if (!text) return Status::Ok();
  STRATUS_ASSIGN_OR_RETURN(Extent e, ParseExtent(*text));
  STRATUS_RETURN_IF_ERROR(txn.Delete(key));
  return txn.AddBeforeCommit(this, e.segment, -static_cast<int64_t>(e.length), 0,
                             ApplyCountTotals);
}

Result<std::optional<Extent>> SegmentStore::Find(ReadTxn& txn, std::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes) return std::optional<Extent>();
  STRATUS_ASSIGN_OR_RETURN(auto text, txn.Get(ExtentKey(id)));
  if (!text) return std::optional<Extent>();
  STRATUS_ASSIGN_OR_RETURN(Extent e, ParseExtent(*text));
  return std::optional<Extent>(e);
}

Result<std::shared_ptr<SegmentStore::File>> SegmentStore::OpenFile(uint64_t segment) {
  {
    std::lock_guard lock(mu_);
    if (auto it = files_.find(segment); it != files_.end()) return it->second;
  }
  std::string path = PathOf(segment);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open", path);
  auto file = std::make_shared<File>(segment, fd);
  std::lock_guard lock(mu_);
  auto [it, inserted] = files_.emplace(segment, file);
  return it->second;
}

Result<std::string> SegmentStore::Read(const Extent& extent, uint64_t offset, uint64_t length) {
  if (offset > extent.length || length > extent.length - offset) {
    return InternalFailure("segment store: read past the end of an extent");
  }
  STRATUS_ASSIGN_OR_RETURN(auto file, OpenFile(extent.segment));
  std::string out(length, '\0');
  size_t got = 0;
  while (got < length) {
    ssize_t n = ::pread(file->fd, out.data() + got, length - got,
                        static_cast<off_t>(extent.offset + offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot read", PathOf(extent.segment));
    if (n == 0) {
      return InternalFailure(fmt::format("segment store: {} is shorter than an extent it holds",
                                         PathOf(extent.segment)));
    }
    got += static_cast<size_t>(n);
  }
  if (offset == 0 && length == extent.length && SegmentCrc32c(out) != extent.crc) {
    spdlog::error("segment store: CRC mismatch in {} at {}+{}", PathOf(extent.segment),
                  extent.offset, extent.length);
    return InternalFailure("segment store: stored bytes do not match their checksum");
  }
  return out;
}

SegmentStats SegmentStore::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void SegmentStore::PauseFlusherForTest(bool paused) {
  {
    std::lock_guard lock(mu_);
    flush_paused_ = paused;
  }
  flush_cv_.notify_all();
}

void SegmentStore::PauseZeroingForTest(bool paused) {
  std::lock_guard lock(mu_);
  zero_paused_ = paused;
  zero_cv_.notify_all();
}

uint64_t SegmentStore::ActiveSegmentForTest() const {
  std::lock_guard lock(mu_);
  return active_ ? active_->segment : 0;
}

}  // namespace stratus::store

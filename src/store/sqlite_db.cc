#include "store/sqlite_db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "store/device_flush.h"

#include <atomic>
#include <cerrno>
#include <limits>
#include <mutex>
#include <new>

namespace stratus::store::internal {
namespace {

// How long a connection waits for a lock held by another connection before giving up. Only
// recovery after a crash or a foreign process (the sqlite3 shell) can make a connection wait.
constexpr int kBusyTimeoutMs = 5000;

// The SQL of each Sql id, in enum order.
constexpr std::array<const char*, static_cast<size_t>(Sql::kCount)> kSqlText = {
    "BEGIN",
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT w",
    "RELEASE w",
    "ROLLBACK TO w",
    "SELECT value FROM kv WHERE key = ?1",
    "INSERT OR REPLACE INTO kv(key, value) VALUES (?1, ?2)",
    "DELETE FROM kv WHERE key = ?1",
    "SELECT key, value FROM kv WHERE key >= ?1 ORDER BY key LIMIT ?2",
    "SELECT key, value FROM kv WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3",
    "SELECT key, value FROM kv WHERE key >= ?1 ORDER BY key DESC LIMIT ?2",
    "SELECT key, value FROM kv WHERE key >= ?1 AND key < ?2 ORDER BY key DESC LIMIT ?3",
    "DELETE FROM kv WHERE key >= ?1",
    "DELETE FROM kv WHERE key >= ?1 AND key < ?2",
    "INSERT INTO queue_items(queue, payload, visible_at_ms, attempts, enqueued_at_ms) "
    "VALUES (?1, ?2, ?3, 0, ?4)",
    "DELETE FROM queue_items WHERE id = ?1",
    // Served by queue_items_by_visibility (queue, visible_at_ms, rowid): no sort step.
    "SELECT id, payload, visible_at_ms, attempts, enqueued_at_ms FROM queue_items "
    "WHERE queue = ?1 AND visible_at_ms <= ?2 ORDER BY visible_at_ms, id LIMIT ?3",
    "UPDATE queue_items SET visible_at_ms = ?2, attempts = attempts + 1, lease_token = ?3 "
    "WHERE id = ?1",
    "DELETE FROM queue_items WHERE id = ?1 AND lease_token = ?2",
    "UPDATE queue_items SET visible_at_ms = ?3 WHERE id = ?1 AND lease_token = ?2",
    "UPDATE queue_items SET visible_at_ms = ?3, payload = ?4 WHERE id = ?1 AND lease_token = ?2",
    "SELECT MIN(visible_at_ms) FROM queue_items WHERE queue = ?1",
    "SELECT COUNT(*) FROM queue_items WHERE queue = ?1",
};

// SQLite's LIMIT takes a signed 64-bit value; a negative one means "no limit".
int64_t SqlLimit(size_t limit) {
  if (limit == 0 || limit > static_cast<size_t>(std::numeric_limits<int64_t>::max())) {
    return -1;
  }
  return static_cast<int64_t>(limit);
}

}  // namespace

Error StorageError(sqlite3* db, int rc, std::string_view what) {
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = fmt::format("store: {} failed: {} (sqlite error {})", what, detail, rc);
  spdlog::error("{}", message);
  return InternalFailure(std::move(message));
}

Error LimitError(std::string message) {
  spdlog::warn("{}", message);
  return InternalFailure(std::move(message));
}

Status CheckKey(std::string_view key, std::string_view what) {
  if (key.empty()) {
    return LimitError(fmt::format("store: the empty {} is not allowed", what));
  }
  if (key.size() > kMaxKeyBytes) {
    return LimitError(fmt::format("store: {} of {} bytes exceeds the limit of {} bytes", what,
                                  key.size(), kMaxKeyBytes));
  }
  return Status::Ok();
}

Status CheckValue(std::string_view value, std::string_view what) {
  if (value.size() > kMaxValueBytes) {
    return LimitError(fmt::format("store: {} of {} bytes exceeds the limit of {} bytes", what,
                                  value.size(), kMaxValueBytes));
  }
  return Status::Ok();
}

// ---- the writer's WAL file (WalVfsName)

namespace {

// A commit's frames are gathered up to this many bytes before they are written.
constexpr size_t kWalBufferBytes = size_t{1} << 20;
// The most the default VFS's xWrite takes in one call (it masks the size to 17 bits).
constexpr size_t kMaxDefaultWrite = size_t{64} << 10;
constexpr size_t kPageBytes = 4096;
constexpr size_t kFrameHeaderBytes = 24;  // a WAL frame's header, written apart from its page

std::atomic<int64_t> g_wal_range_syncs{0};
std::atomic<int64_t> g_wal_full_syncs{0};
std::atomic<int64_t> g_wal_writes{0};
std::atomic<int64_t> g_wal_pwrites{0};

// The WAL of a connection opened with WalVfsName(). Lives in the sqlite3_file memory SQLite
// allocates (szOsFile), followed by the default VFS's own file object (`real`).
struct WalFile {
  sqlite3_file base;          // base.pMethods = &kWalMethods
  sqlite3_file* real;         // the default VFS's file, right after this struct
  int fd = -1;                // our own descriptor of the same file: sync_file_range, fstat
  int flush_fd = -1;          // OpenDeviceFlushFile's (ext4 only), whose fdatasync flushes the
                              // device; -1 = every sync is the default VFS's fsync
  std::string buffer;         // frames written by SQLite, not yet written to the file
  sqlite3_int64 buffer_at = 0;  // the file offset of buffer[0]
  sqlite3_int64 written_to = 0;  // the highest end written since the last full sync
  // Bytes below this were written and made durable by a full fsync (no holes): overwriting them
  // needs no metadata. -1 until the first full sync.
  sqlite3_int64 durable_size = -1;
  // Bytes below this were written through `fd` by this connection (page by page, so the page
  // cache holds them as single pages) and not truncated since.
  sqlite3_int64 paged_to = 0;
  // The last write was the header of a commit frame: its page, next, ends the commit.
  bool commit_header = false;
};

WalFile* Wal(sqlite3_file* f) { return reinterpret_cast<WalFile*>(f); }

int Flush(WalFile& w) {
  if (w.buffer.empty()) return SQLITE_OK;
  g_wal_writes.fetch_add(1, std::memory_order_relaxed);
  const char* p = w.buffer.data();
  size_t left = w.buffer.size();
  sqlite3_int64 at = w.buffer_at;
  int rc = SQLITE_OK;
  while (left > 0) {
    size_t n = 0;
    if (w.fd >= 0) {
      // Our own descriptor (the default VFS's xWrite writes at most 128 KiB - 1 per call). Past
      // paged_to, one page at most per pwrite: a longer write into pages not cached makes the
      // page cache allocate large folios, and the next commit's first frames then dirty, and
      // write back, a whole folio. Below it (the WAL rewound after a checkpoint) the pages are
      // cached already, one folio each, and one pwrite for the whole run keeps them so: a
      // commit's ~15 frames were ~16 pwrites, 2.5 per durable 4 KiB S3 PUT. (Pages reclaimed
      // under memory pressure meanwhile come back as large folios: more bytes written back,
      // the same bytes and syncs.)
      size_t piece = std::min(left, kPageBytes - static_cast<size_t>(at % kPageBytes));
      if (at + static_cast<sqlite3_int64>(piece) < w.paged_to) {
        piece = std::min(left, static_cast<size_t>(w.paged_to - at));
      }
      g_wal_pwrites.fetch_add(1, std::memory_order_relaxed);
      ssize_t wrote = ::pwrite(w.fd, p, piece, at);
      if (wrote < 0 && errno == EINTR) continue;
      if (wrote <= 0) {
        rc = wrote < 0 && errno != ENOSPC ? SQLITE_IOERR_WRITE : SQLITE_FULL;
        break;
      }
      n = static_cast<size_t>(wrote);
      w.paged_to = std::max(w.paged_to, at + static_cast<sqlite3_int64>(n));
    } else {
      n = std::min(left, kMaxDefaultWrite);
      rc = w.real->pMethods->xWrite(w.real, p, static_cast<int>(n), at);
      if (rc != SQLITE_OK) break;
    }
    p += n;
    at += static_cast<sqlite3_int64>(n);
    left -= n;
  }
  w.buffer.clear();
  return rc;
}

int WalClose(sqlite3_file* f) {
  WalFile& w = *Wal(f);
  int rc = Flush(w);
  int closed = w.real->pMethods != nullptr ? w.real->pMethods->xClose(w.real) : SQLITE_OK;
  if (w.fd >= 0) ::close(w.fd);
  if (w.flush_fd >= 0) ::close(w.flush_fd);
  w.~WalFile();
  return rc != SQLITE_OK ? rc : closed;
}

int WalRead(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
  WalFile& w = *Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w.real->pMethods->xRead(w.real, out, amount, offset);
}

int WalWrite(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  WalFile& w = *Wal(f);
  w.written_to = std::max(w.written_to, offset + amount);
  const auto n = static_cast<size_t>(amount);
  if (!w.buffer.empty() &&
      (offset != w.buffer_at + static_cast<sqlite3_int64>(w.buffer.size()) ||
       w.buffer.size() + n > kWalBufferBytes)) {
    if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  }
  if (n > kMaxDefaultWrite) {  // never from SQLite's WAL (a header, or a page of <= 64 KiB)
    g_wal_writes.fetch_add(1, std::memory_order_relaxed);
    return w.real->pMethods->xWrite(w.real, data, amount, offset);
  }
  if (w.buffer.empty()) w.buffer_at = offset;
  w.buffer.append(static_cast<const char*>(data), n);
  // A commit's frames are written once its commit frame is whole, before SQLite publishes them
  // in the WAL index (with synchronous=NORMAL no sync comes first): other connections never
  // read a frame that is not in the file. A frame header's bytes 4..7 are the database size in
  // pages after the commit, 0 in the other frames.
  bool page_of_commit = w.commit_header;
  const auto* bytes = static_cast<const unsigned char*>(data);
  w.commit_header = n == kFrameHeaderBytes && (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
  return page_of_commit ? Flush(w) : SQLITE_OK;
}

int WalTruncate(sqlite3_file* f, sqlite3_int64 size) {
  WalFile& w = *Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  w.durable_size = -1;  // the new size is durable after the next full sync only
  w.paged_to = std::min(w.paged_to, size / static_cast<sqlite3_int64>(kPageBytes) *
                                        static_cast<sqlite3_int64>(kPageBytes));
  return w.real->pMethods->xTruncate(w.real, size);
}

int WalSync(sqlite3_file* f, int flags) {
  WalFile& w = *Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  struct stat now{};
  if (w.flush_fd >= 0 && w.durable_size >= 0 && w.written_to <= w.durable_size &&
      ::fstat(w.fd, &now) == 0 && now.st_size >= w.durable_size) {  // not cut short since
    // Every byte written since lies in blocks that are allocated and inside the durable size:
    // write them, wait, and flush the device's cache. An fsync would also write the inode,
    // dirty with a new mtime after nearly every commit (ext4 without a journal writes it on
    // every fsync then: a second I/O round trip per commit).
    if (::sync_file_range(w.fd, 0, 0,
                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                              SYNC_FILE_RANGE_WAIT_AFTER) != 0 ||
        ::fdatasync(w.flush_fd) != 0) {
      return SQLITE_IOERR_FSYNC;
    }
    g_wal_range_syncs.fetch_add(1, std::memory_order_relaxed);
    return SQLITE_OK;
  }
  int rc = w.real->pMethods->xSync(w.real, flags);
  if (rc != SQLITE_OK) return rc;
  g_wal_full_syncs.fetch_add(1, std::memory_order_relaxed);
  struct stat st{};
  if (w.fd >= 0 && ::fstat(w.fd, &st) == 0) {
    // Only a file without holes is allocated all through (SQLite writes its WAL from the start,
    // but a file left by a crash is taken as it is).
    off_t hole = ::lseek(w.fd, 0, SEEK_HOLE);
    w.durable_size = hole >= 0 ? std::min<sqlite3_int64>(hole, st.st_size) : -1;
    w.written_to = 0;
  }
  return SQLITE_OK;
}

int WalFileSize(sqlite3_file* f, sqlite3_int64* size) {
  WalFile& w = *Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w.real->pMethods->xFileSize(w.real, size);
}

// The rest: pending frames written first, then the default VFS's method.
int WalLock(sqlite3_file* f, int level) {
  WalFile& w = *Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w.real->pMethods->xLock(w.real, level);
}
int WalUnlock(sqlite3_file* f, int level) {
  WalFile& w = *Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w.real->pMethods->xUnlock(w.real, level);
}
int WalCheckReservedLock(sqlite3_file* f, int* out) {
  return Wal(f)->real->pMethods->xCheckReservedLock(Wal(f)->real, out);
}
int WalFileControl(sqlite3_file* f, int op, void* arg) {
  WalFile& w = *Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w.real->pMethods->xFileControl(w.real, op, arg);
}
int WalSectorSize(sqlite3_file* f) { return Wal(f)->real->pMethods->xSectorSize(Wal(f)->real); }
int WalDeviceCharacteristics(sqlite3_file* f) {
  return Wal(f)->real->pMethods->xDeviceCharacteristics(Wal(f)->real);
}
int WalShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return Wal(f)->real->pMethods->xShmMap(Wal(f)->real, region, size, extend, out);
}
int WalShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Wal(f)->real->pMethods->xShmLock(Wal(f)->real, offset, n, flags);
}
void WalShmBarrier(sqlite3_file* f) { Wal(f)->real->pMethods->xShmBarrier(Wal(f)->real); }
int WalShmUnmap(sqlite3_file* f, int del) {
  return Wal(f)->real->pMethods->xShmUnmap(Wal(f)->real, del);
}
int WalFetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  WalFile& w = *Wal(f);
  if (int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w.real->pMethods->xFetch(w.real, offset, amount, out);
}
int WalUnfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  return Wal(f)->real->pMethods->xUnfetch(Wal(f)->real, offset, p);
}

constexpr sqlite3_io_methods kWalMethods = {
    3,           WalClose,          WalRead,        WalWrite,     WalTruncate,
    WalSync,     WalFileSize,       WalLock,        WalUnlock,    WalCheckReservedLock,
    WalFileControl, WalSectorSize,  WalDeviceCharacteristics,     WalShmMap,
    WalShmLock,  WalShmBarrier,     WalShmUnmap,    WalFetch,     WalUnfetch};

constexpr char kWalVfsName[] = "stratus-wal";
sqlite3_vfs g_wal_vfs;
sqlite3_vfs* g_default_vfs = nullptr;

size_t RealOffset() { return (sizeof(WalFile) + 15) / 16 * 16; }

int WalVfsOpen(sqlite3_vfs* /*vfs*/, sqlite3_filename name, sqlite3_file* file, int flags,
               int* out_flags) {
  if ((flags & SQLITE_OPEN_WAL) == 0 || name == nullptr) {
    // Not a WAL: the default VFS's own file, in place (the memory is large enough).
    return g_default_vfs->xOpen(g_default_vfs, name, file, flags, out_flags);
  }
  auto* real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + RealOffset());
  int rc = g_default_vfs->xOpen(g_default_vfs, name, real, flags, out_flags);
  if (rc != SQLITE_OK) {
    file->pMethods = nullptr;
    return rc;
  }
  auto* w = new (file) WalFile();
  w->base.pMethods = &kWalMethods;
  w->real = real;
  w->buffer.reserve(kWalBufferBytes);
  w->fd = ::open(name, O_RDWR | O_CLOEXEC);
  std::string dir(name);
  dir.resize(dir.rfind('/') == std::string::npos ? 0 : dir.rfind('/'));
  if (dir.empty()) dir = ".";
  if (w->fd >= 0) w->flush_fd = OpenDeviceFlushFile(dir);
  return SQLITE_OK;
}

}  // namespace

const char* WalVfsName() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_default_vfs = sqlite3_vfs_find(nullptr);
    g_wal_vfs = *g_default_vfs;
    g_wal_vfs.zName = kWalVfsName;
    g_wal_vfs.szOsFile = static_cast<int>(RealOffset()) + g_default_vfs->szOsFile;
    g_wal_vfs.xOpen = WalVfsOpen;
    g_wal_vfs.pNext = nullptr;
    sqlite3_vfs_register(&g_wal_vfs, 0);
  });
  return kWalVfsName;
}

WalVfsStats GetWalVfsStats() {
  return WalVfsStats{g_wal_writes.load(std::memory_order_relaxed),
                     g_wal_range_syncs.load(std::memory_order_relaxed),
                     g_wal_full_syncs.load(std::memory_order_relaxed),
                     g_wal_pwrites.load(std::memory_order_relaxed)};
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, std::string_view role,
                                     const char* vfs) {
  sqlite3* raw = nullptr;
  // NOMUTEX: each connection is used by one thread at a time (the pool and the writer thread
  // guarantee it), so SQLite's per-connection mutex would be pure overhead.
  int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, vfs);
  if (rc != SQLITE_OK) {
    Error error = StorageError(raw, rc, fmt::format("opening {}", path));
    sqlite3_close_v2(raw);
    return error;
  }
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  return std::unique_ptr<Db>(new Db(raw, std::string(role)));
}

Db::~Db() {
  for (sqlite3_stmt* stmt : statements_) {
    sqlite3_finalize(stmt);
  }
  int rc = sqlite3_close(db_);
  if (rc != SQLITE_OK) {
    spdlog::error("store: closing the {} connection failed: {}", role_, sqlite3_errstr(rc));
    sqlite3_close_v2(db_);
  }
}

Result<sqlite3_stmt*> Db::Statement(Sql id) {
  sqlite3_stmt*& slot = statements_[static_cast<size_t>(id)];
  if (slot == nullptr) {
    int rc = sqlite3_prepare_v3(db_, kSqlText[static_cast<size_t>(id)], -1,
                                SQLITE_PREPARE_PERSISTENT, &slot, nullptr);
    if (rc != SQLITE_OK) {
      slot = nullptr;
      return Fail(rc, fmt::format("preparing \"{}\"", kSqlText[static_cast<size_t>(id)]));
    }
  }
  return slot;
}

Status Db::Exec(const char* sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  sqlite3_free(message);
  if (rc != SQLITE_OK) {
    return Fail(rc, fmt::format("running \"{}\"", sql));
  }
  return Status::Ok();
}

Status Db::Run(Sql id) {
  STRATUS_ASSIGN_OR_RETURN(sqlite3_stmt * raw, Statement(id));
  Stmt stmt(raw);
  int rc = stmt.Step();
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    return Fail(rc, kSqlText[static_cast<size_t>(id)]);
  }
  return Status::Ok();
}

Result<std::string> Db::QueryText(const char* sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql, -1, &raw, nullptr);
  if (rc != SQLITE_OK) {
    return Fail(rc, sql);
  }
  std::string text;
  rc = sqlite3_step(raw);
  if (rc == SQLITE_ROW) {
    const unsigned char* value = sqlite3_column_text(raw, 0);
    text = value != nullptr ? reinterpret_cast<const char*>(value) : "";
    rc = SQLITE_DONE;
  }
  sqlite3_finalize(raw);
  if (rc != SQLITE_DONE) {
    return Fail(rc, sql);
  }
  return text;
}

Stmt::~Stmt() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Stmt::Bytes(int index, std::string_view bytes) {
  // A NULL data pointer would bind SQL NULL; an empty blob needs a non-null one.
  const char* data = bytes.empty() ? "" : bytes.data();
  sqlite3_bind_blob64(stmt_, index, data, bytes.size(), SQLITE_STATIC);
}

void Stmt::Text(int index, std::string_view text) {
  const char* data = text.empty() ? "" : text.data();
  sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_STATIC, SQLITE_UTF8);
}

void Stmt::Int(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }

void Stmt::Null(int index) { sqlite3_bind_null(stmt_, index); }

int Stmt::Step() { return sqlite3_step(stmt_); }

std::string_view Stmt::ColumnBytes(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) {
    return {};
  }
  return {static_cast<const char*>(data), static_cast<size_t>(size)};
}

int64_t Stmt::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

bool Stmt::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Result<std::optional<std::string>> DbGet(Db& db, std::string_view key) {
  STRATUS_ASSIGN_OR_RETURN(sqlite3_stmt * raw, db.Statement(Sql::kGet));
  Stmt stmt(raw);
  stmt.Bytes(1, key);
  int rc = stmt.Step();
  if (rc == SQLITE_DONE) {
    return std::optional<std::string>();
  }
  if (rc != SQLITE_ROW) {
    return db.Fail(rc, "get");
  }
  return std::optional<std::string>(std::string(stmt.ColumnBytes(0)));
}

Result<std::vector<KeyValue>> DbScan(Db& db, const ScanOptions& options) {
  bool bounded = !options.end.empty();
  if (bounded && options.end <= options.start) {
    return std::vector<KeyValue>();  // an empty range; SQLite would say the same, slower
  }
  Sql id = options.reverse ? (bounded ? Sql::kScanReverseTo : Sql::kScanReverse)
                           : (bounded ? Sql::kScanForwardTo : Sql::kScanForward);
  STRATUS_ASSIGN_OR_RETURN(sqlite3_stmt * raw, db.Statement(id));
  Stmt stmt(raw);
  int param = 1;
  stmt.Bytes(param++, options.start);
  if (bounded) {
    stmt.Bytes(param++, options.end);
  }
  stmt.Int(param, SqlLimit(options.limit));
  std::vector<KeyValue> out;
  int rc;
  while ((rc = stmt.Step()) == SQLITE_ROW) {
    out.push_back(KeyValue{std::string(stmt.ColumnBytes(0)), std::string(stmt.ColumnBytes(1))});
  }
  if (rc != SQLITE_DONE) {
    return db.Fail(rc, "scan");
  }
  return out;
}

Result<std::optional<int64_t>> DbNextVisibleAt(Db& db, std::string_view queue) {
  STRATUS_ASSIGN_OR_RETURN(sqlite3_stmt * raw, db.Statement(Sql::kNextVisibleAt));
  Stmt stmt(raw);
  stmt.Bytes(1, queue);
  int rc = stmt.Step();
  if (rc != SQLITE_ROW) {
    return db.Fail(rc, "next visible time");
  }
  if (stmt.ColumnIsNull(0)) {
    return std::optional<int64_t>();
  }
  return std::optional<int64_t>(stmt.ColumnInt(0));
}

Result<int64_t> DbQueueLength(Db& db, std::string_view queue) {
  STRATUS_ASSIGN_OR_RETURN(sqlite3_stmt * raw, db.Statement(Sql::kQueueLength));
  Stmt stmt(raw);
  stmt.Bytes(1, queue);
  int rc = stmt.Step();
  if (rc != SQLITE_ROW) {
    return db.Fail(rc, "queue length");
  }
  return stmt.ColumnInt(0);
}

}  // namespace stratus::store::internal

namespace stratus::store::internal {

Result<bool> DbHasVisible(Db& db, std::string_view queue, int64_t now_ms) {
  STRATUS_ASSIGN_OR_RETURN(sqlite3_stmt * raw, db.Statement(Sql::kLeaseSelect));
  Stmt stmt(raw);
  stmt.Bytes(1, queue);
  stmt.Int(2, now_ms);
  stmt.Int(3, 1);
  int rc = stmt.Step();
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc != SQLITE_DONE) {
    return db.Fail(rc, "lease probe");
  }
  return false;
}

}  // namespace stratus::store::internal

#pragma once
// Internal to src/store: one SQLite connection with its prepared statements, and the key/value
// and queue operations expressed as SQL over it. Not thread-safe: a Db is used by one thread at a
// time (the writer thread, or a reader that checked it out of the pool).
#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/store.h"

namespace stratus::store::internal {

// Every statement the store runs; prepared once per connection, on first use.
enum class Sql : int {
  kBegin,
  kBeginImmediate,
  kCommit,
  kRollback,
  kSavepoint,
  kReleaseSavepoint,
  kRollbackToSavepoint,
  kGet,
  kPut,
  kDelete,
  kScanForward,
  kScanForwardTo,
  kScanReverse,
  kScanReverseTo,
  kDeleteFrom,
  kDeleteRange,
  kEnqueue,
  kRemoveItem,
  kLeaseSelect,
  kLeaseUpdate,
  kAck,
  kRelease,
  kReleaseWithPayload,
  kNextVisibleAt,
  kQueueLength,
  kCount,  // not a statement
};

// A storage failure: logged, and returned as InternalFailure with SQLite's message.
Error StorageError(sqlite3* db, int rc, std::string_view what);
// A request the store refuses (bad key or value size): InternalFailure, logged as a warning.
Error LimitError(std::string message);
// Validates a key against kMaxKeyBytes; `what` names it in the message ("key", "queue name").
Status CheckKey(std::string_view key, std::string_view what = "key");
Status CheckValue(std::string_view value, std::string_view what = "value");

// The VFS of the writer connection (synchronous FULL or NORMAL): SQLite's default
// VFS, but its WAL file (1) gathers the frames SQLite writes one header and one page at a time
// (two pwrites per frame, most straddling two pages of the file) and writes them page by page
// (one pwrite per 4 KiB page: longer writes make the page cache allocate large folios, which a
// later commit dirties and writes back whole), and (2) on ext4, once the
// WAL has been fsync'd whole, syncs frames written over its existing blocks with
// sync_file_range and a device cache flush (an fdatasync of the directory) instead of an
// fdatasync, which would also write the inode after nearly every commit (its mtime changed).
// Gathered frames are written before anything else touches the file (read, size, lock, truncate,
// file control, close), before every sync and once a commit frame's page is gathered: a commit
// is in the file before SQLite publishes it in the WAL index (with synchronous=FULL a sync comes
// first too), so other connections (readers, the checkpointer) only ever read frames that were
// written. Registered on first call; thread-safe.
const char* WalVfsName();
struct WalVfsStats {
  int64_t writes = 0;       // gathered runs of frames written (about one per commit)
  int64_t range_syncs = 0;  // syncs by sync_file_range + device flush
  int64_t full_syncs = 0;   // syncs by the default VFS (fsync)
  int64_t pwrites = 0;      // pwrite calls those runs took
};
WalVfsStats GetWalVfsStats();  // totals of every connection of the process

class Db {
 public:
  // Opens `path` (":memory:" for a private in-memory database) read-write, creating it if missing,
  // with the VFS named `vfs` (nullptr = SQLite's default).
  static Result<std::unique_ptr<Db>> Open(const std::string& path, std::string_view role,
                                          const char* vfs = nullptr);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* raw() const { return db_; }
  std::string_view role() const { return role_; }

  // The prepared statement for `id`, reset and with no bindings.
  Result<sqlite3_stmt*> Statement(Sql id);
  // Runs one or more SQL statements that return no rows we need (pragmas, DDL).
  Status Exec(const char* sql);
  // Runs a cached statement that returns no rows (BEGIN, COMMIT, SAVEPOINT, ...).
  Status Run(Sql id);
  // Runs a query (or pragma) and returns the first column of its first row as text ("" when
  // there is no row).
  Result<std::string> QueryText(const char* sql);

  Error Fail(int rc, std::string_view what) const { return StorageError(db_, rc, what); }

 private:
  Db(sqlite3* db, std::string role) : db_(db), role_(std::move(role)) {}
  sqlite3* db_;
  std::string role_;  // "writer", "reader", "memory": for log lines
  std::array<sqlite3_stmt*, static_cast<size_t>(Sql::kCount)> statements_{};
};

// Binds, steps and resets a cached statement; the destructor resets it so a reader's implicit
// read transaction ends as soon as the statement is done.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Binds bytes without copying: `bytes` must outlive the statement's use. The empty string is
  // bound as an empty blob, never NULL.
  void Bytes(int index, std::string_view bytes);
  void Text(int index, std::string_view text);
  void Int(int index, int64_t value);
  void Null(int index);
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step();
  std::string_view ColumnBytes(int column) const;
  int64_t ColumnInt(int column) const;
  bool ColumnIsNull(int column) const;

 private:
  sqlite3_stmt* stmt_;
};

// Reads shared by read and write transactions. Callers validate keys and names (CheckKey) first,
// so every error these return is a storage failure.
Result<std::optional<std::string>> DbGet(Db& db, std::string_view key);
Result<std::vector<KeyValue>> DbScan(Db& db, const ScanOptions& options);
Result<std::optional<int64_t>> DbNextVisibleAt(Db& db, std::string_view queue);
Result<int64_t> DbQueueLength(Db& db, std::string_view queue);
// True when `queue` has an item visible at `now_ms` (Lease's cheap pre-check on a reader).
Result<bool> DbHasVisible(Db& db, std::string_view queue, int64_t now_ms);

}  // namespace stratus::store::internal

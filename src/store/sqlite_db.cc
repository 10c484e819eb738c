#include "store/sqlite_db.h"

#include <spdlog/spdlog.h>

#include <limits>

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

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, std::string_view role) {
  sqlite3* raw = nullptr;
  // NOMUTEX: each connection is used by one thread at a time (the pool and the writer thread
  // guarantee it), so SQLite's per-connection mutex would be pure overhead.
  int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
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

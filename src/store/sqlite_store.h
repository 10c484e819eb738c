#pragma once
// Internal to src/store (and its tests): the schema migrations of the SQLite backend and hooks
// for tests. Services use store.h only.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace stratus::store {

// One schema step. Versions start at 1 and increase by one; a migration runs once, inside the
// same transaction that records it in schema_version, so a crash never leaves it half applied.
struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;  // one or more statements
};

// The migrations of this binary, oldest first. Append only: never edit a released one.
const std::vector<Migration>& SqliteMigrations();

// OpenSqliteStore with another migration list (to test upgrades and downgrades).
Result<std::unique_ptr<Store>> OpenSqliteStoreWithMigrationsForTest(
    const SqliteOptions& options, std::vector<Migration> migrations);

// The number of write functions queued and not yet taken by the writer (for tests that need
// several writers in one batch). `store` must come from OpenSqliteStore.
size_t PendingWritesForTest(Store& store);

// Runs `sql` on the writer connection inside a write transaction (to provoke storage failures,
// e.g. PRAGMA max_page_count). `store` must come from OpenSqliteStore.
Status ExecOnWriterForTest(Store& store, const std::string& sql);

}  // namespace stratus::store

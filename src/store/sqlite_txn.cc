#include "store/sqlite_txn.h"

#include "core/crypto.h"
#include "core/strings.h"

namespace stratus::store::internal {
namespace {

// Bytes of randomness in a lease token (hex-encoded: twice as many characters).
constexpr size_t kLeaseTokenBytes = 16;

}  // namespace

Error ClosedError() { return ServiceUnavailable("store: closed (the server is shutting down)"); }

Status SqliteWriteTxn::Put(std::string_view key, std::string_view value) {
  STRATUS_RETURN_IF_ERROR(Poisoned());
  STRATUS_RETURN_IF_ERROR(internal::CheckKey(key));
  STRATUS_RETURN_IF_ERROR(internal::CheckValue(value));
  auto changed = Track(Change(Sql::kPut, "put", [&](Stmt& stmt) {
    stmt.Bytes(1, key);
    stmt.Bytes(2, value);
  }));
  if (!changed.ok()) {
    return std::move(changed).error();
  }
  return Status::Ok();
}

Status SqliteWriteTxn::Delete(std::string_view key) {
  STRATUS_RETURN_IF_ERROR(Poisoned());
  STRATUS_RETURN_IF_ERROR(internal::CheckKey(key));
  auto changed = Track(Change(Sql::kDelete, "delete", [&](Stmt& stmt) { stmt.Bytes(1, key); }));
  if (!changed.ok()) {
    return std::move(changed).error();
  }
  return Status::Ok();
}

Result<int64_t> SqliteWriteTxn::DeleteRange(std::string_view start, std::string_view end) {
  STRATUS_RETURN_IF_ERROR(Poisoned());
  if (!end.empty() && end <= start) {
    return int64_t{0};
  }
  if (end.empty()) {
    return Track(
        Change(Sql::kDeleteFrom, "delete range", [&](Stmt& stmt) { stmt.Bytes(1, start); }));
  }
  return Track(Change(Sql::kDeleteRange, "delete range", [&](Stmt& stmt) {
    stmt.Bytes(1, start);
    stmt.Bytes(2, end);
  }));
}

Result<int64_t> SqliteWriteTxn::Enqueue(std::string_view queue, std::string_view payload,
                                        int64_t visible_at_ms) {
  STRATUS_RETURN_IF_ERROR(Poisoned());
  STRATUS_RETURN_IF_ERROR(internal::CheckKey(queue, "queue name"));
  STRATUS_RETURN_IF_ERROR(internal::CheckValue(payload, "queue payload"));
  int64_t now = clock_.NowMillis();
  auto inserted = Track(Change(Sql::kEnqueue, "enqueue", [&](Stmt& stmt) {
    stmt.Bytes(1, queue);
    stmt.Bytes(2, payload);
    stmt.Int(3, visible_at_ms == 0 ? now : visible_at_ms);
    stmt.Int(4, now);
  }));
  if (!inserted.ok()) {
    return std::move(inserted).error();
  }
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_.raw()));
}

Result<bool> SqliteWriteTxn::RemoveQueueItem(int64_t id) {
  STRATUS_RETURN_IF_ERROR(Poisoned());
  auto removed =
      Track(Change(Sql::kRemoveItem, "remove queue item", [&](Stmt& stmt) { stmt.Int(1, id); }));
  if (!removed.ok()) {
    return std::move(removed).error();
  }
  return *removed > 0;
}

Result<std::vector<QueueItem>> SqliteWriteTxn::LeaseItems(std::string_view queue, size_t max,
                                                          int64_t now_ms, int64_t lease_ms) {
  STRATUS_RETURN_IF_ERROR(Poisoned());
  std::vector<QueueItem> items;
  {
    // Collect first, update after: an update moves the row within the index being scanned.
    auto raw = db_.Statement(Sql::kLeaseSelect);
    if (!raw.ok()) {
      return Track(Result<std::vector<QueueItem>>(std::move(raw).error()));
    }
    Stmt stmt(*raw);
    stmt.Bytes(1, queue);
    stmt.Int(2, now_ms);
    stmt.Int(3, static_cast<int64_t>(std::min<size_t>(max, INT32_MAX)));
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      QueueItem item;
      item.id = stmt.ColumnInt(0);
      item.queue = std::string(queue);
      item.payload = std::string(stmt.ColumnBytes(1));
      item.visible_at_ms = stmt.ColumnInt(2);
      item.attempts = static_cast<int32_t>(stmt.ColumnInt(3));
      item.enqueued_at_ms = stmt.ColumnInt(4);
      items.push_back(std::move(item));
    }
    if (rc != SQLITE_DONE) {
      return Track(Result<std::vector<QueueItem>>(db_.Fail(rc, "lease")));
    }
  }
  int64_t until = now_ms + std::max<int64_t>(lease_ms, 0);
  for (QueueItem& item : items) {
    item.lease_token = HexEncode(RandomBytes(kLeaseTokenBytes));
    item.visible_at_ms = until;
    item.attempts += 1;
    auto updated = Track(Change(Sql::kLeaseUpdate, "lease", [&](Stmt& stmt) {
      stmt.Int(1, item.id);
      stmt.Int(2, until);
      stmt.Text(3, item.lease_token);
    }));
    if (!updated.ok()) {
      return std::move(updated).error();
    }
  }
  return items;
}

Result<bool> SqliteWriteTxn::AckItem(int64_t id, std::string_view token) {
  STRATUS_RETURN_IF_ERROR(Poisoned());
  auto deleted = Track(Change(Sql::kAck, "ack", [&](Stmt& stmt) {
    stmt.Int(1, id);
    stmt.Text(2, token);
  }));
  if (!deleted.ok()) {
    return std::move(deleted).error();
  }
  return *deleted > 0;
}

Result<bool> SqliteWriteTxn::ReleaseItem(int64_t id, std::string_view token, int64_t visible_at_ms,
                                         const std::optional<std::string>& payload) {
  STRATUS_RETURN_IF_ERROR(Poisoned());
  auto updated =
      Track(Change(payload ? Sql::kReleaseWithPayload : Sql::kRelease, "release", [&](Stmt& stmt) {
        stmt.Int(1, id);
        stmt.Text(2, token);
        stmt.Int(3, visible_at_ms);
        if (payload) {
          stmt.Bytes(4, *payload);
        }
      }));
  if (!updated.ok()) {
    return std::move(updated).error();
  }
  return *updated > 0;
}

}  // namespace stratus::store::internal

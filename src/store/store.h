#pragma once
// store::Store — the one storage seam of stratus (DESIGN.md "State", STYLE.md rule 8).
//
// What it offers:
//  * an ordered key/value space: keys and values are byte strings, keys ordered by memcmp;
//    services namespace their keys ("lambda/<account>/<region>/fn/<name>") and scan prefixes;
//  * atomic, durable write transactions: Write() runs a function that reads and writes through a
//    WriteTxn and returns only after the transaction is durable (fsync'd, or the PostgreSQL
//    commit returned). Transactions are serializable: no two write functions interleave;
//  * consistent read snapshots (Read());
//  * durable work queues with leases (a visibility timeout) for background work items —
//    async invokes, deliveries, timers — so that a crash loses nothing and work is retried;
//  * change notification: a write function may Notify(topic); after the commit every watcher of
//    that topic is called, so long polls wake up without polling the store.
//
// Thread-safety: every method of Store is thread-safe. Write() blocks the calling thread until
// durable, so it must not be called from a network io thread. The WriteTxn/ReadTxn passed to a
// function is valid only during that call and only on the calling thread of that function.
//
// Errors: storage failures (disk full, corruption, I/O errors) are returned as an Error with
// code "InternalFailure" (and logged); a write function's own error aborts its transaction and is
// returned unchanged. A storage failure inside a write function aborts that transaction even if
// the function ignores the error. An exception escaping a function passed to Write/Read is caught,
// aborts the transaction and becomes an InternalFailure. Keys and values outside the limits below
// are refused with InternalFailure before anything is stored: services validate their inputs
// against AWS's own limits first, so reaching a store limit is a service bug, not a client error.
// After Close() every call fails with "ServiceUnavailable" (the server is shutting down).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace stratus::store {

// Keys are 1..kMaxKeyBytes bytes (the empty key is refused); values and queue payloads are at most
// kMaxValueBytes. Queue names follow the key limits.
inline constexpr size_t kMaxKeyBytes = size_t{16} * 1024;
inline constexpr size_t kMaxValueBytes = size_t{64} * 1024 * 1024;

struct KeyValue {
  std::string key;
  std::string value;
};

// A range scan: keys in [start, end) in ascending order (descending when `reverse`), at most
// `limit` entries (0 = no limit). An empty `end` means "no upper bound".
struct ScanOptions {
  std::string start;
  std::string end;
  size_t limit = 0;
  bool reverse = false;
};

// The smallest key greater than every key starting with `prefix` (for [prefix, PrefixEnd) scans);
// "" when no such key exists (prefix is all 0xFF).
std::string PrefixEnd(std::string_view prefix);
// ScanOptions for every key that starts with `prefix`.
ScanOptions PrefixScan(std::string_view prefix, size_t limit = 0, bool reverse = false);

// A work item in a durable queue.
struct QueueItem {
  int64_t id = 0;              // unique per store, increasing in enqueue order
  std::string queue;           // the queue's name
  std::string payload;
  int64_t visible_at_ms = 0;   // wall-clock ms when the item becomes leasable
  int32_t attempts = 0;        // how many times it has been leased (including the current lease)
  int64_t enqueued_at_ms = 0;
  std::string lease_token;     // set on leased items; required to ack, extend or release
};

class ReadTxn {
 public:
  virtual ~ReadTxn() = default;
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  virtual Result<std::vector<KeyValue>> Scan(const ScanOptions& options) = 0;
};

class WriteTxn : public ReadTxn {
 public:
  // Reads see this transaction's own earlier writes.
  virtual Status Put(std::string_view key, std::string_view value) = 0;
  virtual Status Delete(std::string_view key) = 0;
  // Deletes every key in [start, end) (end "" = unbounded); returns how many were deleted.
  virtual Result<int64_t> DeleteRange(std::string_view start, std::string_view end) = 0;
  // Adds a work item that becomes leasable at `visible_at_ms` (0 = now). Returns its id.
  virtual Result<int64_t> Enqueue(std::string_view queue, std::string_view payload,
                                  int64_t visible_at_ms = 0) = 0;
  // Removes a queue item regardless of lease (e.g. a cancelled timer). True if it existed.
  virtual Result<bool> RemoveQueueItem(int64_t id) = 0;
  // After a successful commit, watchers of `topic` are called (once per topic per physical
  // commit: writes grouped into one commit that notify the same topic wake its watchers once).
  // Nothing is delivered when the transaction is rolled back.
  virtual void Notify(std::string_view topic) = 0;
  // Asks the store to call `sync` after this transaction's function has returned and before the
  // physical commit that carries it is made durable, on the writer thread; every transaction of
  // one physical commit passing the same `key` shares one call (one fdatasync of a file covers
  // all their appends). `sync` must be safe to call from the writer thread and must not call back
  // into the store. If it fails, the whole physical commit is rolled back and every transaction
  // in it fails with that error. The default (backends without group commit) calls `sync` at
  // once and returns its result.
  virtual Status SyncBeforeCommit(const void* key, std::function<Status()> sync);

  // A total that many transactions of one physical commit change, written once per commit
  // instead of once per transaction (e.g. a segment's live-byte count, changed by every PUT).
  // Adds `delta` to slot `slot` of `key` and raises the slot's mark to at least `mark`. After the
  // last transaction function of the physical commit carrying this one has run, and before its
  // pre-commit syncs and COMMIT, on the writer thread, `apply` (the first one passed with `key`
  // in that commit) is called once with the totals of every transaction of the commit that was
  // applied (a rolled-back transaction adds nothing), slots in the order first added; its writes
  // join the commit, and if it fails the whole physical commit is rolled back and every
  // transaction in it fails with that error. `apply` may read and write but must not call
  // AddBeforeCommit, SyncBeforeCommit or Notify. Reads made inside transaction functions do not
  // see totals not yet applied. The default (backends without group commit) calls `apply` at
  // once with this call's own delta and mark.
  struct CommitTotal {
    uint64_t slot = 0;
    int64_t sum = 0;    // the deltas added
    uint64_t mark = 0;  // the highest mark
  };
  using ApplyTotals = std::function<Status(WriteTxn&, const std::vector<CommitTotal>&)>;
  virtual Status AddBeforeCommit(const void* key, uint64_t slot, int64_t delta, uint64_t mark,
                                 ApplyTotals apply);
};

struct StoreStats {
  int64_t commits = 0;        // logical write transactions committed
  int64_t batches = 0;        // physical commits (a batch groups concurrent writers)
  int64_t failed_writes = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `fn` in a transaction and commits it durably. If `fn` returns an error the transaction
  // is rolled back and the error is returned. `fn` may run on another thread than the caller's,
  // and must not call back into this Store.
  virtual Status Write(const std::function<Status(WriteTxn&)>& fn) = 0;

  // The asynchronous form of Write, for request paths that must not park a thread while the
  // group commit's fsync runs: `fn` runs in a later batch on the writer, and `done` is called
  // once with the same result Write would return, after the commit is durable (or the
  // transaction rolled back). `done` runs on the store's writer thread: it must be quick (hand
  // real work elsewhere) and must not call Write; it may call WriteAsync. May be called from any
  // thread, including from `done` and from inside a write function (the new write then runs in
  // a later batch). After Close, `done` is called at once with ServiceUnavailable.
  virtual void WriteAsync(std::function<Status(WriteTxn&)> fn,
                          std::function<void(Status)> done);

  // Runs `fn` against a consistent snapshot.
  virtual Status Read(const std::function<Status(ReadTxn&)>& fn) = 0;

  // Conveniences over Read/Write for single keys.
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  virtual Result<std::vector<KeyValue>> Scan(const ScanOptions& options) = 0;
  Status Put(std::string_view key, std::string_view value);
  Status Delete(std::string_view key);

  // Leases up to `max` items of `queue` that are visible at `now_ms`, oldest visible first; each
  // becomes invisible until now_ms + lease_ms and its attempts count goes up by one. Durable:
  // a crash after Lease returns leaves the items leased until their lease expires.
  virtual Result<std::vector<QueueItem>> Lease(std::string_view queue, size_t max, int64_t now_ms,
                                               int64_t lease_ms) = 0;
  // Deletes a leased item (its work is done). Returns false if the lease was lost (expired and
  // re-leased by someone else, or the item is gone).
  virtual Result<bool> Ack(int64_t id, std::string_view lease_token) = 0;
  // Makes a leased item visible again at `visible_at_ms` (retry with backoff), optionally with a
  // new payload. False if the lease was lost. The token stays valid until the item is leased
  // again, so Release(id, token, now + d) also extends a lease (SQS ChangeMessageVisibility) and
  // the holder may still Ack it until someone else leases it.
  virtual Result<bool> Release(int64_t id, std::string_view lease_token, int64_t visible_at_ms,
                               std::optional<std::string> new_payload = std::nullopt) = 0;
  // The earliest visible_at_ms of any item in `queue` (leased or not), for timer sleeps.
  virtual Result<std::optional<int64_t>> NextVisibleAt(std::string_view queue) = 0;
  // Number of items in `queue`.
  virtual Result<int64_t> QueueLength(std::string_view queue) = 0;

  // Calls `fn` after every commit that notified `topic`, on an internal thread; `fn` must be quick
  // and must not call Write (post work elsewhere instead); it may Read. The returned handle
  // unsubscribes when destroyed: once its destructor returns, `fn` is not running and will not be
  // called again (a handle destroyed from inside `fn` itself does not wait). The handle may outlive
  // the Store.
  class Watch {
   public:
    virtual ~Watch() = default;
  };
  virtual std::unique_ptr<Watch> Subscribe(std::string topic, std::function<void()> fn) = 0;

  // Stops accepting work, runs every write already queued, commits it durably, waits for readers
  // in flight, checkpoints and closes. Idempotent; later calls fail with ServiceUnavailable and
  // watchers are no longer called. The destructor calls Close().
  virtual void Close() = 0;

  virtual StoreStats Stats() const = 0;
};

struct SqliteOptions {
  // The directory holding stratus.db (created if missing). Empty = a private in-memory database
  // (tests): same semantics, nothing survives the process.
  std::string data_dir;
  // PRAGMA synchronous=FULL: every commit batch is fsync'd before writers are acknowledged.
  // false = synchronous=NORMAL: acknowledged writes survive a process crash but an OS crash or
  // power loss may lose the latest ones (the database stays consistent).
  bool fsync = true;
  // Upper bound on how many write transactions one physical commit groups.
  size_t max_batch = 256;
  // The time source for Enqueue's "now" (visible_at_ms 0) and enqueued_at_ms; must outlive the
  // store. nullptr = the system clock. Tests pass a ManualClock.
  const Clock* clock = nullptr;
};

// Opens (and migrates) the SQLite-backed store. Fails with a message that says how to fix it when
// the directory cannot be created, the database is locked by another stratus (an flock on
// <data_dir>/stratus.lock, released by the kernel when that process dies), or the database was
// written by a newer stratus.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

}  // namespace stratus::store

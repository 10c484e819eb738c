#pragma once
// DynamoDB tables on store::Store: the table record, its key schema and secondary indexes, and
// the store keys of items and index entries. TableCatalog runs the control plane (Create,
// Describe, Update, Delete, List, tags, TTL settings) and caches parsed table records.
//
// Store keys ("ddb/" namespace):
//   ddb/t/<acct>/<region>/<table>        table record (JSON)
//   ddb/i/<uid:8><index:1><h><pk>[<sk>]            an item (index 0) or an index entry
//       (index n: <h> and <pk>/<sk> are the index's keys, followed by the table's <pk>[<sk>])
//   ddb/s/<stream uid:8><seq:8>           a stream record (JSON), see streams.h
//   ddb/n/uid, ddb/n/seq                  counters (table/stream uids, stream sequence numbers)
// <pk>/<sk> are EncodeKeyValue encodings (order-preserving), so a partition's items are one
// contiguous range in sort-key order, and <h>, from a 16-bit hash of <pk>, places partitions
// for parallel Scan segments. Its width is the table's key layout (Table::key_layout):
//   kHashedKeys (tables created before 2026-11-28): <h> is the 16 bits (2 bytes), so every
//       partition lands at a random place: N items written together dirty N B-tree leaves and
//       N WAL pages (~4 KiB of WAL, fsync and checkpoint per item; docs/dynamodb.md);
//   kBucketedKeys (new tables): <h> is the hash's top 4 bits (1 byte, 0..15): partitions sit in
//       16 runs in <pk> order, so partition keys written together in order (counters, time-
//       ordered ids) share leaves and WAL pages. Parallel Scan segments are ranges of the
//       16-bit hash either way (Scan filters a bucket by the full hash when a segment splits it).
// Values are the item (or its projection) as wire-form JSON text.
//
// Thread-safe: the cache is guarded by a mutex; everything else lives in the store.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "store/store.h"

namespace stratus::services::dynamodb {

struct Scope {
  std::string account;
  std::string region;
};

struct KeyAttr {
  std::string name;
  std::string type;  // S, N or B
};

struct IndexDef {
  std::string name;
  bool global = false;
  uint8_t id = 0;  // the index byte of its store keys (1..255)
  KeyAttr hash;
  std::optional<KeyAttr> range;
  std::string projection = "ALL";  // ALL, KEYS_ONLY, INCLUDE
  std::vector<std::string> non_key;
};

// Table::key_layout values (stored in the table record as "key_layout"; absent = kHashedKeys).
inline constexpr uint8_t kHashedKeys = 0;
inline constexpr uint8_t kBucketedKeys = 1;
inline constexpr uint8_t kNewTableKeyLayout = kBucketedKeys;

struct Table {
  std::string raw;  // the stored record, compared inside transactions
  Json record;
  std::string name;
  std::string arn;
  uint64_t uid = 0;
  std::string status;
  KeyAttr hash;
  std::optional<KeyAttr> range;
  std::vector<IndexDef> indexes;
  // Streams.
  bool stream_enabled = false;
  std::string stream_view;  // KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES
  uint64_t stream_uid = 0;
  std::string stream_arn;
  // TTL.
  std::string ttl_attribute;
  bool ttl_enabled = false;
  uint8_t key_layout = kHashedKeys;  // see the store keys above

  // <h> of the store keys of a partition (its encoded partition key) in this table's layout.
  std::string PartitionTag(std::string_view encoded_pk) const;

  const IndexDef* FindIndex(std::string_view name) const;
  std::vector<std::string> KeyNames() const;
  // The base table's key attributes of `item` (a map), in key-schema order.
  Json KeyOf(const Json& item) const;
  // Store keys.
  std::string ItemPrefix(uint8_t index) const;
  // The item's store key; `item` must hold valid key attributes.
  std::string ItemKey(const Json& item) const;
  // The index entry key of `item` in `index`, or "" when the item lacks the index's keys.
  std::string IndexKey(const IndexDef& index, const Json& item) const;
  // The attributes of `item` that `index` projects.
  Json IndexProjection(const IndexDef& index, const Json& item) const;
};

using TablePtr = std::shared_ptr<const Table>;

// Store key helpers.
std::string TableRecordKey(const Scope& s, std::string_view name);
std::string TablePrefix(const Scope& s);
std::string BigEndian64(uint64_t v);
uint64_t ReadBigEndian64(std::string_view b);
// 16 bits of a hash of an encoded partition key, as a number and as two big-endian bytes.
uint32_t PartitionHash16(std::string_view encoded_pk);
std::string PartitionHash(std::string_view encoded_pk);
// The bucket (0..15) of a partition hash in the kBucketedKeys layout, and the 16-bit hashes
// one bucket covers.
inline constexpr uint32_t kHashBucketShift = 12;
inline constexpr uint32_t kHashesPerBucket = uint32_t{1} << kHashBucketShift;

Error ResourceNotFound(std::string message = "Requested resource not found");
Error ResourceInUse(std::string message);

class TableCatalog {
 public:
  TableCatalog(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // The table, from the cache or the store. ResourceNotFound when missing.
  Result<TablePtr> Get(const Scope& s, std::string_view name);
  // Inside a write transaction: the current table, reusing the cached parse when the stored
  // record is unchanged. ResourceNotFound when the table is gone.
  Result<TablePtr> GetInTxn(store::ReadTxn& txn, const Scope& s, std::string_view name);
  void Forget(const Scope& s, std::string_view name);

  Result<Json> Create(const Scope& s, Json input);
  Result<Json> Describe(const Scope& s, std::string_view name);
  Result<Json> Update(const Scope& s, const Json& input);
  Result<Json> Delete(const Scope& s, std::string_view name);
  Result<Json> List(const Scope& s, const Json& input);
  Status Tag(const Scope& s, const Json& input);
  Status Untag(const Scope& s, const Json& input);
  Result<Json> ListTags(const Scope& s, const Json& input);
  Result<Json> UpdateTtl(const Scope& s, const Json& input);
  Result<Json> DescribeTtl(const Scope& s, std::string_view name);
  Result<Json> DescribeContinuousBackups(const Scope& s, std::string_view name);
  Result<Json> UpdateContinuousBackups(const Scope& s, const Json& input);

  // Every table of every account with TTL enabled (for the sweeper).
  Result<std::vector<std::pair<Scope, TablePtr>>> TtlTables();
  // The TableDescription of a record (without the item counts).
  static Json DescriptionOf(const Table& t);
  // Parses a stored record.
  static Result<TablePtr> Parse(std::string raw);

 private:
  // Applies `change` to the table record in one transaction; returns the new table.
  Result<TablePtr> Modify(const Scope& s, std::string_view name,
                          const std::function<Status(store::WriteTxn&, const Table&, Json&)>& change);
  Result<uint64_t> NextUid(store::WriteTxn& txn);
  Json Counts(const Table& t);
  std::string TableNameFromArn(const Scope& s, const std::string& arn, Status& st);

  store::Store& store_;
  const Clock& clock_;
  std::shared_mutex mu_;  // guards cache_ and generation_
  std::unordered_map<std::string, TablePtr> cache_;
  // Bumped by every Forget. Get caches the record it read only when no Forget ran meanwhile: a
  // change committed after its read (DeleteTable, UpdateTable) would otherwise stay hidden by
  // the copy it read before, with no expiry.
  uint64_t generation_ = 0;
};

}  // namespace stratus::services::dynamodb

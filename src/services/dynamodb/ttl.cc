// Background maintenance: expiring items past their TTL attribute, and trimming stream records
// older than the 24-hour retention.
#include "services/dynamodb/attr.h"
#include "services/dynamodb/engine.h"

namespace stratus::services::dynamodb {

namespace {

constexpr int64_t kStreamRetentionMs = 24LL * 3600 * 1000;
constexpr size_t kTrimBatch = 1000;
// Items examined per TTL table per sweep; a cursor carries on from there next time, so a big
// table is covered over several sweeps instead of being read whole every few seconds.
constexpr size_t kTtlScanPerSweep = 5000;

}  // namespace

Result<int64_t> Engine::SweepTtl(size_t max_per_table) {
  STRATUS_ASSIGN_OR_RETURN(auto tables, catalog_.TtlTables());
  int64_t now_s = clock_.NowMillis() / 1000;
  int64_t deleted = 0;
  for (auto& [scope, t] : tables) {
    // Collect expired keys from a snapshot, then delete each under a condition that it is still
    // expired (a concurrent write may have extended it).
    std::vector<Json> expired;
    store::ScanOptions scan = store::PrefixScan(t->ItemPrefix(0), kTtlScanPerSweep);
    std::string& cursor = ttl_cursors_[t->uid];
    if (!cursor.empty()) scan.start = cursor;
    auto rows = store_.Scan(scan);
    if (!rows.ok()) return rows.error();
    cursor = rows->size() < kTtlScanPerSweep ? std::string() : rows->back().key + std::string(1, '\0');
    Json now_value = Json{{"N", std::to_string(now_s)}};
    for (const auto& kv : *rows) {
      Json item = ParseJsonOrDiscarded(kv.value);
      if (!item.is_object()) continue;
      auto it = item.find(t->ttl_attribute);
      if (it == item.end() || TypeOf(*it) != "N") continue;
      int c = 0;
      if (CompareScalars(*it, now_value, c) && c <= 0) expired.push_back(t->KeyOf(item));
      if (expired.size() >= max_per_table) break;
    }
    if (expired.empty()) continue;
    auto values = std::make_shared<std::deque<Json>>();
    values->push_back(now_value);
    std::vector<WriteOp> ops;
    for (auto& key : expired) {
      WriteOp op;
      op.kind = WriteOp::kDelete;
      op.table_name = t->name;
      op.key = std::move(key);
      op.ttl_delete = true;
      op.owned_values = values;
      Node cond;
      cond.kind = Node::kCompare;
      cond.op = "<=";
      Node path;
      path.kind = Node::kPath;
      path.path.push_back(PathElem{false, t->ttl_attribute, 0});
      Node value;
      value.kind = Node::kValue;
      value.value = &values->front();
      cond.kids.push_back(std::move(path));
      cond.kids.push_back(std::move(value));
      op.condition = std::move(cond);
      ops.push_back(std::move(op));
    }
    // One transaction per item: a refreshed item fails only its own condition.
    for (auto& op : ops) {
      std::vector<WriteOp> one;
      one.push_back(std::move(op));
      Status st = ApplyWrites(scope, one, false);
      if (st.ok()) ++deleted;
    }
  }
  return deleted;
}

Result<int64_t> Engine::TrimStreams() {
  STRATUS_ASSIGN_OR_RETURN(auto streams, store_.Scan(store::PrefixScan("ddb/st/")));
  int64_t trimmed = 0;
  int64_t cutoff_s = (clock_.NowMillis() - kStreamRetentionMs) / 1000;
  for (const auto& kv : streams) {
    Json m = ParseJsonOrDiscarded(kv.value);
    if (!m.is_object()) continue;
    std::string prefix = "ddb/s/" + BigEndian64(m.value("uid", uint64_t{0}));
    auto rows = store_.Scan(store::PrefixScan(prefix, kTrimBatch));
    if (!rows.ok()) return rows.error();
    std::string end;
    for (const auto& r : *rows) {
      Json rec = ParseJsonOrDiscarded(r.value);
      double at = rec.is_object() ? rec["dynamodb"].value("ApproximateCreationDateTime", 0.0) : 0.0;
      if (at >= static_cast<double>(cutoff_s)) break;
      end = r.key + std::string(1, '\0');
      ++trimmed;
    }
    bool drop_stream = m.value("status", "ENABLED") != "ENABLED" &&
                       m.value("created", 0.0) < static_cast<double>(cutoff_s) && end.empty() &&
                       rows->empty();
    if (end.empty() && !drop_stream) continue;
    Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
      if (!end.empty()) {
        auto n = txn.DeleteRange(prefix, end);
        if (!n.ok()) return n.error();
      }
      if (drop_stream) return txn.Delete(kv.key);
      return Status::Ok();
    });
    STRATUS_RETURN_IF_ERROR(st);
  }
  return trimmed;
}

}  // namespace stratus::services::dynamodb

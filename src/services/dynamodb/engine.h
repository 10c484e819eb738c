#pragma once
// The DynamoDB data plane on store::Store: items, queries, batches, transactions, streams and
// TTL. Plain logic over the store (handlers in dynamodb_service.cc adapt requests to it); every
// method takes the operation's input in canonical JSON and returns its output or DynamoDB's error.
//
// Durability and atomicity: every write is one store transaction that also maintains the
// table's secondary indexes and appends its stream record, so an acknowledged write, its index
// entries and its stream record survive kill -9 together, and none exists without the others.
// TransactWriteItems is one transaction for all of its items.
//
// Thread-safe.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "services/dynamodb/expr.h"
#include "services/dynamodb/table.h"
#include "store/store.h"

namespace stratus::services::dynamodb {

// A single-item write prepared outside the transaction and applied inside it.
struct WriteOp {
  enum Kind { kPut, kUpdate, kDelete, kCheck };
  Kind kind = kPut;
  std::string table_name;
  uint64_t table_uid = 0;  // the table the op was prepared against (a recreated table differs)
  Json key;   // the item's key attributes (kUpdate, kDelete, kCheck; kPut leaves it empty)
  Json item;  // kPut: the new item
  // The item's store key in the table `table_uid` names, computed once when the op is prepared
  // (batch and transaction duplicate checks, and the apply when the table is still that one).
  // Empty for ops built by hand (TTL deletes, PartiQL updates): they compute it when applied.
  std::string store_key;
  std::string item_text;  // kPut: the item serialized before the transaction (keeps it short)
  std::optional<Node> condition;
  std::optional<UpdateExpr> update;
  std::string return_values = "NONE";
  bool return_old_on_failure = false;
  bool ttl_delete = false;  // a TTL expiry: its stream record names the service as the actor
  // Results, filled in by the transaction.
  std::optional<Json> old_item;
  std::optional<Json> new_item;
  std::vector<Path> touched;
  // Owns values that expressions built from legacy parameters point into.
  std::shared_ptr<std::deque<Json>> owned_values;
  std::shared_ptr<Json> owned_input;  // keeps ExpressionAttributeValues alive
};

// Topic notified after every commit that appends records to a stream (long polls, Lambda).
std::string StreamTopic(const std::string& stream_arn);

class Engine {
 public:
  Engine(store::Store& store, const Clock& clock);
  ~Engine();

  // Waits until every write handed to the store by the *Async operations has answered (their
  // callbacks reference the engine). Call after new requests stopped arriving.
  void DrainWrites();
  // Where the answers of durable writes run. By default on the store's writer thread; the
  // service hands them to its worker pool instead (SetAnswerRunner), so that the writer, the
  // one serial stage of every write, goes back to the next group commit at once. The runner
  // receives one task per group commit (the answers of every write that became durable in it).
  using AnswerRunner = std::function<void(std::function<void()>)>;
  void SetAnswerRunner(AnswerRunner runner) { answer_runner_ = std::move(runner); }

  TableCatalog& catalog() { return catalog_; }

  // PutItem/UpdateItem/DeleteItem/BatchWriteItem answering through `done` once durable, without
  // blocking the caller: the request is prepared (parsed, validated) on the calling thread and
  // applied in the store's next group commit (store::Store::WriteAsync, one fsync for every
  // write queued meanwhile); `done` runs on the store's writer thread, or at once on the
  // calling thread when preparation fails.
  using Done = std::function<void(Result<Json>)>;
  void PutItemAsync(const Scope& s, Json in, Done done);
  void UpdateItemAsync(const Scope& s, Json in, Done done);
  void DeleteItemAsync(const Scope& s, Json in, Done done);
  void BatchWriteItemAsync(const Scope& s, Json in, Done done);

  Result<Json> PutItem(const Scope& s, Json in);
  Result<Json> GetItem(const Scope& s, Json in);
  Result<Json> UpdateItem(const Scope& s, Json in);
  Result<Json> DeleteItem(const Scope& s, Json in);
  Result<Json> Query(const Scope& s, Json in);
  // GetItem, Query and Scan answering for the wire: the stored items' JSON text is spliced into the
  // output as it is (aws/protocol/wire_json.h: Item, Items hold WireJson values) instead of
  // being parsed into a DOM only for the codec to write it back; items a projection cuts down
  // are re-encoded. Otherwise exactly GetItem, Query and Scan.
  Result<Json> GetItemWire(const Scope& s, Json in);
  Result<Json> QueryWire(const Scope& s, Json in);
  Result<Json> ScanWire(const Scope& s, Json in);
  Result<Json> Scan(const Scope& s, Json in);
  Result<Json> BatchGetItem(const Scope& s, Json in);
  Result<Json> BatchWriteItem(const Scope& s, Json in);
  Result<Json> TransactGetItems(const Scope& s, Json in);
  Result<Json> TransactWriteItems(const Scope& s, Json in);
  Result<Json> ExecuteStatement(const Scope& s, Json in);
  Result<Json> BatchExecuteStatement(const Scope& s, Json in);
  Result<Json> ExecuteTransaction(const Scope& s, Json in);

  // Deletes up to `max` expired items per TTL-enabled table (stream records marked as TTL
  // deletions). Returns how many were deleted.
  Result<int64_t> SweepTtl(size_t max_per_table);
  // Deletes stream records older than 24 hours.
  Result<int64_t> TrimStreams();

  // Applies prepared writes in one transaction. `all_or_nothing`: the first failure cancels all
  // (TransactWriteItems); otherwise each op stands alone and errors are per op.
  // `extra` runs last in the same transaction when every op succeeded.
  Status ApplyWrites(const Scope& s, std::vector<WriteOp>& ops, bool transactional,
                     std::vector<Status>* per_op = nullptr,
                     const std::function<Status(store::WriteTxn&)>& extra = {});

  // Applies a transaction's prepared writes all or nothing (TransactWriteItems,
  // ExecuteTransaction). A non-empty `token` (ClientRequestToken) makes it idempotent for 10
  // minutes: the same `fingerprint` again succeeds without applying anything, another one is
  // IdempotentParameterMismatchException. `return_capacity` is ReturnConsumedCapacity.
  Result<Json> CommitTransaction(const Scope& s, std::vector<WriteOp>& ops, const std::string& token,
                                 const std::string& fingerprint, const std::string& return_capacity);

  // Prepares a write from the input of PutItem/UpdateItem/DeleteItem/ConditionCheck (also the
  // members of TransactWriteItems and PartiQL statements).
  Result<WriteOp> PreparePut(const Scope& s, Json in, const Table& t);
  Result<WriteOp> PrepareUpdate(const Scope& s, Json in, const Table& t);
  Result<WriteOp> PrepareDelete(const Scope& s, Json in, const Table& t);
  Result<WriteOp> PrepareCheck(const Scope& s, Json in, const Table& t);
  // The put of a BatchWriteItem PutRequest: `item` alone (a batch's puts carry no condition,
  // return values or expression attributes), validated and prepared as PreparePut does. On a
  // table without indexes or a stream the op keeps only the store key and the item's text
  // (WriteOp::item is left null; applying it parses the text back if the table changed).
  Result<WriteOp> PrepareBatchPut(Json item, const Table& t);

 private:
  // Inside a transaction: ApplyWrites' body (`results` gets each op's status).
  Status ApplyInTxn(store::WriteTxn& txn, const Scope& s, std::vector<WriteOp>& ops,
                    bool transactional, std::vector<Status>& results,
                    const std::function<Status(store::WriteTxn&)>& extra);
  // Inside a transaction: applies one op to the store (item, indexes, stream record).
  Status ApplyOne(store::WriteTxn& txn, const Scope& s, const Table& t, WriteOp& op);
  Status AppendStreamRecord(store::WriteTxn& txn, const Scope& s, const Table& t,
                            const Json* old_item, const Json* new_item, bool ttl_delete);
  Json ReturnAttributes(const WriteOp& op) const;
  // One PartiQL statement; with `collect`, a write is prepared into it instead of applied.
  Result<Json> ExecutePartiql(const Scope& s, const std::string& text, const Json& params,
                              const Json& in, std::vector<WriteOp>* collect);
  // Reads [start, end) of a table or index like Query/Scan do; `last_key` is the store key of
  // the last item read when the page was cut (Limit or 1 MB), else empty.
  Result<Json> ReadItems(const Table& t, const IndexDef* index, std::string start, std::string end,
                         int64_t limit, const Node* filter, const std::vector<Path>* projection,
                         std::string& last_key);

  // Hands prepared writes to the store's group commit (WriteAsync).
  void SubmitWrite(const Scope& s, std::vector<WriteOp> ops, std::function<Json(std::vector<WriteOp>&)> output,
                   Done done);
  Result<Json> ReadOneItem(const Scope& s, Json in, bool wire);
  Result<Json> RunQuery(const Scope& s, Json in, bool wire);
  Result<Json> RunScan(const Scope& s, Json in, bool wire);
  // The shared front half of PutItem/UpdateItem/DeleteItem.
  Result<WriteOp> PrepareSingle(const Scope& s, WriteOp::Kind kind, Json in);

  store::Store& store_;
  const Clock& clock_;
  TableCatalog catalog_;
  // Runs `answer` through the answer runner, batching the answers that arrive while a task is
  // already queued into that task.
  void Answer(std::function<void()> answer);
  void RunAnswers();
  void WriteFinished();
  AnswerRunner answer_runner_;  // set before the first request
  std::mutex writes_mu_;  // guards the members below
  std::condition_variable writes_cv_;
  int64_t writes_in_flight_ = 0;
  std::vector<std::function<void()>> answers_;  // waiting for the answer task
  bool answer_task_queued_ = false;
  // Where the TTL sweep of each table (by uid) carries on; used by the sweeper thread only.
  std::map<uint64_t, std::string> ttl_cursors_;
  // Stream sequence numbers; written by transactions, which run one at a time.
  std::atomic<uint64_t> seq_{0};
  std::atomic<bool> seq_loaded_{false};
};

// ---- helpers shared by the engine's files (items.cc) ----

// Checks that `key` holds exactly the table's key attributes with their types.
Status ValidateKey(const Table& t, const Json& key);
// Checks an item's key and index-key attributes (PutItem and the result of UpdateItem).
Status ValidateItemKeys(const Table& t, const Json& item, bool for_update);
// Parses and normalizes ExpressionAttributeNames/Values of `in` into `ctx`.
Status PrepareExpressionContext(Json& in, ExprContext& ctx);
// The "Can not use both expression and non-expression parameters" family of checks.
Status CheckExpressionMix(const Json& in, std::initializer_list<std::string_view> legacy,
                          std::initializer_list<std::string_view> modern);
// Normalizes every AttributeValue in an item map, with DynamoDB's messages.
Status NormalizeItemInput(Json& item);
// The ConsumedCapacity member for ReturnConsumedCapacity.
void AddConsumedCapacity(Json& out, const Json& in, const std::string& table, double units);
// Builds a condition from the legacy Expected/QueryFilter/ScanFilter parameters.
Result<std::optional<Node>> LegacyCondition(const Json& conditions, const std::string& op,
                                            std::deque<Json>& values, bool expected_form);
// Builds an update from the legacy AttributeUpdates parameter.
Result<UpdateExpr> LegacyUpdate(const Json& updates, std::deque<Json>& values);

}  // namespace stratus::services::dynamodb

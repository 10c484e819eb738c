// Single-item operations (PutItem, GetItem, UpdateItem, DeleteItem) and the write pipeline every
// write goes through: prepared outside the store transaction, applied inside it together with
// the table's index entries and stream record.
#include <map>
#include <set>

#include "aws/protocol/wire_json.h"
#include "core/crypto.h"
#include "core/strings.h"
#include "services/dynamodb/attr.h"
#include "services/dynamodb/engine.h"

namespace stratus::services::dynamodb {

namespace {

const char kSeqCounter[] = "ddb/n/seq";

Error ConditionFailed() {
  return Error("ConditionalCheckFailedException", "The conditional request failed");
}

std::string EmptyKeyMessage(const std::string& name, std::string_view type) {
  return std::string("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ") +
         (type == "B" ? "binary" : "string") + " value. Key: " + name;
}

bool IsEmptyScalar(const Json& v) {
  std::string_view t = TypeOf(v);
  return (t == "S" || t == "B") && v.begin().value().get_ref<const std::string&>().empty();
}

Result<std::vector<Path>> ProjectionFrom(const Json& in, ExprContext& ctx) {
  std::vector<Path> paths;
  if (in.contains("ProjectionExpression")) {
    STRATUS_ASSIGN_OR_RETURN(paths, ParseProjection(in["ProjectionExpression"].get<std::string>(), ctx));
  } else if (in.contains("AttributesToGet")) {
    std::set<std::string> seen;
    for (const auto& a : in["AttributesToGet"]) {
      std::string n = a.get<std::string>();
      if (!seen.insert(n).second) {
        return InvalidParam("Duplicate value in attribute name: " + n);
      }
      paths.push_back(Path{PathElem{false, n, 0}});
    }
  }
  return paths;
}

}  // namespace

std::string StreamTopic(const std::string& stream_arn) { return "dynamodb/stream/" + stream_arn; }

Status ValidateKey(const Table& t, const Json& key) {
  if (!key.is_object()) return Validation("The provided key element does not match the schema");
  for (auto& [k, v] : key.items()) {
    (void)k;
    if (TypeOf(v).empty()) {
      return Validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
    }
  }
  size_t want = t.range ? 2 : 1;
  if (key.size() != want) return Validation("The provided key element does not match the schema");
  for (const KeyAttr* k : {&t.hash, t.range ? &*t.range : nullptr}) {
    if (!k) continue;
    auto it = key.find(k->name);
    if (it == key.end() || TypeOf(*it) != k->type) {
      return Validation("The provided key element does not match the schema");
    }
    if (IsEmptyScalar(*it)) return Validation(EmptyKeyMessage(k->name, k->type));
  }
  return Status::Ok();
}

Status ValidateItemKeys(const Table& t, const Json& item, bool for_update) {
  for (const KeyAttr* k : {&t.hash, t.range ? &*t.range : nullptr}) {
    if (!k) continue;
    auto it = item.find(k->name);
    if (it == item.end()) return InvalidParam("Missing the key " + k->name + " in the item");
    std::string_view type = TypeOf(*it);
    if (type != k->type) {
      return InvalidParam("Type mismatch for key " + k->name + " expected: " + k->type +
                          " actual: " + std::string(type));
    }
    if (IsEmptyScalar(*it)) return Validation(EmptyKeyMessage(k->name, k->type));
  }
  for (const auto& idx : t.indexes) {
    for (const KeyAttr* k : {&idx.hash, idx.range ? &*idx.range : nullptr}) {
      if (!k) continue;
      auto it = item.find(k->name);
      if (it == item.end()) continue;
      std::string_view type = TypeOf(*it);
      if (type != k->type) {
        if (for_update && !IsScalarKeyType(type)) {
          return Validation("The update expression attempted to update the secondary index key to unsupported type");
        }
        return InvalidParam("Type mismatch for Index Key " + k->name + " Expected: " + k->type +
                            " Actual: " + std::string(type) + " IndexName: " + idx.name);
      }
      if (IsEmptyScalar(*it)) {
        return Validation("One or more parameter values are not valid. A value specified for a secondary index key is not supported. "
                          "The AttributeValue for a key attribute cannot contain an empty string value. IndexName: " +
                          idx.name + ", IndexKey: " + k->name);
      }
    }
  }
  return Status::Ok();
}

Status PrepareExpressionContext(Json& in, ExprContext& ctx) {
  Json* names = in.contains("ExpressionAttributeNames") ? &in["ExpressionAttributeNames"] : nullptr;
  Json* values = in.contains("ExpressionAttributeValues") ? &in["ExpressionAttributeValues"] : nullptr;
  STRATUS_RETURN_IF_ERROR(CheckPlaceholderTables(names, values));
  ctx.names = names;
  ctx.values = values;
  return Status::Ok();
}

Status CheckExpressionMix(const Json& in, std::initializer_list<std::string_view> legacy,
                          std::initializer_list<std::string_view> modern) {
  std::vector<std::string> l, m;
  for (std::string_view k : legacy) {
    if (in.contains(k)) l.emplace_back(k);
  }
  for (std::string_view k : modern) {
    if (in.contains(k)) m.emplace_back(k);
  }
  if (!l.empty() && !m.empty()) {
    return Validation("Can not use both expression and non-expression parameters in the same request: "
                      "Non-expression parameters: {" + Join(l, ", ") + "} Expression parameters: {" +
                      Join(m, ", ") + "}");
  }
  if (m.empty()) {
    if (in.contains("ExpressionAttributeNames")) {
      return Validation("ExpressionAttributeNames can only be specified when using expressions");
    }
    if (in.contains("ExpressionAttributeValues")) {
      std::vector<std::string> value_users;
      for (std::string_view k : modern) {
        if (k != "ProjectionExpression") value_users.emplace_back(k);
      }
      return Validation("ExpressionAttributeValues can only be specified when using expressions: " +
                        Join(value_users, " and ") + (value_users.size() > 1 ? " are null" : " is null"));
    }
  }
  return Status::Ok();
}

Status NormalizeItemInput(Json& item) {
  if (!item.is_object()) return Validation("The provided key element does not match the schema");
  for (Json& v : item) {  // the attributes' values (items() would build a string per member)
    // {"S": "..."} needs no normalizing (NormalizeValue's first case): the commonest value.
    if (v.is_object() && v.size() == 1 && v.begin().key() == "S" && v.begin()->is_string()) continue;
    STRATUS_RETURN_IF_ERROR(NormalizeValue(v));
  }
  return Status::Ok();
}

void AddConsumedCapacity(Json& out, const Json& in, const std::string& table, double units) {
  std::string mode = in.value("ReturnConsumedCapacity", "NONE");
  if (mode == "NONE") return;
  Json c = {{"TableName", table}, {"CapacityUnits", units}};
  if (mode == "INDEXES") c["Table"] = Json{{"CapacityUnits", units}};
  out["ConsumedCapacity"] = c;
}

// ---- preparation ----

namespace {

// Parses ConditionExpression or the legacy Expected into op.condition.
Status PrepareCondition(Json& in, ExprContext& ctx, WriteOp& op) {
  if (in.contains("ConditionExpression")) {
    STRATUS_ASSIGN_OR_RETURN(Node c, ParseCondition(in["ConditionExpression"].get<std::string>(),
                                                     ExprKind::kCondition, ctx));
    op.condition = std::move(c);
  } else if (in.contains("Expected")) {
    if (!op.owned_values) op.owned_values = std::make_shared<std::deque<Json>>();
    STRATUS_ASSIGN_OR_RETURN(op.condition, LegacyCondition(in["Expected"], in.value("ConditionalOperator", "AND"),
                                                           *op.owned_values, true));
  }
  op.return_old_on_failure = in.value("ReturnValuesOnConditionCheckFailure", "NONE") == "ALL_OLD";
  return Status::Ok();
}

// The item half of a put: validates and normalizes op.item, then computes its store key and
// the text it is stored as.
Status FinishPut(const Table& t, WriteOp& op) {
  STRATUS_RETURN_IF_ERROR(NormalizeItemInput(op.item));
  STRATUS_RETURN_IF_ERROR(ValidateItemKeys(t, op.item, false));
  if (ItemSize(op.item) > kMaxItemBytes) return Validation("Item size has exceeded the maximum allowed size");
  op.store_key = t.ItemKey(op.item);
  op.item_text = ItemText(op.item);
  return Status::Ok();
}

Status CheckReturnValues(const Json& in, bool update) {
  std::string rv = in.value("ReturnValues", "NONE");
  if (!update && rv != "NONE" && rv != "ALL_OLD") {
    return Validation("ReturnValues can only be ALL_OLD or NONE");
  }
  return Status::Ok();
}

}  // namespace

Result<WriteOp> Engine::PreparePut(const Scope& s, Json in, const Table& t) {
  WriteOp op;
  op.table_uid = t.uid;
  op.kind = WriteOp::kPut;
  op.table_name = t.name;
  STRATUS_RETURN_IF_ERROR(CheckExpressionMix(in, {"Expected"}, {"ConditionExpression"}));
  op.owned_input = std::make_shared<Json>(std::move(in));
  Json& input = *op.owned_input;
  ExprContext ctx;
  STRATUS_RETURN_IF_ERROR(PrepareExpressionContext(input, ctx));
  STRATUS_RETURN_IF_ERROR(CheckReturnValues(input, false));
  op.return_values = input.value("ReturnValues", "NONE");
  STRATUS_RETURN_IF_ERROR(PrepareCondition(input, ctx, op));
  STRATUS_RETURN_IF_ERROR(CheckUnused(ctx));
  if (input.contains("Item")) op.item = std::move(input["Item"]);
  STRATUS_RETURN_IF_ERROR(FinishPut(t, op));
  return op;
}

Result<WriteOp> Engine::PrepareBatchPut(Json item, const Table& t) {
  WriteOp op;
  op.table_uid = t.uid;
  op.kind = WriteOp::kPut;
  op.table_name = t.name;
  op.item = std::move(item);
  STRATUS_RETURN_IF_ERROR(FinishPut(t, op));
  // Without indexes or a stream only the key and the text are applied: the item's DOM goes now,
  // on the thread that built it and while it is in cache, not on another thread after the
  // commit. ApplyOne parses the text back if the table gained an index or a stream meanwhile.
  if (t.indexes.empty() && !t.stream_enabled) op.item = Json();
  return op;
}

Result<WriteOp> Engine::PrepareUpdate(const Scope& s, Json in, const Table& t) {
  WriteOp op;
  op.table_uid = t.uid;
  op.kind = WriteOp::kUpdate;
  op.table_name = t.name;
  STRATUS_RETURN_IF_ERROR(CheckExpressionMix(in, {"AttributeUpdates", "Expected"},
                                             {"UpdateExpression", "ConditionExpression"}));
  op.owned_input = std::make_shared<Json>(std::move(in));
  Json& input = *op.owned_input;
  ExprContext ctx;
  STRATUS_RETURN_IF_ERROR(PrepareExpressionContext(input, ctx));
  op.return_values = input.value("ReturnValues", "NONE");
  if (input.contains("UpdateExpression")) {
    STRATUS_ASSIGN_OR_RETURN(UpdateExpr u, ParseUpdate(input["UpdateExpression"].get<std::string>(), ctx));
    op.update = std::move(u);
  } else if (input.contains("AttributeUpdates")) {
    op.owned_values = std::make_shared<std::deque<Json>>();
    STRATUS_ASSIGN_OR_RETURN(UpdateExpr u, LegacyUpdate(input["AttributeUpdates"], *op.owned_values));
    op.update = std::move(u);
  } else {
    op.update = UpdateExpr{};
  }
  STRATUS_RETURN_IF_ERROR(PrepareCondition(input, ctx, op));
  STRATUS_RETURN_IF_ERROR(CheckUnused(ctx));
  op.key = input.value("Key", Json::object());
  STRATUS_RETURN_IF_ERROR(NormalizeItemInput(op.key));
  STRATUS_RETURN_IF_ERROR(ValidateKey(t, op.key));
  STRATUS_RETURN_IF_ERROR(CheckUpdateKeys(*op.update, t.KeyNames()));
  op.store_key = t.ItemKey(op.key);
  return op;
}

Result<WriteOp> Engine::PrepareDelete(const Scope& s, Json in, const Table& t) {
  WriteOp op;
  op.table_uid = t.uid;
  op.kind = WriteOp::kDelete;
  op.table_name = t.name;
  STRATUS_RETURN_IF_ERROR(CheckExpressionMix(in, {"Expected"}, {"ConditionExpression"}));
  op.owned_input = std::make_shared<Json>(std::move(in));
  Json& input = *op.owned_input;
  ExprContext ctx;
  STRATUS_RETURN_IF_ERROR(PrepareExpressionContext(input, ctx));
  STRATUS_RETURN_IF_ERROR(CheckReturnValues(input, false));
  op.return_values = input.value("ReturnValues", "NONE");
  STRATUS_RETURN_IF_ERROR(PrepareCondition(input, ctx, op));
  STRATUS_RETURN_IF_ERROR(CheckUnused(ctx));
  op.key = input.value("Key", Json::object());
  STRATUS_RETURN_IF_ERROR(NormalizeItemInput(op.key));
  STRATUS_RETURN_IF_ERROR(ValidateKey(t, op.key));
  op.store_key = t.ItemKey(op.key);
  return op;
}

Result<WriteOp> Engine::PrepareCheck(const Scope& s, Json in, const Table& t) {
  WriteOp op;
  op.table_uid = t.uid;
  op.kind = WriteOp::kCheck;
  op.table_name = t.name;
  op.owned_input = std::make_shared<Json>(std::move(in));
  Json& input = *op.owned_input;
  ExprContext ctx;
  STRATUS_RETURN_IF_ERROR(PrepareExpressionContext(input, ctx));
  STRATUS_RETURN_IF_ERROR(PrepareCondition(input, ctx, op));
  STRATUS_RETURN_IF_ERROR(CheckUnused(ctx));
  op.key = input.value("Key", Json::object());
  STRATUS_RETURN_IF_ERROR(NormalizeItemInput(op.key));
  STRATUS_RETURN_IF_ERROR(ValidateKey(t, op.key));
  op.store_key = t.ItemKey(op.key);
  return op;
}

// ---- application ----

Status Engine::AppendStreamRecord(store::WriteTxn& txn, const Scope& s, const Table& t,
                                  const Json* old_item, const Json* new_item, bool ttl_delete) {
  if (!seq_loaded_.load()) {
    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(kSeqCounter));
    uint64_t last = raw ? std::stoull(*raw) : 0;
    if (last > seq_.load()) seq_.store(last);
    seq_loaded_.store(true);
  }
  uint64_t seq = ++seq_;
  STRATUS_RETURN_IF_ERROR(txn.Put(kSeqCounter, std::to_string(seq)));
  const Json& any = new_item ? *new_item : *old_item;
  Json ddb = Json::object();
  ddb["ApproximateCreationDateTime"] = static_cast<double>(clock_.NowMillis() / 1000);
  ddb["Keys"] = t.KeyOf(any);
  const std::string& view = t.stream_view;
  if (new_item && (view == "NEW_IMAGE" || view == "NEW_AND_OLD_IMAGES")) ddb["NewImage"] = *new_item;
  if (old_item && (view == "OLD_IMAGE" || view == "NEW_AND_OLD_IMAGES")) ddb["OldImage"] = *old_item;
  char seqtext[32];
  snprintf(seqtext, sizeof seqtext, "%021llu", static_cast<unsigned long long>(seq));
  ddb["SequenceNumber"] = seqtext;
  size_t size = ItemSize(ddb["Keys"]);
  if (ddb.contains("NewImage")) size += ItemSize(ddb["NewImage"]);
  if (ddb.contains("OldImage")) size += ItemSize(ddb["OldImage"]);
  ddb["SizeBytes"] = size;
  ddb["StreamViewType"] = view;
  Json rec = {{"eventID", HexEncode(RandomBytes(16))},
              {"eventName", !old_item ? "INSERT" : (!new_item ? "REMOVE" : "MODIFY")},
              {"eventVersion", "1.1"},
              {"eventSource", "aws:dynamodb"},
              {"awsRegion", s.region},
              {"dynamodb", std::move(ddb)}};
  if (ttl_delete) {
    rec["userIdentity"] = Json{{"Type", "Service"}, {"PrincipalId", "dynamodb.amazonaws.com"}};
  }
  std::string key = "ddb/s/" + BigEndian64(t.stream_uid) + BigEndian64(seq);
  STRATUS_RETURN_IF_ERROR(txn.Put(key, DumpJson(rec)));
  txn.Notify(StreamTopic(t.stream_arn));
  return Status::Ok();
}

Status Engine::ApplyOne(store::WriteTxn& txn, const Scope& s, const Table& t, WriteOp& op) {
  // Deleted (and perhaps recreated with another schema) since the op was prepared.
  if (op.table_uid != 0 && op.table_uid != t.uid) return ResourceNotFound();
  if (op.kind == WriteOp::kPut && op.item.is_null() && (!t.indexes.empty() || t.stream_enabled)) {
    // A batch put that kept only its text (PrepareBatchPut), on a table that has since gained
    // an index or a stream: those need the item itself.
    op.item = ParseJsonOrDiscarded(op.item_text);
    if (!op.item.is_object()) return InternalFailure("corrupt prepared item in table " + t.name);
  }
  std::string computed_key;
  if (op.store_key.empty() || op.table_uid != t.uid) {
    computed_key = t.ItemKey(op.kind == WriteOp::kPut ? op.item : op.key);
  }
  const std::string& key = computed_key.empty() ? op.store_key : computed_key;
  bool need_old = op.kind != WriteOp::kPut || op.condition || op.return_values != "NONE" ||
                  !t.indexes.empty() || t.stream_enabled;
  std::optional<Json> old;
  if (need_old) {
    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(key));
    if (raw) {
      Json j = ParseJsonOrDiscarded(*raw);
      if (!j.is_object()) return InternalFailure("corrupt item in table " + t.name);
      old = std::move(j);
    }
  }
  if (op.condition) {
    static const Json kEmpty = Json::object();
    if (!EvalCondition(*op.condition, old ? *old : kEmpty)) {
      Error e = ConditionFailed();
      if (op.return_old_on_failure && old) e.fields["Item"] = *old;
      return e;
    }
  }
  op.old_item = old;
  const Json* next = nullptr;  // the item after the write; null when deleted
  std::optional<Json> updated;
  switch (op.kind) {
    case WriteOp::kCheck: return Status::Ok();
    case WriteOp::kPut: next = &op.item; break;
    case WriteOp::kDelete: break;
    case WriteOp::kUpdate: {
      Json item = old ? *old : op.key;
      STRATUS_RETURN_IF_ERROR(ApplyUpdate(*op.update, item, op.touched));
      if (ItemSize(item) > kMaxItemBytes) {
        return Validation("Item size to update has exceeded the maximum allowed size");
      }
      STRATUS_RETURN_IF_ERROR(ValidateItemKeys(t, item, true));
      updated = std::move(item);
      next = &*updated;
      break;
    }
  }
  if (next) {
    STRATUS_RETURN_IF_ERROR(txn.Put(key, op.kind == WriteOp::kPut && !op.item_text.empty()
                                             ? op.item_text
                                             : ItemText(*next)));
  } else if (old) {
    STRATUS_RETURN_IF_ERROR(txn.Delete(key));
  }
  for (const auto& idx : t.indexes) {
    std::string old_key = old ? t.IndexKey(idx, *old) : std::string();
    std::string new_key = next ? t.IndexKey(idx, *next) : std::string();
    if (!old_key.empty() && old_key != new_key) STRATUS_RETURN_IF_ERROR(txn.Delete(old_key));
    if (!new_key.empty()) {
      STRATUS_RETURN_IF_ERROR(txn.Put(new_key, ItemText(t.IndexProjection(idx, *next))));
    }
  }
  if (t.stream_enabled && (old || next)) {
    bool unchanged = old && next && *old == *next;
    if (!unchanged) {
      STRATUS_RETURN_IF_ERROR(AppendStreamRecord(txn, s, t, old ? &*old : nullptr, next, op.ttl_delete));
    }
  }
  if (updated) op.new_item = std::move(updated);
  return Status::Ok();
}

Status Engine::ApplyInTxn(store::WriteTxn& txn, const Scope& s, std::vector<WriteOp>& ops,
                          bool transactional, std::vector<Status>& results,
                          const std::function<Status(store::WriteTxn&)>& extra) {
  results.assign(ops.size(), Status::Ok());
  // Most requests name one table: look it up once.
  const std::string* last_name = nullptr;
  TablePtr last;
  bool failed = false;
  for (size_t i = 0; i < ops.size(); ++i) {
    WriteOp& op = ops[i];
    if (!last_name || *last_name != op.table_name) {
      auto t = catalog_.GetInTxn(txn, s, op.table_name);
      if (!t.ok()) return t.error();
      last = std::move(t).value();
      last_name = &op.table_name;
    }
    results[i] = ApplyOne(txn, s, *last, op);
    if (!results[i].ok()) {
      failed = true;
      if (!transactional) return results[i];
    }
  }
  if (failed) {
    // TransactWriteItems: every op was evaluated (for the reasons); nothing is applied.
    Json reasons = Json::array();
    std::vector<std::string> codes;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (results[i].ok()) {
        reasons.push_back(Json{{"Code", "None"}});
        codes.push_back("None");
        continue;
      }
      const Error& e = results[i].error();
      std::string code = e.code == "ConditionalCheckFailedException" ? "ConditionalCheckFailed"
                         : e.code == "ValidationException"              ? "ValidationError"
                                                                        : e.code;
      Json r = {{"Code", code}, {"Message", e.message}};
      if (e.fields.contains("Item")) r["Item"] = e.fields["Item"];
      reasons.push_back(r);
      codes.push_back(code);
    }
    return Error("TransactionCanceledException",
                 "Transaction cancelled, please refer cancellation reasons for specific reasons [" +
                     Join(codes, ", ") + "]")
        .With("CancellationReasons", reasons);
  }
  if (extra) return extra(txn);
  return Status::Ok();
}

Status Engine::ApplyWrites(const Scope& s, std::vector<WriteOp>& ops, bool transactional,
                           std::vector<Status>* per_op,
                           const std::function<Status(store::WriteTxn&)>& extra) {
  std::vector<Status> results;
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    return ApplyInTxn(txn, s, ops, transactional, results, extra);
  });
  if (per_op) *per_op = results;
  return st;
}

Json Engine::ReturnAttributes(const WriteOp& op) const {
  const std::string& rv = op.return_values;
  Json attrs;
  if (rv == "ALL_OLD" && op.old_item) attrs = *op.old_item;
  if (rv == "ALL_NEW" && op.new_item) attrs = *op.new_item;
  if (rv == "UPDATED_OLD" && op.old_item) attrs = Project(*op.old_item, op.touched);
  if (rv == "UPDATED_NEW" && op.new_item) attrs = Project(*op.new_item, op.touched);
  Json out = Json::object();
  if (attrs.is_object() && !attrs.empty()) out["Attributes"] = std::move(attrs);
  return out;
}

// ---- operations ----

Engine::Engine(store::Store& store, const Clock& clock) : store_(store), clock_(clock), catalog_(store, clock) {}
Engine::~Engine() { DrainWrites(); }

void Engine::DrainWrites() {
  std::unique_lock lock(writes_mu_);
  writes_cv_.wait(lock, [this] { return writes_in_flight_ == 0 && !answer_task_queued_; });
}

void Engine::WriteFinished() {
  std::lock_guard lock(writes_mu_);
  if (--writes_in_flight_ == 0) writes_cv_.notify_all();
}

namespace {
// A write waiting for the store's group commit: owned by the write function and its callback.
struct PendingWrite {
  Scope scope;
  std::vector<WriteOp> ops;
  std::vector<Status> results;
  std::function<Json(std::vector<WriteOp>&)> output;
  Engine::Done done;
};
}  // namespace

void Engine::SubmitWrite(const Scope& s, std::vector<WriteOp> ops,
                         std::function<Json(std::vector<WriteOp>&)> output, Done done) {
  {
    std::lock_guard lock(writes_mu_);
    ++writes_in_flight_;
  }
  auto p = std::make_shared<PendingWrite>(
      PendingWrite{s, std::move(ops), {}, std::move(output), std::move(done)});
  // The store runs the function in its next group commit (each request in its own savepoint,
  // so a failing request leaves no trace) and calls back on its writer thread once durable:
  // no thread waits for the fsync.
  store_.WriteAsync(
      [this, p](store::WriteTxn& txn) { return ApplyInTxn(txn, p->scope, p->ops, false, p->results, {}); },
      [this, p](Status st) {
        Answer([this, p, st = std::move(st)]() mutable {
          if (!st.ok()) {
            p->done(std::move(st).error());
          } else {
            p->done(p->output(p->ops));
          }
          WriteFinished();
        });
      });
}

void Engine::Answer(std::function<void()> answer) {
  if (!answer_runner_) {
    answer();
    return;
  }
  {
    std::lock_guard lock(writes_mu_);
    answers_.push_back(std::move(answer));
    if (answer_task_queued_) return;
    answer_task_queued_ = true;
  }
  answer_runner_([this] { RunAnswers(); });
}

void Engine::RunAnswers() {
  std::vector<std::function<void()>> batch;
  for (;;) {
    {
      std::lock_guard lock(writes_mu_);
      if (answers_.empty()) {
        answer_task_queued_ = false;
        writes_cv_.notify_all();  // DrainWrites waits for this task to end
        return;
      }
      batch.swap(answers_);
    }
    for (auto& answer : batch) answer();
    batch.clear();
  }
}

Result<WriteOp> Engine::PrepareSingle(const Scope& s, WriteOp::Kind kind, Json in) {
  std::string name = in.value("TableName", "");
  STRATUS_ASSIGN_OR_RETURN(TablePtr t, catalog_.Get(s, name));
  switch (kind) {
    case WriteOp::kPut: return PreparePut(s, std::move(in), *t);
    case WriteOp::kUpdate: return PrepareUpdate(s, std::move(in), *t);
    default: return PrepareDelete(s, std::move(in), *t);
  }
}

namespace {
void SingleAsync(Engine& e, Result<WriteOp> op, const Scope& s, Engine::Done done,
                 const std::function<void(const Scope&, std::vector<WriteOp>,
                                          std::function<Json(std::vector<WriteOp>&)>, Engine::Done)>& submit,
                 const std::function<Json(const WriteOp&)>& attrs) {
  if (!op.ok()) {
    done(op.error());
    return;
  }
  std::vector<WriteOp> ops;
  ops.push_back(std::move(op).value());
  submit(s, std::move(ops),
         [attrs](std::vector<WriteOp>& applied) {
           Json out = attrs(applied[0]);
           AddConsumedCapacity(out, *applied[0].owned_input, applied[0].table_name, 1.0);
           return out;
         },
         std::move(done));
}
}  // namespace

void Engine::PutItemAsync(const Scope& s, Json in, Done done) {
  SingleAsync(*this, PrepareSingle(s, WriteOp::kPut, std::move(in)), s, std::move(done),
              [this](auto&&... a) { SubmitWrite(std::forward<decltype(a)>(a)...); },
              [this](const WriteOp& op) { return ReturnAttributes(op); });
}

void Engine::UpdateItemAsync(const Scope& s, Json in, Done done) {
  SingleAsync(*this, PrepareSingle(s, WriteOp::kUpdate, std::move(in)), s, std::move(done),
              [this](auto&&... a) { SubmitWrite(std::forward<decltype(a)>(a)...); },
              [this](const WriteOp& op) { return ReturnAttributes(op); });
}

void Engine::DeleteItemAsync(const Scope& s, Json in, Done done) {
  SingleAsync(*this, PrepareSingle(s, WriteOp::kDelete, std::move(in)), s, std::move(done),
              [this](auto&&... a) { SubmitWrite(std::forward<decltype(a)>(a)...); },
              [this](const WriteOp& op) { return ReturnAttributes(op); });
}

Result<Json> Engine::PutItem(const Scope& s, Json in) {
  std::string name = in.value("TableName", "");
  STRATUS_ASSIGN_OR_RETURN(TablePtr t, catalog_.Get(s, name));
  STRATUS_ASSIGN_OR_RETURN(WriteOp op, PreparePut(s, std::move(in), *t));
  std::vector<WriteOp> ops;
  ops.push_back(std::move(op));
  STRATUS_RETURN_IF_ERROR(ApplyWrites(s, ops, false));
  Json out = ReturnAttributes(ops[0]);
  AddConsumedCapacity(out, *ops[0].owned_input, name, 1.0);
  return out;
}

Result<Json> Engine::UpdateItem(const Scope& s, Json in) {
  std::string name = in.value("TableName", "");
  STRATUS_ASSIGN_OR_RETURN(TablePtr t, catalog_.Get(s, name));
  STRATUS_ASSIGN_OR_RETURN(WriteOp op, PrepareUpdate(s, std::move(in), *t));
  std::vector<WriteOp> ops;
  ops.push_back(std::move(op));
  STRATUS_RETURN_IF_ERROR(ApplyWrites(s, ops, false));
  Json out = ReturnAttributes(ops[0]);
  AddConsumedCapacity(out, *ops[0].owned_input, name, 1.0);
  return out;
}

Result<Json> Engine::DeleteItem(const Scope& s, Json in) {
  std::string name = in.value("TableName", "");
  STRATUS_ASSIGN_OR_RETURN(TablePtr t, catalog_.Get(s, name));
  STRATUS_ASSIGN_OR_RETURN(WriteOp op, PrepareDelete(s, std::move(in), *t));
  std::vector<WriteOp> ops;
  ops.push_back(std::move(op));
  STRATUS_RETURN_IF_ERROR(ApplyWrites(s, ops, false));
  Json out = ReturnAttributes(ops[0]);
  AddConsumedCapacity(out, *ops[0].owned_input, name, 1.0);
  return out;
}

Result<Json> Engine::GetItem(const Scope& s, Json in) { return ReadOneItem(s, std::move(in), false); }
Result<Json> Engine::GetItemWire(const Scope& s, Json in) { return ReadOneItem(s, std::move(in), true); }

Result<Json> Engine::ReadOneItem(const Scope& s, Json in, bool wire) {
  STRATUS_RETURN_IF_ERROR(CheckExpressionMix(in, {"AttributesToGet"}, {"ProjectionExpression"}));
  ExprContext ctx;
  STRATUS_RETURN_IF_ERROR(PrepareExpressionContext(in, ctx));
  STRATUS_ASSIGN_OR_RETURN(std::vector<Path> paths, ProjectionFrom(in, ctx));
  STRATUS_RETURN_IF_ERROR(CheckUnused(ctx));
  std::string name = in.value("TableName", "");
  STRATUS_ASSIGN_OR_RETURN(TablePtr t, catalog_.Get(s, name));
  Json key = Json::object();
  if (auto it = in.find("Key"); it != in.end()) key = std::move(*it);  // `in` is ours
  STRATUS_RETURN_IF_ERROR(NormalizeItemInput(key));
  STRATUS_RETURN_IF_ERROR(ValidateKey(*t, key));
  STRATUS_ASSIGN_OR_RETURN(auto raw, store_.Get(t->ItemKey(key)));
  Json out = Json::object();
  if (raw && wire && paths.empty()) {
    // The stored text is the item's wire JSON (normalized when written, see PreparePut).
    if (raw->empty() || raw->front() != '{') return InternalFailure("corrupt item in table " + name);
    out["Item"] = aws::WireJson(*raw);
  } else if (raw) {
    Json item = ParseJsonOrDiscarded(*raw);
    if (!item.is_object()) return InternalFailure("corrupt item in table " + name);
    out["Item"] = paths.empty() ? std::move(item) : Project(item, paths);
  }
  AddConsumedCapacity(out, in, name, in.value("ConsistentRead", false) ? 1.0 : 0.5);
  return out;
}

}  // namespace stratus::services::dynamodb

// BatchGetItem/BatchWriteItem and TransactGetItems/TransactWriteItems. A batch write and a
// transaction are each one store transaction; TransactWriteItems evaluates every condition
// first and applies nothing unless all pass.
#include <algorithm>
#include <future>
#include <map>
#include <set>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/dynamodb/attr.h"
#include "services/dynamodb/engine.h"

namespace stratus::services::dynamodb {

namespace {

constexpr size_t kMaxBatchGetKeys = 100;
constexpr size_t kMaxBatchWrites = 25;
constexpr size_t kMaxTransactItems = 100;
constexpr size_t kMaxBatchGetBytes = 16 * 1024 * 1024;
constexpr int64_t kTokenTtlMs = 10 * 60 * 1000;

std::string TokenKey(const Scope& s, const std::string& token) {
  return "ddb/tok/" + s.account + "/" + s.region + "/" + token;
}

}  // namespace

Result<Json> Engine::BatchGetItem(const Scope& s, Json in) {
  Json& req = in["RequestItems"];
  size_t total = 0;
  for (auto& [table, spec] : req.items()) total += spec.value("Keys", Json::array()).size();
  if (total > kMaxBatchGetKeys) {
    return Validation("Too many items requested for the BatchGetItem call");
  }
  Json responses = Json::object();
  Json unprocessed = Json::object();
  size_t bytes = 0;
  Json consumed = Json::array();
  for (auto& [table, spec] : req.items()) {
    STRATUS_RETURN_IF_ERROR(CheckExpressionMix(spec, {"AttributesToGet"}, {"ProjectionExpression"}));
    ExprContext ctx;
    STRATUS_RETURN_IF_ERROR(PrepareExpressionContext(spec, ctx));
    std::vector<Path> paths;
    if (spec.contains("ProjectionExpression")) {
      STRATUS_ASSIGN_OR_RETURN(paths, ParseProjection(spec["ProjectionExpression"].get<std::string>(), ctx));
    } else if (spec.contains("AttributesToGet")) {
      for (const auto& a : spec["AttributesToGet"]) paths.push_back(Path{PathElem{false, a.get<std::string>(), 0}});
    }
    STRATUS_RETURN_IF_ERROR(CheckUnused(ctx));
    STRATUS_ASSIGN_OR_RETURN(TablePtr t, catalog_.Get(s, table));
    std::set<std::string> seen;
    std::vector<std::string> keys;
    Json key_list = spec.value("Keys", Json::array());
    for (auto& k : key_list) {
      STRATUS_RETURN_IF_ERROR(NormalizeItemInput(k));
      STRATUS_RETURN_IF_ERROR(ValidateKey(*t, k));
      std::string sk = t->ItemKey(k);
      if (!seen.insert(sk).second) return Validation("Provided list of item keys contains duplicates");
      keys.push_back(sk);
    }
    Json items = Json::array();
    Json left = Json::array();
    Status st = store_.Read([&](store::ReadTxn& txn) -> Status {
      for (size_t i = 0; i < keys.size(); ++i) {
        if (bytes >= kMaxBatchGetBytes) {
          left.push_back(key_list[i]);
          continue;
        }
        STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(keys[i]));
        if (!raw) continue;
        bytes += raw->size();
        Json item = ParseJsonOrDiscarded(*raw);
        items.push_back(paths.empty() ? std::move(item) : Project(item, paths));
      }
      return Status::Ok();
    });
    STRATUS_RETURN_IF_ERROR(st);
    responses[table] = std::move(items);
    if (!left.empty()) {
      Json u = spec;
      u["Keys"] = left;
      unprocessed[table] = u;
    }
    consumed.push_back(Json{{"TableName", table}, {"CapacityUnits", 0.5 * static_cast<double>(keys.size())}});
  }
  Json out = {{"Responses", responses}, {"UnprocessedKeys", unprocessed}};
  if (in.value("ReturnConsumedCapacity", "NONE") != "NONE") out["ConsumedCapacity"] = consumed;
  return out;
}

void Engine::BatchWriteItemAsync(const Scope& s, Json in, Done done) {
  auto prepared = [&]() -> Result<std::pair<std::vector<WriteOp>, Json>> {
  Json& req = in["RequestItems"];
  size_t total = 0;
  for (auto& [table, list] : req.items()) total += list.size();
  if (total > kMaxBatchWrites) return Validation("Too many items requested for the BatchWriteItem call");
  std::vector<WriteOp> ops;
  ops.reserve(total);
  Json consumed = Json::array();
  for (auto& [table, list] : req.items()) {
    STRATUS_ASSIGN_OR_RETURN(TablePtr t, catalog_.Get(s, table));
    const size_t first_op = ops.size();
    for (auto& w : list) {
      bool put = w.contains("PutRequest"), del = w.contains("DeleteRequest");
      if (put == del) {
        return Validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes");
      }
      // The request is ours to take apart: its items move into the ops, uncopied.
      Json& request = w[put ? "PutRequest" : "DeleteRequest"];
      Json value = Json::object();
      if (request.is_object()) {
        auto it = request.find(put ? "Item" : "Key");
        if (it != request.end()) value = std::move(*it);
      }
      WriteOp op;
      if (put) {
        STRATUS_ASSIGN_OR_RETURN(op, PrepareBatchPut(std::move(value), *t));
      } else {
        Json body = Json{{"TableName", table}, {"Key", std::move(value)}};
        STRATUS_ASSIGN_OR_RETURN(op, PrepareDelete(s, std::move(body), *t));
      }
      ops.push_back(std::move(op));
    }
    // Two requests on one item of a table: sorted store keys side by side (no set of copies).
    std::vector<std::string_view> keys;
    keys.reserve(ops.size() - first_op);
    for (size_t i = first_op; i < ops.size(); ++i) keys.push_back(ops[i].store_key);
    std::sort(keys.begin(), keys.end());
    if (std::adjacent_find(keys.begin(), keys.end()) != keys.end()) {
      return Validation("Provided list of item keys contains duplicates");
    }
    consumed.push_back(Json{{"TableName", table}, {"CapacityUnits", static_cast<double>(list.size())}});
  }
  Json out = {{"UnprocessedItems", Json::object()}};
  if (in.value("ReturnConsumedCapacity", "NONE") != "NONE") out["ConsumedCapacity"] = consumed;
  return std::make_pair(std::move(ops), std::move(out));
  }();
  if (!prepared.ok()) {
    done(prepared.error());
    return;
  }
  Json out = std::move(prepared->second);
  SubmitWrite(s, std::move(prepared->first), [out](std::vector<WriteOp>&) { return out; }, std::move(done));
}

Result<Json> Engine::BatchWriteItem(const Scope& s, Json in) {
  // The answer may come from a committer thread: wait for it.
  auto promise = std::make_shared<std::promise<Result<Json>>>();
  auto future = promise->get_future();
  BatchWriteItemAsync(s, std::move(in), [promise](Result<Json> r) { promise->set_value(std::move(r)); });
  return future.get();
}

Result<Json> Engine::TransactGetItems(const Scope& s, Json in) {
  Json& items = in["TransactItems"];
  if (items.size() > kMaxTransactItems) {
    return Validation("Member must have length less than or equal to 100");
  }
  struct Get {
    std::string key;
    std::vector<Path> paths;
    std::string table;
  };
  std::vector<Get> gets;
  std::set<std::string> seen;
  for (auto& x : items) {
    Json& g = x["Get"];
    ExprContext ctx;
    STRATUS_RETURN_IF_ERROR(PrepareExpressionContext(g, ctx));
    Get get;
    if (g.contains("ProjectionExpression")) {
      STRATUS_ASSIGN_OR_RETURN(get.paths, ParseProjection(g["ProjectionExpression"].get<std::string>(), ctx));
    }
    STRATUS_RETURN_IF_ERROR(CheckUnused(ctx));
    STRATUS_ASSIGN_OR_RETURN(TablePtr t, catalog_.Get(s, g.value("TableName", "")));
    Json key = g.value("Key", Json::object());
    STRATUS_RETURN_IF_ERROR(NormalizeItemInput(key));
    STRATUS_RETURN_IF_ERROR(ValidateKey(*t, key));
    get.key = t->ItemKey(key);
    get.table = g.value("TableName", "");
    if (!seen.insert(get.key).second) {
      return Validation("Transaction request cannot include multiple operations on one item");
    }
    gets.push_back(std::move(get));
  }
  Json responses = Json::array();
  Status st = store_.Read([&](store::ReadTxn& txn) -> Status {
    for (const auto& g : gets) {
      STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(g.key));
      Json r = Json::object();
      if (raw) {
        Json item = ParseJsonOrDiscarded(*raw);
        r["Item"] = g.paths.empty() ? std::move(item) : Project(item, g.paths);
      }
      responses.push_back(std::move(r));
    }
    return Status::Ok();
  });
  STRATUS_RETURN_IF_ERROR(st);
  Json out = {{"Responses", responses}};
  if (in.value("ReturnConsumedCapacity", "NONE") != "NONE") {
    // A transactional read costs two read units per item (approximate: items under 4 KB).
    std::map<std::string, double> units;
    for (const auto& g : gets) units[g.table] += 2.0;
    Json consumed = Json::array();
    for (const auto& [table, u] : units) {
      consumed.push_back(Json{{"TableName", table}, {"CapacityUnits", u}, {"ReadCapacityUnits", u}});
    }
    out["ConsumedCapacity"] = consumed;
  }
  return out;
}

Result<Json> Engine::TransactWriteItems(const Scope& s, Json in) {
  Json& items = in["TransactItems"];
  if (items.size() > kMaxTransactItems) {
    return Validation("Member must have length less than or equal to 100");
  }
  std::string token = in.value("ClientRequestToken", "");
  std::string fingerprint = Sha256Hex(items.dump());
  std::vector<WriteOp> ops;
  std::set<std::string> seen;
  for (auto& x : items) {
    static const char* kKinds[] = {"ConditionCheck", "Put", "Delete", "Update"};
    int found = 0;
    const char* kind = nullptr;
    for (const char* k : kKinds) {
      if (x.contains(k)) {
        ++found;
        kind = k;
      }
    }
    if (found != 1) {
      return Validation("TransactItems can only contain one of Check, Put, Update or Delete");
    }
    Json body = x[kind];
    STRATUS_ASSIGN_OR_RETURN(TablePtr t, catalog_.Get(s, body.value("TableName", "")));
    WriteOp op;
    std::string k(kind);
    if (k == "Put") {
      STRATUS_ASSIGN_OR_RETURN(op, PreparePut(s, std::move(body), *t));
    } else if (k == "Delete") {
      STRATUS_ASSIGN_OR_RETURN(op, PrepareDelete(s, std::move(body), *t));
    } else if (k == "Update") {
      STRATUS_ASSIGN_OR_RETURN(op, PrepareUpdate(s, std::move(body), *t));
    } else {
      if (!body.contains("ConditionExpression")) {
        return Validation("1 validation error detected: Value null at 'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null");
      }
      STRATUS_ASSIGN_OR_RETURN(op, PrepareCheck(s, std::move(body), *t));
    }
    op.return_values = "NONE";
    if (!seen.insert(op.store_key + "\x01" + t->name).second) {
      return Validation("Transaction request cannot include multiple operations on one item");
    }
    ops.push_back(std::move(op));
  }
  return CommitTransaction(s, ops, token, fingerprint, in.value("ReturnConsumedCapacity", "NONE"));
}

Result<Json> Engine::CommitTransaction(const Scope& s, std::vector<WriteOp>& ops, const std::string& token,
                                       const std::string& fingerprint, const std::string& return_capacity) {
  if (!token.empty()) {
    // Idempotency: a token seen in the last 10 minutes with the same items succeeds again
    // without applying anything; with other items it is a mismatch.
    STRATUS_ASSIGN_OR_RETURN(auto raw, store_.Get(TokenKey(s, token)));
    if (raw) {
      Json rec = ParseJsonOrDiscarded(*raw);
      if (rec.is_object() && clock_.NowMillis() - rec.value("at", int64_t{0}) < kTokenTtlMs) {
        if (rec.value("hash", "") != fingerprint) {
          return Error("IdempotentParameterMismatchException",
                       "Request has already been processed with a different set of parameters");
        }
        return Json::object();
      }
    }
  }
  // The token is recorded in the transaction that applies the items.
  Json token_rec = {{"hash", fingerprint}, {"at", clock_.NowMillis()}};
  Status st = ApplyWrites(s, ops, true, nullptr, [&](store::WriteTxn& txn) -> Status {
    if (token.empty()) return Status::Ok();
    return txn.Put(TokenKey(s, token), token_rec.dump());
  });
  if (!st.ok()) return st.error();
  Json out = Json::object();
  if (return_capacity != "NONE") {
    Json consumed = Json::array();
    std::set<std::string> tables;
    for (const auto& op : ops) tables.insert(op.table_name);
    for (const auto& t : tables) consumed.push_back(Json{{"TableName", t}, {"CapacityUnits", 2.0}});
    out["ConsumedCapacity"] = consumed;
  }
  return out;
}

}  // namespace stratus::services::dynamodb

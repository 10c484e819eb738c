// Query and Scan: key conditions become one range of the store's ordered keys (see table.h), read
// in pages under one consistent snapshot, filtered, projected, and cut at Limit or 1 MB with a
// LastEvaluatedKey as DynamoDB does.
#include <map>

#include "aws/protocol/wire_json.h"
#include "core/strings.h"
#include "services/dynamodb/attr.h"
#include "services/dynamodb/engine.h"

namespace stratus::services::dynamodb {

namespace {

constexpr size_t kPageBytes = 1024 * 1024;
constexpr size_t kChunkRows = 256;

struct RangeCond {
  std::string op;  // "=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"
  std::vector<const Json*> values;
};

Error KeyCondError(const std::string& m) { return Validation(m); }

// The part of a key condition that names a key attribute.
Status AnalyzeClause(const Node& n, const KeyAttr& hash, const std::optional<KeyAttr>& range,
                     const Json*& hash_value, std::optional<RangeCond>& range_cond) {
  auto single_name = [](const Node& x) -> std::string {
    if (x.kind != Node::kPath || x.path.size() != 1 || x.path[0].is_index) return {};
    return x.path[0].name;
  };
  std::string attr;
  RangeCond rc;
  if (n.kind == Node::kCompare) {
    if (n.op == "<>") return KeyCondError("Unsupported operator on KeyConditionExpression: operator: <>");
    const Node* path = &n.kids[0];
    const Node* value = &n.kids[1];
    std::string op = n.op;
    if (path->kind != Node::kPath) {
      std::swap(path, value);
      static const std::map<std::string, std::string> kFlip = {{"<", ">"}, {"<=", ">="}, {">", "<"}, {">=", "<="}, {"=", "="}};
      op = kFlip.at(op);
    }
    if (path->kind != Node::kPath || value->kind != Node::kValue) return KeyCondError("Invalid condition in KeyConditionExpression: " + n.op + " operator must have exactly one key attribute and one value");
    attr = single_name(*path);
    rc.op = op;
    rc.values.push_back(value->value);
  } else if (n.kind == Node::kBetween) {
    if (n.kids[0].kind != Node::kPath || n.kids[1].kind != Node::kValue || n.kids[2].kind != Node::kValue) {
      return KeyCondError("Query key condition not supported");
    }
    attr = single_name(n.kids[0]);
    rc.op = "BETWEEN";
    rc.values = {n.kids[1].value, n.kids[2].value};
  } else if (n.kind == Node::kCall && n.op == "begins_with") {
    if (n.kids[0].kind != Node::kPath || n.kids[1].kind != Node::kValue) return KeyCondError("Query key condition not supported");
    attr = single_name(n.kids[0]);
    rc.op = "begins_with";
    rc.values.push_back(n.kids[1].value);
  } else if (n.kind == Node::kOr || n.kind == Node::kNot) {
    return KeyCondError(std::string("Invalid operator used in KeyConditionExpression: ") + (n.kind == Node::kOr ? "OR" : "NOT"));
  } else if (n.kind == Node::kCall) {
    return KeyCondError("Invalid operator used in KeyConditionExpression: " + n.op);
  } else {
    return KeyCondError("Query key condition not supported");
  }
  if (attr == hash.name) {
    if (hash_value) return KeyCondError("KeyConditionExpressions must only contain one condition per key");
    if (rc.op != "=") return KeyCondError("Query key condition not supported");
    if (TypeOf(*rc.values[0]) != hash.type) {
      return InvalidParam("Condition parameter type does not match schema type");
    }
    hash_value = rc.values[0];
    return Status::Ok();
  }
  if (range && attr == range->name) {
    if (range_cond) return KeyCondError("KeyConditionExpressions must only contain one condition per key");
    for (const Json* v : rc.values) {
      if (TypeOf(*v) != range->type) return InvalidParam("Condition parameter type does not match schema type");
    }
    if (rc.op == "begins_with" && range->type == "N") {
      return Validation("Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N");
    }
    if (rc.op == "BETWEEN") {
      int c = 0;
      if (CompareScalars(*rc.values[0], *rc.values[1], c) && c > 0) {
        return Validation("Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound");
      }
    }
    range_cond = rc;
    return Status::Ok();
  }
  return KeyCondError("Query condition missed key schema element: " + (hash_value || !range ? hash.name : hash.name));
}

void Flatten(const Node& n, std::vector<const Node*>& out) {
  if (n.kind == Node::kAnd) {
    Flatten(n.kids[0], out);
    Flatten(n.kids[1], out);
  } else {
    out.push_back(&n);
  }
}

// Reads the key range [start, end) in order, filtering and projecting, up to Limit items
// evaluated or 1 MB read. Fills Items/Count/ScannedCount/LastEvaluatedKey.
struct RangeRead {
  std::string start, end;
  bool reverse = false;
  int64_t limit = 0;  // 0 = none
  const Node* filter = nullptr;
  const std::vector<Path>* projection = nullptr;
  bool count_only = false;
  const Table* table = nullptr;
  const IndexDef* index = nullptr;
  bool fetch_base = false;  // LSI with attributes outside its projection
  std::string* last_store_key = nullptr;  // receives the store key where the page was cut
  bool wire = false;  // Items as one WireJson value: the stored texts spliced (Engine::QueryWire)
  // A parallel Scan segment that splits a bucket of a kBucketedKeys table: only partitions whose
  // 16-bit hash is in [segment_lo, segment_hi) belong to it; the others are skipped unseen.
  bool segment_filter = false;
  uint32_t segment_lo = 0, segment_hi = 0;
  size_t partition_key_at = 0;  // where the encoded partition key starts in a store key
};

// Whether the row at `store_key` belongs to r's segment (RangeRead::segment_filter).
Result<bool> InSegment(const RangeRead& r, std::string_view store_key) {
  const KeyAttr& hash = r.index ? r.index->hash : r.table->hash;
  size_t end = r.partition_key_at;
  Json decoded;
  if (!DecodeKeyValue(hash.type, store_key, end, decoded)) {
    return InternalFailure("corrupt item key in table " + r.table->name);
  }
  uint32_t h = PartitionHash16(store_key.substr(r.partition_key_at, end - r.partition_key_at));
  return h >= r.segment_lo && h < r.segment_hi;
}

Result<Json> ReadRange(store::Store& store, const RangeRead& r) {
  Json items = Json::array();
  std::string wire_items = "[";  // r.wire: the kept items' wire JSON
  const bool projecting = r.projection && !r.projection->empty();
  // Only a filter, a projection or a base-table fetch needs the item as a DOM; otherwise the
  // stored text is the answer and an item is parsed only for the LastEvaluatedKey.
  const bool parse_every = !r.wire || r.filter || projecting || r.fetch_base;
  int64_t count = 0, scanned = 0;
  size_t bytes = 0;
  std::optional<Json> last_key;
  bool stopped = false;
  std::string last_store_key;
  Status st = store.Read([&](store::ReadTxn& txn) -> Status {
    std::string lo = r.start, hi = r.end;
    for (;;) {
      store::ScanOptions opt;
      opt.start = lo;
      opt.end = hi;
      opt.reverse = r.reverse;
      size_t want = kChunkRows;
      if (r.limit > 0) want = std::min<size_t>(want, static_cast<size_t>(r.limit - scanned));
      opt.limit = want;
      STRATUS_ASSIGN_OR_RETURN(auto rows, txn.Scan(opt));
      for (const auto& kv : rows) {
        if (r.segment_filter) {
          STRATUS_ASSIGN_OR_RETURN(bool mine, InSegment(r, kv.key));
          if (!mine) continue;
        }
        ++scanned;
        bytes += kv.value.size();
        const bool cut = (r.limit > 0 && scanned >= r.limit) || bytes >= kPageBytes;
        Json item;
        if (parse_every || cut) {
          item = ParseJsonOrDiscarded(kv.value);
          if (!item.is_object()) return InternalFailure("corrupt item");
        } else if (kv.value.empty() || kv.value.front() != '{') {
          return InternalFailure("corrupt item");
        }
        Json key;
        if (cut) {
          key = r.table->KeyOf(item);
          if (r.index) {
            key[r.index->hash.name] = item[r.index->hash.name];
            if (r.index->range) key[r.index->range->name] = item[r.index->range->name];
          }
        }
        const std::string* text = &kv.value;  // the wire JSON of `item`
        std::optional<std::string> base;
        if (r.fetch_base) {
          STRATUS_ASSIGN_OR_RETURN(base, txn.Get(r.table->ItemKey(item)));
          if (base) {
            item = ParseJsonOrDiscarded(*base);
            text = &*base;
          }
        }
        bool keep = !r.filter || EvalCondition(*r.filter, item);
        if (keep) {
          ++count;
          if (!r.count_only && r.wire) {
            if (wire_items.size() > 1) wire_items.push_back(',');
            if (projecting) {
              wire_items += DumpJson(Project(item, *r.projection));
            } else {
              wire_items += *text;
            }
          } else if (!r.count_only) {
            items.push_back(projecting ? Project(item, *r.projection) : std::move(item));
          }
        }
        if (cut) {
          last_key = std::move(key);
          last_store_key = kv.key;
          stopped = true;
          return Status::Ok();
        }
      }
      if (rows.size() < want) return Status::Ok();
      // Continue after the last key read.
      if (r.reverse) {
        hi = rows.back().key;
      } else {
        lo = rows.back().key + std::string(1, '\0');
      }
    }
  });
  if (!st.ok()) return st.error();
  Json out = Json::object();
  if (!r.count_only && r.wire) {
    wire_items.push_back(']');
    out["Items"] = aws::WireJson(wire_items);
  } else if (!r.count_only) {
    out["Items"] = std::move(items);
  }
  out["Count"] = count;
  out["ScannedCount"] = scanned;
  if (stopped && last_key) out["LastEvaluatedKey"] = std::move(*last_key);
  if (r.last_store_key) *r.last_store_key = stopped ? last_store_key : std::string();
  return out;
}

// Parses filter/projection (expression or legacy) shared by Query and Scan.
struct ReadParams {
  std::optional<Node> filter;
  std::vector<Path> projection;
  std::string select;
  std::shared_ptr<std::deque<Json>> owned = std::make_shared<std::deque<Json>>();
};

Status ReadCommon(Json& in, ExprContext& ctx, ReadParams& p, const char* legacy_filter) {
  if (in.contains("FilterExpression")) {
    STRATUS_ASSIGN_OR_RETURN(Node f, ParseCondition(in["FilterExpression"].get<std::string>(), ExprKind::kFilter, ctx));
    p.filter = std::move(f);
  } else if (in.contains(legacy_filter)) {
    STRATUS_ASSIGN_OR_RETURN(p.filter, LegacyCondition(in[legacy_filter], in.value("ConditionalOperator", "AND"), *p.owned, false));
  }
  if (in.contains("ProjectionExpression")) {
    STRATUS_ASSIGN_OR_RETURN(p.projection, ParseProjection(in["ProjectionExpression"].get<std::string>(), ctx));
  } else if (in.contains("AttributesToGet")) {
    for (const auto& a : in["AttributesToGet"]) p.projection.push_back(Path{PathElem{false, a.get<std::string>(), 0}});
  }
  p.select = in.value("Select", "");
  bool has_projection = !p.projection.empty();
  if (p.select == "SPECIFIC_ATTRIBUTES" && !has_projection) {
    return Validation("One or more parameter values were invalid: SPECIFIC_ATTRIBUTES requires either ProjectionExpression or AttributesToGet");
  }
  if (!p.select.empty() && p.select != "SPECIFIC_ATTRIBUTES" && has_projection) {
    if (in.contains("AttributesToGet")) {
      return Validation("Cannot specify the AttributesToGet when choosing to get only the " + std::string(p.select == "COUNT" ? "Count" : p.select));
    }
    return Validation("One or more parameter values were invalid: Select type " + p.select +
                      " is not supported when ProjectionExpression is specified" );
  }
  return Status::Ok();
}

Status CheckSelectOnIndex(const ReadParams& p, const IndexDef* index) {
  if (index && index->global && p.select == "ALL_ATTRIBUTES" && index->projection != "ALL") {
    return InvalidParam("Select type ALL_ATTRIBUTES is not supported for global secondary index " + index->name +
                        " because its projection type is not ALL");
  }
  return Status::Ok();
}

// The store key of ExclusiveStartKey, validated against the table (and index) schema.
Result<std::string> StartKey(const Table& t, const IndexDef* index, Json esk) {
  Status norm = NormalizeItemInput(esk);
  if (!norm.ok()) return Validation("The provided starting key is invalid: " + norm.error().message);
  size_t want = t.KeyNames().size();
  std::vector<const KeyAttr*> keys{&t.hash};
  if (t.range) keys.push_back(&*t.range);
  if (index) {
    for (const KeyAttr* k : {&index->hash, index->range ? &*index->range : nullptr}) {
      if (!k) continue;
      bool dup = false;
      for (const KeyAttr* x : keys) dup = dup || x->name == k->name;
      if (!dup) {
        keys.push_back(k);
        ++want;
      }
    }
  }
  if (esk.size() != want) return Validation("The provided starting key is invalid: The provided key element does not match the schema");
  for (const KeyAttr* k : keys) {
    auto it = esk.find(k->name);
    if (it == esk.end() || TypeOf(*it) != k->type) {
      return Validation("The provided starting key is invalid: The provided key element does not match the schema");
    }
  }
  if (index) return t.IndexKey(*index, esk);
  return t.ItemKey(esk);
}

}  // namespace

Result<Json> Engine::Query(const Scope& s, Json in) { return RunQuery(s, std::move(in), false); }
Result<Json> Engine::QueryWire(const Scope& s, Json in) { return RunQuery(s, std::move(in), true); }

Result<Json> Engine::RunQuery(const Scope& s, Json in, bool wire) {
  STRATUS_RETURN_IF_ERROR(CheckExpressionMix(in, {"AttributesToGet", "KeyConditions", "QueryFilter", "ConditionalOperator"},
                                             {"ProjectionExpression", "FilterExpression", "KeyConditionExpression"}));
  ExprContext ctx;
  STRATUS_RETURN_IF_ERROR(PrepareExpressionContext(in, ctx));
  ReadParams p;
  std::optional<Node> key_cond;
  if (in.contains("KeyConditionExpression")) {
    STRATUS_ASSIGN_OR_RETURN(Node k, ParseCondition(in["KeyConditionExpression"].get<std::string>(), ExprKind::kKeyCondition, ctx));
    key_cond = std::move(k);
  } else if (in.contains("KeyConditions")) {
    STRATUS_ASSIGN_OR_RETURN(key_cond, LegacyCondition(in["KeyConditions"], "AND", *p.owned, false));
  }
  STRATUS_RETURN_IF_ERROR(ReadCommon(in, ctx, p, "QueryFilter"));
  STRATUS_RETURN_IF_ERROR(CheckUnused(ctx));
  if (!key_cond) {
    return Validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.");
  }
  std::string name = in.value("TableName", "");
  STRATUS_ASSIGN_OR_RETURN(TablePtr t, catalog_.Get(s, name));
  const IndexDef* index = nullptr;
  if (in.contains("IndexName")) {
    index = t->FindIndex(in["IndexName"].get<std::string>());
    if (!index) return Validation("The table does not have the specified index: " + in["IndexName"].get<std::string>());
  }
  STRATUS_RETURN_IF_ERROR(CheckSelectOnIndex(p, index));
  const KeyAttr& hash = index ? index->hash : t->hash;
  const std::optional<KeyAttr>& range = index ? index->range : t->range;
  std::vector<const Node*> clauses;
  Flatten(*key_cond, clauses);
  if (clauses.size() > 2) return Validation("Conditions can be of length 1 or 2 only");
  const Json* hash_value = nullptr;
  std::optional<RangeCond> range_cond;
  for (const Node* c : clauses) STRATUS_RETURN_IF_ERROR(AnalyzeClause(*c, hash, range, hash_value, range_cond));
  if (!hash_value) return Validation("Query condition missed key schema element: " + hash.name);

  std::string pk = EncodeKeyValue(*hash_value);
  std::string prefix = t->ItemPrefix(index ? index->id : 0) + t->PartitionTag(pk) + pk;
  RangeRead r;
  r.start = prefix;
  r.end = store::PrefixEnd(prefix);
  if (range_cond) {
    const RangeCond& rc = *range_cond;
    std::string v0 = prefix + EncodeKeyValue(*rc.values[0]);
    if (rc.op == "=") {
      r.start = v0;
      r.end = store::PrefixEnd(v0);
    } else if (rc.op == "<") {
      r.end = v0;
    } else if (rc.op == "<=") {
      r.end = store::PrefixEnd(v0);
    } else if (rc.op == ">") {
      r.start = store::PrefixEnd(v0);
    } else if (rc.op == ">=") {
      r.start = v0;
    } else if (rc.op == "BETWEEN") {
      r.start = v0;
      r.end = store::PrefixEnd(prefix + EncodeKeyValue(*rc.values[1]));
    } else if (rc.op == "begins_with") {
      std::string enc = EncodeKeyValue(*rc.values[0]);
      enc.resize(enc.size() - 2);  // drop the terminator: a prefix of every extension
      r.start = prefix + enc;
      r.end = store::PrefixEnd(r.start);
    }
  }
  r.reverse = !in.value("ScanIndexForward", true);
  if (in.contains("ExclusiveStartKey")) {
    STRATUS_ASSIGN_OR_RETURN(std::string after, StartKey(*t, index, in["ExclusiveStartKey"]));
    if (r.reverse) {
      if (after < r.end || r.end.empty()) r.end = after;
    } else {
      std::string next = after + std::string(1, '\0');
      if (next > r.start) r.start = next;
    }
  }
  r.limit = in.value("Limit", int64_t{0});
  r.filter = p.filter ? &*p.filter : nullptr;
  r.projection = &p.projection;
  r.count_only = p.select == "COUNT";
  r.table = t.get();
  r.index = index;
  r.fetch_base = index && !index->global && index->projection != "ALL" &&
                 (p.select == "ALL_ATTRIBUTES" || !p.projection.empty());
  r.wire = wire;
  STRATUS_ASSIGN_OR_RETURN(Json out, ReadRange(store_, r));
  AddConsumedCapacity(out, in, name, 0.5);
  return out;
}

Result<Json> Engine::Scan(const Scope& s, Json in) { return RunScan(s, std::move(in), false); }
Result<Json> Engine::ScanWire(const Scope& s, Json in) { return RunScan(s, std::move(in), true); }

Result<Json> Engine::RunScan(const Scope& s, Json in, bool wire) {
  STRATUS_RETURN_IF_ERROR(CheckExpressionMix(in, {"AttributesToGet", "ScanFilter", "ConditionalOperator"},
                                             {"ProjectionExpression", "FilterExpression"}));
  bool has_seg = in.contains("Segment"), has_total = in.contains("TotalSegments");
  if (has_seg && !has_total) {
    return Validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present");
  }
  if (has_total && !has_seg) {
    return Validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present");
  }
  int64_t segment = in.value("Segment", int64_t{0}), total = in.value("TotalSegments", int64_t{1});
  if (has_seg && segment >= total) {
    return Validation("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: " +
                      std::to_string(segment) + " is not less than TotalSegments: " + std::to_string(total));
  }
  ExprContext ctx;
  STRATUS_RETURN_IF_ERROR(PrepareExpressionContext(in, ctx));
  ReadParams p;
  STRATUS_RETURN_IF_ERROR(ReadCommon(in, ctx, p, "ScanFilter"));
  STRATUS_RETURN_IF_ERROR(CheckUnused(ctx));
  std::string name = in.value("TableName", "");
  STRATUS_ASSIGN_OR_RETURN(TablePtr t, catalog_.Get(s, name));
  const IndexDef* index = nullptr;
  if (in.contains("IndexName")) {
    index = t->FindIndex(in["IndexName"].get<std::string>());
    if (!index) return Validation("The table does not have the specified index: " + in["IndexName"].get<std::string>());
  }
  STRATUS_RETURN_IF_ERROR(CheckSelectOnIndex(p, index));
  std::string prefix = t->ItemPrefix(index ? index->id : 0);
  RangeRead r;
  // Segment i of n covers partition hashes [i*65536/n, (i+1)*65536/n).
  const auto hash_bound = [&](int64_t seg) { return static_cast<uint32_t>(seg * 65536 / total); };
  const uint32_t lo = hash_bound(segment), hi = hash_bound(segment + 1);
  if (t->key_layout == kHashedKeys) {
    auto bound = [&](uint32_t h) {
      std::string b(2, '\0');
      b[0] = static_cast<char>((h >> 8) & 0xFF);
      b[1] = static_cast<char>(h & 0xFF);
      return prefix + b;
    };
    r.start = segment == 0 ? prefix : bound(lo);
    r.end = segment + 1 >= total ? store::PrefixEnd(prefix) : bound(hi);
  } else if (lo >= hi) {
    r.start = r.end = prefix;  // more segments than hashes: this one holds no partition
  } else {
    // The buckets the hashes fall in; a segment that does not cover whole buckets filters.
    const uint32_t first = lo >> kHashBucketShift, past = ((hi - 1) >> kHashBucketShift) + 1;
    r.start = segment == 0 ? prefix : prefix + std::string(1, static_cast<char>(first));
    r.end = segment + 1 >= total ? store::PrefixEnd(prefix) : prefix + std::string(1, static_cast<char>(past));
    r.segment_filter = lo % kHashesPerBucket != 0 || hi % kHashesPerBucket != 0;
    r.segment_lo = lo;
    r.segment_hi = hi;
    r.partition_key_at = prefix.size() + 1;
  }
  if (in.contains("ExclusiveStartKey")) {
    STRATUS_ASSIGN_OR_RETURN(std::string after, StartKey(*t, index, in["ExclusiveStartKey"]));
    bool outside = after < r.start || after >= r.end;
    if (!outside && t->key_layout != kHashedKeys) {
      const KeyAttr& hash = index ? index->hash : t->hash;
      uint32_t h = PartitionHash16(EncodeKeyValue(in["ExclusiveStartKey"][hash.name]));
      outside = h < lo || h >= hi;
    }
    if (outside) {
      return Validation("The provided Exclusive start key does not map to the provided Segment and TotalSegments values.");
    }
    r.start = after + std::string(1, '\0');
  }
  r.limit = in.value("Limit", int64_t{0});
  r.filter = p.filter ? &*p.filter : nullptr;
  r.projection = &p.projection;
  r.count_only = p.select == "COUNT";
  r.table = t.get();
  r.index = index;
  r.fetch_base = index && !index->global && index->projection != "ALL" &&
                 (p.select == "ALL_ATTRIBUTES" || !p.projection.empty());
  r.wire = wire;
  STRATUS_ASSIGN_OR_RETURN(Json out, ReadRange(store_, r));
  AddConsumedCapacity(out, in, name, 0.5);
  return out;
}

Result<Json> Engine::ReadItems(const Table& t, const IndexDef* index, std::string start,
                               std::string end, int64_t limit, const Node* filter,
                               const std::vector<Path>* projection, std::string& last_key) {
  RangeRead r;
  r.start = std::move(start);
  r.end = std::move(end);
  r.limit = limit;
  r.filter = filter;
  r.projection = projection;
  r.table = &t;
  r.index = index;
  r.last_store_key = &last_key;
  return ReadRange(store_, r);
}

}  // namespace stratus::services::dynamodb

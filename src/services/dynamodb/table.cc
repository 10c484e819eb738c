#include "services/dynamodb/table.h"

#include <algorithm>
#include <set>

#include "core/crypto.h"
#include "core/strings.h"
#include "core/time_format.h"
#include "services/dynamodb/attr.h"

namespace stratus::services::dynamodb {

namespace {

constexpr size_t kMaxLsi = 5;
constexpr size_t kMaxGsi = 20;
constexpr size_t kMaxTags = 50;
constexpr int64_t kDefaultListLimit = 100;
// DescribeTable counts items up to this many (AWS refreshes its counts every ~6 hours anyway).
constexpr size_t kMaxCountedItems = 100'000;
const char kUidCounter[] = "ddb/n/uid";

Result<Json> LoadJson(store::ReadTxn& txn, const std::string& key) {
  STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(key));
  if (!raw) return Json();
  Json j = ParseJsonOrDiscarded(*raw);
  if (j.is_discarded()) return InternalFailure("corrupt record at " + key);
  return j;
}

std::string TableArn(const Scope& s, const std::string& name) {
  return "arn:aws:dynamodb:" + s.region + ":" + s.account + ":table/" + name;
}

// Key schema [{AttributeName, KeyType}] -> hash and optional range.
Status ReadKeySchema(const Json& schema, const Json& defs, KeyAttr& hash,
                     std::optional<KeyAttr>& range, bool is_table) {
  if (!schema.is_array() || schema.empty() || schema.size() > 2) {
    return Validation("Invalid KeySchema: Some index key attribute have no definition");
  }
  if (schema[0].value("KeyType", "") != "HASH") {
    return Validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
  }
  if (schema.size() == 2 && schema[1].value("KeyType", "") != "RANGE") {
    return Validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type");
  }
  auto type_of = [&](const std::string& name) -> std::string {
    for (const auto& d : defs) {
      if (d.value("AttributeName", "") == name) return d.value("AttributeType", "");
    }
    return {};
  };
  hash.name = schema[0].value("AttributeName", "");
  hash.type = type_of(hash.name);
  if (schema.size() == 2) {
    KeyAttr r;
    r.name = schema[1].value("AttributeName", "");
    r.type = type_of(r.name);
    if (r.name == hash.name) {
      return Validation("Both the Hash Key and the Range Key element in the KeySchema have the same name");
    }
    range = r;
  }
  return Status::Ok();
}

std::string JoinNames(const std::vector<std::string>& v) { return Join(v, ", "); }

Status ValidateTags(const Json& tags) {
  if (tags.size() > kMaxTags) {
    return Validation("One or more parameter values were invalid: Too many tags");
  }
  return Status::Ok();
}

std::string StreamLabel(int64_t now_ms) {
  std::string iso = FormatIso8601(static_cast<double>(now_ms) / 1000.0, true);  // ...T20:51:10.252Z
  if (!iso.empty() && iso.back() == 'Z') iso.pop_back();
  return iso;
}

}  // namespace

Error ResourceNotFound(std::string message) {
  return Error("ResourceNotFoundException", std::move(message));
}
Error ResourceInUse(std::string message) { return Error("ResourceInUseException", std::move(message)); }

std::string BigEndian64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(v & 0xFF);
    v >>= 8;
  }
  return out;
}

uint64_t ReadBigEndian64(std::string_view b) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < b.size(); ++i) v = (v << 8) | static_cast<unsigned char>(b[i]);
  return v;
}

uint32_t PartitionHash16(std::string_view encoded_pk) { return Crc32(encoded_pk) >> 16; }

std::string PartitionHash(std::string_view encoded_pk) {
  uint32_t h = PartitionHash16(encoded_pk);
  std::string out(2, '\0');
  out[0] = static_cast<char>((h >> 8) & 0xFF);
  out[1] = static_cast<char>(h & 0xFF);
  return out;
}

std::string Table::PartitionTag(std::string_view encoded_pk) const {
  if (key_layout == kHashedKeys) return PartitionHash(encoded_pk);
  return std::string(1, static_cast<char>(PartitionHash16(encoded_pk) >> kHashBucketShift));
}

std::string TableRecordKey(const Scope& s, std::string_view name) {
  std::string k = TablePrefix(s);
  k.append(name);
  return k;
}

std::string TablePrefix(const Scope& s) { return "ddb/t/" + s.account + "/" + s.region + "/"; }

const IndexDef* Table::FindIndex(std::string_view n) const {
  for (const auto& i : indexes) {
    if (i.name == n) return &i;
  }
  return nullptr;
}

std::vector<std::string> Table::KeyNames() const {
  std::vector<std::string> v{hash.name};
  if (range) v.push_back(range->name);
  return v;
}

Json Table::KeyOf(const Json& item) const {
  Json k = Json::object();
  auto h = item.find(hash.name);
  if (h != item.end()) k[hash.name] = *h;
  if (range) {
    auto r = item.find(range->name);
    if (r != item.end()) k[range->name] = *r;
  }
  return k;
}

std::string Table::ItemPrefix(uint8_t index) const {
  std::string p = "ddb/i/";
  p += BigEndian64(uid);
  p.push_back(static_cast<char>(index));
  return p;
}

std::string Table::ItemKey(const Json& item) const {
  std::string pk = EncodeKeyValue(item.at(hash.name));
  std::string k = ItemPrefix(0);
  k += PartitionTag(pk);
  k += pk;
  if (range) k += EncodeKeyValue(item.at(range->name));
  return k;
}

std::string Table::IndexKey(const IndexDef& index, const Json& item) const {
  auto h = item.find(index.hash.name);
  if (h == item.end() || TypeOf(*h) != index.hash.type) return {};
  std::string pk = EncodeKeyValue(*h);
  std::string k = ItemPrefix(index.id);
  k += PartitionTag(pk);
  k += pk;
  if (index.range) {
    auto r = item.find(index.range->name);
    if (r == item.end() || TypeOf(*r) != index.range->type) return {};
    k += EncodeKeyValue(*r);
  }
  k += EncodeKeyValue(item.at(hash.name));
  if (range) k += EncodeKeyValue(item.at(range->name));
  return k;
}

Json Table::IndexProjection(const IndexDef& index, const Json& item) const {
  if (index.projection == "ALL") return item;
  Json out = Json::object();
  auto copy = [&](const std::string& name) {
    auto it = item.find(name);
    if (it != item.end()) out[name] = *it;
  };
  copy(hash.name);
  if (range) copy(range->name);
  copy(index.hash.name);
  if (index.range) copy(index.range->name);
  if (index.projection == "INCLUDE") {
    for (const auto& n : index.non_key) copy(n);
  }
  return out;
}

Result<TablePtr> TableCatalog::Parse(std::string raw) {
  auto t = std::make_shared<Table>();
  t->record = ParseJsonOrDiscarded(raw);
  if (t->record.is_discarded() || !t->record.is_object()) return InternalFailure("corrupt table record");
  t->raw = std::move(raw);
  const Json& r = t->record;
  t->name = r.value("name", "");
  t->arn = r.value("arn", "");
  t->uid = r.value("uid", uint64_t{0});
  t->status = r.value("status", "ACTIVE");
  const Json defs = r.value("attrs", Json::array());
  STRATUS_RETURN_IF_ERROR(ReadKeySchema(r.value("keys", Json::array()), defs, t->hash, t->range, true));
  for (const char* kind : {"lsi", "gsi"}) {
    for (const auto& i : r.value(kind, Json::array())) {
      IndexDef d;
      d.name = i.value("IndexName", "");
      d.global = std::string(kind) == "gsi";
      d.id = static_cast<uint8_t>(i.value("id", 1));
      STRATUS_RETURN_IF_ERROR(ReadKeySchema(i.value("KeySchema", Json::array()), defs, d.hash, d.range, false));
      const Json proj = i.value("Projection", Json::object());
      d.projection = proj.value("ProjectionType", "ALL");
      for (const auto& n : proj.value("NonKeyAttributes", Json::array())) d.non_key.push_back(n.get<std::string>());
      t->indexes.push_back(std::move(d));
    }
  }
  const Json stream = r.value("stream", Json::object());
  t->stream_enabled = stream.value("enabled", false);
  t->stream_view = stream.value("view", "");
  t->stream_uid = stream.value("uid", uint64_t{0});
  t->stream_arn = stream.value("arn", "");
  const Json ttl = r.value("ttl", Json::object());
  t->ttl_attribute = ttl.value("attr", "");
  t->ttl_enabled = ttl.value("enabled", false);
  t->key_layout = r.value("key_layout", kHashedKeys);
  if (t->key_layout != kHashedKeys && t->key_layout != kBucketedKeys) {
    return InternalFailure("table record of " + t->name + " has an unknown key layout");
  }
  return TablePtr(std::move(t));
}

Result<TablePtr> TableCatalog::Get(const Scope& s, std::string_view name) {
  std::string key = TableRecordKey(s, name);
  uint64_t generation = 0;
  {
    std::shared_lock lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    generation = generation_;
  }
  STRATUS_ASSIGN_OR_RETURN(auto raw, store_.Get(key));
  if (!raw) return ResourceNotFound();
  STRATUS_ASSIGN_OR_RETURN(TablePtr t, Parse(std::move(*raw)));
  std::unique_lock lock(mu_);
  if (generation_ == generation) cache_[key] = t;  // else serve it to this request only
  return t;
}

Result<TablePtr> TableCatalog::GetInTxn(store::ReadTxn& txn, const Scope& s, std::string_view name) {
  std::string key = TableRecordKey(s, name);
  STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(key));
  if (!raw) return ResourceNotFound();
  {
    std::shared_lock lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second->raw == *raw) return it->second;
  }
  return Parse(std::move(*raw));
}

void TableCatalog::Forget(const Scope& s, std::string_view name) {
  std::unique_lock lock(mu_);
  cache_.erase(TableRecordKey(s, name));
  ++generation_;
}

Result<uint64_t> TableCatalog::NextUid(store::WriteTxn& txn) {
  STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(kUidCounter));
  uint64_t next = raw ? std::stoull(*raw) + 1 : 1;
  STRATUS_RETURN_IF_ERROR(txn.Put(kUidCounter, std::to_string(next)));
  return next;
}

Json TableCatalog::DescriptionOf(const Table& t) {
  const Json& r = t.record;
  Json d = Json::object();
  d["AttributeDefinitions"] = r.value("attrs", Json::array());
  d["TableName"] = t.name;
  d["KeySchema"] = r.value("keys", Json::array());
  d["TableStatus"] = t.status;
  d["CreationDateTime"] = r.value("created", 0.0);
  Json tp = r.value("throughput", Json::object());
  d["ProvisionedThroughput"] = Json{{"NumberOfDecreasesToday", 0},
                                    {"ReadCapacityUnits", tp.value("ReadCapacityUnits", 0)},
                                    {"WriteCapacityUnits", tp.value("WriteCapacityUnits", 0)}};
  d["TableSizeBytes"] = 0;
  d["ItemCount"] = 0;
  d["TableArn"] = t.arn;
  d["TableId"] = r.value("table_id", "");
  std::string billing = r.value("billing", "PROVISIONED");
  if (billing == "PAY_PER_REQUEST") {
    d["BillingModeSummary"] = Json{{"BillingMode", billing},
                                   {"LastUpdateToPayPerRequestDateTime", r.value("created", 0.0)}};
  }
  auto index_desc = [&](const Json& i, bool global) {
    Json x = Json{{"IndexName", i.value("IndexName", "")},
                  {"KeySchema", i.value("KeySchema", Json::array())},
                  {"Projection", i.value("Projection", Json::object())}};
    if (global) {
      x["IndexStatus"] = i.value("status", "ACTIVE");
      Json itp = i.value("ProvisionedThroughput", Json::object());
      x["ProvisionedThroughput"] = Json{{"NumberOfDecreasesToday", 0},
                                        {"ReadCapacityUnits", itp.value("ReadCapacityUnits", 0)},
                                        {"WriteCapacityUnits", itp.value("WriteCapacityUnits", 0)}};
    }
    x["IndexSizeBytes"] = 0;
    x["ItemCount"] = 0;
    x["IndexArn"] = t.arn + "/index/" + i.value("IndexName", "");
    return x;
  };
  if (!r.value("lsi", Json::array()).empty()) {
    d["LocalSecondaryIndexes"] = Json::array();
    for (const auto& i : r["lsi"]) d["LocalSecondaryIndexes"].push_back(index_desc(i, false));
  }
  if (!r.value("gsi", Json::array()).empty()) {
    d["GlobalSecondaryIndexes"] = Json::array();
    for (const auto& i : r["gsi"]) d["GlobalSecondaryIndexes"].push_back(index_desc(i, true));
  }
  const Json stream = r.value("stream", Json::object());
  if (!stream.empty()) {
    if (t.stream_enabled) {
      d["StreamSpecification"] = Json{{"StreamEnabled", true}, {"StreamViewType", t.stream_view}};
    }
    if (stream.contains("label")) {
      d["LatestStreamLabel"] = stream["label"];
      d["LatestStreamArn"] = stream.value("arn", "");
    }
  }
  if (r.contains("table_class")) d["TableClassSummary"] = Json{{"TableClass", r["table_class"]}};
  d["DeletionProtectionEnabled"] = r.value("deletion_protection", false);
  return d;
}

Json TableCatalog::Counts(const Table& t) {
  Json out = Json::object();
  std::vector<uint8_t> ids{0};
  for (const auto& i : t.indexes) ids.push_back(i.id);
  for (uint8_t id : ids) {
    auto rows = store_.Scan(store::PrefixScan(t.ItemPrefix(id), kMaxCountedItems));
    int64_t n = 0, bytes = 0;
    if (rows.ok()) {
      for (const auto& kv : *rows) {
        ++n;
        bytes += static_cast<int64_t>(kv.value.size());
      }
    }
    out[std::to_string(id)] = Json{n, bytes};
  }
  return out;
}

Result<Json> TableCatalog::Create(const Scope& s, Json in) {
  std::string name = in.value("TableName", "");
  Json defs = in.value("AttributeDefinitions", Json::array());
  Json keys = in.value("KeySchema", Json::array());
  Json lsis = in.value("LocalSecondaryIndexes", Json::array());
  Json gsis = in.value("GlobalSecondaryIndexes", Json::array());
  std::set<std::string> def_names;
  std::vector<std::string> def_list;
  for (const auto& d : defs) {
    std::string n = d.value("AttributeName", "");
    if (!def_names.insert(n).second) return Validation("Cannot have two attributes with the same name");
    def_list.push_back(n);
  }
  KeyAttr hash;
  std::optional<KeyAttr> range;
  STRATUS_RETURN_IF_ERROR(ReadKeySchema(keys, defs, hash, range, true));
  std::vector<std::string> used{hash.name};
  if (range) used.push_back(range->name);
  bool has_indexes = !lsis.empty() || !gsis.empty();
  if (!has_indexes) {
    if (defs.size() < used.size()) return Validation("Invalid KeySchema: Some index key attribute have no definition");
    if (defs.size() > used.size()) {
      return InvalidParam("Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions");
    }
    for (const auto& u : used) {
      if (!def_names.count(u)) {
        return InvalidParam("Some index key attributes are not defined in AttributeDefinitions. Keys: [" +
                            JoinNames(used) + "], AttributeDefinitions: [" + JoinNames(def_list) + "]");
      }
    }
  }
  // Indexes.
  if (!lsis.empty() && !range) {
    return InvalidParam("Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex");
  }
  if (lsis.size() > kMaxLsi) return Validation("One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of 5");
  if (gsis.size() > kMaxGsi) return Validation("One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of 20");
  std::set<std::string> index_names;
  int next_id = 1;
  for (const char* kind : {"lsi", "gsi"}) {
    Json& list = std::string(kind) == "lsi" ? lsis : gsis;
    for (auto& i : list) {
      std::string iname = i.value("IndexName", "");
      if (!index_names.insert(iname).second) return InvalidParam("Duplicate index name: " + iname);
      KeyAttr ih;
      std::optional<KeyAttr> ir;
      STRATUS_RETURN_IF_ERROR(ReadKeySchema(i.value("KeySchema", Json::array()), defs, ih, ir, false));
      for (const auto* k : {&ih, ir ? &*ir : nullptr}) {
        if (!k) continue;
        if (std::find(used.begin(), used.end(), k->name) == used.end()) used.push_back(k->name);
        if (!def_names.count(k->name)) {
          return InvalidParam("Some index key attributes are not defined in AttributeDefinitions. Keys: [" +
                              k->name + "], AttributeDefinitions: [" + JoinNames(def_list) + "]");
        }
      }
      if (std::string(kind) == "lsi") {
        if (!ir) return InvalidParam("Index KeySchema does not have a range key for index: " + iname);
        if (ih.name != hash.name) {
          return InvalidParam("Index KeySchema does not have the same leading hash key as table KeySchema for index: " +
                              iname + ". index hash key: " + ih.name + ", table hash key: " + hash.name);
        }
      }
      Json proj = i.value("Projection", Json::object());
      std::string ptype = proj.value("ProjectionType", "");
      if (ptype.empty()) return InvalidParam("Unknown ProjectionType: null");
      if (ptype == "INCLUDE" && proj.value("NonKeyAttributes", Json::array()).empty()) {
        return InvalidParam("ProjectionType is INCLUDE, but NonKeyAttributes is not specified");
      }
      if (ptype != "INCLUDE" && proj.contains("NonKeyAttributes")) {
        return InvalidParam("ProjectionType is " + ptype + ", but NonKeyAttributes is specified");
      }
      i["id"] = next_id++;
      if (std::string(kind) == "gsi") i["status"] = "ACTIVE";
    }
  }
  if (has_indexes) {
    std::vector<std::string> unused;
    for (const auto& d : def_list) {
      if (std::find(used.begin(), used.end(), d) == used.end()) unused.push_back(d);
    }
    if (!unused.empty()) {
      return InvalidParam("Some AttributeDefinitions are not used. AttributeDefinitions: [" + JoinNames(def_list) +
                          "], keys used: [" + JoinNames(used) + "]");
    }
  }
  std::string billing = in.value("BillingMode", "PROVISIONED");
  Json tp = in.value("ProvisionedThroughput", Json::object());
  if (billing == "PAY_PER_REQUEST") {
    if (!tp.empty()) {
      return InvalidParam("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
    }
    for (const auto& g : gsis) {
      if (g.contains("ProvisionedThroughput")) {
        return InvalidParam("ProvisionedThroughput should not be specified for index: " +
                            g.value("IndexName", "") + " when BillingMode is PAY_PER_REQUEST");
      }
    }
  } else {
    if (tp.empty()) return Validation("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED");
    for (const auto& g : gsis) {
      if (!g.contains("ProvisionedThroughput")) {
        return InvalidParam("ProvisionedThroughput must be specified for index: " + g.value("IndexName", ""));
      }
    }
  }
  Json tags = in.value("Tags", Json::array());
  STRATUS_RETURN_IF_ERROR(ValidateTags(tags));
  Json stream_spec = in.value("StreamSpecification", Json::object());
  bool stream_on = stream_spec.value("StreamEnabled", false);
  if (stream_on && !stream_spec.contains("StreamViewType")) {
    return Validation("One or more parameter values were invalid: StreamViewType is required when StreamEnabled is true");
  }
  int64_t now = clock_.NowMillis();
  Json record = {{"name", name},
                 {"arn", TableArn(s, name)},
                 {"status", "ACTIVE"},
                 {"created", static_cast<double>(now) / 1000.0},
                 {"attrs", defs},
                 {"keys", keys},
                 {"billing", billing},
                 {"throughput", tp},
                 {"lsi", lsis},
                 {"gsi", gsis},
                 {"tags", tags},
                 {"table_id", NewUuid()},
                 {"deletion_protection", in.value("DeletionProtectionEnabled", false)},
                 {"next_index_id", next_id},
                 {"key_layout", kNewTableKeyLayout}};
  if (in.contains("TableClass")) record["table_class"] = in["TableClass"];
  std::string key = TableRecordKey(s, name);
  TablePtr created;
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto existing, txn.Get(key));
    if (existing) return ResourceInUse("Table already exists: " + name);
    STRATUS_ASSIGN_OR_RETURN(uint64_t uid, NextUid(txn));
    Json rec = record;
    rec["uid"] = uid;
    if (stream_on) {
      STRATUS_ASSIGN_OR_RETURN(uint64_t suid, NextUid(txn));
      std::string label = StreamLabel(now);
      std::string arn = TableArn(s, name) + "/stream/" + label;
      rec["stream"] = Json{{"enabled", true}, {"view", stream_spec["StreamViewType"]},
                           {"uid", suid}, {"label", label}, {"arn", arn}};
      Json smeta = {{"uid", suid}, {"arn", arn}, {"table", name}, {"label", label},
                    {"view", stream_spec["StreamViewType"]}, {"keys", keys},
                    {"created", static_cast<double>(now) / 1000.0}, {"status", "ENABLED"}};
      STRATUS_RETURN_IF_ERROR(txn.Put("ddb/st/" + arn, smeta.dump()));
    }
    std::string raw = rec.dump();
    STRATUS_RETURN_IF_ERROR(txn.Put(key, raw));
    auto parsed = Parse(raw);
    if (!parsed.ok()) return parsed.error();
    created = *parsed;
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  Forget(s, name);
  Json d = DescriptionOf(*created);
  d["TableStatus"] = "CREATING";
  if (d.contains("GlobalSecondaryIndexes")) {
    for (auto& g : d["GlobalSecondaryIndexes"]) g["IndexStatus"] = "CREATING";
  }
  return Json{{"TableDescription", d}};
}

Result<Json> TableCatalog::Describe(const Scope& s, std::string_view name) {
  STRATUS_ASSIGN_OR_RETURN(auto raw, store_.Get(TableRecordKey(s, name)));
  if (!raw) return ResourceNotFound("Requested resource not found: Table: " + std::string(name) + " not found");
  STRATUS_ASSIGN_OR_RETURN(TablePtr t, Parse(std::move(*raw)));
  Json d = DescriptionOf(*t);
  Json counts = Counts(*t);
  d["ItemCount"] = counts["0"][0];
  d["TableSizeBytes"] = counts["0"][1];
  for (const char* kind : {"LocalSecondaryIndexes", "GlobalSecondaryIndexes"}) {
    if (!d.contains(kind)) continue;
    for (auto& i : d[kind]) {
      const IndexDef* def = t->FindIndex(i.value("IndexName", ""));
      if (!def) continue;
      auto c = counts.find(std::to_string(def->id));
      if (c == counts.end()) continue;
      i["ItemCount"] = (*c)[0];
      i["IndexSizeBytes"] = (*c)[1];
    }
  }
  return Json{{"Table", d}};
}

Result<TablePtr> TableCatalog::Modify(
    const Scope& s, std::string_view name,
    const std::function<Status(store::WriteTxn&, const Table&, Json&)>& change) {
  std::string key = TableRecordKey(s, name);
  TablePtr out;
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(key));
    if (!raw) return ResourceNotFound("Requested resource not found: Table: " + std::string(name) + " not found");
    auto t = Parse(*raw);
    if (!t.ok()) return t.error();
    Json rec = (*t)->record;
    STRATUS_RETURN_IF_ERROR(change(txn, **t, rec));
    std::string next = rec.dump();
    STRATUS_RETURN_IF_ERROR(txn.Put(key, next));
    auto parsed = Parse(next);
    if (!parsed.ok()) return parsed.error();
    out = *parsed;
    return Status::Ok();
  });
  Forget(s, name);
  if (!st.ok()) return st.error();
  return out;
}

Result<Json> TableCatalog::Update(const Scope& s, const Json& in) {
  std::string name = in.value("TableName", "");
  int64_t now = clock_.NowMillis();
  bool gsi_created = false;
  STRATUS_ASSIGN_OR_RETURN(TablePtr t, Modify(s, name, [&](store::WriteTxn& txn, const Table& old, Json& rec) -> Status {
    bool changed = false;
    if (in.contains("AttributeDefinitions")) {
      for (const auto& d : in["AttributeDefinitions"]) {
        bool found = false;
        for (auto& e : rec["attrs"]) {
          if (e.value("AttributeName", "") == d.value("AttributeName", "")) {
            found = true;
            if (e.value("AttributeType", "") != d.value("AttributeType", "")) {
              return InvalidParam("Cannot change the type of an existing key attribute: " + d.value("AttributeName", ""));
            }
          }
        }
        if (!found) rec["attrs"].push_back(d);
      }
    }
    if (in.contains("BillingMode")) {
      rec["billing"] = in["BillingMode"];
      changed = true;
    }
    if (in.contains("ProvisionedThroughput")) {
      if (rec.value("billing", "PROVISIONED") == "PAY_PER_REQUEST" && !in.contains("BillingMode")) {
        return InvalidParam("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
      }
      rec["throughput"] = in["ProvisionedThroughput"];
      changed = true;
    }
    if (in.contains("DeletionProtectionEnabled")) {
      rec["deletion_protection"] = in["DeletionProtectionEnabled"];
      changed = true;
    }
    if (in.contains("TableClass")) {
      rec["table_class"] = in["TableClass"];
      changed = true;
    }
    if (in.contains("StreamSpecification")) {
      const Json& spec = in["StreamSpecification"];
      bool on = spec.value("StreamEnabled", false);
      if (on && old.stream_enabled) {
        return Validation("Table already has an enabled stream: " + old.stream_arn);
      }
      if (!on && !old.stream_enabled) return Validation("Table already has streams disabled");
      if (on) {
        if (!spec.contains("StreamViewType")) {
          return Validation("One or more parameter values were invalid: StreamViewType is required when StreamEnabled is true");
        }
        STRATUS_ASSIGN_OR_RETURN(uint64_t suid, NextUid(txn));
        std::string label = StreamLabel(now);
        std::string arn = old.arn + "/stream/" + label;
        rec["stream"] = Json{{"enabled", true}, {"view", spec["StreamViewType"]}, {"uid", suid},
                             {"label", label}, {"arn", arn}};
        Json smeta = {{"uid", suid}, {"arn", arn}, {"table", name}, {"label", label},
                      {"view", spec["StreamViewType"]}, {"keys", rec["keys"]},
                      {"created", static_cast<double>(now) / 1000.0}, {"status", "ENABLED"}};
        STRATUS_RETURN_IF_ERROR(txn.Put("ddb/st/" + arn, smeta.dump()));
      } else {
        rec["stream"]["enabled"] = false;
        STRATUS_ASSIGN_OR_RETURN(Json smeta, LoadJson(txn, "ddb/st/" + old.stream_arn));
        if (smeta.is_object()) {
          smeta["status"] = "DISABLED";
          STRATUS_RETURN_IF_ERROR(txn.Put("ddb/st/" + old.stream_arn, smeta.dump()));
        }
      }
      changed = true;
    }
    for (const auto& u : in.value("GlobalSecondaryIndexUpdates", Json::array())) {
      changed = true;
      if (u.contains("Create")) {
        const Json& c = u["Create"];
        std::string iname = c.value("IndexName", "");
        if (old.FindIndex(iname)) return ResourceInUse("Index already exists: " + iname);  // AWS: ValidationException variant
        if (rec.value("gsi", Json::array()).size() >= kMaxGsi) {
          return Error("LimitExceededException", "Subscriber limit exceeded: Number of global indexes exceeds per-table limit");
        }
        Json g = c;
        g["id"] = rec.value("next_index_id", 1);
        rec["next_index_id"] = rec.value("next_index_id", 1) + 1;
        g["status"] = "ACTIVE";
        if (!rec.contains("gsi")) rec["gsi"] = Json::array();
        rec["gsi"].push_back(g);
        // Backfill in this transaction: the index is complete when the update commits.
        auto parsed = Parse(rec.dump());
        if (!parsed.ok()) return parsed.error();
        const IndexDef* def = (*parsed)->FindIndex(iname);
        if (!def) return InternalFailure("index vanished");
        if (def->hash.type.empty() || (def->range && def->range->type.empty())) {
          return InvalidParam("Some index key attributes are not defined in AttributeDefinitions. Keys: [" +
                              def->hash.name + "], AttributeDefinitions: []");
        }
        STRATUS_ASSIGN_OR_RETURN(auto rows, txn.Scan(store::PrefixScan(old.ItemPrefix(0))));
        for (const auto& kv : rows) {
          Json item = ParseJsonOrDiscarded(kv.value);
          if (!item.is_object()) continue;
          std::string ik = (*parsed)->IndexKey(*def, item);
          if (ik.empty()) continue;
          STRATUS_RETURN_IF_ERROR(txn.Put(ik, (*parsed)->IndexProjection(*def, item).dump()));
        }
        gsi_created = true;
      } else if (u.contains("Delete")) {
        std::string iname = u["Delete"].value("IndexName", "");
        const IndexDef* def = old.FindIndex(iname);
        if (!def || !def->global) return ResourceNotFound("Requested resource not found: Index: " + iname + " not found");
        Json kept = Json::array();
        for (const auto& g : rec["gsi"]) {
          if (g.value("IndexName", "") != iname) kept.push_back(g);
        }
        rec["gsi"] = kept;
        std::string p = old.ItemPrefix(def->id);
        STRATUS_RETURN_IF_ERROR(txn.DeleteRange(p, store::PrefixEnd(p)).ok() ? Status::Ok() : InternalFailure("delete index"));
      } else if (u.contains("Update")) {
        std::string iname = u["Update"].value("IndexName", "");
        bool found = false;
        for (auto& g : rec["gsi"]) {
          if (g.value("IndexName", "") == iname) {
            found = true;
            if (u["Update"].contains("ProvisionedThroughput")) g["ProvisionedThroughput"] = u["Update"]["ProvisionedThroughput"];
          }
        }
        if (!found) return ResourceNotFound("Requested resource not found: Index: " + iname + " not found");
      }
    }
    if (!changed && !in.contains("AttributeDefinitions")) {
      return Validation("At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required");
    }
    return Status::Ok();
  }));
  Json d = DescriptionOf(*t);
  d["TableStatus"] = "UPDATING";
  if (gsi_created && d.contains("GlobalSecondaryIndexes")) {
    for (auto& g : d["GlobalSecondaryIndexes"]) {
      for (const auto& u : in.value("GlobalSecondaryIndexUpdates", Json::array())) {
        if (u.contains("Create") && u["Create"].value("IndexName", "") == g.value("IndexName", "")) {
          g["IndexStatus"] = "CREATING";
          g["Backfilling"] = false;
        }
      }
    }
  }
  return Json{{"TableDescription", d}};
}

Result<Json> TableCatalog::Delete(const Scope& s, std::string_view name) {
  std::string key = TableRecordKey(s, name);
  Json desc;
  Status st = store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(key));
    if (!raw) return ResourceNotFound("Requested resource not found: Table: " + std::string(name) + " not found");
    auto t = Parse(*raw);
    if (!t.ok()) return t.error();
    if ((*t)->record.value("deletion_protection", false)) {
      return Validation("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.");
    }
    desc = DescriptionOf(**t);
    STRATUS_RETURN_IF_ERROR(txn.Delete(key));
    std::string prefix = "ddb/i/" + BigEndian64((*t)->uid);
    auto n = txn.DeleteRange(prefix, store::PrefixEnd(prefix));
    if (!n.ok()) return n.error();
    if ((*t)->stream_enabled) {
      STRATUS_ASSIGN_OR_RETURN(Json smeta, LoadJson(txn, "ddb/st/" + (*t)->stream_arn));
      if (smeta.is_object()) {
        smeta["status"] = "DISABLED";
        STRATUS_RETURN_IF_ERROR(txn.Put("ddb/st/" + (*t)->stream_arn, smeta.dump()));
      }
    }
    return Status::Ok();
  });
  Forget(s, name);
  if (!st.ok()) return st.error();
  desc["TableStatus"] = "DELETING";
  return Json{{"TableDescription", desc}};
}

Result<Json> TableCatalog::List(const Scope& s, const Json& in) {
  int64_t limit = in.value("Limit", kDefaultListLimit);
  std::string prefix = TablePrefix(s);
  store::ScanOptions scan = store::PrefixScan(prefix, static_cast<size_t>(limit) + 1);
  if (in.contains("ExclusiveStartTableName")) {
    scan.start = prefix + in["ExclusiveStartTableName"].get<std::string>() + std::string(1, '\0');
  }
  STRATUS_ASSIGN_OR_RETURN(auto rows, store_.Scan(scan));
  Json names = Json::array();
  for (size_t i = 0; i < rows.size() && static_cast<int64_t>(i) < limit; ++i) {
    names.push_back(rows[i].key.substr(prefix.size()));
  }
  Json out = {{"TableNames", names}};
  if (static_cast<int64_t>(rows.size()) > limit && !names.empty()) out["LastEvaluatedTableName"] = names.back();
  return out;
}

}  // namespace stratus::services::dynamodb

// The engine over an in-memory store: tables, items, indexes, transactions, streams, TTL.
#include "services/dynamodb/engine.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>

#include "aws/protocol/wire_json.h"
#include "services/dynamodb/attr.h"
#include "services/dynamodb/streams.h"

namespace stratus::services::dynamodb {
namespace {

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::OpenSqliteStore(store::SqliteOptions{.clock = &clock_});
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    engine_ = std::make_unique<Engine>(*store_, clock_);
    reader_ = std::make_unique<StreamReader>(*store_, clock_);
  }

  void CreateTable(const std::string& name, const std::string& range_type, Json extra = Json::object()) {
    Json in = {{"TableName", name},
               {"KeySchema", {{{"AttributeName", "pk"}, {"KeyType", "HASH"}}}},
               {"AttributeDefinitions", {{{"AttributeName", "pk"}, {"AttributeType", "S"}}}},
               {"BillingMode", "PAY_PER_REQUEST"}};
    if (!range_type.empty()) {
      in["KeySchema"].push_back({{"AttributeName", "sk"}, {"KeyType", "RANGE"}});
      in["AttributeDefinitions"].push_back({{"AttributeName", "sk"}, {"AttributeType", range_type}});
    }
    for (auto& [k, v] : extra.items()) {
      if (k == "AttributeDefinitions") {
        for (const auto& d : v) in["AttributeDefinitions"].push_back(d);
      } else {
        in[k] = v;
      }
    }
    auto r = engine_->catalog().Create(scope_, in);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  Json Ok(Result<Json> r) {
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().code + ": " + r.error().message);
    return r.ok() ? *r : Json();
  }

  ManualClock clock_;
  Scope scope_{"000000000000", "us-east-1"};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<StreamReader> reader_;
};

TEST_F(EngineTest, NumericSortKeysQueryInNumericOrder) {
  CreateTable("t", "N");
  for (std::string n : {"10", "-3", "2.5", "0", "-10.5", "100", "1e-5"}) {
    Ok(engine_->PutItem(scope_, {{"TableName", "t"}, {"Item", {{"pk", S("p")}, {"sk", N(n)}}}}));
  }
  Json r = Ok(engine_->Query(scope_, {{"TableName", "t"},
                                     {"KeyConditionExpression", "pk = :p AND sk > :z"},
                                     {"ExpressionAttributeValues", {{":p", S("p")}, {":z", N("0")}}}}));
  std::vector<std::string> got;
  for (const auto& i : r["Items"]) got.push_back(i["sk"]["N"]);
  EXPECT_EQ(got, (std::vector<std::string>{"0.00001", "2.5", "10", "100"}));
  r = Ok(engine_->Query(scope_, {{"TableName", "t"}, {"KeyConditionExpression", "pk = :p"},
                                 {"ScanIndexForward", false}, {"Limit", 2},
                                 {"ExpressionAttributeValues", {{":p", S("p")}}}}));
  EXPECT_EQ(r["Items"][0]["sk"], N("100"));
  EXPECT_EQ(r["LastEvaluatedKey"], Json({{"pk", S("p")}, {"sk", N("10")}}));
  r = Ok(engine_->Query(scope_, {{"TableName", "t"}, {"KeyConditionExpression", "pk = :p"},
                                 {"ScanIndexForward", false}, {"ExclusiveStartKey", r["LastEvaluatedKey"]},
                                 {"ExpressionAttributeValues", {{":p", S("p")}}}}));
  EXPECT_EQ(r["Count"], 5);
  EXPECT_EQ(r["Items"][0]["sk"], N("2.5"));
}

TEST_F(EngineTest, IndexEntriesFollowTheItemInOneTransaction) {
  CreateTable("t", "", {{"AttributeDefinitions", {{{"AttributeName", "g"}, {"AttributeType", "N"}}}},
                        {"GlobalSecondaryIndexes",
                         {{{"IndexName", "byG"},
                           {"KeySchema", {{{"AttributeName", "g"}, {"KeyType", "HASH"}}}},
                           {"Projection", {{"ProjectionType", "KEYS_ONLY"}}}}}}});
  Ok(engine_->PutItem(scope_, {{"TableName", "t"}, {"Item", {{"pk", S("a")}, {"g", N("1")}, {"x", S("y")}}}}));
  auto count = [&](const std::string& g) {
    Json r = Ok(engine_->Query(scope_, {{"TableName", "t"}, {"IndexName", "byG"},
                                        {"KeyConditionExpression", "g = :g"},
                                        {"ExpressionAttributeValues", {{":g", N(g)}}}}));
    return r["Count"].get<int>();
  };
  EXPECT_EQ(count("1"), 1);
  Ok(engine_->UpdateItem(scope_, {{"TableName", "t"}, {"Key", {{"pk", S("a")}}},
                                  {"UpdateExpression", "SET g = :two"},
                                  {"ExpressionAttributeValues", {{":two", N("2")}}}}));
  EXPECT_EQ(count("1"), 0);
  EXPECT_EQ(count("2"), 1);
  // A failed condition changes neither the item nor the index.
  auto bad = engine_->UpdateItem(scope_, {{"TableName", "t"}, {"Key", {{"pk", S("a")}}},
                                          {"UpdateExpression", "SET g = :three"},
                                          {"ConditionExpression", "g = :three"},
                                          {"ExpressionAttributeValues", {{":three", N("3")}}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "ConditionalCheckFailedException");
  EXPECT_EQ(count("2"), 1);
  Ok(engine_->DeleteItem(scope_, {{"TableName", "t"}, {"Key", {{"pk", S("a")}}}}));
  EXPECT_EQ(count("2"), 0);
  auto wrong = engine_->PutItem(scope_, {{"TableName", "t"}, {"Item", {{"pk", S("b")}, {"g", S("1")}}}});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().message,
            "One or more parameter values were invalid: Type mismatch for Index Key g Expected: N "
            "Actual: S IndexName: byG");
}

// GetItemWire/QueryWire/ScanWire splice the stored text; parsed back, their answers are
// GetItem's, Query's and Scan's, with numbers as normalized when written ("1.50" -> "1.5").
TEST_F(EngineTest, WireAnswersAreTheDomAnswers) {
  CreateTable("t", "N", {{"AttributeDefinitions", {{{"AttributeName", "l"}, {"AttributeType", "S"}}}},
                         {"LocalSecondaryIndexes",
                          {{{"IndexName", "byL"},
                            {"KeySchema", {{{"AttributeName", "pk"}, {"KeyType", "HASH"}},
                                           {{"AttributeName", "l"}, {"KeyType", "RANGE"}}}},
                            {"Projection", {{"ProjectionType", "KEYS_ONLY"}}}}}}});
  for (int i = 0; i < 6; ++i) {
    Json item = {{"pk", S("p")}, {"sk", N(std::to_string(i) + ".50")}, {"l", S("l" + std::to_string(5 - i))},
                 {"n", N("00" + std::to_string(i * 10) + ".0")}, {"s", S("caf\u00e9 \"q\" \u2603")},
                 {"m", {{"M", {{"b", {{"B", "AAEC"}}}, {"ns", {{"NS", {"1.0", "2"}}}}, {"nul", {{"NULL", true}}}}}}},
                 {"li", {{"L", {{{"BOOL", i % 2 == 0}}, S("x")}}}}};
    Ok(engine_->PutItem(scope_, {{"TableName", "t"}, {"Item", item}}));
  }
  auto unwire = [](Json out) {
    for (auto& [k, v] : out.items()) {
      if (aws::IsWireJson(v)) v = ParseJsonOrDiscarded(aws::WireJsonText(v));
    }
    return out;
  };
  Json values = {{":p", S("p")}, {":lo", N("1")}, {":hi", N("4")}, {":z", N("20")}};
  std::vector<Json> queries = {
      {{"KeyConditionExpression", "pk = :p AND sk BETWEEN :lo AND :hi"}},
      {{"KeyConditionExpression", "pk = :p"}, {"Limit", 2}},
      {{"KeyConditionExpression", "pk = :p"}, {"ScanIndexForward", false}, {"Limit", 3}},
      {{"KeyConditionExpression", "pk = :p"}, {"FilterExpression", "n > :z"}, {"Limit", 5}},
      {{"KeyConditionExpression", "pk = :p"}, {"ProjectionExpression", "sk, m.ns, li[1]"}},
      {{"KeyConditionExpression", "pk = :p"}, {"Select", "COUNT"}},
      {{"KeyConditionExpression", "pk = :p"}, {"IndexName", "byL"}, {"Limit", 4}},
      {{"KeyConditionExpression", "pk = :p"}, {"IndexName", "byL"}, {"Select", "ALL_ATTRIBUTES"}},
      {{"KeyConditionExpression", "pk = :p"}, {"ReturnConsumedCapacity", "TOTAL"}}};
  for (Json q : queries) {
    q["TableName"] = "t";
    Json used = Json::object();
    for (const char* k : {":p", ":lo", ":hi", ":z"}) {
      std::string text = q.dump();
      if (text.find(k) != std::string::npos) used[k] = values[k];
    }
    q["ExpressionAttributeValues"] = used;
    Json dom = Ok(engine_->Query(scope_, q));
    Json wire = Ok(engine_->QueryWire(scope_, q));
    EXPECT_EQ(wire.contains("Items"), dom.contains("Items")) << q.dump();
    if (wire.contains("Items")) {
      EXPECT_TRUE(aws::IsWireJson(wire["Items"])) << q.dump();
    }
    EXPECT_EQ(unwire(wire), dom) << q.dump();
  }
  for (Json q : std::vector<Json>{{{"Limit", 4}},
                                  {{"FilterExpression", "n > :z"}, {"ExpressionAttributeValues", {{":z", N("20")}}}},
                                  {{"ProjectionExpression", "l, m.b"}, {"Segment", 1}, {"TotalSegments", 2}},
                                  {{"IndexName", "byL"}, {"Limit", 2}}}) {
    q["TableName"] = "t";
    Json dom = Ok(engine_->Scan(scope_, q));
    Json wire = Ok(engine_->ScanWire(scope_, q));
    EXPECT_TRUE(aws::IsWireJson(wire["Items"])) << q.dump();
    EXPECT_EQ(unwire(wire), dom) << q.dump();
  }
  Json first = Ok(engine_->Query(scope_, {{"TableName", "t"}, {"KeyConditionExpression", "pk = :p"},
                                          {"ExpressionAttributeValues", {{":p", S("p")}}}}));
  EXPECT_EQ(first["Items"][1]["sk"], N("1.5"));
  EXPECT_EQ(first["Items"][1]["n"], N("10"));
  EXPECT_EQ(first["Items"][1]["m"]["M"]["ns"]["NS"], Json({"1", "2"}));
  for (Json g : std::vector<Json>{{{"Key", {{"pk", S("p")}, {"sk", N("1.5")}}}},
                                  {{"Key", {{"pk", S("p")}, {"sk", N("1.50")}}}, {"ConsistentRead", true},
                                   {"ReturnConsumedCapacity", "INDEXES"}},
                                  {{"Key", {{"pk", S("p")}, {"sk", N("9")}}}},
                                  {{"Key", {{"pk", S("p")}, {"sk", N("2.5")}}}, {"ProjectionExpression", "m.b, s"}},
                                  {{"Key", {{"pk", S("p")}, {"sk", N("2.5")}}}, {"AttributesToGet", {"li"}}}}) {
    g["TableName"] = "t";
    Json dom = Ok(engine_->GetItem(scope_, g));
    Json wire = Ok(engine_->GetItemWire(scope_, g));
    EXPECT_EQ(unwire(wire), dom) << g.dump();
  }
  Json got = Ok(engine_->GetItemWire(scope_, {{"TableName", "t"}, {"Key", {{"pk", S("p")}, {"sk", N("1.5")}}}}));
  ASSERT_TRUE(aws::IsWireJson(got["Item"]));
  EXPECT_EQ(unwire(got)["Item"], first["Items"][1]);
}

TEST_F(EngineTest, TransactionsAreAllOrNothingAndStreamRecordsFollow) {
  CreateTable("t", "", {{"StreamSpecification", {{"StreamEnabled", true}, {"StreamViewType", "NEW_AND_OLD_IMAGES"}}}});
  Ok(engine_->PutItem(scope_, {{"TableName", "t"}, {"Item", {{"pk", S("a")}, {"v", N("1")}}}}));
  auto r = engine_->TransactWriteItems(
      scope_, {{"TransactItems",
                {{{"Put", {{"TableName", "t"}, {"Item", {{"pk", S("b")}}}}}},
                 {{"Update", {{"TableName", "t"}, {"Key", {{"pk", S("a")}}}, {"UpdateExpression", "SET v = :x"},
                              {"ConditionExpression", "v = :x"},
                              {"ExpressionAttributeValues", {{":x", N("5")}}}}}}}}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "TransactionCanceledException");
  EXPECT_EQ(r.error().message,
            "Transaction cancelled, please refer cancellation reasons for specific reasons [None, "
            "ConditionalCheckFailed]");
  Json b = Ok(engine_->GetItem(scope_, {{"TableName", "t"}, {"Key", {{"pk", S("b")}}}}));
  EXPECT_FALSE(b.contains("Item"));
  Ok(engine_->TransactWriteItems(
      scope_, {{"TransactItems",
                {{{"Put", {{"TableName", "t"}, {"Item", {{"pk", S("b")}}}}}},
                 {{"Delete", {{"TableName", "t"}, {"Key", {{"pk", S("a")}}}}}}}}}));
  Json desc = Ok(engine_->catalog().Describe(scope_, "t"));
  std::string arn = desc["Table"]["LatestStreamArn"];
  Json sd = Ok(reader_->DescribeStream(scope_, {{"StreamArn", arn}}));
  std::string shard = sd["StreamDescription"]["Shards"][0]["ShardId"];
  Json it = Ok(reader_->GetShardIterator(scope_, {{"StreamArn", arn}, {"ShardId", shard},
                                                   {"ShardIteratorType", "TRIM_HORIZON"}}));
  Json recs = Ok(reader_->GetRecords(scope_, {{"ShardIterator", it["ShardIterator"]}}));
  ASSERT_EQ(recs["Records"].size(), 3u);  // the cancelled transaction wrote none
  EXPECT_EQ(recs["Records"][0]["eventName"], "INSERT");
  EXPECT_EQ(recs["Records"][1]["eventName"], "INSERT");
  EXPECT_EQ(recs["Records"][2]["eventName"], "REMOVE");
  EXPECT_EQ(recs["Records"][2]["dynamodb"]["OldImage"]["v"], N("1"));
  // Iterators expire after 15 minutes.
  clock_.Advance(16 * 60 * 1000);
  auto expired = reader_->GetRecords(scope_, {{"ShardIterator", recs["NextShardIterator"]}});
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code, "ExpiredIteratorException");
  auto bad = reader_->GetRecords(scope_, {{"ShardIterator", "garbage"}});
  EXPECT_EQ(bad.error().message, "Invalid ShardIterator");
}

TEST_F(EngineTest, TtlSweepDeletesExpiredItemsWithServiceIdentity) {
  CreateTable("t", "", {{"StreamSpecification", {{"StreamEnabled", true}, {"StreamViewType", "KEYS_ONLY"}}}});
  Ok(engine_->catalog().UpdateTtl(scope_, {{"TableName", "t"},
                                           {"TimeToLiveSpecification", {{"Enabled", true}, {"AttributeName", "exp"}}}}));
  int64_t now = clock_.NowMillis() / 1000;
  Ok(engine_->PutItem(scope_, {{"TableName", "t"}, {"Item", {{"pk", S("old")}, {"exp", N(std::to_string(now - 1))}}}}));
  Ok(engine_->PutItem(scope_, {{"TableName", "t"}, {"Item", {{"pk", S("new")}, {"exp", N(std::to_string(now + 60))}}}}));
  auto n = engine_->SweepTtl(100);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  clock_.Advance(61 * 1000);
  EXPECT_EQ(*engine_->SweepTtl(100), 1);
  Json s = Ok(engine_->Scan(scope_, {{"TableName", "t"}}));
  EXPECT_EQ(s["Count"], 0);
  std::string arn = Ok(engine_->catalog().Describe(scope_, "t"))["Table"]["LatestStreamArn"];
  std::string shard = Ok(reader_->DescribeStream(scope_, {{"StreamArn", arn}}))["StreamDescription"]["Shards"][0]["ShardId"];
  Json it = Ok(reader_->GetShardIterator(scope_, {{"StreamArn", arn}, {"ShardId", shard}, {"ShardIteratorType", "TRIM_HORIZON"}}));
  Json recs = Ok(reader_->GetRecords(scope_, {{"ShardIterator", it["ShardIterator"]}}));
  ASSERT_EQ(recs["Records"].size(), 4u);
  EXPECT_EQ(recs["Records"][2]["userIdentity"]["PrincipalId"], "dynamodb.amazonaws.com");
  EXPECT_FALSE(recs["Records"][0].contains("userIdentity"));
}

TEST_F(EngineTest, ErrorPaths) {
  CreateTable("t", "S");
  auto missing = engine_->GetItem(scope_, {{"TableName", "nope"}, {"Key", {{"pk", S("a")}}}});
  EXPECT_EQ(missing.error().code, "ResourceNotFoundException");
  auto mix = engine_->PutItem(scope_, {{"TableName", "t"}, {"Item", {{"pk", S("a")}, {"sk", S("b")}}},
                                       {"Expected", {{"a", {{"Exists", false}}}}},
                                       {"ConditionExpression", "attribute_exists(a)"}});
  EXPECT_EQ(mix.error().message,
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}");
  auto names = engine_->GetItem(scope_, {{"TableName", "t"}, {"Key", {{"pk", S("a")}, {"sk", S("b")}}},
                                         {"ExpressionAttributeNames", {{"#a", "a"}}}});
  EXPECT_EQ(names.error().message, "ExpressionAttributeNames can only be specified when using expressions");
  auto key = engine_->UpdateItem(scope_, {{"TableName", "t"}, {"Key", {{"pk", S("a")}, {"sk", S("b")}}},
                                          {"UpdateExpression", "SET sk = :v"},
                                          {"ExpressionAttributeValues", {{":v", S("x")}}}});
  EXPECT_EQ(key.error().message,
            "One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key");
  auto rv = engine_->PutItem(scope_, {{"TableName", "t"}, {"Item", {{"pk", S("a")}, {"sk", S("b")}}},
                                      {"ReturnValues", "ALL_NEW"}});
  EXPECT_EQ(rv.error().message, "ReturnValues can only be ALL_OLD or NONE");
  auto seg = engine_->Scan(scope_, {{"TableName", "t"}, {"Segment", 1}});
  EXPECT_EQ(seg.error().message,
            "The TotalSegments parameter is required but was not present in the request when Segment parameter is present");
  auto esk = engine_->Query(scope_, {{"TableName", "t"}, {"KeyConditionExpression", "pk = :p"},
                                     {"ExpressionAttributeValues", {{":p", S("a")}}},
                                     {"ExclusiveStartKey", {{"pk", S("a")}}}});
  EXPECT_EQ(esk.error().message,
            "The provided starting key is invalid: The provided key element does not match the schema");
  auto type = engine_->Query(scope_, {{"TableName", "t"}, {"KeyConditionExpression", "pk = :p"},
                                      {"ExpressionAttributeValues", {{":p", N("1")}}}});
  EXPECT_EQ(type.error().message,
            "One or more parameter values were invalid: Condition parameter type does not match schema type");
  auto batch = engine_->BatchGetItem(scope_, {{"RequestItems", {{"t", {{"Keys", {{{"pk", S("a")}, {"sk", S("b")}},
                                                                                   {{"pk", S("a")}, {"sk", S("b")}}}}}}}}});
  EXPECT_EQ(batch.error().message, "Provided list of item keys contains duplicates");
  auto exists = engine_->catalog().Create(scope_, {{"TableName", "t"},
                                                   {"KeySchema", {{{"AttributeName", "pk"}, {"KeyType", "HASH"}}}},
                                                   {"AttributeDefinitions", {{{"AttributeName", "pk"}, {"AttributeType", "S"}}}},
                                                   {"BillingMode", "PAY_PER_REQUEST"}});
  EXPECT_EQ(exists.error().code, "ResourceInUseException");
  EXPECT_EQ(exists.error().message, "Table already exists: t");
}

TEST_F(EngineTest, HostilePartiqlIsRefusedNotFatal) {
  CreateTable("t", "N");
  for (std::string stmt : std::vector<std::string>{"", "SELECT", "SELECT * FROM", "SELECT * FROM \"t\" WHERE", "SELECT a[99999999999999999999] FROM t",
                           "SELECT * FROM t WHERE a = 'unterminated", "INSERT INTO t VALUE {'pk': 'a', 'sk': 1e999}",
                           "INSERT INTO t VALUE <<1, 'a'>>", "UPDATE t SET a = 1", "DELETE FROM t WHERE sk = 1",
                           "SELECT * FROM t WHERE " + std::string(5000, '('), "SELECT * FROM t WHERE a = ?",
                           "INSERT INTO t VALUE {'pk': 'a', 'sk': 1} extra", "SELECT * FROM t WHERE a IN [1, 2"}) {
    auto r = engine_->ExecuteStatement(scope_, {{"Statement", stmt}});
    ASSERT_FALSE(r.ok()) << stmt;
    EXPECT_EQ(r.error().code, "ValidationException") << stmt << ": " << r.error().message;
  }
  Ok(engine_->ExecuteStatement(scope_, {{"Statement", "INSERT INTO t VALUE {'pk': 'a', 'sk': 1}"}}));
  Json r = Ok(engine_->ExecuteStatement(scope_, {{"Statement", "SELECT sk FROM t WHERE pk = ? AND sk BETWEEN 0 AND 2"},
                                                 {"Parameters", {S("a")}}}));
  EXPECT_EQ(r["Items"].dump(), R"([{"sk":{"N":"1"}}])");
}

TEST_F(EngineTest, AsyncWritesFailAloneAndApplyInOrder) {
  CreateTable("t", "", {{"AttributeDefinitions", {{{"AttributeName", "g"}, {"AttributeType", "S"}}}},
                        {"GlobalSecondaryIndexes",
                         {{{"IndexName", "byG"},
                           {"KeySchema", {{{"AttributeName", "g"}, {"KeyType", "HASH"}}}},
                           {"Projection", {{"ProjectionType", "ALL"}}}}}}});
  Ok(engine_->PutItem(scope_, {{"TableName", "t"}, {"Item", {{"pk", S("taken")}, {"v", N("1")}}}}));
  constexpr int kWrites = 64;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::optional<Result<Json>>> results(kWrites);
  int answered = 0;
  for (int i = 0; i < kWrites; ++i) {
    auto done = [&, i](Result<Json> r) {
      std::lock_guard lock(mu);
      results[i] = std::move(r);
      ++answered;
      cv.notify_all();
    };
    if (i % 8 == 7) {
      // Fails its condition: must leave no trace and not disturb the writes batched with it.
      engine_->PutItemAsync(scope_,
                            {{"TableName", "t"},
                             {"Item", {{"pk", S("taken")}, {"v", N("2")}, {"g", S("x")}}},
                             {"ConditionExpression", "attribute_not_exists(pk)"},
                             {"ReturnValuesOnConditionCheckFailure", "ALL_OLD"}},
                            done);
    } else if (i % 8 == 3) {
      engine_->UpdateItemAsync(scope_,
                               {{"TableName", "t"},
                                {"Key", {{"pk", S("counter")}}},
                                {"UpdateExpression", "ADD n :one"},
                                {"ExpressionAttributeValues", {{":one", N("1")}}},
                                {"ReturnValues", "UPDATED_NEW"}},
                               done);
    } else {
      engine_->PutItemAsync(scope_,
                            {{"TableName", "t"},
                             {"Item", {{"pk", S("k" + std::to_string(i))}, {"g", S("grp")}}},
                             {"ReturnValues", "ALL_OLD"}},
                            done);
    }
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return answered == kWrites; }));
  }
  engine_->DrainWrites();
  std::vector<std::string> counters;
  for (int i = 0; i < kWrites; ++i) {
    ASSERT_TRUE(results[i].has_value());
    const Result<Json>& r = *results[i];
    if (i % 8 == 7) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, "ConditionalCheckFailedException");
      EXPECT_EQ(r.error().fields["Item"], Json({{"pk", S("taken")}, {"v", N("1")}}));
    } else if (i % 8 == 3) {
      ASSERT_TRUE(r.ok()) << r.error().message;
      counters.push_back((*r)["Attributes"]["n"]["N"]);
    } else {
      ASSERT_TRUE(r.ok()) << r.error().message;
      EXPECT_FALSE(r->contains("Attributes"));  // new keys: no old item
    }
  }
  // The updates ran one after another, in submission order.
  EXPECT_EQ(counters, (std::vector<std::string>{"1", "2", "3", "4", "5", "6", "7", "8"}));
  Json taken = Ok(engine_->GetItem(scope_, {{"TableName", "t"}, {"Key", {{"pk", S("taken")}}}}));
  EXPECT_EQ(taken["Item"], Json({{"pk", S("taken")}, {"v", N("1")}}));
  Json idx = Ok(engine_->Query(scope_, {{"TableName", "t"}, {"IndexName", "byG"},
                                        {"KeyConditionExpression", "g = :g"},
                                        {"ExpressionAttributeValues", {{":g", S("grp")}}},
                                        {"Select", "COUNT"}}));
  EXPECT_EQ(idx["Count"], kWrites - 16);
  idx = Ok(engine_->Query(scope_, {{"TableName", "t"}, {"IndexName", "byG"},
                                   {"KeyConditionExpression", "g = :g"},
                                   {"ExpressionAttributeValues", {{":g", S("x")}}}, {"Select", "COUNT"}}));
  EXPECT_EQ(idx["Count"], 0);
}

TEST_F(EngineTest, AsyncWriteToAMissingTableAnswersAtOnce) {
  bool called = false;
  engine_->PutItemAsync(scope_, {{"TableName", "nope"}, {"Item", {{"pk", S("a")}}}},
                        [&](Result<Json> r) {
                          called = true;
                          ASSERT_FALSE(r.ok());
                          EXPECT_EQ(r.error().code, "ResourceNotFoundException");
                        });
  EXPECT_TRUE(called);
}

// Every item of the table through parallel Scan segments of `total`, `limit` items a page:
// the pk of each item, each segment's items checked to be its own.
std::multiset<std::string> ScanAllSegments(Engine& engine, const Scope& scope, int64_t total,
                                           int64_t limit, const Json& extra = Json::object()) {
  std::multiset<std::string> seen;
  for (int64_t seg = 0; seg < total; ++seg) {
    Json in = {{"TableName", "t"}, {"Segment", seg}, {"TotalSegments", total}, {"Limit", limit}};
    for (auto& [k, v] : extra.items()) in[k] = v;
    for (int pages = 0; pages < 1000; ++pages) {
      auto out = engine.Scan(scope, in);
      EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().message);
      if (!out.ok()) return seen;
      for (const auto& item : (*out)["Items"]) {
        seen.insert(item["pk"]["S"].get<std::string>());
        uint32_t h = PartitionHash16(EncodeKeyValue(item["pk"]));
        EXPECT_GE(h, static_cast<uint32_t>(seg * 65536 / total));
        EXPECT_LT(h, static_cast<uint32_t>((seg + 1) * 65536 / total));
      }
      if (!out->contains("LastEvaluatedKey")) break;
      in["ExclusiveStartKey"] = (*out)["LastEvaluatedKey"];
    }
  }
  return seen;
}

TEST_F(EngineTest, NewTablesClusterPartitionKeysInSixteenBuckets) {
  CreateTable("t", "N");
  auto t = engine_->catalog().Get(scope_, "t");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->key_layout, kBucketedKeys);
  Json item = {{"pk", S("user-17")}, {"sk", N("3")}};
  std::string pk = EncodeKeyValue(item["pk"]);
  std::string key = (*t)->ItemKey(item);
  std::string prefix = (*t)->ItemPrefix(0);
  ASSERT_EQ(key.size(), prefix.size() + 1 + pk.size() + EncodeKeyValue(item["sk"]).size());
  EXPECT_EQ(static_cast<uint32_t>(key[prefix.size()]), PartitionHash16(pk) >> kHashBucketShift);
  EXPECT_EQ(key.substr(prefix.size() + 1, pk.size()), pk);
  Ok(engine_->PutItem(scope_, {{"TableName", "t"}, {"Item", item}}));
  auto stored = store_->Get(key);
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(stored->has_value());
}

TEST_F(EngineTest, ParallelScanSegmentsPartitionTheTableInBothLayouts) {
  CreateTable("t", "", {{"GlobalSecondaryIndexes", {{{"IndexName", "byG"},
                                                      {"KeySchema", {{{"AttributeName", "g"}, {"KeyType", "HASH"}}}},
                                                      {"Projection", {{"ProjectionType", "ALL"}}}}}},
                        {"AttributeDefinitions", {{{"AttributeName", "g"}, {"AttributeType", "S"}}}}});
  std::multiset<std::string> all;
  for (int i = 0; i < 300; ++i) {
    std::string pk = "p" + std::to_string(i);
    Ok(engine_->PutItem(scope_, {{"TableName", "t"}, {"Item", {{"pk", S(pk)}, {"g", S(pk)}}}}));
    all.insert(pk);
  }
  for (int layout : {1, 0}) {
    if (layout == 0) {
      // A table written by an older stratus: its record has no key_layout and its keys carry
      // the 2-byte hash. Rewrite the table that way and read it with a fresh engine (no cache).
      auto old_engine = std::make_unique<Engine>(*store_, clock_);
      auto items = engine_->Scan(scope_, {{"TableName", "t"}});
      ASSERT_TRUE(items.ok());
      std::string record_key = TableRecordKey(scope_, "t");
      Status rewritten = store_->Write([&](store::WriteTxn& txn) -> Status {
        auto raw = txn.Get(record_key);
        if (!raw.ok() || !raw->has_value()) return InternalFailure("no record");
        Json rec = Json::parse(**raw);
        rec.erase("key_layout");
        auto deleted = txn.DeleteRange("ddb/i/", "ddb/i0");
        if (!deleted.ok()) return deleted.error();
        return txn.Put(record_key, rec.dump());
      });
      ASSERT_TRUE(rewritten.ok()) << rewritten.error().message;
      engine_ = std::move(old_engine);
      for (const auto& item : (*items)["Items"]) Ok(engine_->PutItem(scope_, {{"TableName", "t"}, {"Item", item}}));
      auto t = engine_->catalog().Get(scope_, "t");
      ASSERT_TRUE(t.ok());
      ASSERT_EQ((*t)->key_layout, kHashedKeys);
      EXPECT_EQ((*t)->ItemKey(items->at("Items")[0]).size(),
                (*t)->ItemPrefix(0).size() + 2 + EncodeKeyValue(items->at("Items")[0]["pk"]).size());
    }
    SCOPED_TRACE("layout " + std::to_string(layout));
    // 1, 2, 16 and 64 segments cover whole buckets; 3, 40 and 100 split them.
    for (int64_t total : {1, 2, 3, 16, 40, 64, 100}) {
      EXPECT_EQ(ScanAllSegments(*engine_, scope_, total, 7), all) << total << " segments";
    }
    EXPECT_EQ(ScanAllSegments(*engine_, scope_, 5, 11, {{"IndexName", "byG"}}), all);
    Json one = Ok(engine_->GetItem(scope_, {{"TableName", "t"}, {"Key", {{"pk", S("p42")}}}}));
    EXPECT_EQ(one["Item"]["g"], S("p42"));
    Json q = Ok(engine_->Query(scope_, {{"TableName", "t"}, {"KeyConditionExpression", "pk = :p"},
                                        {"ExpressionAttributeValues", {{":p", S("p7")}}}}));
    ASSERT_EQ(q["Items"].size(), 1u);
    // A start key of another segment is refused, also when both hashes share a bucket.
    uint32_t h = PartitionHash16(EncodeKeyValue(S("p42")));
    int64_t total = 100, mine = 0;
    while (!(h >= mine * 65536 / total && h < (mine + 1) * 65536 / total)) ++mine;
    auto wrong = engine_->Scan(scope_, {{"TableName", "t"}, {"Segment", (mine + 1) % total}, {"TotalSegments", total},
                                        {"ExclusiveStartKey", {{"pk", S("p42")}}}});
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.error().message,
              "The provided Exclusive start key does not map to the provided Segment and TotalSegments values.");
    // More segments than hashes: the segments without a hash are empty.
    Json empty = Ok(engine_->Scan(scope_, {{"TableName", "t"}, {"Segment", 0}, {"TotalSegments", 1000000}}));
    for (const auto& item : empty["Items"]) {
      EXPECT_EQ(PartitionHash16(EncodeKeyValue(item["pk"])), 0u);
    }
  }
}

TEST_F(EngineTest, BatchPutPreparedBeforeAStreamAndAnIndexWereAddedStillFeedsThem) {
  CreateTable("t", "");
  auto t = engine_->catalog().Get(scope_, "t");
  ASSERT_TRUE(t.ok());
  Json item = {{"pk", S("a")}, {"g", S("x")}, {"n", N("1.50")}};
  auto op = engine_->PrepareBatchPut(item, **t);
  ASSERT_TRUE(op.ok()) << op.error().message;
  EXPECT_TRUE(op->item.is_null());  // no index, no stream: the text alone is kept
  EXPECT_FALSE(op->item_text.empty());
  Ok(engine_->catalog().Update(scope_, {{"TableName", "t"},
                                        {"StreamSpecification", {{"StreamEnabled", true}, {"StreamViewType", "NEW_IMAGE"}}}}));
  Ok(engine_->catalog().Update(
      scope_, {{"TableName", "t"},
               {"AttributeDefinitions", {{{"AttributeName", "pk"}, {"AttributeType", "S"}}, {{"AttributeName", "g"}, {"AttributeType", "S"}}}},
               {"GlobalSecondaryIndexUpdates", {{{"Create", {{"IndexName", "byG"},
                                                             {"KeySchema", {{{"AttributeName", "g"}, {"KeyType", "HASH"}}}},
                                                             {"Projection", {{"ProjectionType", "ALL"}}}}}}}}}));
  auto updated = engine_->catalog().Get(scope_, "t");
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ((*updated)->key_layout, kBucketedKeys);  // UpdateTable keeps the table's key layout
  std::vector<WriteOp> ops;
  ops.push_back(std::move(op).value());
  Status applied = engine_->ApplyWrites(scope_, ops, false);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  Json by_g = Ok(engine_->Query(scope_, {{"TableName", "t"}, {"IndexName", "byG"}, {"KeyConditionExpression", "g = :g"},
                                         {"ExpressionAttributeValues", {{":g", S("x")}}}}));
  ASSERT_EQ(by_g["Items"].size(), 1u);
  EXPECT_EQ(by_g["Items"][0]["n"], N("1.5"));
  std::string arn = Ok(engine_->catalog().Describe(scope_, "t"))["Table"]["LatestStreamArn"];
  std::string shard = Ok(reader_->DescribeStream(scope_, {{"StreamArn", arn}}))["StreamDescription"]["Shards"][0]["ShardId"];
  Json it = Ok(reader_->GetShardIterator(scope_, {{"StreamArn", arn}, {"ShardId", shard},
                                                   {"ShardIteratorType", "TRIM_HORIZON"}}));
  Json recs = Ok(reader_->GetRecords(scope_, {{"ShardIterator", it["ShardIterator"]}}));
  ASSERT_EQ(recs["Records"].size(), 1u);
  EXPECT_EQ(recs["Records"][0]["dynamodb"]["NewImage"]["g"], S("x"));
}

TEST_F(EngineTest, BatchWriteRefusesTwoRequestsOnOneItem) {
  CreateTable("t", "N");
  auto put = [](const char* pk, const char* sk) {
    return Json{{"PutRequest", {{"Item", {{"pk", S(pk)}, {"sk", N(sk)}}}}}};
  };
  auto dup = engine_->BatchWriteItem(scope_, {{"RequestItems", {{"t", {put("a", "1"), put("b", "1"), put("a", "1.0")}}}}});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().message, "Provided list of item keys contains duplicates");
  Ok(engine_->BatchWriteItem(scope_, {{"RequestItems", {{"t", {put("a", "1"), put("a", "2"), put("b", "1")}}}}}));
  Json all = Ok(engine_->Scan(scope_, {{"TableName", "t"}}));
  EXPECT_EQ(all["Items"].size(), 3u);
}

}  // namespace
}  // namespace stratus::services::dynamodb

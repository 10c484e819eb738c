#include "services/logs/log_store.h"

#include <gtest/gtest.h>

#include "services/logs/keys.h"

namespace stratus::services::logs {
namespace {

class LogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::OpenSqliteStore(store::SqliteOptions{});
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value();
    logs_ = std::make_unique<LogStore>(*store_, clock_);
    ASSERT_TRUE(logs_->CreateGroup(scope_, Json{{"logGroupName", "/app"}}).ok());
    ASSERT_TRUE(logs_->CreateStream(scope_, "/app", "a").ok());
    ASSERT_TRUE(logs_->CreateStream(scope_, "/app", "b").ok());
  }
  int64_t Now() const { return clock_.NowMillis(); }

  ManualClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<LogStore> logs_;
  Scope scope_{"000000000000", "us-east-1"};
};

TEST_F(LogStoreTest, DuplicateAndMissingResources) {
  auto dup = logs_->CreateGroup(scope_, Json{{"logGroupName", "/app"}});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, "ResourceAlreadyExistsException");
  auto s = logs_->CreateStream(scope_, "/nope", "x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "ResourceNotFoundException");
  auto put = logs_->PutEvents(scope_, "/app", "missing", {{Now(), "x"}});
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().message, "The specified log stream does not exist.");
}

TEST_F(LogStoreTest, PutValidatesBatches) {
  auto unordered = logs_->PutEvents(scope_, "/app", "a", {{Now(), "2"}, {Now() - 5, "1"}});
  ASSERT_FALSE(unordered.ok());
  EXPECT_EQ(unordered.error().code, "InvalidParameterException");
  auto r = logs_->PutEvents(scope_, "/app", "a",
                            {{Now() - 15LL * 86400000, "old"}, {Now(), "ok"}, {Now() + 3 * 3600000, "new"}});
  ASSERT_FALSE(r.ok()) << "a batch spanning more than 24h is rejected";
  auto r2 = logs_->PutEvents(scope_, "/app", "a", {{Now(), "ok"}, {Now() + 3 * 3600000, "new"}});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ((*r2)["rejectedLogEventsInfo"]["tooNewLogEventStartIndex"], 1);
}

TEST_F(LogStoreTest, GetEventsTailHeadAndTokens) {
  std::vector<InputEvent> events;
  for (int i = 0; i < 25; ++i) events.push_back({Now() + i, "m" + std::to_string(i)});
  ASSERT_TRUE(logs_->PutEvents(scope_, "/app", "a", events).ok());

  // Default: the newest events, in ascending order.
  auto tail = logs_->GetEvents(scope_, "/app", "a", Json{{"limit", 10}});
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ((*tail)["events"].size(), 10u);
  EXPECT_EQ((*tail)["events"][0]["message"], "m15");
  EXPECT_EQ((*tail)["events"][9]["message"], "m24");

  // Walk forward from the head with tokens until the token repeats.
  Json in = {{"startFromHead", true}, {"limit", 10}};
  std::vector<std::string> seen;
  std::string token;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = logs_->GetEvents(scope_, "/app", "a", in);
    ASSERT_TRUE(page.ok());
    for (auto& e : (*page)["events"]) seen.push_back(e["message"]);
    std::string next = (*page)["nextForwardToken"];
    if (next == token) break;
    token = next;
    in["nextToken"] = token;
  }
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_EQ(seen.front(), "m0");
  EXPECT_EQ(seen.back(), "m24");

  // Backward from the tail's backward token.
  auto back = logs_->GetEvents(scope_, "/app", "a",
                               Json{{"nextToken", (*tail)["nextBackwardToken"]}, {"limit", 5}});
  ASSERT_TRUE(back.ok());
  ASSERT_EQ((*back)["events"].size(), 5u);
  EXPECT_EQ((*back)["events"][4]["message"], "m14");

  auto bad = logs_->GetEvents(scope_, "/app", "a", Json{{"nextToken", "zzz"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "InvalidParameterException");
}

TEST_F(LogStoreTest, FilterInterleavesStreamsAndPaginates) {
  int64_t t = Now();
  ASSERT_TRUE(logs_->PutEvents(scope_, "/app", "a", {{t, "ERROR one"}, {t + 2, "INFO two"}, {t + 4, "ERROR three"}}).ok());
  ASSERT_TRUE(logs_->PutEvents(scope_, "/app", "b", {{t + 1, "ERROR b1"}, {t + 3, "ERROR b2"}}).ok());
  auto all = logs_->FilterEvents(scope_, "/app", Json{{"filterPattern", "ERROR"}});
  ASSERT_TRUE(all.ok());
  std::vector<std::string> msgs;
  for (auto& e : (*all)["events"]) msgs.push_back(e["message"]);
  EXPECT_EQ(msgs, (std::vector<std::string>{"ERROR one", "ERROR b1", "ERROR b2", "ERROR three"}));
  EXPECT_FALSE(all->contains("nextToken"));

  // Pages of 1 visit the same events.
  Json in = {{"filterPattern", "ERROR"}, {"limit", 1}};
  std::vector<std::string> paged;
  for (int guard = 0; guard < 20; ++guard) {
    auto page = logs_->FilterEvents(scope_, "/app", in);
    ASSERT_TRUE(page.ok());
    for (auto& e : (*page)["events"]) paged.push_back(e["message"]);
    if (!page->contains("nextToken")) break;
    in["nextToken"] = (*page)["nextToken"];
  }
  EXPECT_EQ(paged, msgs);

  auto window = logs_->FilterEvents(scope_, "/app", Json{{"startTime", t + 1}, {"endTime", t + 3}});
  ASSERT_TRUE(window.ok());
  EXPECT_EQ((*window)["events"].size(), 3u);
  auto only_b = logs_->FilterEvents(scope_, "/app", Json{{"logStreamNames", {"b"}}});
  EXPECT_EQ((*only_b)["events"].size(), 2u);
  auto bad = logs_->FilterEvents(scope_, "/app", Json{{"filterPattern", "{ $.x = "}});
  ASSERT_FALSE(bad.ok());
}

TEST_F(LogStoreTest, RetentionSweepDeletesExpiredEvents) {
  int64_t t = Now();
  ASSERT_TRUE(logs_->PutEvents(scope_, "/app", "a", {{t - 3 * 86400000LL, "old"}}).ok());
  ASSERT_TRUE(logs_->PutEvents(scope_, "/app", "a", {{t, "new"}}).ok());
  ASSERT_TRUE(logs_->PutRetention(scope_, "/app", 1).ok());
  EXPECT_FALSE(logs_->PutRetention(scope_, "/app", 2).ok());
  auto n = logs_->SweepExpired();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  auto left = logs_->FilterEvents(scope_, "/app", Json::object());
  ASSERT_EQ((*left)["events"].size(), 1u);
  EXPECT_EQ((*left)["events"][0]["message"], "new");
}

TEST_F(LogStoreTest, DescribeAndDelete) {
  ASSERT_TRUE(logs_->CreateGroup(scope_, Json{{"logGroupName", "/app2"}, {"tags", {{"k", "v"}}}}).ok());
  auto groups = logs_->DescribeGroups(scope_, Json{{"logGroupNamePrefix", "/app"}, {"limit", 1}});
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ((*groups)["logGroups"].size(), 1u);
  ASSERT_TRUE(groups->contains("nextToken"));
  auto next = logs_->DescribeGroups(scope_, Json{{"logGroupNamePrefix", "/app"}, {"nextToken", (*groups)["nextToken"]}});
  EXPECT_EQ((*next)["logGroups"][0]["logGroupName"], "/app2");
  EXPECT_EQ((*logs_->ListGroupTags(scope_, "/app2"))["k"], "v");
  ASSERT_TRUE(logs_->PutEvents(scope_, "/app", "a", {{Now(), "x"}}).ok());
  ASSERT_TRUE(logs_->DeleteGroup(scope_, "/app").ok());
  EXPECT_FALSE(logs_->DescribeStreams(scope_, "/app", Json::object()).ok());
  // /app2's data is untouched by deleting /app.
  EXPECT_TRUE(logs_->DescribeStreams(scope_, "/app2", Json::object()).ok());
  auto rest = store_->Scan(store::PrefixScan("logs/000000000000/us-east-1/e/"));
  EXPECT_TRUE(rest->empty());
}

TEST_F(LogStoreTest, PutEventsManyOneCommitForSeveralStreams) {
  int64_t commits_before = store_->Stats().commits;
  std::vector<LogStore::StreamBatch> batches;
  batches.push_back({scope_, "/app", "a", {{Now(), "a1"}, {Now() + 1, "a2"}}});
  batches.push_back({scope_, "/fn", "new-stream", {{Now(), "created"}}});  // group and stream made
  batches.push_back({scope_, "/app", "b", {{Now(), "2"}, {Now() - 5, "1"}}});  // out of order
  batches.push_back({scope_, "/app", "b", {{Now() + 2, "b1"}}});
  auto st = logs_->PutEventsMany(batches);
  ASSERT_EQ(st.size(), 4u);
  EXPECT_TRUE(st[0].ok());
  EXPECT_TRUE(st[1].ok());
  ASSERT_FALSE(st[2].ok());
  EXPECT_EQ(st[2].error().code, "InvalidParameterException");
  EXPECT_EQ(st[2].error().message,
            "Log events in a single PutLogEvents request must be in chronological order.");
  EXPECT_TRUE(st[3].ok());
  EXPECT_EQ(store_->Stats().commits - commits_before, 1) << "every stream in one transaction";

  auto a = logs_->GetEvents(scope_, "/app", "a", Json{{"startFromHead", true}});
  ASSERT_EQ((*a)["events"].size(), 2u);
  EXPECT_EQ((*a)["events"][1]["message"], "a2");
  auto b = logs_->GetEvents(scope_, "/app", "b", Json{{"startFromHead", true}});
  ASSERT_EQ((*b)["events"].size(), 1u) << "the rejected batch wrote nothing";
  EXPECT_EQ((*b)["events"][0]["message"], "b1");
  auto created = logs_->GetEvents(scope_, "/fn", "new-stream", Json::object());
  ASSERT_TRUE(created.ok());
  EXPECT_EQ((*created)["events"][0]["message"], "created");
  // The group record counts the bytes of both of its streams' appends, written once.
  auto groups = logs_->DescribeGroups(scope_, Json{{"logGroupNamePrefix", "/app"}});
  EXPECT_EQ((*groups)["logGroups"][0]["storedBytes"], 6);
  auto streams = logs_->DescribeStreams(scope_, "/app", Json::object());
  EXPECT_EQ((*streams)["logStreams"][0]["storedBytes"], 4);
  EXPECT_EQ((*streams)["logStreams"][1]["storedBytes"], 2);
  // A second call continues each stream's sequence.
  auto again = logs_->PutEventsMany({{scope_, "/app", "a", {{Now() + 3, "a3"}}}});
  ASSERT_TRUE(again[0].ok());
  a = logs_->GetEvents(scope_, "/app", "a", Json{{"startFromHead", true}});
  ASSERT_EQ((*a)["events"].size(), 3u);
  EXPECT_EQ((*a)["events"][2]["message"], "a3");
}

// The store remembers each stream record it wrote; one rewritten by another writer since (another
// node, a rolled-back write) is read again, not taken from memory.
TEST_F(LogStoreTest, AStreamRecordChangedElsewhereIsReadAgain) {
  auto first = logs_->PutEvents(scope_, "/app", "a", {{Now(), "x"}});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ((*first)["nextSequenceToken"], "2");
  const std::string key = keys::Stream(scope_, "/app", "a");
  ASSERT_TRUE(store_
                  ->Write([&](store::WriteTxn& txn) -> Status {
                    STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(key));
                    Json st = Json::parse(*raw);
                    st["nextSeq"] = 100;
                    st["storedBytes"] = st["storedBytes"].get<int64_t>() + 1000;
                    return txn.Put(key, st.dump());
                  })
                  .ok());
  auto second = logs_->PutEvents(scope_, "/app", "a", {{Now() + 1, "y"}});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)["nextSequenceToken"], "101");
  auto third = logs_->PutEvents(scope_, "/app", "a", {{Now() + 2, "z"}});  // the remembered one
  ASSERT_TRUE(third.ok());
  EXPECT_EQ((*third)["nextSequenceToken"], "102");
  auto streams = logs_->DescribeStreams(scope_, "/app", Json::object());
  EXPECT_EQ((*streams)["logStreams"][0]["logStreamName"], "a");
  EXPECT_EQ((*streams)["logStreams"][0]["storedBytes"], 1003);
}

}  // namespace
}  // namespace stratus::services::logs

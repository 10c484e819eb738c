#include <gtest/gtest.h>

#include <future>
#include <set>
#include <thread>

#include "core/clock.h"
#include "core/strings.h"
#include "services/sqs/engine.h"
#include "services/sqs/md5.h"
#include "services/sqs/message_checks.h"
#include "services/sqs/queue_ref.h"
#include "services/sqs/records.h"
#include "store/store.h"

namespace stratus::services::sqs {
namespace {

TEST(Md5, BodyAndAttributesAsSdksVerifyThem) {
  EXPECT_EQ(Md5OfBody("héllo"), "be50e8478cf24ff3595bc7307fb91b50");
  Json a{{"b", {{"DataType", "Binary"}, {"BinaryValue", Base64Encode(std::string("\x00\x01", 2))}}},
         {"a", {{"DataType", "String"}, {"StringValue", "x"}}}};
  EXPECT_EQ(Md5OfAttributes(a), "fa20e2def088daf7b14bc51e836c5547");
  Json b{{"s", {{"DataType", "String.custom"}, {"StringValue", "héllo"}}},
         {"n", {{"DataType", "Number"}, {"StringValue", "12.5"}}}};
  EXPECT_EQ(Md5OfAttributes(b), "5ebf068c94e0b2b4d6586edc67e14b62");
  EXPECT_EQ(Md5OfAttributes(Json::object()), "");
}

TEST(Records, MessageAndStateWrittenDirectlyReadAsTheDomWroteThem) {
  Message m;
  m.id = "5fea7756-0ea4-451a-a703-a558b933e274";
  m.body = std::string("quote \" backslash \\ nl \n tab \t ctl \x01 h\xc3\xa9llo \xf0\x9f\x98\x80 end");
  m.attributes = Json{{"k", {{"DataType", "String"}, {"StringValue", "v\"1"}}}};
  m.trace_header = "Root=1-5759e988-bd862e3fe1be46a994272793";
  m.sender_id = "AIDAIT2UOQQY3AUEKVGXU";
  m.group = "g";
  m.dedup_id = "d";
  m.dlq_source_arn = "arn:aws:sqs:us-east-1:000000000000:src";
  m.sent_ms = 1700000000123;
  m.visible_at_ms = 1700000000456;
  m.receive_count = 3;
  m.first_receive_ms = 1700000000200;
  m.nonce = 0xfedcba9876543210ULL;
  m.in_flight = true;
  std::string text = records::EncodeMessage(m);
  // The same text the DOM writes.
  Json dom = Json::object();
  dom["i"] = m.id;
  dom["b"] = m.body;
  dom["a"] = m.attributes;
  dom["t"] = m.trace_header;
  dom["n"] = m.sender_id;
  dom["g"] = m.group;
  dom["d"] = m.dedup_id;
  dom["q"] = m.dlq_source_arn;
  dom["s"] = m.sent_ms;
  dom["v"] = m.visible_at_ms;
  dom["c"] = m.receive_count;
  dom["f"] = m.first_receive_ms;
  EXPECT_EQ(ParseJsonOrDiscarded(text), dom) << text;
  Message back;
  ASSERT_TRUE(records::DecodeMessage(text, back));
  EXPECT_EQ(back.body, m.body);
  EXPECT_EQ(back.attributes, m.attributes);
  EXPECT_EQ(back.dlq_source_arn, m.dlq_source_arn);
  EXPECT_EQ(back.first_receive_ms, m.first_receive_ms);
  EXPECT_EQ(back.receive_count, 3);

  // Optional members left out when empty; invalid UTF-8 replaced, not thrown on.
  Message bare;
  bare.id = "x";
  bare.body = std::string("bad \xff byte");
  Message bare_back;
  ASSERT_TRUE(records::DecodeMessage(records::EncodeMessage(bare), bare_back));
  EXPECT_EQ(bare_back.body, "bad \xef\xbf\xbd byte");
  EXPECT_EQ(ParseJsonOrDiscarded(records::EncodeMessage(bare)).size(), 4u);

  Message state;
  ASSERT_TRUE(records::DecodeState(records::EncodeState(m), state));
  EXPECT_EQ(state.visible_at_ms, m.visible_at_ms);
  EXPECT_EQ(state.receive_count, 3);
  EXPECT_EQ(state.first_receive_ms, m.first_receive_ms);
  EXPECT_EQ(state.nonce, m.nonce);
  EXPECT_TRUE(state.in_flight);
}

TEST(MessageChecks, OnlyXmlCharactersInBodies) {
  EXPECT_TRUE(HasOnlyValidCharacters("sixteen plain ch"));
  EXPECT_TRUE(HasOnlyValidCharacters("tab\tnl\ncr\r and h\xc3\xa9llo, twenty-odd bytes"));
  EXPECT_FALSE(HasOnlyValidCharacters(std::string("nine byte\x01 after a plain word")));
  EXPECT_FALSE(HasOnlyValidCharacters(std::string("eight b.\xef\xbf\xbe (U+FFFE)")));
  EXPECT_FALSE(HasOnlyValidCharacters(std::string("\x00", 1)));
}

TEST(QueueRef, UrlsArnsAndHostForms) {
  auto a = ParseQueueRef("http://localhost:4566/000000000000/orders", "us-east-1", "111111111111");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->account, "000000000000");
  EXPECT_EQ(a->region, "us-east-1");
  EXPECT_EQ(a->name, "orders");
  auto b = ParseQueueRef("http://sqs.eu-west-1.localhost.localstack.cloud:4566/123456789012/q.fifo",
                         "us-east-1", "x");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->region, "eu-west-1");
  EXPECT_EQ(b->name, "q.fifo");
  auto c = ParseQueueRef("arn:aws:sqs:ap-south-1:123456789012:jobs", "us-east-1", "x");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->region, "ap-south-1");
  EXPECT_EQ(c->account, "123456789012");
  EXPECT_EQ(QueueArn(*c), "arn:aws:sqs:ap-south-1:123456789012:jobs");
  EXPECT_FALSE(ParseQueueRef("http://localhost:4566/", "r", "a"));
  EXPECT_FALSE(ParseQueueRef("arn:aws:sns:r:a:topic", "r", "a"));
  EXPECT_TRUE(IsValidQueueName("a-b_c", false));
  EXPECT_FALSE(IsValidQueueName("a.fifo", false));
  EXPECT_TRUE(IsValidQueueName("a.fifo", true));
  EXPECT_FALSE(IsValidQueueName(std::string(81, 'a'), false));
}

TEST(Receipt, RoundTripsAndRejectsGarbage) {
  Receipt r{0x0123456789abcdefULL, 42, 0xfeedfacecafebeefULL};
  auto back = DecodeReceipt(EncodeReceipt(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->queue_id, r.queue_id);
  EXPECT_EQ(back->seq, r.seq);
  EXPECT_EQ(back->nonce, r.nonce);
  EXPECT_FALSE(DecodeReceipt("garbage"));
  EXPECT_FALSE(DecodeReceipt(""));
  EXPECT_FALSE(DecodeReceipt("AQEB!!!!"));
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions o;
    o.clock = &clock_;
    store_ = std::move(store::OpenSqliteStore(o)).value();
    engine_ = std::make_unique<Engine>(*store_, clock_);
    ASSERT_TRUE(engine_->Load().ok());
    scope_ = Scope{"000000000000", "us-east-1", "http://localhost:4566", "000000000000", ""};
  }
  std::string Create(const std::string& name, Json attrs = Json::object()) {
    auto r = engine_->CreateQueue(scope_, Json{{"QueueName", name}, {"Attributes", attrs}});
    EXPECT_TRUE(r.ok());
    return (*r)["QueueUrl"];
  }
  Json Receive(const std::string& url, int max = 10) {
    auto r = engine_->ReceiveMessage(scope_, Json{{"QueueUrl", url}, {"MaxNumberOfMessages", max}}, nullptr);
    EXPECT_TRUE(r.ok());
    return r->output->value("Messages", Json::array());
  }
  ManualClock clock_{1'700'000'000'000};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Engine> engine_;
  Scope scope_;
};

TEST_F(EngineTest, SendReceiveDeleteAndVisibility) {
  std::string url = Create("q", Json{{"VisibilityTimeout", "10"}});
  ASSERT_TRUE(engine_->SendMessage(scope_, Json{{"QueueUrl", url}, {"MessageBody", "one"}}).ok());
  Json got = Receive(url);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["Body"], "one");
  EXPECT_TRUE(Receive(url).empty());  // in flight
  clock_.Advance(10'001);
  got = Receive(url);
  ASSERT_EQ(got.size(), 1u);  // visible again
  std::string handle = got[0]["ReceiptHandle"];
  ASSERT_TRUE(engine_->DeleteMessage(scope_, Json{{"QueueUrl", url}, {"ReceiptHandle", handle}}).ok());
  clock_.Advance(20'000);
  EXPECT_TRUE(Receive(url).empty());
  // Deleting again is fine; a handle of another queue is not.
  EXPECT_TRUE(engine_->DeleteMessage(scope_, Json{{"QueueUrl", url}, {"ReceiptHandle", handle}}).ok());
  std::string other = Create("other");
  auto bad = engine_->DeleteMessage(scope_, Json{{"QueueUrl", other}, {"ReceiptHandle", handle}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "ReceiptHandleIsInvalid");
}

TEST_F(EngineTest, StaleReceiptHandleDoesNotDelete) {
  std::string url = Create("stale", Json{{"VisibilityTimeout", "1"}});
  ASSERT_TRUE(engine_->SendMessage(scope_, Json{{"QueueUrl", url}, {"MessageBody", "m"}}).ok());
  std::string first = Receive(url)[0]["ReceiptHandle"];
  clock_.Advance(1'001);
  std::string second = Receive(url)[0]["ReceiptHandle"];
  ASSERT_TRUE(engine_->DeleteMessage(scope_, Json{{"QueueUrl", url}, {"ReceiptHandle", first}}).ok());
  clock_.Advance(1'001);
  EXPECT_EQ(Receive(url).size(), 1u);  // still there: only the latest handle deletes
}

TEST_F(EngineTest, FifoDeduplicatesWithinFiveMinutesAndBlocksGroups) {
  std::string url = Create("f.fifo", Json{{"FifoQueue", "true"}, {"ContentBasedDeduplication", "true"}});
  auto send = [&](const std::string& body, const std::string& group) {
    auto r = engine_->SendMessage(scope_, Json{{"QueueUrl", url}, {"MessageBody", body}, {"MessageGroupId", group}});
    EXPECT_TRUE(r.ok());
    return (*r)["MessageId"].get<std::string>();
  };
  std::string a = send("a", "g1");
  EXPECT_EQ(send("a", "g1"), a);  // same content: deduplicated
  send("b", "g1");
  send("c", "g2");
  Json got = Receive(url, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["Body"], "a");
  got = Receive(url, 10);  // g1 is blocked by "a" in flight
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["Body"], "c");
  clock_.Advance(5 * 60 * 1000 + 1);
  engine_->Sweep();
  EXPECT_NE(send("a", "g1"), a);  // the window has passed
  auto missing = engine_->SendMessage(scope_, Json{{"QueueUrl", url}, {"MessageBody", "x"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "MissingParameter");
}

TEST_F(EngineTest, DirectSendsKeepSendMessageBatchSemantics) {
  std::string url = Create("d.fifo", Json{{"FifoQueue", "true"}});
  std::string arn = "arn:aws:sqs:us-east-1:000000000000:d.fifo";
  auto send = [&](const std::string& queue_arn, std::vector<Engine::SendInput> in) {
    std::promise<std::vector<Result<Json>>> p;
    auto f = p.get_future();
    engine_->SendDirectAsync(scope_, queue_arn, std::move(in),
                             [&p](std::vector<Result<Json>> r) { p.set_value(std::move(r)); });
    return f.get();
  };
  auto input = [](std::string body, std::string group, std::string dedup) {
    Engine::SendInput m;
    m.body = std::move(body);
    m.group = std::move(group);
    m.dedup = std::move(dedup);
    m.attributes = Json{{"k", {{"DataType", "String"}, {"StringValue", "v"}}}};
    return m;
  };
  std::vector<Engine::SendInput> in;
  in.push_back(input("one", "g", "d1"));
  in.push_back(input("dup", "g", "d1"));  // same dedup id: answered as the first, not stored
  in.push_back(input("two", "g", "d2"));
  in.push_back(input("nogroup", "", "d3"));
  auto r = send(arn, std::move(in));
  ASSERT_EQ(r.size(), 4u);
  ASSERT_TRUE(r[0].ok() && r[1].ok() && r[2].ok());
  EXPECT_TRUE(r[0]->is_null());  // direct sends build no output entries
  ASSERT_FALSE(r[3].ok());
  EXPECT_EQ(r[3].error().code, "MissingParameter");
  auto received = engine_->ReceiveMessage(
      scope_,
      Json{{"QueueUrl", url}, {"MaxNumberOfMessages", 10}, {"MessageAttributeNames", {"All"}}},
      nullptr);
  ASSERT_TRUE(received.ok());
  Json got = received->output->value("Messages", Json::array());
  ASSERT_EQ(got.size(), 2u);  // the duplicate was not stored; the group's messages in order
  EXPECT_EQ(got[0]["Body"], "one");
  EXPECT_EQ(got[0]["MD5OfBody"], Md5OfBody("one"));
  EXPECT_EQ(got[0]["MD5OfMessageAttributes"],
            Md5OfAttributes(Json{{"k", {{"DataType", "String"}, {"StringValue", "v"}}}}));
  EXPECT_EQ(got[1]["Body"], "two");

  auto missing = send("arn:aws:sqs:us-east-1:000000000000:nope", [&] {
    std::vector<Engine::SendInput> v;
    v.push_back(input("x", "", ""));
    v.push_back(input("y", "", ""));
    return v;
  }());
  ASSERT_EQ(missing.size(), 2u);
  for (const auto& m : missing) {
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().code, "QueueDoesNotExist");
  }
}

TEST_F(EngineTest, RedrivesToTheDeadLetterQueueAfterMaxReceiveCount) {
  std::string dlq = Create("dlq");
  std::string src = Create("src", Json{{"RedrivePolicy",
      R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":2})"}});
  ASSERT_TRUE(engine_->SendMessage(scope_, Json{{"QueueUrl", src}, {"MessageBody", "poison"}}).ok());
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Receive(src).size(), 1u);
    clock_.Advance(31'000);
  }
  EXPECT_TRUE(Receive(src).empty());
  Json got = Receive(dlq);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["Body"], "poison");
}

TEST_F(EngineTest, BatchDeletesOfConsecutiveAndScatteredMessagesSurviveReload) {
  std::string url = Create("ranges");
  Json entries = Json::array();
  for (int i = 0; i < 8; ++i) {
    entries.push_back(Json{{"Id", std::to_string(i)}, {"MessageBody", "m" + std::to_string(i)}});
  }
  ASSERT_TRUE(engine_->SendMessageBatch(scope_, Json{{"QueueUrl", url}, {"Entries", entries}}).ok());
  Json got = Receive(url);
  ASSERT_EQ(got.size(), 8u);
  // Deletes m1, m2, m3 (a run), m5 (alone) and m7 (alone): m0, m4 and m6 stay.
  Json del = Json::array();
  for (int i : {1, 2, 3, 5, 7}) {
    del.push_back(Json{{"Id", std::to_string(i)}, {"ReceiptHandle", got[i]["ReceiptHandle"]}});
  }
  auto r = engine_->DeleteMessageBatch(scope_, Json{{"QueueUrl", url}, {"Entries", del}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["Successful"].size(), 5u);
  engine_ = std::make_unique<Engine>(*store_, clock_);
  ASSERT_TRUE(engine_->Load().ok());
  clock_.Advance(31'000);
  std::set<std::string> left;
  for (const auto& m : Receive(url)) left.insert(m["Body"].get<std::string>());
  EXPECT_EQ(left, (std::set<std::string>{"m0", "m4", "m6"}));
}

TEST_F(EngineTest, StateSurvivesReload) {
  std::string url = Create("durable");
  ASSERT_TRUE(engine_->SendMessageBatch(scope_, Json{{"QueueUrl", url}, {"Entries", Json::array({
      Json{{"Id", "1"}, {"MessageBody", "x"}}, Json{{"Id", "2"}, {"MessageBody", "y"}}})}}).ok());
  EXPECT_EQ(Receive(url, 1).size(), 1u);
  engine_ = std::make_unique<Engine>(*store_, clock_);
  ASSERT_TRUE(engine_->Load().ok());
  EXPECT_EQ(Receive(url).size(), 1u);  // the other one is still in flight
  clock_.Advance(31'000);
  EXPECT_EQ(Receive(url).size(), 2u);  // both visible again
}

TEST_F(EngineTest, SendHandsMessagesToAWaitingLongPollInItsOwnCommit) {
  std::string url = Create("handoff", Json{{"VisibilityTimeout", "10"}});
  auto waiter = std::make_shared<Waiter>();
  auto owner = std::make_shared<int>(0);
  waiter->owner = owner;
  std::vector<Result<Json>> delivered;
  int woken = 0;
  waiter->deliver = [&](Result<Json> r) { delivered.push_back(std::move(r)); };
  waiter->wake = [&] { ++woken; };
  Json in{{"QueueUrl", url}, {"MaxNumberOfMessages", 2}, {"AttributeNames", Json::array({"All"})}};
  auto first = engine_->ReceiveMessage(scope_, in, waiter);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->output);  // nothing yet: registered
  int64_t commits = store_->Stats().commits;
  ASSERT_TRUE(engine_->SendMessageBatch(scope_, Json{{"QueueUrl", url}, {"Entries", Json::array({
      Json{{"Id", "1"}, {"MessageBody", "a"}}, Json{{"Id", "2"}, {"MessageBody", "b"}},
      Json{{"Id", "3"}, {"MessageBody", "c"}}})}}).ok());
  EXPECT_EQ(store_->Stats().commits, commits + 1);  // the lease rode in the send's commit
  ASSERT_EQ(delivered.size(), 1u);
  ASSERT_TRUE(delivered[0].ok());
  Json got = (*delivered[0])["Messages"];
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["Body"], "a");
  EXPECT_EQ(got[1]["Body"], "b");
  EXPECT_EQ(got[0]["Attributes"]["ApproximateReceiveCount"], "1");
  EXPECT_EQ(got[0]["MD5OfBody"], Md5OfBody("a"));
  EXPECT_EQ(woken, 0);
  EXPECT_TRUE(waiter->done.load());
  // The claimed poll takes nothing more, even with "c" visible.
  auto again = engine_->ReceiveMessage(scope_, in, waiter);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->output);
  Json rest = Receive(url);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0]["Body"], "c");
  // The handed receipts work; the lease is durable across a reload.
  ASSERT_TRUE(engine_->DeleteMessage(scope_, Json{{"QueueUrl", url},
                                                  {"ReceiptHandle", got[0]["ReceiptHandle"]}}).ok());
  engine_ = std::make_unique<Engine>(*store_, clock_);
  ASSERT_TRUE(engine_->Load().ok());
  EXPECT_TRUE(Receive(url).empty());  // "b" and "c" still in flight
  clock_.Advance(10'001);
  auto back = engine_->ReceiveMessage(
      scope_, Json{{"QueueUrl", url}, {"MaxNumberOfMessages", 10}, {"AttributeNames", Json::array({"All"})}},
      nullptr);
  ASSERT_TRUE(back.ok());
  Json all = (*back->output)["Messages"];
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["Body"], "b");
  EXPECT_EQ(all[0]["Attributes"]["ApproximateReceiveCount"], "2");
}

TEST_F(EngineTest, OnlyIdleLongPollsOfStandardQueuesAreHandedMessages) {
  std::string url = Create("idle");
  Json in{{"QueueUrl", url}};
  // An expired waiter answers empty at once and is never registered.
  auto expired = std::make_shared<Waiter>();
  expired->expired = true;
  auto r = engine_->ReceiveMessage(scope_, in, expired);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->output);
  EXPECT_FALSE(r->output->contains("Messages"));
  // A waiter whose poll is gone is not claimed: it is woken as before, the message stays visible.
  auto gone = std::make_shared<Waiter>();
  int woken = 0;
  int delivered = 0;
  gone->wake = [&] { ++woken; };
  gone->deliver = [&](Result<Json>) { ++delivered; };
  gone->owner = std::make_shared<int>(0);  // expires at once
  ASSERT_TRUE(engine_->ReceiveMessage(scope_, in, gone).ok());
  ASSERT_TRUE(engine_->SendMessage(scope_, Json{{"QueueUrl", url}, {"MessageBody", "m"}}).ok());
  EXPECT_EQ(delivered, 0);
  EXPECT_EQ(Receive(url).size(), 1u);
  // FIFO queues keep the receive path (group ordering): the waiter is woken, not answered.
  std::string fifo = Create("idle.fifo", Json{{"FifoQueue", "true"}, {"ContentBasedDeduplication", "true"}});
  auto waiting = std::make_shared<Waiter>();
  auto owner = std::make_shared<int>(0);
  waiting->owner = owner;
  waiting->wake = [&] { ++woken; };
  waiting->deliver = [&](Result<Json>) { ++delivered; };
  ASSERT_TRUE(engine_->ReceiveMessage(scope_, Json{{"QueueUrl", fifo}}, waiting).ok());
  ASSERT_TRUE(engine_->SendMessage(scope_, Json{{"QueueUrl", fifo}, {"MessageBody", "f"},
                                                {"MessageGroupId", "g"}}).ok());
  EXPECT_EQ(delivered, 0);
  EXPECT_EQ(woken, 1);
  EXPECT_EQ(Receive(fifo).size(), 1u);
}

TEST_F(EngineTest, BatchValidation) {
  std::string url = Create("b");
  Json entries = Json::array();
  for (int i = 0; i < 11; ++i) entries.push_back(Json{{"Id", std::to_string(i)}, {"MessageBody", "x"}});
  auto r = engine_->SendMessageBatch(scope_, Json{{"QueueUrl", url}, {"Entries", entries}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "TooManyEntriesInBatchRequest");
  r = engine_->SendMessageBatch(scope_, Json{{"QueueUrl", url}, {"Entries", Json::array()}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "EmptyBatchRequest");
  r = engine_->SendMessageBatch(scope_, Json{{"QueueUrl", url}, {"Entries", Json::array({
      Json{{"Id", "ok"}, {"MessageBody", "x"}}, Json{{"Id", "bad"}, {"MessageBody", ""}}})}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["Successful"].size(), 1u);
  EXPECT_EQ((*r)["Failed"][0]["Code"], "MissingParameter");
}

TEST_F(EngineTest, RedriveAllowPolicyIsValidatedAndEnforced) {
  auto create = [&](const std::string& name, Json attrs) {
    return engine_->CreateQueue(scope_, Json{{"QueueName", name}, {"Attributes", attrs}});
  };
  auto message = [](const Result<Json>& r) { return r.ok() ? std::string() : r.error().message; };
  const std::string prefix = "for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS "
                             "can't create the redrive allow policy. ";
  auto bad = create("x", Json{{"RedriveAllowPolicy", R"({"redrivePermission":"byQueue"})"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "InvalidParameterValue");
  EXPECT_EQ(message(bad), std::string(R"(Value {"redrivePermission":"byQueue"} )") + prefix +
                              "When you specify the byQueue permission type, you must also specify "
                              "one or more sourceQueueArns values.");
  Json eleven = Json::array();
  for (int i = 0; i < 11; ++i) eleven.push_back("arn:aws:sqs:us-east-1:000000000000:q" + std::to_string(i));
  std::string too_many = Json{{"redrivePermission", "byQueue"}, {"sourceQueueArns", eleven}}.dump();
  EXPECT_EQ(message(create("x", Json{{"RedriveAllowPolicy", too_many}})),
            "Value " + too_many + " " + prefix + "The maximum number of source queue ARNs you can specify is 10.");
  std::string with_arns = R"({"redrivePermission":"allowAll","sourceQueueArns":["arn:aws:sqs:us-east-1:000000000000:a"]})";
  EXPECT_EQ(message(create("x", Json{{"RedriveAllowPolicy", with_arns}})),
            "Value " + with_arns + " " + prefix +
                "To specify one or more source queue ARNs, you must set redrivePermission to byQueue.");
  for (const char* unsupported : {R"({"redrivePermission":"some"})", "[]", R"({"sourceQueueArns":[]})",
                                  R"({"redrivePermission":"denyAll","extra":1})"}) {
    EXPECT_EQ(message(create("x", Json{{"RedriveAllowPolicy", unsupported}})),
              "Invalid value for the parameter RedriveAllowPolicy. Reason: Amazon SQS can't create "
              "the redrive allow policy, as it\u2019s in an unsupported format.")
        << unsupported;
  }

  Create("deny-dlq", Json{{"RedriveAllowPolicy", R"({"redrivePermission":"denyAll"})"}});
  Create("by-dlq", Json{{"RedriveAllowPolicy",
      R"({"redrivePermission":"byQueue","sourceQueueArns":["arn:aws:sqs:us-east-1:000000000000:allowed"]})"}});
  std::string to_deny = R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:deny-dlq","maxReceiveCount":2})";
  std::string to_by = R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:by-dlq","maxReceiveCount":2})";
  auto denied = create("src", Json{{"RedrivePolicy", to_deny}});
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, "InvalidParameterValue");
  EXPECT_EQ(message(denied), "Value " + to_deny + " for parameter RedrivePolicy is invalid. Reason: "
                             "Queue arn:aws:sqs:us-east-1:000000000000:deny-dlq does not allow this "
                             "queue to use it as a dead letter queue.");
  EXPECT_FALSE(create("other", Json{{"RedrivePolicy", to_by}}).ok());  // not in sourceQueueArns
  EXPECT_TRUE(create("allowed", Json{{"RedrivePolicy", to_by}}).ok());
  std::string plain = Create("plain");
  Status set = engine_->SetQueueAttributes(scope_, Json{{"QueueUrl", plain}, {"Attributes", {{"RedrivePolicy", to_deny}}}});
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().code, "InvalidParameterValue");
  EXPECT_FALSE(engine_->SetQueueAttributes(scope_, Json{{"QueueUrl", plain}, {"Attributes", {{"RedrivePolicy", to_by}}}}).ok());
  // Opening the dead-letter queue to everyone lets the source name it.
  std::string by_url = engine_->GetQueueUrl(scope_, Json{{"QueueName", "by-dlq"}})->value("QueueUrl", "");
  ASSERT_TRUE(engine_->SetQueueAttributes(scope_, Json{{"QueueUrl", by_url}, {"Attributes",
      {{"RedriveAllowPolicy", R"({"redrivePermission":"allowAll"})"}}}}).ok());
  EXPECT_TRUE(engine_->SetQueueAttributes(scope_, Json{{"QueueUrl", plain}, {"Attributes", {{"RedrivePolicy", to_by}}}}).ok());
}

TEST_F(EngineTest, VisibilityCannotBeExtendedPastTwelveHoursFromTheReceive) {
  std::string url = Create("cap");
  ASSERT_TRUE(engine_->SendMessage(scope_, Json{{"QueueUrl", url}, {"MessageBody", "m"}}).ok());
  std::string handle = Receive(url)[0]["ReceiptHandle"];
  auto change = [&](int64_t seconds) {
    return engine_->ChangeMessageVisibility(scope_, Json{{"QueueUrl", url}, {"ReceiptHandle", handle},
                                                         {"VisibilityTimeout", seconds}});
  };
  EXPECT_TRUE(change(43200).ok());  // exactly 12 hours from the receive
  clock_.Advance(3600 * 1000);
  EXPECT_TRUE(change(39600).ok());  // 1 h + 11 h
  Status over = change(39601);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, "InvalidParameterValue");
  EXPECT_EQ(over.error().message, "Value 39601 for parameter VisibilityTimeout is invalid. Reason: "
                                  "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]");
  // The cap survives a reload (the receive time is part of the message's state record).
  engine_ = std::make_unique<Engine>(*store_, clock_);
  ASSERT_TRUE(engine_->Load().ok());
  EXPECT_FALSE(change(39601).ok());
  EXPECT_TRUE(change(100).ok());
  // A new receive starts a new 12 hours.
  clock_.Advance(101 * 1000);
  handle = Receive(url)[0]["ReceiptHandle"];
  EXPECT_TRUE(change(43200).ok());
}

}  // namespace
}  // namespace stratus::services::sqs

#include "aws/framework/front_door.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "aws/framework/authorizer.h"
#include "core/strings.h"
#include "store/store.h"
#include "trace/recorder.h"

namespace stratus::aws {
namespace {

// A service over the STS model with one handler per mode.
class TestService final : public Service {
 public:
  TestService()
      : Service(Descriptor{.name = "sts",
                           .model = "sts-2011-06-15",
                           .protocol = Protocol::kQuery,
                           .signing_name = "sts",
                           .validation_error = "ValidationError"}) {
    On("GetCallerIdentity",
       [](CallContext& c, const Json&) -> Result<Json> {
         return Json{{"Account", c.caller.account_id}, {"Arn", c.caller.arn}, {"UserId", c.region}};
       },
       Mode::kInline);
    On("AssumeRole", [](CallContext& c, const Json& in) -> Result<Json> {
      if (GetString(in, "RoleSessionName") == "deny") {
        return Error("AccessDenied", "no", 403);
      }
      return Json{{"AssumedRoleUser", {{"Arn", GetString(in, "RoleArn")}, {"AssumedRoleId", "x"}}}};
    });
    OnAsync("GetSessionToken", [](std::shared_ptr<CallContext> c, Json, Completion done) {
      std::thread([done] { done(OperationOutput{Json{{"Credentials", Json::object()}}}); }).detach();
    });
  }
};

// A rest-xml service over the S3 model that claims "<bucket>.objects.test" hosts and moves the
// bucket into the path, as S3's virtual hosting does.
class ClaimingService final : public Service {
 public:
  ClaimingService()
      : Service(Descriptor{.name = "s3",
                           .model = "s3-2006-03-01",
                           .protocol = Protocol::kRestXml,
                           .signing_name = "s3",
                           .validation_error = "InvalidArgument"}) {
    On("ListObjects",
       [](CallContext&, const Json& in) -> Result<Json> {
         return Json{{"Name", GetString(in, "Bucket")}};
       },
       Mode::kInline);
    OnOutput("PutObject",
             [](CallContext& c, const Json&) -> OperationResult {
               OperationOutput out;
               out.body = Json{{"ETag", c.payload}};
               return out;
             },
             Mode::kInline);
  }
  static std::string_view HostName(const HttpRequest& r) {
    return r.Host().substr(0, r.Host().find(':'));
  }
  bool ClaimsRequest(const HttpRequest& r) const override {
    return EndsWith(HostName(r), ".objects.test");
  }
  Status PrepareRequest(HttpRequest& r, const SigV4Claim*, int64_t) const override {
    if (r.headers.Has("x-refuse")) return Error("InvalidRequest", "refused by the service", 400);
    std::string_view host = HostName(r);
    if (EndsWith(host, ".objects.test")) {
      std::string bucket(host.substr(0, host.find('.')));
      r.path = "/" + bucket + (r.path == "/" ? "" : r.path);
      r.target = r.query.empty() ? r.path : r.path + "?" + r.query;
    }
    return Status::Ok();
  }
};

struct NoListeners : ListenerRegistry {
  Result<uint16_t> Open(uint64_t) override { return Error("Unavailable", "none"); }
  void Close(uint64_t) override {}
};

class FrontDoorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(store::OpenSqliteStore(store::SqliteOptions{})).value();
    ctx_ = std::make_unique<ServiceContext>(ServiceContext{
        *store_, clock_, config_, workers_, metrics_, recorder_, clients_,
        [] { return std::string("http://localhost:4566"); }, listeners_});
    std::vector<std::unique_ptr<Service>> services;
    services.push_back(std::make_unique<TestService>());
    door_ = std::make_unique<FrontDoor>(*ctx_, std::move(services), "test");
  }

  HttpResponse Send(HttpRequest r) {
    std::promise<HttpResponse> p;
    door_->Handle(std::move(r), Responder([&p](HttpResponse resp) { p.set_value(std::move(resp)); }));
    return p.get_future().get();
  }
  static HttpRequest Query(std::string body) {
    HttpRequest r;
    r.method = "POST";
    r.path = r.target = "/";
    r.headers.Set("Content-Type", "application/x-www-form-urlencoded");
    r.headers.Set("Authorization",
                  "AWS4-HMAC-SHA256 Credential=123456789012/20240101/eu-west-2/sts/aws4_request, "
                  "SignedHeaders=host;x-amz-date, Signature=" + std::string(64, '0'));
    r.headers.Set("X-Amz-Date", "20240101T000000Z");
    r.body = std::move(body);
    return r;
  }

  ManualClock clock_;
  Config config_;
  WorkerPool workers_{4};
  Metrics metrics_;
  trace::InMemoryRecorder recorder_;
  ServiceClients clients_;
  NoListeners listeners_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ServiceContext> ctx_;
  std::unique_ptr<FrontDoor> door_;
};

TEST_F(FrontDoorTest, RoutesByScopeAndUsesTheCallersAccountAndRegion) {
  HttpResponse r = Send(Query("Action=GetCallerIdentity&Version=2011-06-15"));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("<Account>123456789012</Account>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<UserId>eu-west-2</UserId>"), std::string::npos) << r.body;
  EXPECT_TRUE(r.headers.Has("X-Amzn-Trace-Id"));
}

TEST_F(FrontDoorTest, ValidationAndHandlerErrorsAreEncoded) {
  HttpResponse missing = Send(Query("Action=AssumeRole&Version=2011-06-15"));
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find("<Code>ValidationError</Code>"), std::string::npos) << missing.body;
  HttpResponse denied = Send(Query(
      "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/r&RoleSessionName=deny"));
  EXPECT_EQ(denied.status, 403);
  EXPECT_NE(denied.body.find("<Code>AccessDenied</Code>"), std::string::npos) << denied.body;
  HttpResponse unimplemented = Send(Query("Action=DecodeAuthorizationMessage&Version=2011-06-15&EncodedMessage=x"));
  EXPECT_EQ(unimplemented.status, 501);
}

TEST_F(FrontDoorTest, AsyncHandlersAnswerFromAnotherThread) {
  HttpResponse r = Send(Query("Action=GetSessionToken&Version=2011-06-15"));
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(FrontDoorTest, InternalCallsValidateRunAndContinueTheTrace) {
  ASSERT_EQ(clients_.operations, door_.get());
  InternalCall call;
  call.service = "sts";
  call.operation = "AssumeRole";
  call.input = Json{{"RoleArn", "arn:aws:iam::111111111111:role/x"}, {"RoleSessionName", "session"}};
  call.account = "111111111111";
  call.trace = trace::BeginHop(std::nullopt, 1700000000);
  OperationResult r = door_->CallAndWait(call);
  ASSERT_TRUE(r.ok()) << r.error().code << ": " << r.error().message;
  EXPECT_EQ(r->body["AssumedRoleUser"]["Arn"], "arn:aws:iam::111111111111:role/x");
  auto segments = recorder_.TraceSegments(call.trace.trace_id);
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_EQ(segments[0].parent_id, call.trace.segment_id);

  call.input = Json::object();
  OperationResult invalid = door_->CallAndWait(call);
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().code, "ValidationError");

  call.operation = "NoSuchOperation";
  EXPECT_EQ(door_->CallAndWait(call).error().code, "UnknownOperationException");
  call.service = "nope";
  EXPECT_EQ(door_->CallAndWait(call).error().code, "UnknownOperationException");
  call.service = "sts";
  call.operation = "GetSessionToken";
  OperationResult async_result = door_->CallAndWait(call);
  EXPECT_TRUE(async_result.ok()) << async_result.error().code << ": " << async_result.error().message;
}

// Valid inputs are remembered per thread (front_door.cc, ValidInputMemo); inputs that differ
// from them, even in one value, are still validated.
TEST_F(FrontDoorTest, InternalCallsRepeatingAValidInputAreStillValidated) {
  InternalCall call;
  call.service = "sts";
  call.operation = "AssumeRole";
  const Json valid = Json{{"RoleArn", "arn:aws:iam::111111111111:role/x"}, {"RoleSessionName", "session"}};
  auto code = [&](Json input) {
    call.input = std::move(input);
    OperationResult r = door_->CallAndWait(call);
    return r.ok() ? std::string("ok") : r.error().code;
  };
  EXPECT_EQ(code(valid), "ok");
  EXPECT_EQ(code(valid), "ok");
  Json bad_name = valid;
  bad_name["RoleSessionName"] = "not valid!";  // outside [\w+=,.@-]*
  EXPECT_EQ(code(bad_name), "ValidationError");
  EXPECT_EQ(code(bad_name), "ValidationError");
  Json short_arn = valid;
  short_arn["RoleArn"] = "arn:x";  // shorter than 20
  EXPECT_EQ(code(short_arn), "ValidationError");
  Json low_duration = valid;
  low_duration["DurationSeconds"] = 1;  // below 900
  EXPECT_EQ(code(low_duration), "ValidationError");
  Json with_duration = valid;
  with_duration["DurationSeconds"] = 900;
  EXPECT_EQ(code(with_duration), "ok");
  EXPECT_EQ(code(with_duration), "ok");
  with_duration["DurationSeconds"] = 899;
  EXPECT_EQ(code(with_duration), "ValidationError");
  EXPECT_EQ(code(valid), "ok");
}

TEST_F(FrontDoorTest, ServicesClaimAndPrepareRequestsBeforeResolution) {
  std::vector<std::unique_ptr<Service>> services;
  services.push_back(std::make_unique<TestService>());
  services.push_back(std::make_unique<ClaimingService>());
  door_ = std::make_unique<FrontDoor>(*ctx_, std::move(services), "test");

  // Unsigned, no path prefix: only the Host says which service and which bucket.
  HttpRequest list;
  list.method = "GET";
  list.path = list.target = "/";
  list.headers.Set("Host", "photos.objects.test:4566");
  HttpResponse r = Send(list);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("<Name>photos</Name>"), std::string::npos) << r.body;

  // A refusal from PrepareRequest is encoded by the service's codec.
  list.headers.Set("x-refuse", "1");
  r = Send(list);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("<Code>InvalidRequest</Code>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("refused by the service"), std::string::npos) << r.body;

  // A blob payload's Content-Encoding belongs to the payload: it is not decompressed.
  HttpRequest put;
  put.method = "PUT";
  put.path = put.target = "/key.gz";
  put.headers.Set("Host", "photos.objects.test");
  put.headers.Set("Content-Encoding", "gzip");
  put.body = "stored as sent";
  r = Send(put);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.GetOr("ETag"), "stored as sent");

  // Requests the claim does not match are routed as before.
  r = Send(Query("Action=GetCallerIdentity&Version=2011-06-15"));
  EXPECT_EQ(r.status, 200) << r.body;
}

// An authorizer that knows one key ("AKIDUSER"), refuses "AKIDBAD", and denies AssumeRole to
// everyone but the root; it answers asynchronously for internal calls.
class FakeAuthorizer final : public Authorizer {
 public:
  Status Authenticate(const HttpRequest&, const SigV4Claim* claim, SigV4Dialect dialect,
                      int64_t, Caller& caller) override {
    ++authenticated;
    if (claim && claim->access_key_id == "AKIDBAD") {
      return Error(dialect == SigV4Dialect::kQuery ? "InvalidClientTokenId" : "UnrecognizedClientException",
                   "The security token included in the request is invalid.", 403);
    }
    if (claim && claim->access_key_id == "AKIDUSER") {
      caller.arn = "arn:aws:iam::123456789012:user/alice";
      caller.user_id = "AIDAALICE";
    }
    return Status::Ok();
  }
  bool Enforcing() const override { return enforcing; }
  void Authorize(AuthorizationRequest r, std::function<void(Status)> done) override {
    ++authorized;
    last_internal = r.internal;
    EXPECT_NE(r.input, nullptr);
    bool deny = r.call->operation->name == "AssumeRole" && !EndsWith(r.call->caller.arn, ":root");
    Status st = deny ? Status(Error("AccessDenied", "User: " + r.call->caller.arn + " is not authorized", 403))
                     : Status::Ok();
    if (r.internal) {
      std::thread([done, st] { done(st); }).detach();
    } else {
      done(st);
    }
  }
  std::atomic<int> authenticated{0};
  std::atomic<int> authorized{0};
  std::atomic<bool> last_internal{false};
  bool enforcing = true;
};

TEST_F(FrontDoorTest, AuthorizerEstablishesTheCallerAndGatesOperations) {
  FakeAuthorizer authz;
  clients_.authorizer = &authz;
  auto with_key = [](std::string body, const std::string& key) {
    HttpRequest r = Query(std::move(body));
    r.headers.Set("Authorization", "AWS4-HMAC-SHA256 Credential=" + key +
                                       "/20240101/eu-west-2/sts/aws4_request, "
                                       "SignedHeaders=host;x-amz-date, Signature=" + std::string(64, '0'));
    return r;
  };
  HttpResponse r = Send(with_key("Action=GetCallerIdentity&Version=2011-06-15", "AKIDUSER"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("user/alice"), std::string::npos) << r.body;
  r = Send(with_key("Action=GetCallerIdentity&Version=2011-06-15", "AKIDBAD"));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("<Code>InvalidClientTokenId</Code>"), std::string::npos) << r.body;
  r = Send(with_key("Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/r&RoleSessionName=ok",
                    "AKIDUSER"));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("is not authorized"), std::string::npos) << r.body;
  // Validation runs before authorization: an invalid request never reaches Authorize.
  int before = authz.authorized.load();
  r = Send(with_key("Action=AssumeRole&Version=2011-06-15", "AKIDUSER"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(authz.authorized.load(), before);

  // Internal calls are authorized as their principal, asynchronously here.
  InternalCall call;
  call.service = "sts";
  call.operation = "AssumeRole";
  call.input = Json{{"RoleArn", "arn:aws:iam::111111111111:role/x"}, {"RoleSessionName", "ok"}};
  call.principal_arn = "arn:aws:iam::111111111111:role/caller";
  OperationResult denied = door_->CallAndWait(call);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, "AccessDenied");
  EXPECT_TRUE(authz.last_internal.load());
  call.principal_arn.clear();
  EXPECT_TRUE(door_->CallAndWait(call).ok());

  // Not enforcing: Authenticate still names the caller, Authorize is skipped.
  authz.enforcing = false;
  before = authz.authorized.load();
  r = Send(with_key("Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/r&RoleSessionName=ok",
                    "AKIDUSER"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(authz.authorized.load(), before);
  clients_.authorizer = nullptr;
}

TEST_F(FrontDoorTest, HealthReportsLazyLoading) {
  EXPECT_EQ(door_->Health()["services"]["sts"], "available");
  Send(Query("Action=GetCallerIdentity&Version=2011-06-15"));
  EXPECT_EQ(door_->Health()["services"]["sts"], "running");
}

TEST_F(FrontDoorTest, HealthBodyIsTheHealthDocument) {
  Send(Query("Action=GetCallerIdentity&Version=2011-06-15"));
  Json doc = Json::parse(door_->HealthBody());
  Json expected = door_->Health();
  ASSERT_TRUE(doc["uptime_seconds"].is_number());
  EXPECT_GE(doc["uptime_seconds"].get<double>(), 0.0);
  doc.erase("uptime_seconds");
  expected.erase("uptime_seconds");
  EXPECT_EQ(doc.dump(), expected.dump());  // same members, same order, same service states
  EXPECT_EQ(doc["services"]["sts"], "running");
}

// A service that counts its Start/Stop calls and takes "/_counting/" as its data plane.
class CountingService final : public Service {
 public:
  CountingService()
      : Service(Descriptor{.name = "sts",
                           .model = "sts-2011-06-15",
                           .protocol = Protocol::kQuery,
                           .signing_name = "sts",
                           .validation_error = "ValidationError"}) {
    On("GetCallerIdentity",
       [this](CallContext&, const Json&) -> Result<Json> {
         // A handler never runs before its service's Start.
         return Json{{"Account", "000000000000"}, {"Arn", "a"},
                     {"UserId", starts.load() == 1 ? "started" : "not-started"}};
       });
  }
  Status Start() override {
    starts.fetch_add(1);
    return fail_start ? Status(Error("Broken", "cannot start")) : Status::Ok();
  }
  void Stop() override { stops.fetch_add(1); }
  bool MatchDataPlane(const HttpRequest& r) const override {
    return StartsWith(r.path, "/_counting/");
  }
  void HandleDataPlane(HttpRequest, Responder responder) override {
    HttpResponse resp;
    resp.body = starts.load() == 1 ? "started" : "not-started";
    responder.Send(std::move(resp));
  }
  std::atomic<int> starts{0};
  std::atomic<int> stops{0};
  bool fail_start = false;
};

class DeferredStartTest : public FrontDoorTest {
 protected:
  void SetUp() override {
    FrontDoorTest::SetUp();
    auto svc = std::make_unique<CountingService>();
    counting_ = svc.get();
    std::vector<std::unique_ptr<Service>> services;
    services.push_back(std::move(svc));
    door_ = std::make_unique<FrontDoor>(*ctx_, std::move(services), "test");
  }
  CountingService* counting_ = nullptr;
};

TEST_F(DeferredStartTest, WithoutAPolicyEveryServiceStartsAtBoot) {
  ASSERT_TRUE(door_->StartServices().ok());
  EXPECT_EQ(counting_->starts.load(), 1);
  EXPECT_TRUE(door_->Started("sts"));
  door_->StopServices();
  EXPECT_EQ(counting_->stops.load(), 1);
}

TEST_F(DeferredStartTest, ADeferredServiceStartsOnceOnItsFirstRequest) {
  ASSERT_TRUE(door_->StartServices([](const Service::Descriptor&) { return false; }).ok());
  EXPECT_EQ(counting_->starts.load(), 0);
  EXPECT_FALSE(door_->Started("sts"));
  // Health lists it all the same.
  EXPECT_EQ(door_->Health()["services"]["sts"], "available");
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = Send(Query("Action=GetCallerIdentity&Version=2011-06-15"));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find("<UserId>started</UserId>"), std::string::npos) << r.body;
  }
  EXPECT_EQ(counting_->starts.load(), 1);
  EXPECT_TRUE(door_->Started("sts"));
  door_->StopServices();
  EXPECT_EQ(counting_->stops.load(), 1);
}

TEST_F(DeferredStartTest, ADeferredServiceStartsOnAnInternalCall) {
  ASSERT_TRUE(door_->StartServices([](const Service::Descriptor&) { return false; }).ok());
  auto r = door_->CallAndWait(InternalCall{.service = "sts", .operation = "GetCallerIdentity"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().body["UserId"], "started");
  EXPECT_EQ(counting_->starts.load(), 1);
}

TEST_F(DeferredStartTest, ADeferredServiceStartsOnItsDataPlane) {
  ASSERT_TRUE(door_->StartServices([](const Service::Descriptor&) { return false; }).ok());
  HttpRequest req;
  req.method = "GET";
  req.path = req.target = "/_counting/x";
  HttpResponse r = Send(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "started");
  EXPECT_EQ(counting_->starts.load(), 1);
}

TEST_F(DeferredStartTest, ANeverStartedServiceIsNotStoppedAndCannotStartAfterShutdown) {
  ASSERT_TRUE(door_->StartServices([](const Service::Descriptor&) { return false; }).ok());
  door_->QuiesceServices();
  door_->StopServices();
  EXPECT_EQ(counting_->stops.load(), 0);
  HttpResponse r = Send(Query("Action=GetCallerIdentity&Version=2011-06-15"));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(counting_->starts.load(), 0);
}

TEST_F(DeferredStartTest, AFailedDeferredStartAnswersEveryUseWithoutRetrying) {
  counting_->fail_start = true;
  ASSERT_TRUE(door_->StartServices([](const Service::Descriptor&) { return false; }).ok());
  for (int i = 0; i < 2; ++i) {
    HttpResponse r = Send(Query("Action=GetCallerIdentity&Version=2011-06-15"));
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_NE(r.body.find("Broken"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("failed to start"), std::string::npos) << r.body;
  }
  EXPECT_EQ(counting_->starts.load(), 1);
  EXPECT_FALSE(door_->Started("sts"));
}

TEST_F(DeferredStartTest, AFailedStartAtBootFailsStartServices) {
  counting_->fail_start = true;
  Status st = door_->StartServices();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("service sts failed to start"), std::string::npos);
}

// A lazy slot: the service is built on its first request (or at boot when it must start), and
// a before_first_call slot before the first API request or in-process call.
class LazySlotTest : public FrontDoorTest {
 protected:
  void Make(bool before_first_call) {
    std::vector<ServiceSlot> slots;
    Service::Descriptor d{.name = "sts",
                          .model = "sts-2011-06-15",
                          .protocol = Protocol::kQuery,
                          .signing_name = "sts",
                          .validation_error = "ValidationError"};
    slots.push_back(ServiceSlot::Lazy(
        d,
        [this] {
          builds_.fetch_add(1);
          return std::make_unique<CountingService>();
        },
        before_first_call));
    door_ = std::make_unique<FrontDoor>(*ctx_, std::move(slots), "test");
  }
  std::atomic<int> builds_{0};
};

TEST_F(LazySlotTest, ALazyServiceIsBuiltAndStartedOnItsFirstRequest) {
  Make(false);
  ASSERT_TRUE(door_->StartServices([](const Service::Descriptor&) { return false; }).ok());
  EXPECT_FALSE(door_->Built("sts"));
  EXPECT_EQ(door_->Health()["services"]["sts"], "available");  // listed all the same
  // Health and unknown paths do not build it.
  HttpRequest health;
  health.method = "GET";
  health.path = health.target = "/_stratus/health";
  EXPECT_EQ(Send(health).status, 200);
  EXPECT_EQ(builds_.load(), 0);
  for (int i = 0; i < 2; ++i) {
    HttpResponse r = Send(Query("Action=GetCallerIdentity&Version=2011-06-15"));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find("<UserId>started</UserId>"), std::string::npos) << r.body;
  }
  EXPECT_EQ(builds_.load(), 1);
  EXPECT_TRUE(door_->Built("sts"));
  EXPECT_TRUE(door_->Started("sts"));
  door_->StopServices();
}

TEST_F(LazySlotTest, ALazyServiceThatMustStartIsBuiltAtBoot) {
  Make(false);
  ASSERT_TRUE(door_->StartServices([](const Service::Descriptor& d) {
                      return d.name == "sts";
                    }).ok());
  EXPECT_EQ(builds_.load(), 1);
  EXPECT_TRUE(door_->Started("sts"));
  door_->StopServices();
}

TEST_F(LazySlotTest, ALazyServiceIsBuiltOnAnInternalCall) {
  Make(false);
  ASSERT_TRUE(door_->StartServices([](const Service::Descriptor&) { return false; }).ok());
  auto r = door_->CallAndWait(InternalCall{.service = "sts", .operation = "GetCallerIdentity"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().body["UserId"], "started");
  EXPECT_EQ(builds_.load(), 1);
}

TEST_F(LazySlotTest, ABeforeFirstCallServiceIsBuiltByAnyCall) {
  Make(true);
  ASSERT_TRUE(door_->StartServices([](const Service::Descriptor&) { return false; }).ok());
  EXPECT_EQ(builds_.load(), 0);
  // An API request for no service at all still builds it (it may set ServiceClients).
  HttpRequest r;
  r.method = "POST";
  r.path = r.target = "/";
  r.headers.Set("X-Amz-Target", "NoSuchService_20990101.Op");
  EXPECT_EQ(Send(r).status, 400);
  EXPECT_EQ(builds_.load(), 1);
  EXPECT_FALSE(door_->Started("sts"));  // built, not started: nothing was routed to it
}

}  // namespace
}  // namespace stratus::aws

#include "services/s3/s3_service.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "aws/sigv4/sigv4.h"
#include "core/crypto.h"
#include "core/random.h"
#include "core/strings.h"
#include "core/worker_pool.h"
#include "services/s3/body_hasher.h"
#include "services/s3/cors.h"
#include "services/s3/errors.h"
#include "services/s3/events.h"
#include "services/s3/names.h"
#include "services/s3/request_prep.h"
#include "services/s3/s3_store.h"
#include "services/s3/streamed_body.h"
#include "services/s3/website.h"
#include "store/blob_store.h"

namespace stratus::services::s3 {

namespace {

using Call = aws::CallContext;
using Output = aws::OperationOutput;

// How often lifecycle rules and blob garbage are swept (a PutBucketLifecycleConfiguration also
// wakes the sweeper for its bucket).
constexpr auto kSweepInterval = std::chrono::minutes(10);
// Unreferenced blob files older than this are collected by the periodic sweep (at start-up:
// every file older than the process).
constexpr int64_t kOrphanAgeMs = 3'600'000;

RequestInfo InfoOf(const Call& c) {
  return RequestInfo{c.caller.account_id, c.region, c.now_ms, c.request_id, c.http.remote_address};
}

// A stored bucket configuration and how its operations map onto it.
struct ConfigSpec {
  const char* put_op;
  const char* get_op;
  const char* delete_op;  // may be null
  const char* field;      // name in the bucket record
  const char* member;     // the Put input member holding the configuration
  bool wrap;              // Get returns {member: config} (payload outputs) instead of its members
  const char* missing_code;  // Get without a configuration: this error, or null for `fallback`
  const char* missing_message;
  const char* fallback;      // JSON answered when nothing is stored and there is no error
};

constexpr ConfigSpec kConfigs[] = {
    {"PutBucketCors", "GetBucketCors", "DeleteBucketCors", "cors", "CORSConfiguration", false,
     "NoSuchCORSConfiguration", "The CORS configuration does not exist", nullptr},
    {"PutBucketTagging", "GetBucketTagging", "DeleteBucketTagging", "tagging", "Tagging", false,
     "NoSuchTagSet", "The TagSet does not exist", nullptr},
    {"PutBucketLifecycleConfiguration", "GetBucketLifecycleConfiguration", "DeleteBucketLifecycle",
     "lifecycle", "LifecycleConfiguration", false, "NoSuchLifecycleConfiguration",
     "The lifecycle configuration does not exist", nullptr},
    {"PutBucketWebsite", "GetBucketWebsite", "DeleteBucketWebsite", "website",
     "WebsiteConfiguration", false, "NoSuchWebsiteConfiguration",
     "The specified bucket does not have a website configuration", nullptr},
    {"PutPublicAccessBlock", "GetPublicAccessBlock", "DeletePublicAccessBlock", "pab",
     "PublicAccessBlockConfiguration", true, "NoSuchPublicAccessBlockConfiguration",
     "The public access block configuration was not found", nullptr},
    {"PutBucketEncryption", "GetBucketEncryption", "DeleteBucketEncryption", "encryption",
     "ServerSideEncryptionConfiguration", true, nullptr, nullptr,
     R"({"ServerSideEncryptionConfiguration":{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"},"BucketKeyEnabled":false}]}})"},
    {"PutBucketOwnershipControls", "GetBucketOwnershipControls", "DeleteBucketOwnershipControls",
     "ownership", "OwnershipControls", true, "OwnershipControlsNotFoundError",
     "The bucket ownership controls were not found", nullptr},
    {"PutBucketNotificationConfiguration", "GetBucketNotificationConfiguration", nullptr,
     "notification", "NotificationConfiguration", false, nullptr, nullptr, "{}"},
    {"PutBucketAccelerateConfiguration", "GetBucketAccelerateConfiguration", nullptr, "accelerate",
     "AccelerateConfiguration", false, nullptr, nullptr, "{}"},
    {"PutBucketRequestPayment", "GetBucketRequestPayment", nullptr, "request_payment",
     "RequestPaymentConfiguration", false, nullptr, nullptr, R"({"Payer":"BucketOwner"})"},
    {"PutBucketLogging", "GetBucketLogging", nullptr, "logging", "BucketLoggingStatus", false,
     nullptr, nullptr, "{}"},
};

Json DefaultGrants(const std::string& owner, const std::string& canned) {
  Json grants = Json::array({Json{{"Grantee", Json{{"ID", CanonicalUserId(owner)},
                                                   {"DisplayName", "webfile"},
                                                   {"Type", "CanonicalUser"}}},
                                  {"Permission", "FULL_CONTROL"}}});
  auto all_users = [&](const char* permission) {
    grants.push_back(Json{{"Grantee", Json{{"URI", "http://acs.amazonaws.com/groups/global/AllUsers"},
                                           {"Type", "Group"}}},
                          {"Permission", permission}});
  };
  if (canned == "public-read" || canned == "public-read-write") all_users("READ");
  if (canned == "public-read-write") all_users("WRITE");
  return grants;
}

Status ValidatePolicy(const std::string& text) {
  Json policy = ParseJsonOrDiscarded(text);
  if (!policy.is_object() || Trim(text).empty() || Trim(text).front() != '{') {
    return InvalidPolicyDocument("Policies must be valid JSON and the first byte must be '{'");
  }
  if (!policy.contains("Statement")) {
    return InvalidPolicyDocument("Missing required field Statement");
  }
  return Status::Ok();
}

// Answers of small PutObjects, given on the thread that learns the outcome: the store's writer
// thread once the commit is durable (encoded and posted to the connection there: the writer has
// nothing else to do until the clients send more, and a hand-off to a worker cost more than the
// encoding), or the io thread when the request fails before its commit. Counts the writes begun
// so that Stop waits for their answers, which reference the service. Thread-safe.
class AnswerQueue {
 public:
  // A write is handed to the store; its answer will come through Now.
  void Begin() {
    std::lock_guard lock(mu_);
    ++in_flight_;
  }
  // Runs a begun write's answer on the calling thread.
  void Now(const std::function<void()>& answer) {
    answer();
    std::lock_guard lock(mu_);
    if (--in_flight_ == 0) idle_cv_.notify_all();
  }
  // Waits until every write begun has been answered.
  void Drain() {
    std::unique_lock lock(mu_);
    idle_cv_.wait(lock, [this] { return in_flight_ == 0; });
  }

 private:
  std::mutex mu_;  // guards in_flight_
  std::condition_variable idle_cv_;
  int64_t in_flight_ = 0;
};

class S3Service final : public aws::Service {
 public:
  explicit S3Service(aws::ServiceContext& context)
      : aws::Service(Descriptor{.name = "s3",
                                .model = "s3-2006-03-01",
                                .protocol = aws::Protocol::kRestXml,
                                .signing_name = "s3",
                                .validation_error = "InvalidArgument"}),
        context_(context),
        events_(context.store, context.clients, context.clock) {
    RegisterBuckets();
    RegisterObjects();
    RegisterMultipart();
    RegisterConfigs();
  }

  ~S3Service() override { Stop(); }

  // Opens the blob directory (<data-dir>/blobs and <data-dir>/segments, or a private temporary
  // one in memory mode):
  // nothing touches the disk before the server starts the service.
  Status Start() override {
    store::BlobOptions options;
    options.dir = context_.config.in_memory ? "" : context_.config.data_dir + "/blobs";
    // Small bodies: appended to shared segment files in a sibling directory (segment_store.h).
    if (!context_.config.in_memory) options.segment_dir = context_.config.data_dir + "/segments";
    options.fsync = context_.config.fsync;
    STRATUS_ASSIGN_OR_RETURN(blobs_, store::BlobStore::Open(context_.store, options));
    s3_ = std::make_unique<S3Store>(context_.store, *blobs_);
    events_.Start();
    started_ms_ = context_.clock.NowMillis();
    sweeper_ = std::thread([this] { SweepLoop(); });
    return Status::Ok();
  }

  void Stop() override {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
    // PUTs handed to the store answer from its writer thread and reference this service.
    answers_.Drain();
    events_.Stop();
  }

  // ---- routing hooks

  bool ClaimsRequest(const HttpRequest& request) const override {
    return ParseHost(request.Host()).kind == HostStyle::kVirtual;
  }

  Status PrepareRequest(HttpRequest& request, const aws::SigV4Claim* claim,
                        int64_t now_ms) const override {
    STRATUS_RETURN_IF_ERROR(CheckPresignedTime(request, claim, now_ms));
    if (ObjectBodySink* streamed = ObjectBodySink::Of(request)) {
      STRATUS_RETURN_IF_ERROR(streamed->Complete(request));
    } else {
      STRATUS_RETURN_IF_ERROR(DecodeChunkedBody(request, claim, now_ms));
    }
    HostStyle style = ParseHost(request.Host());
    if (style.kind == HostStyle::kVirtual) MoveBucketIntoPath(request, style.bucket);
    return Status::Ok();
  }

  std::shared_ptr<BodySink> OpenBodySink(const HttpRequest& head,
                                         const aws::SigV4Claim* claim) override {
    if (!blobs_) return nullptr;
    // Only object PUTs: a key after the bucket (path style) or after the host's bucket.
    HostStyle style = ParseHost(head.Host());
    if (style.kind == HostStyle::kWebsite) return nullptr;
    size_t key_at = 1;
    if (style.kind == HostStyle::kPath) {
      size_t slash = head.path.find('/', 1);
      if (slash == std::string::npos) return nullptr;
      key_at = slash + 1;
    }
    if (head.path.size() <= key_at) return nullptr;
    return ObjectBodySink::Open(*blobs_, hashers_, head, claim, context_.clock.NowMillis());
  }

  bool MatchDataPlane(const HttpRequest& request) const override {
    if (ParseHost(request.Host()).kind == HostStyle::kWebsite) return true;
    return request.method == "OPTIONS" && request.headers.Has("origin") &&
           request.headers.Has("access-control-request-method");
  }

  void HandleDataPlane(HttpRequest request, Responder responder) override {
    context_.workers.Submit([this, request = std::move(request), responder]() mutable {
      std::string request_id = NewUuid();
      HostStyle style = ParseHost(request.Host());
      if (style.kind == HostStyle::kWebsite) {
        responder.Send(ServeWebsite(*s3_, style.bucket, request, request_id));
        return;
      }
      std::string bucket = style.bucket;
      if (bucket.empty()) {
        std::string path = UrlDecode(request.path);
        size_t start = path.find_first_not_of('/');
        if (start != std::string::npos) bucket = path.substr(start, path.find('/', start) - start);
      }
      std::optional<Json> config;
      if (auto c = s3_->GetConfig(bucket, "cors"); c.ok()) config = *c;
      responder.Send(PreflightResponse(config, request, request_id));
    });
  }

 private:
  // Registers a handler that adds the bucket's CORS headers when the request has an Origin.
  // `mode` kInline only for operations that read the store and never write it (no thread hop).
  void Handle(const char* op, std::function<Result<Output>(Call&, const Json&)> fn,
              aws::Mode mode = aws::Mode::kWorker) {
    OnOutput(op, [this, fn = std::move(fn)](Call& c, const Json& in) -> aws::OperationResult {
      if (Status st = CheckExpectedOwner(in); !st.ok()) return std::move(st).error();
      return WithCors(c, in, fn(c, in));
    }, mode);
  }
  // x-amz-expected-bucket-owner: another account's bucket is refused as S3 does.
  Status CheckExpectedOwner(const Json& in) const {
    if (auto expected = in.find("ExpectedBucketOwner"); expected != in.end() && expected->is_string()) {
      auto b = s3_->GetBucket(in.value("Bucket", ""));
      if (b.ok() && b->owner != expected->get<std::string>()) return AccessDenied("Access Denied");
    }
    return Status::Ok();
  }
  // Adds the bucket's CORS headers to an answer (or error) when the request has an Origin.
  aws::OperationResult WithCors(const Call& c, const Json& in, Result<Output> result) const {
    auto origin = c.http.headers.Get("origin");
    if (!origin || !in.contains("Bucket")) return result;
    auto cors = s3_->GetConfig(in.value("Bucket", ""), "cors");
    if (!cors.ok() || !cors->has_value()) return result;
    std::string method = c.operation ? c.operation->http_method : c.http.method;
    auto rule = MatchCorsRule(**cors, std::string(*origin), method, {});
    if (!rule) return result;
    if (result.ok()) {
      AddCorsHeaders(result.value().headers, *rule, std::string(*origin), false, {});
      return result;
    }
    Error e = std::move(result).error();
    Headers h;
    AddCorsHeaders(h, *rule, std::string(*origin), false, {});
    for (const auto& [k, v] : h) e.headers.emplace_back(k, v);
    return e;
  }
  void HandleJson(const char* op, std::function<Result<Json>(Call&, const Json&)> fn) {
    Handle(op, [fn = std::move(fn)](Call& c, const Json& in) -> Result<Output> {
      STRATUS_ASSIGN_OR_RETURN(Json body, fn(c, in));
      Output out;
      out.body = std::move(body);
      return out;
    });
  }
  static Json Empty() { return Json::object(); }

  void RegisterBuckets() {
    HandleJson("CreateBucket", [this](Call& c, const Json& in) { return s3_->CreateBucket(InfoOf(c), in); });
    HandleJson("HeadBucket", [this](Call&, const Json& in) { return s3_->HeadBucket(in); });
    HandleJson("DeleteBucket", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(s3_->DeleteBucket(InfoOf(c), in.value("Bucket", "")));
      return Empty();
    });
    HandleJson("ListBuckets", [this](Call& c, const Json& in) { return s3_->ListBuckets(InfoOf(c), in); });
    HandleJson("GetBucketLocation", [this](Call&, const Json& in) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(Bucket b, s3_->GetBucket(in.value("Bucket", "")));
      return Json{{"LocationConstraint", b.region == "us-east-1" ? "" : b.region}};
    });
    HandleJson("PutBucketVersioning", [this](Call&, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(s3_->PutVersioning(in.value("Bucket", ""),
                                                in.value("VersioningConfiguration", Json::object())));
      return Empty();
    });
    HandleJson("GetBucketVersioning", [this](Call&, const Json& in) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(Bucket b, s3_->GetBucket(in.value("Bucket", "")));
      if (b.versioning.empty()) return Empty();
      return Json{{"Status", b.versioning}};
    });
    HandleJson("PutBucketPolicy", [this](Call&, const Json& in) -> Result<Json> {
      std::string policy = in.value("Policy", "");
      STRATUS_RETURN_IF_ERROR(ValidatePolicy(policy));
      STRATUS_RETURN_IF_ERROR(s3_->PutConfig(in.value("Bucket", ""), "policy", policy));
      return Empty();
    });
    HandleJson("GetBucketPolicy", [this](Call&, const Json& in) -> Result<Json> {
      std::string bucket = in.value("Bucket", "");
      STRATUS_ASSIGN_OR_RETURN(auto policy, s3_->GetConfig(bucket, "policy"));
      if (!policy) {
        return NoSuchConfiguration("NoSuchBucketPolicy", "The bucket policy does not exist", bucket);
      }
      return Json{{"Policy", *policy}};
    });
    HandleJson("DeleteBucketPolicy", [this](Call&, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(s3_->DeleteConfig(in.value("Bucket", ""), "policy"));
      return Empty();
    });
    HandleJson("GetBucketPolicyStatus", [this](Call&, const Json& in) -> Result<Json> {
      std::string bucket = in.value("Bucket", "");
      STRATUS_ASSIGN_OR_RETURN(auto policy, s3_->GetConfig(bucket, "policy"));
      if (!policy) {
        return NoSuchConfiguration("NoSuchBucketPolicy", "The bucket policy does not exist", bucket);
      }
      bool is_public = false;
      for (const auto& s : ParseJsonOrDiscarded(policy->get<std::string>()).value("Statement", Json::array())) {
        Json p = s.value("Principal", Json());
        bool star = p == "*" || (p.is_object() && p.value("AWS", Json()) == "*");
        if (s.value("Effect", "") == "Allow" && star && !s.contains("Condition")) is_public = true;
      }
      return Json{{"PolicyStatus", Json{{"IsPublic", is_public}}}};
    });
    HandleJson("GetBucketAcl", [this](Call&, const Json& in) -> Result<Json> {
      STRATUS_ASSIGN_OR_RETURN(Bucket b, s3_->GetBucket(in.value("Bucket", "")));
      if (auto acl = b.config.find("acl"); acl != b.config.end()) return *acl;
      return Json{{"Owner", OwnerJson(b.owner)},
                  {"Grants", DefaultGrants(b.owner, b.config.value("canned_acl", "private"))}};
    });
    HandleJson("PutBucketAcl", [this](Call&, const Json& in) -> Result<Json> {
      std::string bucket = in.value("Bucket", "");
      STRATUS_ASSIGN_OR_RETURN(Bucket b, s3_->GetBucket(bucket));
      if (auto policy = in.find("AccessControlPolicy"); policy != in.end()) {
        Json acl{{"Owner", policy->value("Owner", OwnerJson(b.owner))},
                 {"Grants", policy->value("Grants", Json::array())}};
        STRATUS_RETURN_IF_ERROR(s3_->PutConfig(bucket, "acl", std::move(acl)));
      } else {
        STRATUS_RETURN_IF_ERROR(s3_->DeleteConfig(bucket, "acl"));
        STRATUS_RETURN_IF_ERROR(s3_->PutConfig(bucket, "canned_acl", in.value("ACL", "private")));
      }
      return Empty();
    });
  }

  void RegisterObjects() {
    // Small bodies start on the io thread and go to the store's group commit without parking a
    // thread (their answers are encoded and posted to the connections by the writer thread,
    // AnswerQueue::Now); bodies that
    // become blob files (streamed, or over kInlineMaxBytes) are fsync'd on a worker.
    OnAsync("PutObject", [this](std::shared_ptr<Call> c, Json in, aws::Completion done) {
      auto input = std::make_shared<Json>(std::move(in));
      auto finish = [this, c, input, done = std::move(done)](Result<Output> r) {
        done(WithCors(*c, *input, std::move(r)));
      };
      if (Status st = CheckExpectedOwner(*input); !st.ok()) {
        finish(std::move(st).error());
        return;
      }
      ObjectBodySink* streamed = ObjectBodySink::Of(c->http);
      if (streamed || c->payload.size() > kInlineMaxBytes) {
        context_.workers.Submit([this, c, input, streamed, finish = std::move(finish)]() mutable {
          finish(s3_->PutObject(InfoOf(*c), *input, std::move(c->payload), streamed));
        });
        return;
      }
      answers_.Begin();
      s3_->PutObjectAsync(InfoOf(*c), *input, std::move(c->payload),
                          [this, finish = std::move(finish)](Result<ObjectRecord> r) mutable {
                            answers_.Now([&] {
                              if (!r.ok()) {
                                finish(std::move(r).error());
                                return;
                              }
                              finish(S3Store::PutAnswer(r.value()));
                            });
                          });
    }, aws::Mode::kAsyncInline);
    // Reads answered on the io thread, as DynamoDB's GetItem: a worker hop cost more than the
    // read (context switches were a third of a 4 KiB GET's server CPU).
    Handle("GetObject", [this](Call& c, const Json& in) { return s3_->GetObject(InfoOf(c), in, false); },
           aws::Mode::kInline);
    Handle("HeadObject", [this](Call& c, const Json& in) { return s3_->GetObject(InfoOf(c), in, true); },
           aws::Mode::kInline);
    Handle("DeleteObject", [this](Call& c, const Json& in) { return s3_->DeleteObject(InfoOf(c), in); });
    HandleJson("DeleteObjects", [this](Call& c, const Json& in) { return s3_->DeleteObjects(InfoOf(c), in); });
    Handle("CopyObject", [this](Call& c, const Json& in) { return s3_->CopyObject(InfoOf(c), in); });
    HandleJson("ListObjects", [this](Call&, const Json& in) { return s3_->ListObjects(in, false); });
    HandleJson("ListObjectsV2", [this](Call&, const Json& in) { return s3_->ListObjects(in, true); });
    HandleJson("ListObjectVersions", [this](Call&, const Json& in) { return s3_->ListObjectVersions(in); });
    HandleJson("GetObjectTagging", [this](Call&, const Json& in) { return s3_->GetObjectTagging(in); });
    HandleJson("PutObjectTagging", [this](Call& c, const Json& in) { return s3_->PutObjectTagging(InfoOf(c), in); });
    HandleJson("DeleteObjectTagging", [this](Call& c, const Json& in) { return s3_->DeleteObjectTagging(InfoOf(c), in); });
    HandleJson("GetObjectAttributes", [this](Call&, const Json& in) { return s3_->GetObjectAttributes(in); });
    HandleJson("GetObjectAcl", [this](Call& c, const Json& in) -> Result<Json> {
      auto head = s3_->GetObject(InfoOf(c), Json{{"Bucket", in.value("Bucket", "")},
                                                 {"Key", in.value("Key", "")},
                                                 {"VersionId", in.value("VersionId", "")}},
                                true);
      if (!head.ok()) return std::move(head).error();
      std::string owner = c.caller.account_id;
      return Json{{"Owner", OwnerJson(owner)}, {"Grants", DefaultGrants(owner, "private")}};
    });
    HandleJson("PutObjectAcl", [this](Call& c, const Json& in) -> Result<Json> {
      auto head = s3_->GetObject(InfoOf(c), Json{{"Bucket", in.value("Bucket", "")},
                                                 {"Key", in.value("Key", "")}},
                                true);
      if (!head.ok()) return std::move(head).error();
      return Empty();
    });
  }

  void RegisterMultipart() {
    HandleJson("CreateMultipartUpload", [this](Call& c, const Json& in) {
      return s3_->CreateMultipartUpload(InfoOf(c), in);
    });
    Handle("UploadPart", [this](Call& c, const Json& in) {
      return s3_->UploadPart(InfoOf(c), in, std::move(c.payload), ObjectBodySink::Of(c.http));
    });
    Handle("UploadPartCopy", [this](Call& c, const Json& in) { return s3_->UploadPartCopy(InfoOf(c), in); });
    Handle("CompleteMultipartUpload", [this](Call& c, const Json& in) {
      return s3_->CompleteMultipartUpload(InfoOf(c), in);
    });
    HandleJson("AbortMultipartUpload", [this](Call& c, const Json& in) -> Result<Json> {
      STRATUS_RETURN_IF_ERROR(s3_->AbortMultipartUpload(InfoOf(c), in));
      return Empty();
    });
    HandleJson("ListParts", [this](Call&, const Json& in) { return s3_->ListParts(in); });
    HandleJson("ListMultipartUploads", [this](Call&, const Json& in) { return s3_->ListMultipartUploads(in); });
  }

  void RegisterConfigs() {
    for (const ConfigSpec& spec : kConfigs) {
      HandleJson(spec.put_op, [this, &spec](Call& c, const Json& in) -> Result<Json> {
        std::string bucket = in.value("Bucket", "");
        Json config = in.value(spec.member, Json::object());
        if (std::string_view(spec.field) == "notification") {
          STRATUS_RETURN_IF_ERROR(ValidateNotificationConfiguration(config));
          STRATUS_RETURN_IF_ERROR(s3_->PutNotification(InfoOf(c), bucket, std::move(config),
                                                       !in.value("SkipDestinationValidation", false)));
          return Empty();
        }
        if (std::string_view(spec.field) == "cors" && config.value("CORSRules", Json::array()).empty()) {
          return MalformedXml();
        }
        if (std::string_view(spec.field) == "tagging") {
          std::set<std::string> seen;
          for (const auto& t : config.value("TagSet", Json::array())) {
            if (!seen.insert(t.value("Key", "")).second) {
              return InvalidTag("Cannot provide multiple Tags with the same key");
            }
          }
        }
        STRATUS_RETURN_IF_ERROR(s3_->PutConfig(bucket, spec.field, std::move(config)));
        if (std::string_view(spec.field) == "lifecycle") WakeSweeper(bucket);
        return Empty();
      });
      HandleJson(spec.get_op, [this, &spec](Call&, const Json& in) -> Result<Json> {
        std::string bucket = in.value("Bucket", "");
        STRATUS_ASSIGN_OR_RETURN(auto config, s3_->GetConfig(bucket, spec.field));
        if (!config) {
          if (spec.missing_code) return NoSuchConfiguration(spec.missing_code, spec.missing_message, bucket);
          return ParseJsonOrDiscarded(spec.fallback);
        }
        if (spec.wrap) return Json{{spec.member, std::move(*config)}};
        return std::move(*config);
      });
      if (spec.delete_op) {
        HandleJson(spec.delete_op, [this, &spec](Call&, const Json& in) -> Result<Json> {
          STRATUS_RETURN_IF_ERROR(s3_->DeleteConfig(in.value("Bucket", ""), spec.field));
          return Empty();
        });
      }
    }
  }

  // ---- background work: lifecycle expiration and blob garbage collection

  void WakeSweeper(const std::string& bucket) {
    {
      std::lock_guard lock(mu_);
      sweep_buckets_.push_back(bucket);
    }
    cv_.notify_all();
  }

  void SweepLoop() {
    int64_t next_full = 0;
    bool first = true;
    std::unique_lock lock(mu_);
    while (!stopping_) {
      std::vector<std::string> buckets;
      buckets.swap(sweep_buckets_);
      int64_t now = context_.clock.NowMillis();
      bool full = now >= next_full;
      lock.unlock();
      // Not NewUuid: its first call loads OpenSSL's random generator (~2 MB) into an idle server.
      RequestInfo req{context_.config.account_id, context_.config.region, now, PseudoRandomUuid(),
                      ""};
      for (const auto& b : buckets) Sweep(req, b);
      if (full) {
        Sweep(req, "");
        auto deleted = blobs_->RunDeletions(now);
        if (!deleted.ok()) spdlog::warn("s3: blob deletion failed: {}", deleted.error().message);
        // At start-up every file older than this process is fair game; later, an hour's margin
        // keeps blobs whose commit is still on its way.
        int64_t cutoff = first ? started_ms_ : now - kOrphanAgeMs;
        auto orphans = blobs_->CollectOrphans(cutoff);
        if (!orphans.ok()) {
          spdlog::warn("s3: orphan blob collection failed: {}", orphans.error().message);
        } else if (*orphans > 0) {
          spdlog::info("s3: removed {} unreferenced blob files", *orphans);
        }
        first = false;
        next_full = now + std::chrono::duration_cast<std::chrono::milliseconds>(kSweepInterval).count();
      }
      lock.lock();
      cv_.wait_for(lock, std::chrono::seconds(30),
                   [this] { return stopping_ || !sweep_buckets_.empty(); });
    }
  }

  void Sweep(const RequestInfo& req, const std::string& bucket) {
    auto n = s3_->ApplyLifecycle(req, bucket);
    if (!n.ok()) {
      spdlog::warn("s3: lifecycle sweep failed: {}", n.error().message);
    } else if (*n > 0) {
      spdlog::info("s3: lifecycle expired {} objects{}", *n, bucket.empty() ? "" : " in " + bucket);
    }
  }

  aws::ServiceContext& context_;
  // Set once by Start(), before any request can arrive; read-only afterwards.
  std::unique_ptr<store::BlobStore> blobs_;
  // Hashes streamed bodies while the io threads receive them (body_hasher.h): one thread per
  // core, started on demand, and at most kHashBacklogBytes of bodies waiting for them. Its tasks
  // hold only their bodies' hashing state.
  static constexpr size_t kHashBacklogBytes = 32 << 20;
  HashingPool hashers_{std::max(1u, std::thread::hardware_concurrency()), kHashBacklogBytes};
  std::unique_ptr<S3Store> s3_;
  EventDelivery events_;
  int64_t started_ms_ = 0;
  AnswerQueue answers_;
  std::mutex mu_;  // guards stopping_, sweep_buckets_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<std::string> sweep_buckets_;
  std::thread sweeper_;
};

}  // namespace

std::unique_ptr<aws::Service> MakeS3Service(aws::ServiceContext& context) {
  return std::make_unique<S3Service>(context);
}

}  // namespace stratus::services::s3

#include "services/sts/sts_service.h"

#include <mutex>

#include "core/http.h"
#include "core/http_client.h"
#include "services/sts/sessions.h"

namespace stratus::services::sts {

namespace {

class StsService final : public aws::Service {
 public:
  explicit StsService(aws::ServiceContext& context)
      : aws::Service(Descriptor{.name = "sts",
                                .model = "sts-2011-06-15",
                                .protocol = aws::Protocol::kQuery,
                                .signing_name = "sts",
                                .validation_error = "ValidationError"}),
        context_(context),
        jwks_([this](const std::string& url, int64_t timeout_ms) { return Fetch(url, timeout_ms); },
              context.clock),
        sts_{context.store, context.clock, context.config.enforce_iam, nullptr, &jwks_} {
    sts_.managed_policy = [this](const std::string& account, const std::string& arn) {
      return ManagedPolicy(account, arn);
    };
    // Reads nothing but the request: safe to answer on the io thread.
    On("GetCallerIdentity",
       [](aws::CallContext& call, const Json&) -> Result<Json> { return CallerIdentity(call.caller); },
       aws::Mode::kInline);
    // The rest write sessions durably (and may read IAM or an identity provider): workers.
    On("AssumeRole", [this](aws::CallContext& call, const Json& in) { return AssumeRole(sts_, call.caller, in); });
    On("AssumeRoleWithWebIdentity",
       [this](aws::CallContext&, const Json& in) { return AssumeRoleWithWebIdentity(sts_, in); });
    On("GetSessionToken",
       [this](aws::CallContext& call, const Json& in) { return GetSessionToken(sts_, call.caller, in); });
    On("GetFederationToken",
       [this](aws::CallContext& call, const Json& in) { return GetFederationToken(sts_, call.caller, in); });
  }

 private:
  // A managed policy's default version, read through IAM like any service-to-service call.
  Result<std::string> ManagedPolicy(const std::string& account, const std::string& arn) {
    aws::OperationCaller* ops = context_.clients.operations;
    if (!ops) return Error("NoSuchEntity", "IAM is not available");
    aws::InternalCall get{.service = "iam", .operation = "GetPolicy", .input = Json{{"PolicyArn", arn}},
                          .account = account, .region = "us-east-1"};
    aws::OperationResult policy = ops->CallAndWait(get);
    if (!policy.ok()) return std::move(policy).error();
    std::string version = policy->body.value("Policy", Json::object()).value("DefaultVersionId", "v1");
    aws::InternalCall read{.service = "iam", .operation = "GetPolicyVersion",
                           .input = Json{{"PolicyArn", arn}, {"VersionId", version}},
                           .account = account, .region = "us-east-1"};
    aws::OperationResult doc = ops->CallAndWait(read);
    if (!doc.ok()) return std::move(doc).error();
    return UrlDecode(doc->body.value("PolicyVersion", Json::object()).value("Document", ""));
  }

  // JWKS fetches (OIDC providers, stratus's own Cognito over loopback). The client and its
  // thread start on the first web identity request.
  Result<std::string> Fetch(const std::string& url, int64_t timeout_ms) {
    std::call_once(client_once_, [this] { client_ = std::make_unique<HttpClient>(); });
    ClientRequest req;
    req.url = url;
    req.timeout_ms = timeout_ms;
    req.max_response_bytes = 1 << 20;
    auto r = client_->FetchAndWait(std::move(req));
    if (!r.ok()) return std::move(r).error();
    if (r->status < 200 || r->status >= 300) {
      return Error("HttpError", url + " answered " + std::to_string(r->status));
    }
    return std::move(r->body);
  }

  aws::ServiceContext& context_;
  std::once_flag client_once_;
  std::unique_ptr<HttpClient> client_;
  identity::oidc::JwksCache jwks_;
  Sts sts_;
};

}  // namespace

Json CallerIdentity(const aws::Caller& caller) {
  return Json{{"UserId", caller.user_id}, {"Account", caller.account_id}, {"Arn", caller.arn}};
}

std::unique_ptr<aws::Service> MakeStsService(aws::ServiceContext& context) {
  return std::make_unique<StsService>(context);
}

}  // namespace stratus::services::sts

#include "services/cognito/triggers.h"

#include <spdlog/spdlog.h>

#include "services/cognito/common.h"

namespace stratus::services::cognito {

namespace {

// The trigger name AWS's error messages use for a LambdaConfig member.
std::string TriggerName(const std::string& member) {
  if (member == "PreTokenGeneration") return "PreTokenGeneration";
  if (member == "VerifyAuthChallengeResponse") return "VerifyAuthChallengeResponse";
  return member;
}

std::string FunctionFor(const Json& pool, std::string_view member) {
  const Json& cfg = pool.value("LambdaConfig", Json::object());
  std::string m(member);
  if (m == "PreTokenGeneration" && cfg.contains("PreTokenGenerationConfig")) {
    return cfg["PreTokenGenerationConfig"].value("LambdaArn", "");
  }
  if (!cfg.is_object() || !cfg.contains(m) || !cfg[m].is_string()) return {};
  return cfg[m].get<std::string>();
}

}  // namespace

bool Triggers::Has(const Json& pool, std::string_view member) {
  return !FunctionFor(pool, member).empty();
}

int Triggers::PreTokenVersion(const Json& pool) {
  const Json& cfg = pool.value("LambdaConfig", Json::object());
  if (!cfg.is_object() || !cfg.contains("PreTokenGenerationConfig") ||
      !cfg["PreTokenGenerationConfig"].is_object()) {
    return 1;
  }
  std::string v = cfg["PreTokenGenerationConfig"].value("LambdaVersion", "V1_0");
  if (v == "V2_0") return 2;
  if (v == "V3_0") return 3;
  return 1;
}

Result<std::optional<Json>> Triggers::Invoke(const Json& pool, const Event& e) {
  std::string fn = FunctionFor(pool, e.member);
  if (fn.empty()) return std::optional<Json>();
  std::string pool_id = pool.value("Id", "");
  std::string name = TriggerName(e.member);
  if (!clients_.operations) {
    spdlog::warn("cognito: {} trigger of {} not run: no Lambda in this build", name, pool_id);
    return UnexpectedLambda(name + " invocation failed due to error AccessDeniedException.");
  }
  std::string version = e.member == "PreTokenGeneration" ? std::to_string(PreTokenVersion(pool)) : "1";
  Json event = Json{{"version", version},
                    {"region", pool.value("_Region", PoolRegion(pool_id))},
                    {"userPoolId", pool_id},
                    {"userName", e.username},
                    {"callerContext", Json{{"awsSdkVersion", "aws-sdk-unknown-unknown"},
                                           {"clientId", e.client_id.empty() ? "CLIENT_ID_NOT_APPLICABLE" : e.client_id}}},
                    {"triggerSource", e.trigger_source},
                    {"request", e.request},
                    {"response", e.response}};
  aws::InternalCall call;
  call.service = "lambda";
  call.operation = "Invoke";
  call.input = Json{{"FunctionName", fn}, {"InvocationType", "RequestResponse"}};
  call.payload = DumpJson(event);
  call.account = pool.value("_Account", "");
  call.region = pool.value("_Region", "");
  call.principal_arn = "cognito-idp.amazonaws.com";
  auto r = clients_.operations->CallAndWait(std::move(call));
  if (!r.ok()) {
    spdlog::warn("cognito: {} trigger {} of {} failed: {} {}", name, fn, pool_id, r.error().code,
                 r.error().message);
    return UnexpectedLambda(name + " invocation failed due to error " + r.error().code + ".");
  }
  const auto& out = r.value();
  std::string payload = out.payload.value_or("");
  if (out.body.contains("FunctionError")) {
    Json err = ParseJsonOrDiscarded(payload);
    std::string msg = err.is_object() ? err.value("errorMessage", payload) : payload;
    spdlog::info("cognito: {} trigger {} of {} returned an error", name, fn, pool_id);
    return UserLambdaValidation(name + " failed with error " + msg + ".");
  }
  Json result = ParseJsonOrDiscarded(payload);
  if (!result.is_object()) {
    spdlog::warn("cognito: {} trigger {} of {} returned a non-object", name, fn, pool_id);
    return InvalidLambdaResponse("Unrecognizable lambda output");
  }
  Json response = result.value("response", Json::object());
  if (response.is_null()) response = Json::object();
  if (!response.is_object()) return InvalidLambdaResponse("Unrecognizable lambda output");
  return std::optional<Json>(std::move(response));
}

}  // namespace stratus::services::cognito

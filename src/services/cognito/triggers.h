#pragma once
// Lambda triggers of a user pool (LambdaConfig), invoked through stratus's Lambda in-process
// (ServiceClients::operations → lambda Invoke, RequestResponse) with AWS's event shapes:
//   {version, region, userPoolId, userName, callerContext {awsSdkVersion, clientId},
//    triggerSource, request {...}, response {...}}
// A function error becomes UserLambdaValidationException ("PreSignUp failed with error <msg>.");
// an invocation that cannot happen (no Lambda, no such function) UnexpectedLambdaException; a
// response that is not a JSON object InvalidLambdaResponseException. Each failure is logged.
//
// Blocking: Invoke waits for the function; call it from a worker thread only. Thread-safe.
#include <optional>
#include <string>

#include "aws/framework/service.h"
#include "core/json.h"
#include "core/result.h"

namespace stratus::services::cognito {

class Triggers {
 public:
  explicit Triggers(aws::ServiceClients& clients) : clients_(clients) {}

  // True when the pool configures trigger `member` ("PreSignUp", "CustomMessage", ...).
  static bool Has(const Json& pool, std::string_view member);
  // The pre token generation event version the pool asks for (PreTokenGenerationConfig's
  // LambdaVersion V1_0/V2_0/V3_0 -> 1/2/3; 1 without that config). From version 2 the event
  // carries request.scopes and the function may change the access token
  // (claimsAndScopeOverrideDetails.accessTokenGeneration).
  static int PreTokenVersion(const Json& pool);

  struct Event {
    std::string member;          // LambdaConfig member
    std::string trigger_source;  // "PreSignUp_SignUp"
    std::string username;
    std::string client_id;
    Json request = Json::object();
    Json response = Json::object();
  };
  // Runs the trigger and returns the event's "response" object as the function returned it.
  // nullopt when the pool has no such trigger.
  Result<std::optional<Json>> Invoke(const Json& pool, const Event& event);

 private:
  aws::ServiceClients& clients_;
};

}  // namespace stratus::services::cognito

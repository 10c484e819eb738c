#pragma once
// Service integrations of Task states, run in-process through OperationCaller:
//   arn:aws:states:::lambda:invoke[.waitForTaskToken] and legacy function ARNs → lambda Invoke
//   arn:aws:states:::sqs:sendMessage, sns:publish, dynamodb:getItem/putItem/updateItem/deleteItem
//   arn:aws:states:::states:startExecution[.sync|.sync:2|.waitForTaskToken]
//   arn:aws:states:::aws-sdk:<service>:<action> → that service's model operation
//   arn:aws:states:::apigateway:invoke[.waitForTaskToken] → the execute-api data plane, over
//     HTTP to this server's own port (the data plane has no in-process entry) with the API's
//     Host; AuthType IAM_ROLE/RESOURCE_POLICY sign it (SigV4, execute-api) with the execution
//     role's credentials, AllowNullValues (default false) keeps or drops null body members
// A service that is not built into stratus fails the task with States.TaskFailed naming it.
//
// Thread-safe. Calls run on the worker pool, never on the execution's driving thread.
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "aws/framework/service.h"
#include "core/http_client.h"
#include "services/stepfunctions/runner.h"

namespace stratus::services::stepfunctions {

// The execution role's credentials that sign apigateway:invoke requests.
struct ApiCredentials {
  std::string access_key_id, secret_access_key, session_token;
};

// An apigateway:invoke request ready to send (BuildApiRequest) and sign (SignApiRequest).
struct ApiRequest {
  ClientRequest http;      // to this server, Host: the ApiEndpoint
  std::string auth_type;   // NO_AUTH, IAM_ROLE or RESOURCE_POLICY
  std::string region;      // from the ApiEndpoint
  std::string path, query; // as the data plane receives them ("/<stage><Path>", encoded query)
};

// The request for apigateway:invoke `params` sent to `base_url` (this server). States.Runtime
// for missing ApiEndpoint/Method, an AuthType other than NO_AUTH (the default), IAM_ROLE and
// RESOURCE_POLICY, or an AllowNullValues that is not a boolean. Without AllowNullValues true,
// null members of RequestBody (at any depth) are dropped.
Result<ApiRequest> BuildApiRequest(const Json& params, const std::string& base_url, const std::string& default_region);
// Signs `request` in place (SigV4, service execute-api, the endpoint's region).
void SignApiRequest(ApiRequest& request, const ApiCredentials& creds, int64_t now_seconds);

class Integrations {
 public:
  explicit Integrations(aws::ServiceContext& context);
  ~Integrations();
  // Runs `call` and reports its outcome; .waitForTaskToken calls report kSubmitted when the
  // request was made (the result comes later through SendTaskSuccess/Failure).
  void Run(const ExecutionInfo& info, const TaskCall& call, std::function<void(TaskResult)> done);

  // For .sync on states:startExecution: polls are replaced by a completion hook the service
  // installs (called with the child's terminal DescribeExecution output).
  std::function<void(const std::string& child_arn, std::function<void(Json)> on_done)> watch_execution;

 private:
  TaskResult CallService(const ExecutionInfo& info, const TaskCall& call, const std::string& service,
                         const std::string& operation, Json input, std::string payload,
                         const std::string& error_prefix);
  // A distributed Map's S3 I/O (integrations_map.cc): the ItemReader's read — {"Body": text}
  // for s3:getObject, {"Contents": [...every page...]} for s3:listObjectsV2 — or the
  // ResultWriter's puts (each of parameters.Files, in order). S3 errors fail with S3.<Code>.
  TaskResult RunMapIo(const ExecutionInfo& info, const TaskCall& call);
  Result<aws::OperationOutput> CallS3(const ExecutionInfo& info, const std::string& operation, Json input,
                                      std::string payload);
  // apigateway:invoke (integrations_apigateway.cc): completes `done` with the API's response or
  // an ApiGateway.<status> error.
  void InvokeApi(const ExecutionInfo& info, const Json& params, std::function<void(TaskResult)> done);
  // The execution role's credentials: under IAM enforcement a session of the role assumed as
  // states.amazonaws.com (States.TaskFailed when it cannot be assumed), else placeholders whose
  // key id names the account.
  void ExecutionRoleCredentials(const ExecutionInfo& info, std::function<void(Result<ApiCredentials>)> done);

  aws::ServiceContext& context_;
  std::mutex http_mu_;  // guards http_ (created on the first apigateway:invoke)
  std::unique_ptr<HttpClient> http_;
};

// "getItem" → "GetItem"; aws-sdk service names to stratus service names ("sfn" → "stepfunctions").
std::string PascalCase(std::string_view action);
std::string StratusServiceName(std::string_view sdk_service);

}  // namespace stratus::services::stepfunctions

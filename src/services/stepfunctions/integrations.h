#pragma once
// Service integrations of Task states, run in-process through OperationCaller:
//   arn:aws:states:::lambda:invoke[.waitForTaskToken] and legacy function ARNs → lambda Invoke
//   arn:aws:states:::sqs:sendMessage, sns:publish, dynamodb:getItem/putItem/updateItem/deleteItem
//   arn:aws:states:::states:startExecution[.sync|.sync:2|.waitForTaskToken]
//   arn:aws:states:::aws-sdk:<service>:<action> → that service's model operation
//   arn:aws:states:::apigateway:invoke[.waitForTaskToken] → the execute-api data plane, over
//     HTTP to this server's own port (the data plane has no in-process entry)
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
  // apigateway:invoke: completes `done` with the API's response or an ApiGateway.<status> error.
  void InvokeApi(const Json& params, std::function<void(TaskResult)> done);

  aws::ServiceContext& context_;
  std::mutex http_mu_;  // guards http_ (created on the first apigateway:invoke)
  std::unique_ptr<HttpClient> http_;
};

// "getItem" → "GetItem"; aws-sdk service names to stratus service names ("sfn" → "stepfunctions").
std::string PascalCase(std::string_view action);
std::string StratusServiceName(std::string_view sdk_service);

}  // namespace stratus::services::stepfunctions

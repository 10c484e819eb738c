#include "services/all_services.h"

#include <string_view>

#include "store/store.h"

#include "services/apigateway/apigateway_service.h"
#include "services/cognito/cognito_service.h"
#include "services/lambda/lambda_service.h"
#include "services/dynamodb/dynamodb_service.h"
#include "services/iam/iam_service.h"
#include "services/logs/logs_service.h"
#include "services/s3/s3_service.h"
#include "services/sns/sns_service.h"
#include "services/sqs/sqs_service.h"
#include "services/stepfunctions/stepfunctions_service.h"
#include "services/sts/sts_service.h"

namespace stratus::services {

std::vector<std::unique_ptr<aws::Service>> MakeAllServices(aws::ServiceContext& context) {
  std::vector<std::unique_ptr<aws::Service>> all;
  all.push_back(iam::MakeIamService(context));  // first: it sets the front door's authorizer
  all.push_back(sts::MakeStsService(context));
  all.push_back(logs::MakeLogsService(context));
  all.push_back(lambda::MakeLambdaService(context));
  all.push_back(sqs::MakeSqsService(context));
  all.push_back(sns::MakeSnsService(context));
  all.push_back(stepfunctions::MakeStepFunctionsService(context));
  all.push_back(dynamodb::MakeDynamoDbService(context));
  all.push_back(dynamodb::MakeDynamoDbStreamsService(context));
  for (auto& s : apigateway::MakeApiGatewayServices(context)) all.push_back(std::move(s));
  all.push_back(cognito::MakeCognitoService(context));
  all.push_back(s3::MakeS3Service(context));  // last: S3 is the fallback and data-plane catch-all
  return all;
}

namespace {

using aws::Protocol;
using aws::Service;
using aws::ServiceSlot;

// The descriptors of the services built on first use, as their constructors set them (routing
// needs them before the service exists; all_services_test checks that they agree).
Service::Descriptor IamDescriptor() {
  return {.name = "iam",
          .model = "iam-2010-05-08",
          .protocol = Protocol::kQuery,
          .signing_name = "iam",
          .validation_error = "ValidationError"};
}
Service::Descriptor StsDescriptor() {
  return {.name = "sts",
          .model = "sts-2011-06-15",
          .protocol = Protocol::kQuery,
          .signing_name = "sts",
          .validation_error = "ValidationError"};
}
Service::Descriptor SqsDescriptor() {
  return {.name = "sqs",
          .model = "sqs-2012-11-05",
          .protocol = Protocol::kJson,
          .target_prefix = "AmazonSQS",
          .signing_name = "sqs",
          .extra_protocols = {Protocol::kQuery},
          .validation_error = "InvalidParameterValue"};
}
Service::Descriptor StepFunctionsDescriptor() {
  return {.name = "stepfunctions",
          .model = "stepfunctions-2016-11-23",
          .protocol = Protocol::kJson,
          .target_prefix = "AWSStepFunctions",
          .signing_name = "states",
          .validation_error = "ValidationException"};
}
Service::Descriptor DynamoDbDescriptor() {
  return {.name = "dynamodb",
          .model = "dynamodb-2012-08-10",
          .protocol = Protocol::kJson,
          .target_prefix = "DynamoDB_20120810",
          .signing_name = "dynamodb",
          .validation_error = "ValidationException"};
}
Service::Descriptor DynamoDbStreamsDescriptor() {
  return {.name = "dynamodbstreams",
          .model = "dynamodbstreams-2012-08-10",
          .protocol = Protocol::kJson,
          .target_prefix = "DynamoDBStreams_20120810",
          .signing_name = "dynamodb",
          .validation_error = "ValidationException"};
}

}  // namespace

std::vector<ServiceSlot> MakeServiceSlots(aws::ServiceContext& context) {
  auto lazy = [&context](Service::Descriptor d, auto factory, bool before_first_call = false) {
    return ServiceSlot::Lazy(std::move(d), [&context, factory] { return factory(context); },
                             before_first_call);
  };
  std::vector<ServiceSlot> all;
  // IAM sets the front door's authorizer when built: before the first call.
  all.push_back(lazy(IamDescriptor(), iam::MakeIamService, true));
  all.push_back(lazy(StsDescriptor(), sts::MakeStsService));
  all.push_back(ServiceSlot::Built(logs::MakeLogsService(context)));  // before Lambda: LogSink
  all.push_back(ServiceSlot::Built(lambda::MakeLambdaService(context)));
  all.push_back(lazy(SqsDescriptor(), sqs::MakeSqsService));
  all.push_back(ServiceSlot::Built(sns::MakeSnsService(context)));
  all.push_back(lazy(StepFunctionsDescriptor(), stepfunctions::MakeStepFunctionsService));
  all.push_back(lazy(DynamoDbDescriptor(), dynamodb::MakeDynamoDbService));
  all.push_back(lazy(DynamoDbStreamsDescriptor(), dynamodb::MakeDynamoDbStreamsService));
  for (auto& s : apigateway::MakeApiGatewayServices(context)) {
    all.push_back(ServiceSlot::Built(std::move(s)));
  }
  all.push_back(ServiceSlot::Built(cognito::MakeCognitoService(context)));
  all.push_back(ServiceSlot::Built(s3::MakeS3Service(context)));  // last: fallback, catch-all
  return all;
}

namespace {

// What each service keeps in the store: its key prefixes and its durable queues' names (each
// service's keys.h / records.h / common.h). A service writes nothing elsewhere; a service
// missing here starts at boot.
struct DurableState {
  std::string_view service;
  std::vector<std::string_view> prefixes;
  std::vector<std::string_view> queues;
};

const std::vector<DurableState>& DurableStates() {
  static const std::vector<DurableState> kStates = {
      {"iam", {"iam/"}, {}},
      {"sts", {}, {}},
      {"logs", {"logs/"}, {}},
      {"lambda", {"lambda/"}, {"lambda/async"}},
      {"sqs", {"sqs/"}, {}},
      {"sns", {"sns/"}, {"sns/deliveries"}},
      {"stepfunctions", {"stepfunctions/"}, {"stepfunctions/timers"}},
      {"dynamodb", {"ddb/"}, {}},
      {"dynamodbstreams", {"ddb/"}, {}},
      {"apigateway", {"apigw/"}, {}},
      {"apigatewayv2", {"apigw/"}, {}},
      {"cognito-idp", {"cognito/"}, {}},
      {"s3", {"s3/"}, {"s3/events"}},
  };
  return kStates;
}

}  // namespace

bool MustStartAtBoot(store::Store& store, const aws::Service::Descriptor& service) {
  const std::string& name = service.name;
  for (const auto& state : DurableStates()) {
    if (state.service != name) continue;
    for (std::string_view prefix : state.prefixes) {
      auto rows = store.Scan(store::PrefixScan(prefix, 1));
      if (!rows.ok() || !rows->empty()) return true;
    }
    for (std::string_view queue : state.queues) {
      auto n = store.QueueLength(queue);
      if (!n.ok() || *n > 0) return true;
    }
    return false;
  }
  return true;
}

}  // namespace stratus::services

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

bool MustStartAtBoot(store::Store& store, const aws::Service& service) {
  const std::string& name = service.descriptor().name;
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

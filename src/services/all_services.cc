#include "services/all_services.h"

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

}  // namespace stratus::services

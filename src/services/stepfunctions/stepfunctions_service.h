#pragma once
// AWS Step Functions (json 1.0, target prefix AWSStepFunctions): state machines, standard and
// express executions, history, activities, task tokens and tags, on the engine of engine.h.
#include <memory>

#include "aws/framework/service.h"

namespace stratus::services::stepfunctions {

std::unique_ptr<aws::Service> MakeStepFunctionsService(aws::ServiceContext& context);

}  // namespace stratus::services::stepfunctions

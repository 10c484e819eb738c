#pragma once
// DynamoDB (json 1.0, DynamoDB_20120810) and DynamoDB Streams (DynamoDBStreams_20120810): two
// Service objects over one store layout (see table.h, engine.h, streams.h). The DynamoDB
// service runs the TTL sweeper and the stream-retention trimmer on a background thread.
#include <memory>

#include "aws/framework/service.h"

namespace stratus::services::dynamodb {

std::unique_ptr<aws::Service> MakeDynamoDbService(aws::ServiceContext& context);
std::unique_ptr<aws::Service> MakeDynamoDbStreamsService(aws::ServiceContext& context);

}  // namespace stratus::services::dynamodb

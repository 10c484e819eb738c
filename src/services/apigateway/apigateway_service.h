#pragma once
// API Gateway: REST APIs (apigateway 2015-07-09, paths /restapis, /apikeys, /usageplans, ...)
// and HTTP APIs (apigatewayv2 2018-11-29, paths /v2/...). Both share the SigV4 signing name
// "apigateway"; their path prefixes tell them apart. They are two Service objects over one
// shared gateway (one data plane serves execute-api for both kinds: an API id is unique across
// them, and the WebSocket APIs to come reuse the same machinery).
#include <memory>
#include <vector>

#include "aws/framework/service.h"

namespace stratus::services::apigateway {

// The REST API service (which also owns the execute-api data plane) and the HTTP API service.
std::vector<std::unique_ptr<aws::Service>> MakeApiGatewayServices(aws::ServiceContext& context);

}  // namespace stratus::services::apigateway

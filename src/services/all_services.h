#pragma once
// The list of services the stratus binary serves.
#include <memory>
#include <vector>

#include "aws/framework/service.h"

namespace stratus::services {

// Builds every service, in routing order (the first data plane match wins).
std::vector<std::unique_ptr<aws::Service>> MakeAllServices(aws::ServiceContext& context);

}  // namespace stratus::services

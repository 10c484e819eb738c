#pragma once
// The list of services the stratus binary serves.
#include <memory>
#include <vector>

#include "aws/framework/front_door.h"
#include "aws/framework/service.h"

namespace stratus::store {
class Store;
}

namespace stratus::services {

// Builds every service, in routing order (the first data plane match wins).
std::vector<std::unique_ptr<aws::Service>> MakeAllServices(aws::ServiceContext& context);

// Every service as the server registers it, in the same order: those with a data plane or
// request claims (and Logs, whose LogSink other services keep from construction) built now, the
// others (IAM, STS, SQS, Step Functions, DynamoDB and its streams) built on first use
// (aws::ServiceSlot). `context` must outlive the slots.
std::vector<aws::ServiceSlot> MakeServiceSlots(aws::ServiceContext& context);

// Whether `service` must start at boot (FrontDoor::StartServices' `start_now`): true when the
// store holds anything of the service's that background work may owe something to — any key
// under the service's key prefixes or any item in its durable queues (SQS delayed and in-flight
// messages, SNS pending deliveries, Lambda event source mappings and queued async invokes, Step
// Functions running executions and timers, DynamoDB TTL and streams, S3 notifications and
// lifecycle rules, API Gateway's data plane, log retention). Any state at all counts, so a
// service with nothing pending can still start at boot; never the reverse. A service whose
// state this function does not know always starts at boot. A store read that fails counts as
// state. Cost: one one-row scan per prefix and one queue lookup per queue.
bool MustStartAtBoot(store::Store& store, const aws::Service::Descriptor& service);

}  // namespace stratus::services

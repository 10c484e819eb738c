#pragma once
// Helpers shared by the Step Functions API handlers: ARNs, names, AWS's error texts, pagination.
// Plain functions; thread-safe.
#include <optional>
#include <string>

#include "core/json.h"
#include "core/result.h"

namespace stratus::services::stepfunctions {

// "<What> Does Not Exist: '<arn>'" with the given error code (StateMachineDoesNotExist, ...).
Error NotFound(const char* code, const char* what, const std::string& arn);
// InvalidArn for an ARN of the wrong resource type or form.
Error InvalidArn(const std::string& arn);
// AWS's rule for state machine, execution, activity and alias names (1-80 chars, no
// whitespace, control characters or any of <>{}[]?*"#%\^|~`$&,;:/).
bool ValidName(const std::string& name);

// "arn:aws:states:<region>:<account>:<type>:<name>[:<extra>]"; extra is a version number or an
// alias name for a state machine, the execution name for an execution.
struct ArnParts {
  std::string region, account, type, name, extra;
};
std::optional<ArnParts> ParseStatesArn(const std::string& arn);

// Epoch milliseconds → the json protocol's epoch seconds.
inline double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

// One page of `items` as {field: [...], nextToken?} by the request's maxResults (default 100)
// and nextToken (an opaque offset). InvalidToken for a token we did not issue.
Result<Json> Paginate(Json items, const Json& in, const char* field);

}  // namespace stratus::services::stepfunctions

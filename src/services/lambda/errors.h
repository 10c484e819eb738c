#pragma once
// Lambda's error codes (STYLE.md rule 4), each with the HTTP status AWS answers it with.
// Messages are AWS's where AWS's are known; the callers pass them.
#include <string>

#include "core/result.h"

namespace stratus::services::lambda {

inline Error InvalidParameterValue(std::string message) {
  return Error("InvalidParameterValueException", std::move(message), 400);
}
inline Error ResourceNotFound(std::string message) {
  return Error("ResourceNotFoundException", std::move(message), 404);
}
inline Error ResourceConflict(std::string message) {
  return Error("ResourceConflictException", std::move(message), 409);
}
inline Error PreconditionFailed(std::string message) {
  return Error("PreconditionFailedException", std::move(message), 412);
}
inline Error RequestTooLarge(std::string message) {
  return Error("RequestEntityTooLargeException", std::move(message), 413);
}
inline Error InvalidRequestContent(std::string message) {
  return Error("InvalidRequestContentException", std::move(message), 400);
}
inline Error ServiceError(std::string message) {
  return Error("ServiceException", std::move(message), 500, false);
}
// Throttling; `reason` is the ThrottleReason enum value AWS sends.
inline Error TooManyRequests(std::string reason) {
  Error e("TooManyRequestsException", "Rate Exceeded.", 429);
  e.fields["Reason"] = std::move(reason);
  e.fields["Type"] = "User";
  return e;
}
// A feature of Lambda that stratus does not implement: loud, never a silent success.
inline Error NotSupported(std::string what) {
  return InvalidParameterValue(std::move(what) + " is not supported by stratus (see docs/lambda.md).");
}

}  // namespace stratus::services::lambda

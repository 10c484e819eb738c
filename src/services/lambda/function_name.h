#pragma once
// Function names as Lambda's API accepts them: "my-function", "my-function:alias",
// "arn:aws:lambda:us-east-1:123456789012:function:my-function[:qualifier]" and the partial
// "123456789012:function:my-function[:qualifier]". Pure functions, thread-safe.
#include <string>
#include <string_view>

#include "core/result.h"

namespace stratus::services::lambda {

struct FunctionRef {
  std::string name;
  std::string qualifier;  // "" when none was given
  std::string account;    // from an ARN, else ""
  std::string region;     // from an ARN, else ""
};

// Parses `text` and reconciles it with an explicit `qualifier` parameter (which must agree with
// a qualifier inside the name). Errors are InvalidParameterValueException / ResourceNotFound as
// Lambda answers them.
Result<FunctionRef> ParseFunctionRef(std::string_view text, std::string_view qualifier = {});

// "arn:aws:lambda:<region>:<account>:function:<name>" (+ ":<qualifier>" when given).
std::string FunctionArn(std::string_view region, std::string_view account, std::string_view name,
                        std::string_view qualifier = {});
// "arn:aws:lambda:<region>:<account>:layer:<name>" (+ ":<version>" when non-zero).
std::string LayerArn(std::string_view region, std::string_view account, std::string_view name,
                     int64_t version = 0);

// True for a published version number ("1", "42").
bool IsVersionNumber(std::string_view qualifier);

}  // namespace stratus::services::lambda

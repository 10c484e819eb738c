#pragma once
// Task tokens (.waitForTaskToken, activities): opaque to clients, they name the execution, the
// frame and the dispatch they complete, plus random bytes so they cannot be guessed.
#include <cstdint>
#include <optional>
#include <string>

namespace stratus::services::stepfunctions {

struct TaskTokenParts {
  std::string execution_arn;
  uint64_t frame = 0;
  uint64_t seq = 0;
};

std::string MakeTaskToken(const std::string& execution_arn, uint64_t frame, uint64_t seq);
std::optional<TaskTokenParts> ParseTaskToken(const std::string& token);

}  // namespace stratus::services::stepfunctions

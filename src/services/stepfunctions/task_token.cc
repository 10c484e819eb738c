#include "services/stepfunctions/task_token.h"

#include "core/crypto.h"
#include "core/strings.h"

namespace stratus::services::stepfunctions {

std::string MakeTaskToken(const std::string& execution_arn, uint64_t frame, uint64_t seq) {
  return Base64Encode(execution_arn + "|" + std::to_string(frame) + "|" + std::to_string(seq) + "|" +
                      RandomAlnum(16));
}

std::optional<TaskTokenParts> ParseTaskToken(const std::string& token) {
  auto raw = Base64Decode(token);
  if (!raw) return std::nullopt;
  auto parts = Split(*raw, '|');
  if (parts.size() != 4) return std::nullopt;
  auto frame = ParseInt64(parts[1]);
  auto seq = ParseInt64(parts[2]);
  if (!frame || !seq || !parts[0].starts_with("arn:")) return std::nullopt;
  return TaskTokenParts{parts[0], static_cast<uint64_t>(*frame), static_cast<uint64_t>(*seq)};
}

}  // namespace stratus::services::stepfunctions

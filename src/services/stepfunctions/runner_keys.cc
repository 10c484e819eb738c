// The runner's store keys and derived ids (runner.h): where an execution's, a state machine's
// and a map run's records live, and the trace ids of states. Pure functions; thread-safe.
#include <cstdio>
#include <cstdlib>

#include "core/strings.h"
#include "services/stepfunctions/runner.h"

namespace stratus::services::stepfunctions {

std::string StateSpanId(std::string_view execution_segment_id, int64_t entered_event) {
  uint64_t x = std::strtoull(std::string(execution_segment_id).c_str(), nullptr, 16);
  // splitmix64 of the pair: distinct events give unrelated-looking, distinct ids.
  x ^= static_cast<uint64_t>(entered_event) * 0x9E3779B97F4A7C15ULL;
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  x ^= x >> 31;
  if (x == 0) x = 1;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(x));
  return buf;
}

std::string StateMachineKey(const std::string& account, const std::string& region, const std::string& name) {
  return "stepfunctions/" + account + "/" + region + "/sm/" + name;
}

std::string ExecutionPrefix(const std::string& account, const std::string& region, const std::string& sm) {
  return "stepfunctions/" + account + "/" + region + "/ex/" + sm + "/";
}

std::optional<std::string> MapRunKey(const std::string& map_run_arn) {
  auto parts = Split(map_run_arn, ':');
  if (parts.size() != 8 || parts[0] != "arn" || parts[2] != "states" || parts[5] != "mapRun" ||
      parts[6].find('/') == std::string::npos || parts[7].empty()) {
    return std::nullopt;
  }
  return "stepfunctions/" + parts[4] + "/" + parts[3] + "/mr/" + parts[6] + ":" + parts[7];
}

std::string MapRunIndexPrefix(const std::string& execution_arn) {
  auto parts = Split(execution_arn, ':');
  if (parts.size() != 8) return "stepfunctions/-/mrx/";
  return "stepfunctions/" + parts[4] + "/" + parts[3] + "/mrx/" + parts[6] + "/" + parts[7] + "/";
}

std::optional<ExecKeys> KeysForExecution(const std::string& arn) {
  auto parts = Split(arn, ':');
  if (parts.size() != 8 || parts[0] != "arn" || parts[2] != "states" ||
      (parts[5] != "execution" && parts[5] != "express")) {
    return std::nullopt;
  }
  const std::string& region = parts[3];
  const std::string& account = parts[4];
  std::string base = "stepfunctions/" + account + "/" + region;
  std::string tail = parts[6] + "/" + parts[7];
  return ExecKeys{base + "/ex/" + tail, base + "/xs/" + tail, base + "/xh/" + tail + "/",
                  base + "/xf/" + tail + "/", std::string(kRunningIndexPrefix) + arn};
}

}  // namespace stratus::services::stepfunctions

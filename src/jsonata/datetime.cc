// $now, $millis, $fromMillis, $toMillis.
#include "jsonata/functions.h"

namespace stratus::jsonata::internal {
void AddDateTimeFunctions(std::vector<Builtin>&) {}
std::string FormatDateTime(int64_t, const Value&, const Value&) { return ""; }
}  // namespace stratus::jsonata::internal

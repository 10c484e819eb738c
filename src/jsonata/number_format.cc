// $formatNumber, $formatBase, $formatInteger, $parseInteger.
#include "jsonata/functions.h"

namespace stratus::jsonata::internal {
void AddFormatFunctions(std::vector<Builtin>&) {}
}  // namespace stratus::jsonata::internal

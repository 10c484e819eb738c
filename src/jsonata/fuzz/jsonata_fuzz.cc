// libFuzzer entry: the first line of the input is the expression, the rest (if it parses) the
// JSON input document. Every input must end in a result or an error value: a crash, sanitizer
// report, leak or hang (the evaluation has a time limit) is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "jsonata/jsonata.h"
#include "jsonata/stepfunctions_functions.h"

namespace {
// Keeps single runs short so the fuzzer explores instead of waiting on slow inputs.
constexpr int kTimeLimitMs = 200;
constexpr int kMaxDepth = 300;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  size_t nl = text.find('\n');
  std::string expr = text.substr(0, nl);
  stratus::jsonata::MaybeJson input = stratus::Json{{"a", {1, 2, {{"b", "x"}}}}, {"c", "str"}, {"d", nullptr}};
  if (nl != std::string::npos) {
    stratus::Json j = stratus::ParseJsonOrDiscarded(text.substr(nl + 1));
    if (!j.is_discarded()) input = std::move(j);
  }
  auto compiled = stratus::jsonata::Expression::Compile(expr);
  if (!compiled.ok()) return 0;
  static const stratus::jsonata::Bindings kBindings = [] {
    stratus::jsonata::Bindings b;
    (void)stratus::jsonata::AddStepFunctionsFunctions(b);
    b.Set("v", stratus::Json{{"k", {1, 2, 3}}});
    return b;
  }();
  stratus::jsonata::Limits limits;
  limits.time_limit = std::chrono::milliseconds(kTimeLimitMs);
  limits.max_depth = kMaxDepth;
  auto r = compiled->Evaluate(input, kBindings, limits);
  if (r.ok() && r->has_value()) (void)stratus::DumpJson(**r);
  return 0;
}

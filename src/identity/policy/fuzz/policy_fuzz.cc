// libFuzzer target for the IAM policy parser and the condition evaluator (configure with
// -DSTRATUS_FUZZ=ON and clang; -DSTRATUS_SANITIZE=ON adds ASan+UBSan). Seeds: fuzz/corpus.
#include <cstddef>
#include <cstdint>

#include "identity/policy/fuzz/fuzz_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  stratus::identity::policy::FuzzPolicyOnce(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

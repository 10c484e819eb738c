#pragma once
// Test support for the botocore protocol cases in tests/conformance/protocols: loading suites,
// building each case's model, and turning a case's client-side values (raw blobs, timestamps)
// into canonical JSON. Used by conformance_test.cc and conformance_dump.cc only.
#include <map>
#include <memory>
#include <string>

#include "aws/model/model.h"
#include "core/json.h"

namespace stratus::aws::conformance {

// The directory of the cases: $STRATUS_SOURCE_DIR/tests/conformance/protocols.
std::string CasesDir();
// Reads a JSON file; aborts the test binary when unreadable (a test-setup defect).
Json ReadJsonFile(const std::string& path);
// "id" -> reason, for the direction "input" or "output", from skips.json.
std::map<std::string, std::string> Skips(const std::string& direction);

// The model of one case: the suite's metadata and shapes plus the case's "given" operation.
std::unique_ptr<ServiceModel> CaseModel(const Json& suite, const Json& test_case);

// A case's client-side value for `shape` in canonical JSON: blobs base64, timestamps seconds.
Json Canonical(const Shape& shape, const Json& value);

// Order-insensitive deep equality; numbers compare by value.
bool SameJson(const Json& a, const Json& b);

}  // namespace stratus::aws::conformance

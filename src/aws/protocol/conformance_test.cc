// Runs the botocore protocol input cases from the server's side: each case's serialized request
// must resolve to its operation and decode to its params (in canonical JSON). Cases listed in
// tests/conformance/protocols/skips.json are client-only behaviours and are counted as skipped.
#include <gtest/gtest.h>

#include <cstdio>

#include "aws/protocol/codec.h"
#include "aws/protocol/conformance_support.h"
#include "core/strings.h"

namespace stratus::aws {
namespace {

HttpRequest RequestOf(const Json& serialized) {
  HttpRequest r;
  r.method = serialized.value("method", "POST");
  r.target = serialized.value("uri", "/");
  size_t q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  if (auto h = serialized.find("headers"); h != serialized.end()) {
    for (const auto& [k, v] : h->items()) r.headers.Add(k, v.get<std::string>());
  }
  r.body = serialized.value("body", "");
  return r;
}

class InputConformance : public testing::TestWithParam<std::string> {};

TEST_P(InputConformance, DecodesToParams) {
  const std::string file = GetParam();
  Json suites = conformance::ReadJsonFile(conformance::CasesDir() + "/input-" + file + ".json");
  auto skips = conformance::Skips("input");
  int passed = 0, skipped = 0, failed = 0;
  for (const Json& suite : suites) {
    for (const Json& c : suite["cases"]) {
      std::string id = c["id"].get<std::string>();
      if (skips.count(id)) {
        ++skipped;
        continue;
      }
      auto model = conformance::CaseModel(suite, c);
      ASSERT_NE(model, nullptr) << id;
      const Operation* want = model->FindOperation(c["given"]["name"].get<std::string>());
      auto codec = MakeCodec(model->metadata().protocol, *model);
      HttpRequest request = RequestOf(c["serialized"]);
      auto op = codec->Resolve(request);
      if (!op.ok() || *op != want) {
        ADD_FAILURE() << id << ": resolved to " << (op.ok() ? (*op)->name : op.error().code);
        ++failed;
        continue;
      }
      auto decoded = codec->Decode(**op, request);
      if (!decoded.ok()) {
        ADD_FAILURE() << id << ": " << decoded.error().code << " " << decoded.error().message;
        ++failed;
        continue;
      }
      Json params = c.value("params", Json::object());
      Json expected = want->input != nullptr ? conformance::Canonical(*want->input, params) : params;
      Json actual = decoded->input;
      if (!decoded->payload_member.empty()) {
        // A blob payload travels as raw bytes beside the JSON; an empty one is the same as none.
        const std::string& name = decoded->payload_member;
        if (!decoded->payload.empty()) actual[name] = Base64Encode(decoded->payload);
        if (expected.contains(name) && expected[name] == "") expected.erase(name);
      }
      if (!conformance::SameJson(expected, actual)) {
        ADD_FAILURE() << id << ":\n  expected " << DumpJson(expected).substr(0, 400)
                      << "\n  actual   " << DumpJson(actual).substr(0, 400);
        ++failed;
        continue;
      }
      ++passed;
    }
  }
  std::printf("conformance input %s: %d passed, %d skipped, %d failed\n", file.c_str(), passed,
              skipped, failed);
  RecordProperty("passed", passed);
  RecordProperty("skipped", skipped);
}

INSTANTIATE_TEST_SUITE_P(Protocols, InputConformance,
                         testing::Values("json", "json_1_0", "query", "rest-json", "rest-xml"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) c = isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });

}  // namespace
}  // namespace stratus::aws

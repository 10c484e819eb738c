// Prints, as one JSON array, the response our codecs encode for every output case of the
// botocore protocol suites (tests/conformance/protocols/output-*.json). The python test beside
// the cases (test_output_conformance.py) feeds each one to botocore's own parsers and checks
// that the client reads back the case's data. Usage: conformance_dump [CASES_DIR].
#include <cstdio>

#include "aws/protocol/codec.h"
#include "aws/protocol/conformance_support.h"
#include "core/strings.h"

using namespace stratus;       // NOLINT: a test tool
using namespace stratus::aws;  // NOLINT

namespace {

Json EncodeCase(const Json& suite, const Json& c) {
  Json out = {{"id", c["id"]}};
  auto model = conformance::CaseModel(suite, c);
  if (model == nullptr) {
    out["error"] = "model does not load";
    return out;
  }
  const Operation* op = model->FindOperation(c["given"]["name"].get<std::string>());
  auto codec = MakeCodec(model->metadata().protocol, *model);
  ResponseMeta meta{"foo-id", "host-id"};
  HttpResponse r;
  if (c.contains("errorCode")) {
    Error e(c["errorCode"].get<std::string>(), c.value("errorMessage", ""));
    const Shape* shape = model->FindErrorShape(e.code);
    if (shape != nullptr) {
      e.fields = conformance::Canonical(*shape, c.value("error", Json::object()));
      e.sender_fault = !shape->fault;
      if (shape->error_http_status == 0 && shape->fault) e.http_status = 500;
    }
    r = codec->EncodeError(op, e, meta);
  } else {
    OperationOutput output;
    Json result = c.value("result", Json::object());
    if (op->output != nullptr) {
      if (const Member* p = op->output->PayloadMember(); p != nullptr && p->shape->type == ShapeType::kBlob) {
        if (result.contains(p->name)) {
          output.payload = result[p->name].get<std::string>();
          result.erase(p->name);
        }
      }
      output.body = conformance::Canonical(*op->output, result);
    }
    r = codec->Encode(*op, std::move(output), meta);
  }
  out["status"] = r.status;
  Json headers = Json::array();
  for (const auto& [k, v] : r.headers) headers.push_back({k, v});
  out["headers"] = std::move(headers);
  out["body_base64"] = Base64Encode(r.body);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : conformance::CasesDir();
  Json all = Json::array();
  for (const char* file : {"json", "json_1_0", "query", "rest-json", "rest-xml"}) {
    Json suites = conformance::ReadJsonFile(dir + "/output-" + file + ".json");
    for (const Json& suite : suites) {
      for (const Json& c : suite["cases"]) {
        Json encoded = EncodeCase(suite, c);
        encoded["file"] = file;
        all.push_back(std::move(encoded));
      }
    }
  }
  std::string text = DumpJson(all);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

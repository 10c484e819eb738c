// Prints, as one JSON array, the response our codecs encode for every output case of the
// botocore protocol suites (tests/conformance/protocols/output-*.json). The python test beside
// the cases (test_output_conformance.py) feeds each one to botocore's own parsers and checks
// that the client reads back the case's data. Usage: conformance_dump [CASES_DIR].
//
// `conformance_dump --codec SERVICE PROTOCOL` instead reads a JSON array of jobs from stdin for
// one embedded model: {"decode": {"method","target","headers","body"}} gives the decoded
// operation and input; {"encode": {"operation","output"}} gives the encoded response. Used by
// test_sqs_query.py to hold the SQS query overlay against botocore's own SQS query model.
#include <cstdio>
#include <iostream>
#include <iterator>

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

Json HttpResponseJson(const HttpResponse& r) {
  Json headers = Json::array();
  for (const auto& [k, v] : r.headers) headers.push_back({k, v});
  return {{"status", r.status}, {"headers", std::move(headers)}, {"body_base64", Base64Encode(r.body)}};
}

int CodecJobs(const std::string& service, const std::string& protocol_name) {
  auto protocol = ParseProtocol(protocol_name);
  const ServiceModel* model = protocol ? FindEmbeddedModel(service, *protocol) : nullptr;
  if (model == nullptr) {
    std::fprintf(stderr, "no model %s for %s\n", service.c_str(), protocol_name.c_str());
    return 2;
  }
  auto codec = MakeCodec(*protocol, *model);
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  Json jobs = ParseJsonOrDiscarded(text);
  Json out = Json::array();
  for (const Json& job : jobs) {
    if (job.contains("decode")) {
      const Json& d = job["decode"];
      HttpRequest r;
      r.method = d.value("method", "POST");
      r.target = d.value("target", "/");
      size_t q = r.target.find('?');
      r.path = r.target.substr(0, q);
      if (q != std::string::npos) r.query = r.target.substr(q + 1);
      Json headers = d.value("headers", Json::object());
      for (const auto& [k, v] : headers.items()) r.headers.Add(k, v.get<std::string>());
      r.body = d.value("body", "");
      auto op = codec->Resolve(r);
      if (!op.ok()) {
        out.push_back({{"error", op.error().code}});
        continue;
      }
      auto decoded = codec->Decode(**op, r);
      if (!decoded.ok()) {
        out.push_back({{"error", decoded.error().code + ": " + decoded.error().message}});
        continue;
      }
      Json result = {{"operation", (*op)->name}, {"input", decoded->input}};
      if (!decoded->payload_member.empty()) {
        result["payload_member"] = decoded->payload_member;
        result["payload_base64"] = Base64Encode(decoded->payload);
      }
      out.push_back(std::move(result));
    } else {
      const Json& e = job["encode"];
      const Operation* op = model->FindOperation(e.value("operation", ""));
      if (op == nullptr) {
        out.push_back({{"error", "no operation"}});
        continue;
      }
      OperationOutput output;
      output.body = e.value("output", Json::object());
      if (e.contains("payload_base64")) output.payload = Base64Decode(e["payload_base64"].get<std::string>());
      out.push_back(HttpResponseJson(codec->Encode(*op, std::move(output), {"req-id", ""})));
    }
  }
  std::string dumped = DumpJson(out);
  std::fwrite(dumped.data(), 1, dumped.size(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--codec") return CodecJobs(argv[2], argv[3]);
  if (argc == 3 && std::string(argv[1]) == "--protocols") {
    // The protocols an embedded model is served with, own first: "json query".
    for (Protocol p : EmbeddedModelProtocols(argv[2])) std::printf("%s\n", std::string(ProtocolName(p)).c_str());
    return 0;
  }
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

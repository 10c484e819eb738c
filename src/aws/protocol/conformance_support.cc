#include "aws/protocol/conformance_support.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "aws/protocol/internal.h"
#include "core/strings.h"

namespace stratus::aws::conformance {

std::string CasesDir() {
  const char* root = std::getenv("STRATUS_SOURCE_DIR");
  return std::string(root != nullptr ? root : ".") + "/tests/conformance/protocols";
}

Json ReadJsonFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  Json j = ParseJsonOrDiscarded(ss.str());
  if (!in || j.is_discarded()) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::abort();
  }
  return j;
}

std::map<std::string, std::string> Skips(const std::string& direction) {
  std::map<std::string, std::string> out;
  Json skips = ReadJsonFile(CasesDir() + "/skips.json");
  for (const auto& [id, reason] : skips[direction].items()) out[id] = reason.get<std::string>();
  return out;
}

std::unique_ptr<ServiceModel> CaseModel(const Json& suite, const Json& test_case) {
  auto model = ServiceModel::FromParts(DumpJson(suite["metadata"]), DumpJson(suite["shapes"]));
  if (!model.ok()) return nullptr;
  if (!(*model)->AddOperation(DumpJson(test_case["given"])).ok()) return nullptr;
  return std::move(model).value();
}

Json Canonical(const Shape& shape, const Json& value) {
  switch (shape.type) {
    case ShapeType::kStructure: {
      if (shape.document || !value.is_object()) return value;
      Json out = Json::object();
      for (const auto& [k, v] : value.items()) {
        if (v.is_null()) continue;  // clients send nothing for null
        const Member* m = shape.FindMember(k);
        out[k] = m != nullptr ? Canonical(*m->shape, v) : v;
      }
      return out;
    }
    case ShapeType::kList: {
      if (!value.is_array()) return value;
      Json out = Json::array();
      for (const Json& v : value) out.push_back(Canonical(*shape.list_member->shape, v));
      return out;
    }
    case ShapeType::kMap: {
      if (!value.is_object()) return value;
      Json out = Json::object();
      for (const auto& [k, v] : value.items()) out[k] = Canonical(*shape.map_value->shape, v);
      return out;
    }
    case ShapeType::kBlob:
      return value.is_string() ? Json(Base64Encode(value.get<std::string>())) : value;
    case ShapeType::kTimestamp:
      if (auto secs = internal::CanonicalSeconds(value)) return internal::EpochJson(*secs);
      return value;
    default: return value;
  }
}

bool SameJson(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>();
    double y = b.get<double>();
    return x == y || std::fabs(x - y) <= 1e-9 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (const auto& [k, v] : a.items()) {
      auto it = b.find(k);
      if (it == b.end() || !SameJson(v, *it)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!SameJson(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace stratus::aws::conformance

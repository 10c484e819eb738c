#include "jsonata/stepfunctions_functions.h"

#include <openssl/evp.h>

#include <cmath>
#include <random>

#include "core/crypto.h"
#include "core/random.h"

namespace stratus::jsonata {

namespace {

constexpr const char* kQueryError = "States.QueryEvaluationError";
// Largest array $range may build (the reference caps `..` at 1e7 items; AWS documents 1000
// for $range, which we accept as the stricter bound).
constexpr double kMaxRangeItems = 1000;

Error QueryError(std::string message) { return Error(kQueryError, std::move(message)); }

bool IsInteger(const MaybeJson& v) {
  return v && v->is_number() && std::floor(v->get<double>()) == v->get<double>();
}

Result<MaybeJson> Partition(const std::vector<MaybeJson>& a) {
  if (!a[0]) return MaybeJson();
  if (!IsInteger(a[1]) || a[1]->get<double>() < 1) return QueryError("$partition: size must be a positive integer");
  const Json& arr = *a[0];
  size_t size = static_cast<size_t>(a[1]->get<double>());
  Json out = Json::array();
  Json chunk = Json::array();
  for (const auto& v : arr) {
    chunk.push_back(v);
    if (chunk.size() == size) {
      out.push_back(std::move(chunk));
      chunk = Json::array();
    }
  }
  if (!chunk.empty()) out.push_back(std::move(chunk));
  return MaybeJson(std::move(out));
}

Result<MaybeJson> Range(const std::vector<MaybeJson>& a) {
  if (!a[0] || !a[1]) return MaybeJson();
  double start = a[0]->get<double>(), end = a[1]->get<double>();
  double step = a.size() > 2 && a[2] ? a[2]->get<double>() : 1;
  if (step == 0 || !std::isfinite(step)) return QueryError("$range: step must be a non-zero number");
  double count = std::floor((end - start) / step) + 1;
  if (count > kMaxRangeItems) return QueryError("$range: the result would have more than 1000 items");
  Json out = Json::array();
  for (double i = 0; i < count; ++i) {
    double v = start + i * step;
    if (std::floor(v) == v && std::fabs(v) < 9007199254740992.0) {
      out.push_back(static_cast<int64_t>(v));
    } else {
      out.push_back(v);
    }
  }
  return MaybeJson(std::move(out));
}

Result<MaybeJson> Hash(const std::vector<MaybeJson>& a) {
  if (!a[0]) return MaybeJson();
  std::string algo = a.size() > 1 && a[1] ? a[1]->get<std::string>() : "SHA-256";
  const char* name = algo == "MD5" ? "MD5" : algo == "SHA-1" ? "SHA1" : algo == "SHA-256" ? "SHA256"
                   : algo == "SHA-384" ? "SHA384" : algo == "SHA-512" ? "SHA512" : nullptr;
  if (name == nullptr) return QueryError("$hash: unsupported algorithm " + algo);
  const EVP_MD* md = EVP_get_digestbyname(name);
  if (md == nullptr) return QueryError("$hash: algorithm unavailable " + algo);
  const std::string& data = a[0]->get_ref<const std::string&>();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) return QueryError("$hash failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[out[i] >> 4]);
    hex.push_back(kHex[out[i] & 15]);
  }
  return MaybeJson(Json(hex));
}

Result<MaybeJson> Random(const std::vector<MaybeJson>& a) {
  if (!a.empty() && a[0]) {
    // a seed makes the sequence deterministic, as AWS documents
    std::mt19937_64 rng(static_cast<uint64_t>(a[0]->get<double>()));
    return MaybeJson(Json(std::uniform_real_distribution<double>(0.0, 1.0)(rng)));
  }
  std::mt19937_64& rng = ThreadRng();
  return MaybeJson(Json(std::uniform_real_distribution<double>(0.0, 1.0)(rng)));
}

Result<MaybeJson> Uuid(const std::vector<MaybeJson>&) { return MaybeJson(Json(NewUuid())); }

Result<MaybeJson> Parse(const std::vector<MaybeJson>& a) {
  if (!a[0]) return MaybeJson();
  Json j = ParseJsonOrDiscarded(a[0]->get_ref<const std::string&>());
  if (j.is_discarded()) return QueryError("$parse: the argument is not valid JSON");
  return MaybeJson(std::move(j));
}

}  // namespace

Status AddStepFunctionsFunctions(Bindings& b) {
  STRATUS_RETURN_IF_ERROR(b.SetFunction("partition", "<an:a>", 2, Partition));
  STRATUS_RETURN_IF_ERROR(b.SetFunction("range", "<nnn?:a>", 3, Range));
  STRATUS_RETURN_IF_ERROR(b.SetFunction("hash", "<s-s?:s>", 2, Hash));
  STRATUS_RETURN_IF_ERROR(b.SetFunction("random", "<n?:n>", 1, Random));
  STRATUS_RETURN_IF_ERROR(b.SetFunction("uuid", "<:s>", 0, Uuid));
  STRATUS_RETURN_IF_ERROR(b.SetFunction("parse", "<s-:x>", 1, Parse));
  return Status::Ok();
}

void BindStates(Bindings& b, const Json& states) { b.Set("states", states); }

}  // namespace stratus::jsonata

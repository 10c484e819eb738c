#include "services/apigateway/common.h"

#include <algorithm>
#include <set>

#include "core/crypto.h"
#include "core/http.h"
#include "core/strings.h"

namespace stratus::services::apigateway {

namespace {

constexpr std::string_view kIdAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

// Members whose values are booleans or numbers although patch values arrive as strings.
const std::set<std::string, std::less<>>& BoolMembers() {
  static const std::set<std::string, std::less<>> k = {
      "apiKeyRequired", "enabled", "cacheClusterEnabled", "tracingEnabled",
      "disableExecuteApiEndpoint", "metricsEnabled", "dataTraceEnabled", "cachingEnabled",
      "cacheDataEncrypted", "requireAuthorizationForCacheControl", "validateRequestBody",
      "validateRequestParameters", "autoDeploy", "allowCredentials", "enableSimpleResponses"};
  return k;
}
const std::set<std::string, std::less<>>& NumberMembers() {
  static const std::set<std::string, std::less<>> k = {
      "minimumCompressionSize", "timeoutInMillis", "authorizerResultTtlInSeconds", "rateLimit",
      "burstLimit", "limit", "offset", "throttlingBurstLimit", "throttlingRateLimit",
      "cacheTtlInSeconds", "percentTraffic", "maxAge"};
  return k;
}

Json Coerce(std::string_view member, const Json* current, const Json& value) {
  if (!value.is_string()) return value;
  const std::string& s = value.get_ref<const std::string&>();
  bool as_bool = (current && current->is_boolean()) || BoolMembers().count(member);
  bool as_number = (current && current->is_number()) || NumberMembers().count(member);
  if (as_bool && (s == "true" || s == "false")) return s == "true";
  if (as_number) {
    if (auto i = ParseInt64(s)) return *i;
    if (auto d = ParseDouble(s)) return *d;
  }
  return value;
}

std::vector<std::string> PointerSegments(std::string_view path) {
  std::vector<std::string> out;
  if (path.empty() || path == "/") return out;
  if (path.front() == '/') path.remove_prefix(1);
  for (auto& seg : Split(path, '/')) out.push_back(ReplaceAll(ReplaceAll(seg, "~1", "/"), "~0", "~"));
  return out;
}

}  // namespace

Error NotFound(std::string message) { return Error("NotFoundException", std::move(message), 404); }
Error Conflict(std::string message) { return Error("ConflictException", std::move(message), 409); }
Error BadRequest(std::string message) {
  return Error("BadRequestException", std::move(message), 400);
}
Error LimitExceeded(std::string message) {
  return Error("LimitExceededException", std::move(message), 429);
}

std::string NewId(size_t length) { return RandomAlnum(length, kIdAlphabet); }
std::string NewApiKeyValue() { return RandomAlnum(40); }

Result<Json> LoadJson(store::ReadTxn& txn, const std::string& key) {
  STRATUS_ASSIGN_OR_RETURN(auto raw, txn.Get(key));
  if (!raw) return Json();
  Json j = ParseJsonOrDiscarded(*raw);
  if (j.is_discarded()) return InternalFailure("corrupt record at " + key);
  return j;
}

Status SaveJson(store::WriteTxn& txn, const std::string& key, const Json& value) {
  return txn.Put(key, DumpJson(value));
}

std::string PageToken(const std::string& last) { return Base64Encode(last); }
Result<std::string> PageAfter(const std::string& token) {
  auto d = Base64Decode(token);
  if (!d) return BadRequest("Invalid position parameter");
  return *d;
}

const Json& Member(const Json& j, std::string_view key) {
  static const Json kEmpty = Json::object();
  if (!j.is_object()) return kEmpty;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return kEmpty;
  return *it;
}

void NormalizeRestDoc(Json& doc) {
  if (!doc.is_object()) return;
  for (const char* k : {"resources", "authorizers", "validators", "models", "gatewayResponses",
                        "deployments", "stages"}) {
    if (!doc.contains(k) || !doc[k].is_object()) doc[k] = Json::object();
  }
  if (!doc.contains("api")) doc["api"] = Json::object();
}

void NormalizeHttpDoc(Json& doc) {
  if (!doc.is_object()) return;
  for (const char* k : {"routes", "integrations", "stages", "deployments", "authorizers"}) {
    if (!doc.contains(k) || !doc[k].is_object()) doc[k] = Json::object();
  }
  if (!doc.contains("api")) doc["api"] = Json::object();
}

const Json* FindCaseless(const Json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (IEquals(it.key(), key)) return &it.value();
  }
  return nullptr;
}

Status ApplyPatch(Json& target, const Json& operations, const std::vector<std::string>& allowed) {
  if (!operations.is_array()) return Status::Ok();
  for (const auto& op_json : operations) {
    std::string op = op_json.value("op", "");
    std::string path = op_json.value("path", "");
    Json value = op_json.contains("value") ? op_json["value"] : Json();
    auto segs = PointerSegments(path);
    if (segs.empty()) return BadRequest("Invalid patch path " + path);
    bool ok_path = allowed.empty() ||
                   std::find(allowed.begin(), allowed.end(), segs[0]) != allowed.end() ||
                   std::find(allowed.begin(), allowed.end(), "*") != allowed.end();
    if (!ok_path) {
      return BadRequest("Invalid patch path '" + path + "' specified for op '" + op +
                        "'. Must be one of: [" + Join(allowed, ", ") + "]");
    }
    if (op == "copy") {
      auto from = PointerSegments(op_json.value("from", ""));
      const Json* src = &target;
      for (const auto& s : from) {
        if (!src->is_object() || !src->contains(s)) {
          return BadRequest("Invalid patch path " + op_json.value("from", ""));
        }
        src = &(*src)[s];
      }
      value = *src;
      op = "replace";
    }
    if (op != "add" && op != "remove" && op != "replace" && op != "move" && op != "test") {
      return BadRequest("Invalid patch operation specified. Must be one of: [add, remove, "
                        "replace, move, test, copy]");
    }
    if (op == "test" || op == "move") continue;
    // Walk to the parent, creating objects on add/replace.
    Json* parent = &target;
    for (size_t i = 0; i + 1 < segs.size(); ++i) {
      Json& next = (*parent)[segs[i]];
      if (next.is_null()) {
        if (op == "remove") {
          parent = nullptr;
          break;
        }
        next = Json::object();
      }
      if (next.is_array()) {
        // A list member addressed by value: "/binaryMediaTypes/image~1png".
        if (i + 2 != segs.size()) return BadRequest("Invalid patch path " + path);
        const std::string& item = segs.back();
        auto found = std::find(next.begin(), next.end(), Json(item));
        if (op == "remove") {
          if (found != next.end()) next.erase(found);
        } else if (found == next.end()) {
          next.push_back(item);
        }
        parent = nullptr;
        break;
      }
      if (!next.is_object()) return BadRequest("Invalid patch path " + path);
      parent = &next;
    }
    if (!parent) continue;
    const std::string& last = segs.back();
    if (op == "remove") {
      if (parent->is_object()) {
        if ((*parent)[last].is_array() && !value.is_null()) {
          auto& arr = (*parent)[last];
          auto found = std::find(arr.begin(), arr.end(), value);
          if (found != arr.end()) arr.erase(found);
        } else {
          parent->erase(last);
        }
      }
      continue;
    }
    Json* current = parent->contains(last) ? &(*parent)[last] : nullptr;
    if (current && current->is_array()) {
      if (op == "add") {
        if (std::find(current->begin(), current->end(), value) == current->end()) {
          current->push_back(value);
        }
      } else {
        (*current) = Json::array({value});
      }
      continue;
    }
    (*parent)[last] = Coerce(last, current, value);
  }
  return Status::Ok();
}

}  // namespace stratus::services::apigateway

#pragma once
// Shared by the REST (v1) and HTTP (v2) halves of API Gateway: the account/region scope, error
// constructors named as API Gateway names them, id generation, store key layout and JSON record
// helpers. Pure functions; thread-safe.
//
// Store layout (every record is JSON):
//   apigw/<acct>/<region>/rest/<apiId>     a REST API and everything under it (resources,
//                                          methods, authorizers, deployments, stages, ...)
//   apigw/<acct>/<region>/http/<apiId>     an HTTP API and everything under it
//   apigw/<acct>/<region>/key/<keyId>      an API key
//   apigw/<acct>/<region>/keyval/<value>   API key value -> key id
//   apigw/<acct>/<region>/plan/<planId>    a usage plan (with its key ids)
//   apigw/<acct>/<region>/account          account settings (GetAccount)
//   apigw/id/<apiId>                       {"account","region","kind"} so the data plane finds an
//                                          API from the id in the host or path alone
// One API is one record: every change is one read-modify-write transaction, and a deployment
// snapshots the API's routes into the record.
#include <initializer_list>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/result.h"
#include "store/store.h"

namespace stratus::services::apigateway {

struct Scope {
  std::string account;
  std::string region;
};

// Errors of both API Gateway APIs (same codes in v1 and v2).
Error NotFound(std::string message);
Error Conflict(std::string message);
Error BadRequest(std::string message);
Error LimitExceeded(std::string message);

// Lowercase alphanumeric ids as API Gateway makes them (10 chars for APIs and keys' ids, 6 for
// resources and authorizers, 7 for v2 routes and integrations).
std::string NewId(size_t length);
// An API key value: 40 chars of [A-Za-z0-9].
std::string NewApiKeyValue();

// Copies the members `names` that `from` has into `to`.
inline void CopyIf(Json& to, const Json& from, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (from.contains(n)) to[n] = from[n];
  }
}

namespace keys {
inline std::string Base(const Scope& s) { return "apigw/" + s.account + "/" + s.region + "/"; }
inline std::string RestApi(const Scope& s, std::string_view id) {
  return Base(s) + "rest/" + std::string(id);
}
inline std::string HttpApi(const Scope& s, std::string_view id) {
  return Base(s) + "http/" + std::string(id);
}
inline std::string ApiKey(const Scope& s, std::string_view id) {
  return Base(s) + "key/" + std::string(id);
}
inline std::string ApiKeyValue(const Scope& s, std::string_view value) {
  return Base(s) + "keyval/" + std::string(value);
}
inline std::string UsagePlan(const Scope& s, std::string_view id) {
  return Base(s) + "plan/" + std::string(id);
}
inline std::string Account(const Scope& s) { return Base(s) + "account"; }
inline std::string ApiIndex(std::string_view id) { return "apigw/id/" + std::string(id); }
}  // namespace keys

// Reads a JSON record; a null Json when absent; InternalFailure when corrupt.
Result<Json> LoadJson(store::ReadTxn& txn, const std::string& key);
Status SaveJson(store::WriteTxn& txn, const std::string& key, const Json& value);

// Seconds since the epoch (canonical JSON timestamps are numbers of seconds).
inline double EpochSeconds(int64_t now_ms) { return static_cast<double>(now_ms / 1000); }

// An opaque pagination token over a sorted listing: the last key returned.
std::string PageToken(const std::string& last);
Result<std::string> PageAfter(const std::string& token);

// Applies API Gateway patch operations (UpdateX's patchOperations: op add/remove/replace/copy,
// JSON-pointer-like paths with "~1" for '/') to `target`. Values arrive as strings; members whose
// current value (or name, for absent ones) is boolean or numeric get converted. Paths not in
// `allowed` (first segment) fail with BadRequestException naming the path, as AWS does.
Status ApplyPatch(Json& target, const Json& operations, const std::vector<std::string>& allowed);

// The object member `key` of `j`, or an empty object when absent: a reference that stays valid
// (nlohmann's value() returns a temporary, which must not be iterated through items()).
const Json& Member(const Json& j, std::string_view key);

// Adds the collection members every API record has (so const lookups never miss).
void NormalizeRestDoc(Json& doc);
void NormalizeHttpDoc(Json& doc);

// Case-insensitive map lookup of a header-like key in a JSON object.
const Json* FindCaseless(const Json& object, std::string_view key);

}  // namespace stratus::services::apigateway

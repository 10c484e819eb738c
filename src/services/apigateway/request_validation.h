#pragma once
// REST API request validation: what a method's request validator enforces before the
// integration runs.
//
//  * Parameters (validateRequestParameters): every `method.request.{querystring,header,path}.X`
//    entry of the method's requestParameters whose value is true must be present.
//  * Body (validateRequestBody): the method's requestModels pick a Model by the request's
//    content type (or `$default`); the body must be JSON that the Model's schema (JSON Schema
//    draft 4) accepts. Messages follow the validator AWS uses (its $context.error
//    .validationErrorString), e.g. `object has missing required properties (["name"])`.
//
// Supported keywords: type, enum, properties, patternProperties, additionalProperties
// (boolean or schema), required, minProperties/maxProperties, items (schema or list),
// additionalItems, minItems/maxItems, uniqueItems, minLength/maxLength (code points), pattern
// (RE2, unanchored search), minimum/maximum with exclusiveMinimum/exclusiveMaximum, multipleOf,
// allOf/anyOf/oneOf/not, definitions and $ref (local `#/...` pointers, another model of the
// same API as `https://apigateway.amazonaws.com/restapis/<id>/models/<name>`, and
// `#/definitions/<name>` or `#/components/schemas/<name>` naming a model, as imported
// OpenAPI documents write). `format`, `dependencies` and unknown keywords are ignored.
//
// Hostile schemas are bounded: nesting and $ref chains by kMaxSchemaDepth, the work of one
// validation by kMaxValidationSteps, patterns by kMaxPatternBytes and RE2's memory budget.
// A schema that cannot be evaluated (an unresolvable $ref, a $ref cycle, a bad pattern, a
// bound exceeded) fails closed: the body is refused and `config_error` says why, for a log
// line.
//
// All functions are pure (no shared state) and thread-safe.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace re2 {
class RE2;
}

namespace stratus::services::apigateway {

inline constexpr int kMaxSchemaDepth = 128;              // nested subschemas and $ref hops
inline constexpr int64_t kMaxValidationSteps = 2'000'000;  // subschema visits per request
inline constexpr size_t kMaxPatternBytes = 8192;
inline constexpr size_t kMaxReportedErrors = 64;

struct BodyValidation {
  bool ok = true;
  std::vector<std::string> errors;  // AWS-style messages, in schema order
  std::string config_error;         // non-empty: the schema could not be evaluated

  // `[first, second]`: $context.error.validationErrorString.
  std::string ErrorString() const;
};

// The model name that requestModels maps `content_type` to (parameters such as `; charset`
// ignored, case-insensitive), else `$default`'s, else empty (no body validation).
std::string SelectRequestModel(const Json& request_models, std::string_view content_type);

// One deployment's models, parsed once, with the patterns their schemas use compiled once.
// Immutable after construction: concurrent validations may share it.
class ModelSet {
 public:
  // `models`: name -> Model record whose "schema" is JSON text. `api_id`: the API they belong
  // to, for absolute model $refs.
  ModelSet(const Json& models, std::string api_id);
  ~ModelSet();

  // Validates `body` against model `model_name`. An empty body is validated as `{}`; a body
  // that is not JSON fails.
  BodyValidation ValidateBody(const std::string& model_name, std::string_view body) const;

  // Validates a parsed instance against a schema that may $ref this set's models.
  BodyValidation Validate(const Json& schema, const Json& instance) const;

  // The parsed schema of a model, or null when absent (or not a JSON object: `bad` is set).
  // "Empty", unless the API defines it, is AWS's built-in `{"type": "object"}` model.
  const Json* Schema(const std::string& name, bool* bad) const;
  // A pattern compiled at construction, or null.
  const re2::RE2* Pattern(const std::string& pattern) const;
  const std::string& api_id() const { return api_id_; }

 private:
  std::string api_id_;
  std::map<std::string, Json, std::less<>> schemas_;
  std::map<std::string, bool, std::less<>> bad_;  // names whose schema is not a JSON object
  std::map<std::string, std::unique_ptr<re2::RE2>, std::less<>> patterns_;
};

// Validates `body` against model `model_name` of `models` (the deployment's models: name ->
// Model record whose "schema" is JSON text). `api_id` is the API the models belong to, for
// absolute model $refs. An empty body is validated as `{}`; a body that is not JSON fails.
BodyValidation ValidateRequestBody(const Json& models, std::string_view api_id,
                                   const std::string& model_name, std::string_view body);

// Validates a parsed instance against a parsed schema (the unit tests' entry point; also used
// by ValidateRequestBody). `models` resolves model $refs as above.
BodyValidation ValidateJson(const Json& schema, const Json& instance, const Json& models,
                            std::string_view api_id);

// The names of required parameters (`method.request.<where>.<name>: true`) that `present`
// says are absent, in requestParameters order. `present` receives the location
// ("querystring", "header" or "path") and the name.
std::vector<std::string> MissingRequiredParameters(
    const Json& request_parameters,
    const std::function<bool(std::string_view where, std::string_view name)>& present);

// `Missing required request parameters: [a, b]` (the BAD_REQUEST_PARAMETERS message).
std::string MissingParametersMessage(const std::vector<std::string>& missing);

// Checks a model schema when it is stored (CreateModel, UpdateModel, import): a JSON object
// whose keywords have the types draft 4 gives them, patterns that compile, nesting within
// bounds. Returns why it is refused, or nullopt.
std::optional<std::string> CheckModelSchema(std::string_view schema_text);

}  // namespace stratus::services::apigateway

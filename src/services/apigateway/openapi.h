#pragma once
// OpenAPI 3 / Swagger 2 documents with the x-amazon-apigateway-* extensions, as ImportRestApi,
// PutRestApi (SAM's DefinitionBody path), the HTTP API's ImportApi and GetExport use them.
// Pure functions; thread-safe.
#include <string>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace stratus::services::apigateway {

// A REST API read from a document, in the record shapes RestApis stores.
struct ImportedApi {
  std::string name;
  std::string description;
  std::string version;
  Json binary_media_types = Json::array();
  std::string api_key_source;
  std::string policy;
  Json authorizers = Json::object();        // name -> Authorizer (no id)
  Json validators = Json::object();         // name -> RequestValidator (no id)
  Json models = Json::object();             // name -> Model
  Json gateway_responses = Json::object();  // type -> GatewayResponse
  // path -> {VERB -> Method}; methods name authorizers by "authorizerName" and validators by
  // "validatorName" until the importer resolves them to ids.
  Json paths = Json::object();
  Json cors = Json();                       // x-amazon-apigateway-cors (HTTP APIs)
  std::vector<std::string> warnings;
};

// Parses JSON or YAML text into JSON (YAML scalars become booleans, numbers or null where they
// read as such, unless quoted). BadRequestException when the text is neither.
Result<Json> ParseJsonOrYaml(const std::string& text);

// Reads an OpenAPI 3 or Swagger 2 document. Fails with BadRequestException naming the problem
// for documents that are not OpenAPI, malformed paths, unknown integration types, or
// authorizers that are referenced but not defined.
Result<ImportedApi> ParseOpenApi(const std::string& text, const std::string& region);

// The Swagger 2 (oas30 = false) or OpenAPI 3 document of a deployed REST API snapshot, with the
// x-amazon-apigateway-integration extensions when `integrations`.
Json ExportOpenApi(const Json& api, const Json& snapshot, const std::string& stage,
                   const std::string& region, bool oas30, bool integrations);

}  // namespace stratus::services::apigateway

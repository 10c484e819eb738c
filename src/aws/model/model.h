#pragma once
// AWS API models (the service-2.json files in models/, embedded in the binary) as typed,
// immutable structures that the protocol codecs and validation read.
//
// Models are loaded lazily: the first request to a service parses its model once (thread-safe),
// so a service costs no memory until it is used. A loaded model lives until the process exits.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace stratus::aws {

enum class Protocol { kQuery, kJson, kRestJson, kRestXml, kEc2 };
std::string_view ProtocolName(Protocol p);

enum class ShapeType {
  kStructure, kList, kMap, kString, kInteger, kLong, kFloat, kDouble, kBoolean,
  kTimestamp, kBlob, kBigDecimal, kByte, kShort,
};

struct Shape;

// Where a member of an input/output structure travels in rest protocols.
enum class Location { kBody, kUri, kQuery, kHeader, kHeaders /* prefix map */, kStatusCode };

struct Member {
  std::string name;            // the member name handlers see in JSON
  const Shape* shape = nullptr;
  Location location = Location::kBody;
  std::string location_name;   // wire name: header/query/uri label/xml element ("" = name)
  std::string query_name;      // ec2 queryName
  std::string json_name;       // json protocols' jsonName
  std::string timestamp_format;  // member-level override: iso8601, rfc822, unixTimestamp
  bool xml_attribute = false;
  bool flattened = false;      // member-level flattened (query/xml lists and maps)
  bool host_label = false;
  bool idempotency_token = false;
  bool json_value = false;     // header carrying base64 JSON
  bool streaming = false;      // blob payload streamed (S3 Body)
  bool event_payload = false;
  std::optional<std::string> xml_namespace_uri;
  std::optional<std::string> xml_namespace_prefix;
  // The member's own timestamp format, else its shape's ("" = the protocol's default).
  const std::string& EffectiveTimestampFormat() const;

  // The element / key name used on the wire.
  const std::string& WireName() const { return location_name.empty() ? name : location_name; }
};

struct Shape {
  std::string name;
  ShapeType type = ShapeType::kString;

  // structure
  std::vector<Member> members;                 // in model order
  std::vector<std::string> required;
  std::string payload;                         // member bound to the whole body, if any
  bool exception = false;                      // an error shape
  bool fault = false;                          // server fault (Receiver): error.senderFault false
  std::string error_code;                      // error.code override ("" = shape name)
  int error_http_status = 0;                   // error.httpStatusCode (0 = protocol default)
  bool document = false;
  bool union_ = false;
  bool event_stream = false;

  // list / map
  std::unique_ptr<Member> list_member;         // "member"
  std::unique_ptr<Member> map_key;             // "key"
  std::unique_ptr<Member> map_value;           // "value"
  bool flattened = false;

  // scalars
  std::vector<std::string> enum_values;
  std::optional<double> min;                   // length for string/list/map/blob, value for numbers
  std::optional<double> max;
  std::string pattern;
  std::string timestamp_format;
  bool streaming = false;                      // blob/string payload that streams
  bool sensitive = false;
  std::string location_name;                   // shape-level locationName (xml element name)
  std::optional<std::string> xml_namespace_uri;
  std::optional<std::string> xml_namespace_prefix;

  const Member* FindMember(std::string_view member_name) const;
  // The member bound to the body by `payload`, or null.
  const Member* PayloadMember() const;
  bool IsRequired(std::string_view member_name) const;
};

struct Operation {
  std::string name;
  std::string http_method = "POST";
  std::string request_uri = "/";
  int response_code = 200;
  const Shape* input = nullptr;    // may be null (no input)
  const Shape* output = nullptr;   // may be null
  std::string result_wrapper;      // query protocol: output.resultWrapper
  std::vector<const Shape*> errors;
  bool auth_none = false;          // "authtype": "none" (unsigned operations)
  std::string host_prefix;         // endpoint.hostPrefix
  std::optional<std::string> input_xml_root;  // rest-xml: input's locationName
  std::optional<std::string> input_xml_namespace;
  bool http_checksum_required = false;
  // "deprecated": S3 keeps old operations whose requests are identical on the wire to their
  // successors' (GetBucketLifecycle vs GetBucketLifecycleConfiguration); routing prefers the new.
  bool deprecated = false;
};

struct Metadata {
  Protocol protocol = Protocol::kJson;
  std::string api_version;
  std::string json_version;        // "1.0" / "1.1"
  std::string target_prefix;       // X-Amz-Target prefix
  std::string signing_name;        // SigV4 service name (falls back to endpoint_prefix)
  std::string endpoint_prefix;
  std::string service_id;
  std::string xml_namespace;       // query/rest-xml response namespace
  std::string timestamp_format;    // service-level override, rarely present
  bool aws_query_compatible = false;
  std::vector<Protocol> protocols;  // "protocols" (falls back to {protocol})
};

// Parses a protocol name as the models spell it ("rest-json", "json", ...).
std::optional<Protocol> ParseProtocol(std::string_view name);

class ServiceModel {
 public:
  // Parses a service-2.json document (as in the models/ folder or the protocol test cases).
  static Result<std::unique_ptr<ServiceModel>> Parse(std::string_view json_text);
  // Builds a model from protocol-test parts: metadata + shapes (+ operations added with AddOperation).
  static Result<std::unique_ptr<ServiceModel>> FromParts(std::string_view metadata_json,
                                                         std::string_view shapes_json);
  // Builds a model from an already-parsed service-2.json document (used after overlays merge).
  static Result<std::unique_ptr<ServiceModel>> FromJson(const Json& document);
  // Adds one operation definition ("given" of a protocol test case).
  Status AddOperation(std::string_view operation_json);
  // Finds the error shape a handler's error code names: by shape name or by its error.code
  // (so a handler may say "QueueDoesNotExist" or "AWS.SimpleQueueService.NonExistentQueue").
  const Shape* FindErrorShape(std::string_view code) const;

  const Metadata& metadata() const { return metadata_; }
  const Operation* FindOperation(std::string_view name) const;
  const Shape* FindShape(std::string_view name) const;
  const std::vector<std::unique_ptr<Operation>>& operations() const { return operations_; }

  ServiceModel() = default;
  ServiceModel(const ServiceModel&) = delete;
  ServiceModel& operator=(const ServiceModel&) = delete;

 private:
  friend class ModelBuilder;
  Metadata metadata_;
  std::unordered_map<std::string, std::unique_ptr<Shape>> shapes_;
  std::vector<std::unique_ptr<Operation>> operations_;
  std::unordered_map<std::string, const Operation*> operations_by_name_;
  std::unordered_map<std::string, const Shape*> errors_by_code_;  // shape name and error.code
};

// The embedded models by file stem ("sqs-2012-11-05") or by short name ("sqs"). Loads lazily and
// caches; thread-safe. Fails fast (aborting with a message) if an embedded model is malformed,
// because that is a build defect, not a request error. Returns null for an unknown name.
//
// Overlays (models/overlays/<stem>.json, embedded beside the models) adapt an AWS model:
//   {"patch": <merge patch for every protocol>,
//    "protocols": {"query": <merge patch for the query variant>}}
// (RFC 7386 JSON merge patches). `protocol` picks a variant: nullopt or the model's own protocol
// gives the model (with "patch" applied); another protocol gives the variant an overlay declares
// for it (SQS over query), or null when there is none. Each variant is parsed once, on first use.
const ServiceModel* FindEmbeddedModel(std::string_view name,
                                      std::optional<Protocol> protocol = std::nullopt);
// Names of the embedded models ("sqs-2012-11-05", ...).
std::vector<std::string> EmbeddedModelNames();
// Every protocol an embedded model can be served with: its own first, then its overlay variants.
std::vector<Protocol> EmbeddedModelProtocols(std::string_view name);

}  // namespace stratus::aws

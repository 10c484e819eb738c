#pragma once
// Protocol codecs: one generic implementation per AWS protocol (query, json 1.0/1.1, rest-json,
// rest-xml), driven by a ServiceModel. A codec turns an HTTP request into an operation and its
// input as a JSON value, and an operation's output or error into the protocol's HTTP response.
// Services never write protocol XML or JSON by hand (DESIGN.md).
//
// The JSON form handlers see ("canonical JSON"), the same for every protocol:
//   structure -> object keyed by member name (not wire names); list -> array; map -> object;
//   string/enum -> string; integer/long/byte/short -> integer; float/double -> number, or the
//   strings "NaN", "Infinity", "-Infinity"; boolean -> bool; timestamp -> number of seconds
//   since the epoch (fractional); blob -> base64 string; document -> any JSON.
//   Absent members are absent (never null).
// A blob or streaming payload member (rest protocols: S3's Body, Lambda's Payload) does not go
// into the JSON: its raw bytes are in DecodedRequest::payload / OperationOutput::payload.
//
// Codecs are immutable after construction and thread-safe.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aws/model/model.h"
#include "core/http.h"
#include "core/json.h"
#include "core/result.h"

namespace stratus::aws {

struct DecodedRequest {
  const Operation* operation = nullptr;
  Json input = Json::object();
  // The raw bytes of a blob/streaming payload member, when the operation has one; the member is
  // named by `payload_member`.
  std::string payload;
  std::string payload_member;
};

struct OperationOutput {
  Json body = Json::object();   // the output structure in canonical JSON
  // Raw bytes for a blob/streaming payload member (rest protocols), or a file region.
  std::optional<std::string> payload;
  std::optional<FileBody> payload_file;
  // Extra headers not described by the model (e.g. CORS, x-amz-request-charged echoes).
  Headers headers;
  // Overrides the operation's response code when non-zero (S3 206 partial content).
  int status = 0;
};

// Identifies the request for error bodies and response headers.
struct ResponseMeta {
  std::string request_id;
  std::string host_id;          // S3's x-amz-id-2
};

class Codec {
 public:
  virtual ~Codec() = default;

  // Finds the operation a request names: X-Amz-Target (json), Action (query), or method + path
  // + query literals (rest). Fails with the protocol's unknown-operation error
  // (UnknownOperationException / InvalidAction) when none matches.
  virtual Result<const Operation*> Resolve(const HttpRequest& request) const = 0;

  // Decodes the request into canonical JSON for `operation`. Moves the body out of `request`.
  // Malformed bodies get the protocol's serialization error (SerializationException for json,
  // MalformedInput / MalformedXML for xml protocols). Does not validate constraints; see
  // ValidateInput.
  virtual Result<DecodedRequest> Decode(const Operation& operation, HttpRequest& request) const = 0;

  // Encodes a successful output: the status is the operation's responseCode unless a
  // statusCode member or OperationOutput::status says otherwise; members bound to headers become
  // headers. Responses to HEAD and 204/304 responses carry no body; a modelled Content-Length
  // header is written for HEAD only (otherwise the server frames the body it sends).
  virtual HttpResponse Encode(const Operation& operation, OperationOutput output,
                              const ResponseMeta& meta) const = 0;

  // Encodes an error in the protocol's wire form. `operation` may be null (unresolved).
  // `error.code` may name an error shape by its name or its error.code (query code); the shape
  // then decides the wire code of each protocol, the status (error.httpStatusCode, else
  // `error.http_status`) and Sender/Receiver. `error.fields` are written beside the message:
  // modelled members in their wire form (headers for header-bound ones), others as they are.
  virtual HttpResponse EncodeError(const Operation* operation, const Error& error,
                                   const ResponseMeta& meta) const = 0;

  virtual Protocol protocol() const = 0;
};

// Builds the codec of `protocol` for `model`. `model` must outlive the codec. Returns null for
// kEc2, which no service here speaks.
std::unique_ptr<Codec> MakeCodec(Protocol protocol, const ServiceModel& model);

// Picks the protocol a request speaks among those its service is served with (SQS: json and
// query, see EmbeddedModelProtocols): an X-Amz-Target header or an application/x-amz-json
// content type means json; a form content type or an Action parameter means query. Falls back
// to protocols[0] (the model's own); `protocols` must not be empty.
Protocol DetectProtocol(const HttpRequest& request, const std::vector<Protocol>& protocols);

// One failed constraint of an input.
struct Violation {
  std::string path;        // member path as AWS reports it ("tableName", "keySchema.1.member.attributeName")
  std::string value;       // the offending value as AWS prints it ("null", "'abc'", "[]")
  std::string constraint;  // "Member must not be null", "Member must have length less than or equal to 255"
};

// Checks `input` against `shape`: required members, types, enums, lengths, ranges, patterns.
// Returns every violation in member order (AWS reports up to the first few).
std::vector<Violation> ValidateInput(const Shape& shape, const Json& input);

// AWS's message for violations: "1 validation error detected: Value null at 'tableName' failed to
// satisfy constraint: Member must not be null" (several joined with "; ").
std::string ValidationMessage(const std::vector<Violation>& violations);

}  // namespace stratus::aws

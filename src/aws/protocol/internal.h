#pragma once
// Internal to the protocol module: pieces the four codecs share (scalar text forms, timestamps,
// JSON and XML bodies, the REST binding). Not part of the module's contract; see codec.h.
#include <string>
#include <string_view>

#include "aws/model/model.h"
#include "aws/protocol/codec.h"
#include "core/json.h"
#include "core/result.h"

namespace pugi {
class xml_node;
}

namespace stratus::aws::internal {

// Deepest nesting of JSON arrays/objects or XML elements a request may carry. DynamoDB allows 32
// levels of nested attributes (two JSON levels each) plus the envelope; deeper input is hostile.
constexpr int kMaxNestingDepth = 100;

// ---- errors a codec raises itself ------------------------------------------------------------
Error SerializationError(std::string message);            // json protocols (400)
Error MalformedXml(std::string message);                   // rest-xml (400)

// ---- timestamps -----------------------------------------------------------------------------
enum class TsFormat { kIso8601, kHttpDate, kEpoch };
// The format of a timestamp member: the member's trait, then its shape's, then `fallback`.
TsFormat TimestampFormatOf(const Member& member, TsFormat fallback);
std::string FormatTimestamp(double seconds, TsFormat format);
// Canonical JSON of a timestamp: integer seconds when whole, else fractional.
Json EpochJson(double seconds);
// Accepts every form (iso8601, http-date, epoch seconds) whatever the declared format.
std::optional<double> ParseTimestampText(std::string_view text);
// Canonical timestamp (number, or a string in any timestamp form) to seconds.
std::optional<double> CanonicalSeconds(const Json& value);

// ---- scalars as text (query strings, forms, headers, uri labels, xml text) -------------------
bool IsScalar(ShapeType type);
// Text to canonical JSON for a scalar shape; nullopt when the text is not a value of the shape.
std::optional<Json> ScalarFromText(const Shape& shape, std::string_view text, TsFormat ts);
// Canonical JSON scalar to its text form ("" when the value does not fit the shape).
std::string ScalarToText(const Shape& shape, const Json& value, TsFormat ts);
// Canonical float (number or "NaN"/"Infinity"/"-Infinity") to text.
std::string FloatText(const Json& value);

// ---- JSON bodies (json 1.0/1.1 and rest-json) ------------------------------------------------
// Wire JSON of `shape` to canonical JSON; a mistyped value is a SerializationException. Values
// are moved out of `wire` (left in a valid, unspecified state).
Result<Json> JsonFromWire(const Member& member, Json& wire, int depth);
Result<Json> StructureFromWire(const Shape& shape, Json& wire, int depth);
// Appends the wire JSON of canonical `value` for `member` / the structure `shape`; members not
// in `shape` are dropped. `skip_bound` leaves out members bound to http locations (rest-json).
// Parses a JSON body straight into the canonical JSON of `member`'s shape (json_sax.cc): one
// pass, no intermediate DOM; malformed, mistyped or too deep input is a SerializationException.
Result<Json> ParseJsonAs(const Member& member, std::string_view text);
void WriteJson(std::string& out, const Member& member, const Json& value);
void WriteJsonStructure(std::string& out, const Shape& shape, const Json& value, bool skip_bound);
void WriteJsonString(std::string& out, std::string_view s);

// ---- XML bodies (query responses, rest-xml) -------------------------------------------------
// An appending XML writer: escapes text and attribute values.
class XmlWriter {
 public:
  explicit XmlWriter(std::string& out) : out_(out) {}
  void Open(std::string_view name, std::string_view attrs = {});
  void Close(std::string_view name);
  void Element(std::string_view name, std::string_view text);  // <name>text</name>
  void Text(std::string_view text);                              // escaped character data
  void Raw(std::string_view text) { out_.append(text); }
  std::string& out() { return out_; }

 private:
  std::string& out_;
};
// Writes the members of structure `shape` (their elements; attributes belong to the caller's
// open tag, see XmlAttributes). `skip_bound` leaves out members bound to http locations.
void WriteXmlMembers(XmlWriter& w, const Shape& shape, const Json& value, bool skip_bound);
// Writes one member's element(s) (flattened lists/maps write several).
void WriteXmlMember(XmlWriter& w, const Member& member, const Json& value);
// Error fields that `shape` (may be null) does not model, as <Name>text</Name> elements: a
// handler may add details (S3's <Key>, <BucketName>) that the model's error shape lacks.
void WriteUnmodelledXmlFields(XmlWriter& w, const Shape* shape, const Json& fields);
// ' name="value"' for each xmlAttribute member of `shape` present in `value`, plus namespaces.
std::string XmlAttributes(const Shape& shape, const Json& value);
std::string XmlNamespaceAttr(const std::optional<std::string>& uri,
                             const std::optional<std::string>& prefix);
// XML element of structure `shape` to canonical JSON.
Result<Json> StructureFromXml(const Shape& shape, const pugi::xml_node& node, int depth);
Result<Json> XmlValue(const Member& member, const pugi::xml_node& node, int depth);
// Parses XML text; a malformed or too deep document is MalformedXML.
Result<Json> ParseXmlStructure(const Shape& shape, std::string_view text);

// True for members a response carries outside its body (headers, prefix headers, status code).
// Uri and query-string bindings mean nothing in a response: such members travel in the body.
inline bool IsResponseBound(const Member& m) {
  return m.location == Location::kHeader || m.location == Location::kHeaders ||
         m.location == Location::kStatusCode;
}

// ---- request ids and common headers ----------------------------------------------------------
void AddRequestIdHeader(HttpResponse& response, const ResponseMeta& meta);
// 204 and 304 responses and answers to HEAD carry no body (RFC 9110): clears it and its
// Content-Type (a file body too), keeping the headers the model binds. Outside HEAD, drops a
// modelled Content-Length header: the server frames the body it sends.
void DropBodyWhereHttpForbidsIt(const Operation& operation, HttpResponse& response);

}  // namespace stratus::aws::internal

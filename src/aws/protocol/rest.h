#pragma once
// Internal: the HTTP binding shared by rest-json and rest-xml — the route table that maps
// method + path + query literals to an operation, and the members bound to uri labels, query
// parameters, headers, prefix headers and the status code.
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "aws/protocol/internal.h"

namespace stratus::aws::internal {

// One operation's requestUri, split once at construction.
struct Route {
  enum class Kind { kLiteral, kLabel, kGreedy };
  struct Segment {
    Kind kind;
    std::string text;  // literal text (decoded), or the label name
    std::vector<size_t> members;  // labels: the input members bound to it, by member index
  };
  struct QueryLiteral {
    std::string key;
    std::string value;
    bool has_value = false;
    bool optional = false;  // S3's "x-id=GetObject": sent by new SDKs only
  };
  const Operation* operation = nullptr;
  std::string method;
  std::vector<Segment> segments;
  std::vector<QueryLiteral> query;
  // Required input members bound to query parameters and headers: S3 tells UploadPart from
  // PutObject (uploadId, partNumber) and CopyObject by them (x-amz-copy-source).
  std::vector<std::string> required_query;
  std::vector<std::string> required_headers;
  // The input's members bound to one header each, by lower-case header name (a name bound by
  // several members lists each), in member order; DecodeBindings reads a request's headers once
  // against it instead of looking every member's header up in them.
  std::vector<std::pair<std::string, size_t>> header_members;  // (lower-case name, member index)
  // The input's query and prefix-header (kHeaders) members, by member index.
  std::vector<size_t> other_members;
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Immutable after construction; thread-safe.
class RouteTable {
 public:
  explicit RouteTable(const ServiceModel& model);
  // The most specific route matching the request, or null. Routes whose required query or
  // header members are present win; failing that, the path and literals alone decide, so that a
  // request missing a required member reaches validation instead of "unknown operation".
  const Route* Match(std::string_view method, const std::vector<std::string>& segments,
                     const QueryParams& query, const Headers& headers) const;
  const Route* ForOperation(const Operation& op) const;

 private:
  std::vector<Route> routes_;  // most specific first
  std::unordered_map<std::string, std::vector<const Route*>> by_method_;
  std::unordered_map<const Operation*, const Route*> by_operation_;
};

// Splits a raw path into percent-decoded segments ("/a/b%2Fc/" -> {"a", "b/c"}); a trailing
// empty segment is dropped.
std::vector<std::string> SplitPath(std::string_view raw_path);

// Reads the members of `input` bound to uri labels, the query string, headers and prefix
// headers into `out` (canonical JSON), in member order. `input` must be the input shape of
// `route`'s operation. Errors use `error_code` (SerializationException for
// rest-json, InvalidArgument for S3-style rest-xml).
// `trailing_slash`: the raw path ended in '/', which a greedy label keeps (S3's "dir/" keys).
Status DecodeBindings(const Shape& input, const Route& route, const std::vector<std::string>& segments,
                      bool trailing_slash, const QueryParams& query, const Headers& headers, Json& out);

// Writes the members of `shape` bound to headers, prefix headers and the status code.
void EncodeBindings(const Shape& shape, const Json& value, HttpResponse& response);

// True when `shape` has members that travel in the body (not bound to http locations).
bool HasBodyMembers(const Shape& shape);
// The same for a response, where uri and query-string members travel in the body.
bool HasResponseBodyMembers(const Shape& shape);

}  // namespace stratus::aws::internal

#pragma once
// Plain HTTP message types shared by the server, the front door, codecs and services. They hold
// no Beast types, so that service code compiles without the networking headers.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stratus {

// Case-insensitive ASCII comparison of header names.
bool IEquals(std::string_view a, std::string_view b);

// An ordered multimap of headers; names keep the case they arrived or were written with, lookups
// ignore case. Small (tens of entries), so a vector beats a map.
class Headers {
 public:
  using Entry = std::pair<std::string, std::string>;

  // The first value of `name`, or nullopt.
  std::optional<std::string_view> Get(std::string_view name) const;
  // The first value of `name`, or "" when absent.
  std::string_view GetOr(std::string_view name, std::string_view fallback = {}) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  // Every value of `name` in arrival order.
  std::vector<std::string_view> GetAll(std::string_view name) const;
  // Replaces every value of `name` with one value.
  void Set(std::string name, std::string value);
  // Adds a value, keeping earlier ones.
  void Add(std::string name, std::string value);
  void Remove(std::string_view name);

  const std::vector<Entry>& entries() const { return entries_; }
  std::vector<Entry>::const_iterator begin() const { return entries_.begin(); }
  std::vector<Entry>::const_iterator end() const { return entries_.end(); }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<Entry> entries_;
};

class BodySink;

struct HttpRequest {
  std::string method;   // "GET", "POST", ... as sent
  std::string target;   // the raw request target: path and query, still percent-encoded
  std::string path;     // the raw path part of target (percent-encoded, as signed by SigV4)
  std::string query;    // the raw query string after '?', without the '?'
  Headers headers;
  std::string body;
  std::string remote_address;  // peer IP, for aws:SourceIp and access logs
  uint16_t local_port = 0;
  // Which listener accepted the connection: 0 for the main port, otherwise the tag given to
  // HttpServer::AddListener (e.g. one function instance's Runtime API endpoint).
  uint64_t listener_tag = 0;
  int version = 11;            // 10 or 11
  // When the handler asked for the body through HttpHandler::OpenBodySink: the sink that
  // received all of it (then `body` is empty). Null otherwise.
  std::shared_ptr<BodySink> streamed_body;

  std::string_view Host() const { return headers.GetOr("host"); }
};

// Receives a request body piece by piece as it arrives, instead of the server collecting it in
// HttpRequest::body (see HttpHandler::OpenBodySink). The server calls Append on the connection's
// io thread, in order, with pieces of any size that together are exactly the Content-Length
// bytes; the pieces are only valid during the call. Append must not block on anything but local
// work (hashing, writing to the page cache): the io thread serves other connections too. A sink
// that fails (disk full) remembers it and ignores further pieces; the handler reads the outcome
// from its own sink type. When the body does not arrive whole (client gone, timeout), the
// request is never dispatched and the sink is destroyed: its destructor cleans up.
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual void Append(std::string_view piece) = 0;
};

// A response body can come from memory or from a file region (S3 objects, large logs), so that
// big bodies are not copied into memory.
// A region of a file.
struct FileRegion {
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;
};

// A response body read from files: the region path/offset/length, then each of `more` in order
// (an object kept as several files, e.g. an S3 multipart object's parts). Readers of a FileBody
// must send or read every region: use TotalLength() and ReadFileBody() rather than `length`.
struct FileBody {
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::vector<FileRegion> more;

  uint64_t TotalLength() const {
    uint64_t n = length;
    for (const auto& r : more) n += r.length;
    return n;
  }
};

// All the bytes of a FileBody in memory (callers that need the whole body, small objects);
// nullopt when a file cannot be opened or is shorter than its region.
std::optional<std::string> ReadFileBody(const FileBody& body);

struct HttpResponse {
  int status = 200;
  Headers headers;
  std::string body;
  std::optional<FileBody> file;  // when set, sent instead of `body`
  // When true the connection closes after this response (e.g. after a protocol error).
  bool close = false;
};

// Delivers the response to an HTTP request exactly once, from any thread. Copyable; the first
// Send wins and later ones are ignored (a bug, logged).
class Responder {
 public:
  using Fn = std::function<void(HttpResponse)>;
  Responder() = default;
  explicit Responder(Fn fn);
  void Send(HttpResponse response) const;
  explicit operator bool() const { return state_ != nullptr; }

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Anything that answers HTTP requests: the front door, a data plane, a test double. The handler
// may answer inline or later from another thread. Implementations must be thread-safe: the
// server calls Handle from every io thread.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual void Handle(HttpRequest request, Responder responder) = 0;
  // Called on the io thread once the headers of a request with a Content-Length body (not
  // Transfer-Encoding: chunked) have arrived, before any body byte is read and before
  // "100 Continue" is sent. `head` has everything but the body. Return a sink to receive the
  // body as it arrives (it then reaches Handle in HttpRequest::streamed_body, and may be as
  // large as ServerOptions::max_streamed_body_bytes), or null to have it collected in memory.
  // Must be cheap and must not block.
  virtual std::shared_ptr<BodySink> OpenBodySink(const HttpRequest& head) { return nullptr; }
};

// Percent-decoding and -encoding (RFC 3986). `plus_as_space` decodes '+' as ' ' (forms).
std::string UrlDecode(std::string_view s, bool plus_as_space = false);
// Encodes everything but unreserved characters; keeps '/' when `keep_slash`.
std::string UrlEncode(std::string_view s, bool keep_slash = false);
// Splits a query string into decoded (name, value) pairs in order; "a&b=" gives ("a",""),("b","").
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query,
                                                            bool plus_as_space = true);
// Reason phrase for a status code ("Not Found").
std::string_view StatusReason(int status);

}  // namespace stratus

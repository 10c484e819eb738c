#pragma once
// Segments and the recorder that keeps them. A segment is what one hop did for one request —
// the gateway routing it, a function running, a workflow state, a topic delivering — in the
// shape of an AWS X-Ray segment document, so that the X-Ray API, the console's service map and
// an OTLP export read the same records.
//
// Use (every hop):
//   trace::TraceContext ctx = trace::BeginHop(request.headers.Get(trace::kTraceHeader), now);
//   trace::Segment seg = trace::NewSegment(ctx, "my-function", "AWS::Lambda::Function",
//                                          clock.NowSeconds());
//   ... do the work, fill seg.http, seg.error/fault/throttle, annotations ...
//   seg.end_time = clock.NowSeconds();
//   recorder.Record(std::move(seg));          // cheap; never blocks on I/O, never fails
//   response.headers.Set(std::string(trace::kTraceHeader), ctx.DownstreamHeader());
//
// Segment documents (ToSegmentDocument / ParseSegmentDocument) follow the X-Ray segment
// document schema that PutTraceSegments takes: name, id (16 hex), trace_id, start_time and
// end_time (epoch seconds with fractions) or in_progress, then the optional parent_id, type
// ("subsegment" for a subsegment sent on its own), origin, user, http.request / http.response,
// error / throttle / fault, cause, annotations, metadata, aws, service, namespace,
// precursor_ids and nested subsegments. Fields the model does not name (sql, ...) are kept in
// `extra` and written back.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "trace/context.h"

namespace stratus::trace {

// X-Ray's limits that shape what a segment may hold.
inline constexpr size_t kMaxNameLength = 200;
inline constexpr size_t kMaxAnnotations = 50;
inline constexpr size_t kMaxSegmentDocumentBytes = size_t{64} * 1024;

struct HttpRequestInfo {
  std::string method;
  std::string url;
  std::string user_agent;
  std::string client_ip;
  bool x_forwarded_for = false;  // client_ip came from X-Forwarded-For
  bool traced = false;           // for a downstream call: the callee is traced too
};

struct HttpResponseInfo {
  int status = 0;
  int64_t content_length = -1;  // -1: unknown, not written
};

struct ExceptionInfo {
  std::string id;  // 16 hex digits
  std::string message;
  std::string type;
  bool remote = false;  // thrown by a downstream service
};

struct Cause {
  std::string working_directory;
  std::vector<ExceptionInfo> exceptions;
  bool empty() const { return working_directory.empty() && exceptions.empty(); }
};

// One segment, or a subsegment (nested in `subsegments`, or sent on its own with type
// "subsegment"). Plain value type; not thread-safe to mutate concurrently.
struct Segment {
  std::string trace_id;
  std::string id;
  std::string parent_id;   // empty for a root segment and for nested subsegments
  std::string name;        // the service or resource, at most kMaxNameLength characters
  std::string origin;      // "AWS::Lambda::Function", "AWS::ApiGateway::Stage", ...
  std::string type;        // "" or "subsegment"
  std::string namespace_;  // subsegments: "aws" (AWS SDK calls) or "remote"
  std::string user;
  double start_time = 0;  // epoch seconds
  double end_time = 0;    // epoch seconds; ignored while in_progress
  bool in_progress = false;
  std::optional<HttpRequestInfo> http_request;
  std::optional<HttpResponseInfo> http_response;
  bool error = false;     // a 4xx
  bool throttle = false;  // a 429
  bool fault = false;     // a 5xx
  Cause cause;
  Json annotations;  // null, or an object of string / number / bool values (indexed by X-Ray)
  Json metadata;     // null, or an object of namespaces to any JSON
  Json aws;          // null, or an object: account_id, function_arn, request_id, ...
  // String members of the document's "aws" object kept without building a Json object: what the
  // per-request hops (gateway stage, function) record, since a Json object costs several
  // allocations to build and to free. Keys must be string literals (static storage). Written
  // after `aws`'s own members; a key `aws` already has is not written again.
  struct AwsString {
    std::string_view key;
    std::string value;
  };
  std::vector<AwsString> aws_strings;
  Json extra;        // null, or an object of other document fields, written back as they are
  std::vector<std::string> precursor_ids;
  std::vector<Segment> subsegments;
  bool sampled = true;  // from the trace context; recorders drop unsampled segments
};

// A segment for the hop `ctx` (its trace, segment and parent ids and sampling), started at
// `start_time`.
Segment NewSegment(const TraceContext& ctx, std::string name, std::string origin,
                   double start_time);
// A subsegment of `parent` (a new id, no trace or parent id: it is nested), started at
// `start_time`; append it to parent.subsegments when done.
Segment NewSubsegment(std::string name, std::string namespace_, double start_time);

// Sets error, throttle and fault from an HTTP status, as X-Ray SDKs do (4xx error, 429 also
// throttle, 5xx fault), and records it in http_response.
void SetHttpStatus(Segment& segment, int status);

// Adds an annotation; false (and nothing added) when the key is not [A-Za-z0-9_]{1,500}, the
// value is not a string, number or boolean, or the segment already has kMaxAnnotations.
bool Annotate(Segment& segment, std::string_view key, Json value);

// The X-Ray segment document of a segment (subsegments nested).
Json ToSegmentDocument(const Segment& segment);
// As ToSegmentDocument, serialized.
std::string SegmentDocumentJson(const Segment& segment);
// Parses and validates a segment document as PutTraceSegments and the daemon's UDP intake
// receive it: valid JSON object; name (1..200 characters); id (16 hex); trace_id (valid, required
// unless the document is a nested subsegment); start_time a number; end_time or in_progress;
// parent_id (16 hex) when present and required for type "subsegment"; annotations of scalar
// values only; at most kMaxSegmentDocumentBytes. Errors are InvalidRequestException values
// whose message names the first problem.
Result<Segment> ParseSegmentDocument(std::string_view json);

// Where segments go. Implementations must be thread-safe: every io and worker thread records.
class Recorder {
 public:
  virtual ~Recorder() = default;
  // Takes a finished or in-progress segment. Must be cheap (no I/O, no allocation beyond the
  // segment's own, at most a short uncontended lock) and never fails; drops unsampled segments.
  // Recording a segment with the same trace and id again replaces it (an in-progress segment
  // completed later), as X-Ray does.
  virtual void Record(Segment segment) = 0;
  // The segments of one trace still held, in recording order.
  virtual std::vector<Segment> TraceSegments(std::string_view trace_id) const = 0;
  // Segments still held that overlap [from, to] (epoch seconds; an in-progress segment extends
  // to now), ordered by start time, at most `limit`.
  virtual std::vector<Segment> SegmentsBetween(double from, double to, size_t limit) const = 0;
};

// A recorder that keeps nothing (tracing off).
class NullRecorder final : public Recorder {
 public:
  void Record(Segment) override {}
  std::vector<Segment> TraceSegments(std::string_view) const override { return {}; }
  std::vector<Segment> SegmentsBetween(double, double, size_t) const override { return {}; }
};

// Holds the most recent `capacity` segments in memory, the oldest overwritten first. Segments are
// spread over independently locked shards by trace id, so concurrent recorders rarely contend
// and a trace's segments are found in one shard; each shard is a ring buffer. Thread-safe.
class InMemoryRecorder final : public Recorder {
 public:
  // `capacity` is rounded up to a multiple of the shard count; at least one per shard.
  explicit InMemoryRecorder(size_t capacity = 10000);
  ~InMemoryRecorder() override;
  InMemoryRecorder(const InMemoryRecorder&) = delete;
  InMemoryRecorder& operator=(const InMemoryRecorder&) = delete;

  void Record(Segment segment) override;
  std::vector<Segment> TraceSegments(std::string_view trace_id) const override;
  std::vector<Segment> SegmentsBetween(double from, double to, size_t limit) const override;

  struct Stats {
    uint64_t recorded = 0;   // segments taken
    uint64_t unsampled = 0;  // segments dropped because their trace is not sampled
    uint64_t evicted = 0;    // segments overwritten by newer ones
  };
  Stats stats() const;
  size_t capacity() const;

 private:
  struct Shard;
  Shard& ShardFor(std::string_view trace_id) const;
  std::unique_ptr<Shard[]> shards_;
  size_t shard_count_;
  std::atomic<uint64_t> unsampled_{0};
};

}  // namespace stratus::trace

#pragma once
// Trace context: the X-Amzn-Trace-Id header that ties the hops of one request together, as AWS
// X-Ray defines it, and the position of one hop in its trace. Pure functions and value types,
// thread-safe. Every hop (front door, gateway, function, workflow state, topic delivery, queue)
// calls BeginHop with the header it received — or Child() of its caller's context for an
// in-process call — records a segment under the returned context (trace/recorder.h), and passes
// DownstreamHeader() on.
//
// Header format: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
//   Root     1-{8 hex digits: epoch seconds}-{24 hex digits}, the trace id
//   Parent   16 hex digits, the id of the caller's segment
//   Sampled  1, 0, or ? (the caller asks the receiver to decide)
//   Lineage  an opaque recursion-detection counter Lambda adds; passed on unchanged
//   anything else (Self=, custom keys) is kept and passed on in order.
// Keys are case-insensitive (Lambda writes them lowercase); pairs are separated by ';' with
// optional spaces. A header without a valid Root is malformed: the hop starts a new trace, it
// never fails the request. A malformed Parent or Sampled value is dropped, keeping the trace.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stratus::trace {

inline constexpr std::string_view kTraceHeader = "X-Amzn-Trace-Id";
// Headers longer than this are treated as malformed (AWS caps trace headers well below it).
inline constexpr size_t kMaxTraceHeaderBytes = 2048;

enum class Sampling {
  kUnknown,     // no Sampled key
  kSampled,     // Sampled=1
  kNotSampled,  // Sampled=0
  kRequested,   // Sampled=? : the receiver decides
};

// A parsed X-Amzn-Trace-Id value.
struct TraceHeader {
  std::string root;    // the trace id
  std::string parent;  // empty when absent
  Sampling sampled = Sampling::kUnknown;
  std::string lineage;                                     // empty when absent
  std::vector<std::pair<std::string, std::string>> extra;  // other pairs, as received
};

// "1-{8 hex}-{24 hex}".
bool IsValidTraceId(std::string_view id);
// 16 hex digits.
bool IsValidSegmentId(std::string_view id);

// Parses a header value; nullopt when it is malformed (see above).
std::optional<TraceHeader> ParseTraceHeader(std::string_view value);
// Writes Root, Parent, Sampled, Lineage, then the extra pairs; empty fields are left out.
std::string FormatTraceHeader(const TraceHeader& header);

// A new trace id for a trace starting at `epoch_seconds`: 96 random bits.
std::string NewTraceId(int64_t epoch_seconds);
// A new 64-bit segment id, 16 hex digits, never all zeros.
// Ids come from a per-thread generator seeded from the OS; they are unique, not secret.
std::string NewSegmentId();

// One hop's place in its trace.
struct TraceContext {
  std::string trace_id;
  std::string segment_id;  // the segment this hop records
  std::string parent_id;   // the caller's segment; empty when this hop starts the trace
  bool sampled = true;     // whether this hop's segments are recorded
  std::string lineage;
  std::vector<std::pair<std::string, std::string>> extra;
  bool continued = false;  // true when the trace came from a valid incoming header

  // The header to send downstream and to echo in the response:
  // Root=trace_id;Parent=segment_id;Sampled=0|1, then Lineage and the extra pairs.
  std::string DownstreamHeader() const;
  // The context of a callee invoked in-process: same trace and sampling, a new segment whose
  // parent is this one.
  TraceContext Child() const;
  // As Child(), with the callee's segment id given (tests).
  TraceContext ChildWithId(std::string segment_id) const;
};

// Continues the trace of `incoming` (the X-Amzn-Trace-Id value, if any) or starts a new one at
// `now_epoch_seconds`. The sampling decision comes from the header when it says 1 or 0;
// otherwise (absent, "?", or a new trace) it is `sample_new_traces`.
TraceContext BeginHop(std::optional<std::string_view> incoming, int64_t now_epoch_seconds,
                      bool sample_new_traces = true);
// As BeginHop, with the ids it would generate given (deterministic, for tests).
TraceContext BeginHopWithIds(std::optional<std::string_view> incoming, std::string new_trace_id,
                             std::string segment_id, bool sample_new_traces = true);

}  // namespace stratus::trace

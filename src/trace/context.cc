#include "trace/context.h"

#include <cstring>

#include "core/crypto.h"
#include "core/http.h"
#include "core/strings.h"

namespace stratus::trace {

namespace {

constexpr size_t kTraceIdLength = 35;  // "1-" + 8 + "-" + 24
constexpr size_t kSegmentIdLength = 16;

bool IsHex(std::string_view s) {
  for (char c : s) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

// splitmix64: small, fast, and good enough for ids that must be unique, not unpredictable.
// One per thread, seeded from the OS so threads and processes do not collide.
class IdSource {
 public:
  IdSource() {
    std::string seed = RandomBytes(sizeof(state_));
    std::memcpy(&state_, seed.data(), sizeof(state_));
  }
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_ = 0;
};

IdSource& ThreadIdSource() {
  thread_local IdSource source;
  return source;
}

void AppendHex(std::string& out, uint64_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out.push_back(kHex[(v >> (i * 4)) & 15]);
}

std::string_view SamplingValue(bool sampled) { return sampled ? "1" : "0"; }

}  // namespace

bool IsValidTraceId(std::string_view id) {
  return id.size() == kTraceIdLength && id[0] == '1' && id[1] == '-' && id[10] == '-' &&
         IsHex(id.substr(2, 8)) && IsHex(id.substr(11, 24));
}

bool IsValidSegmentId(std::string_view id) { return id.size() == kSegmentIdLength && IsHex(id); }

std::optional<TraceHeader> ParseTraceHeader(std::string_view value) {
  if (value.size() > kMaxTraceHeaderBytes) return std::nullopt;
  TraceHeader header;
  bool have_root = false, have_parent = false, have_sampled = false, have_lineage = false;
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t semi = value.find(';', pos);
    if (semi == std::string_view::npos) semi = value.size();
    std::string_view pair = Trim(value.substr(pos, semi - pos));
    pos = semi + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) return std::nullopt;  // not key=value: not a trace header
    std::string_view key = Trim(pair.substr(0, eq));
    std::string_view val = Trim(pair.substr(eq + 1));
    if (key.empty()) return std::nullopt;
    if (IEquals(key, "Root")) {
      if (have_root) continue;  // the first one wins
      if (!IsValidTraceId(val)) return std::nullopt;
      header.root = std::string(val);
      have_root = true;
    } else if (IEquals(key, "Parent")) {
      if (have_parent) continue;
      have_parent = true;
      if (IsValidSegmentId(val)) header.parent = std::string(val);
    } else if (IEquals(key, "Sampled")) {
      if (have_sampled) continue;
      have_sampled = true;
      if (val == "1") {
        header.sampled = Sampling::kSampled;
      } else if (val == "0") {
        header.sampled = Sampling::kNotSampled;
      } else if (val == "?") {
        header.sampled = Sampling::kRequested;
      }
    } else if (IEquals(key, "Lineage")) {
      if (have_lineage) continue;
      have_lineage = true;
      header.lineage = std::string(val);
    } else {
      header.extra.emplace_back(std::string(key), std::string(val));
    }
  }
  if (!have_root) return std::nullopt;
  return header;
}

std::string FormatTraceHeader(const TraceHeader& header) {
  std::string out;
  out.reserve(96);
  auto add = [&out](std::string_view key, std::string_view value) {
    if (!out.empty()) out.push_back(';');
    out += key;
    out.push_back('=');
    out += value;
  };
  if (!header.root.empty()) add("Root", header.root);
  if (!header.parent.empty()) add("Parent", header.parent);
  switch (header.sampled) {
    case Sampling::kSampled:
      add("Sampled", "1");
      break;
    case Sampling::kNotSampled:
      add("Sampled", "0");
      break;
    case Sampling::kRequested:
      add("Sampled", "?");
      break;
    case Sampling::kUnknown:
      break;
  }
  if (!header.lineage.empty()) add("Lineage", header.lineage);
  for (const auto& [k, v] : header.extra) add(k, v);
  return out;
}

std::string NewTraceId(int64_t epoch_seconds) {
  IdSource& source = ThreadIdSource();
  std::string id;
  id.reserve(kTraceIdLength);
  id += "1-";
  AppendHex(id, static_cast<uint64_t>(epoch_seconds) & 0xffffffffULL, 8);
  id.push_back('-');
  AppendHex(id, source.Next() & 0xffffffffULL, 8);
  AppendHex(id, source.Next(), 16);
  return id;
}

std::string NewSegmentId() {
  IdSource& source = ThreadIdSource();
  uint64_t v = 0;
  while (v == 0) v = source.Next();
  std::string id;
  id.reserve(kSegmentIdLength);
  AppendHex(id, v, 16);
  return id;
}

std::string TraceContext::DownstreamHeader() const {
  std::string out;
  out.reserve(96 + lineage.size());
  out += "Root=";
  out += trace_id;
  out += ";Parent=";
  out += segment_id;
  out += ";Sampled=";
  out += SamplingValue(sampled);
  if (!lineage.empty()) {
    out += ";Lineage=";
    out += lineage;
  }
  for (const auto& [k, v] : extra) {
    out.push_back(';');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

TraceContext TraceContext::Child() const { return ChildWithId(NewSegmentId()); }

TraceContext TraceContext::ChildWithId(std::string id) const {
  TraceContext child;
  child.trace_id = trace_id;
  child.segment_id = std::move(id);
  child.parent_id = segment_id;
  child.sampled = sampled;
  child.lineage = lineage;
  child.extra = extra;
  child.continued = true;
  return child;
}

namespace {

TraceContext Start(std::string trace_id, std::string segment_id, bool sampled) {
  TraceContext ctx;
  ctx.trace_id = std::move(trace_id);
  ctx.segment_id = std::move(segment_id);
  ctx.sampled = sampled;
  return ctx;
}

TraceContext Continue(TraceHeader header, std::string segment_id, bool sample_new_traces) {
  TraceContext ctx;
  ctx.segment_id = std::move(segment_id);
  ctx.trace_id = std::move(header.root);
  ctx.parent_id = std::move(header.parent);
  ctx.lineage = std::move(header.lineage);
  ctx.extra = std::move(header.extra);
  ctx.continued = true;
  switch (header.sampled) {
    case Sampling::kSampled:
      ctx.sampled = true;
      break;
    case Sampling::kNotSampled:
      ctx.sampled = false;
      break;
    case Sampling::kRequested:
    case Sampling::kUnknown:
      ctx.sampled = sample_new_traces;
      break;
  }
  return ctx;
}

}  // namespace

TraceContext BeginHop(std::optional<std::string_view> incoming, int64_t now_epoch_seconds,
                      bool sample_new_traces) {
  std::optional<TraceHeader> header;
  if (incoming) header = ParseTraceHeader(*incoming);
  if (!header) return Start(NewTraceId(now_epoch_seconds), NewSegmentId(), sample_new_traces);
  return Continue(std::move(*header), NewSegmentId(), sample_new_traces);
}

TraceContext BeginHopWithIds(std::optional<std::string_view> incoming, std::string new_trace_id,
                             std::string segment_id, bool sample_new_traces) {
  std::optional<TraceHeader> header;
  if (incoming) header = ParseTraceHeader(*incoming);
  if (!header) return Start(std::move(new_trace_id), std::move(segment_id), sample_new_traces);
  return Continue(std::move(*header), std::move(segment_id), sample_new_traces);
}

}  // namespace stratus::trace

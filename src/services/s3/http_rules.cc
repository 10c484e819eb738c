#include "services/s3/http_rules.h"

#include <cmath>

#include "core/strings.h"
#include "services/s3/checksums.h"
#include "services/s3/errors.h"

namespace stratus::services::s3 {

namespace {

std::optional<uint64_t> ParseU64(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

std::string ByteRange::ContentRange(uint64_t size) const {
  return "bytes " + std::to_string(start) + "-" + std::to_string(start + length - 1) + "/" +
         std::to_string(size);
}

Result<std::optional<ByteRange>> ParseRange(std::string_view header, uint64_t size) {
  std::string_view h = Trim(header);
  if (!StartsWith(h, "bytes=")) return std::optional<ByteRange>();
  std::string_view spec = Trim(h.substr(6));
  if (spec.find(',') != std::string_view::npos) return std::optional<ByteRange>();
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return std::optional<ByteRange>();
  std::string_view first = Trim(spec.substr(0, dash));
  std::string_view last = Trim(spec.substr(dash + 1));
  if (first.empty()) {
    // Suffix range: the last N bytes.
    auto n = ParseU64(last);
    if (!n) return std::optional<ByteRange>();
    if (*n == 0 || size == 0) return InvalidRange(std::string(header), size);
    uint64_t len = std::min(*n, size);
    return std::optional<ByteRange>(ByteRange{size - len, len});
  }
  auto start = ParseU64(first);
  if (!start) return std::optional<ByteRange>();
  std::optional<uint64_t> end;
  if (!last.empty()) {
    end = ParseU64(last);
    if (!end || *end < *start) return std::optional<ByteRange>();
  }
  if (*start >= size) return InvalidRange(std::string(header), size);
  uint64_t stop = end ? std::min(*end, size - 1) : size - 1;
  return std::optional<ByteRange>(ByteRange{*start, stop - *start + 1});
}

bool EtagListMatches(std::string_view list, std::string_view etag) {
  for (const std::string& item : Split(list, ',')) {
    std::string_view t = Trim(item);
    if (t == "*") return true;
    if (UnquoteEtag(t) == etag) return true;
  }
  return false;
}

Result<Precondition> EvaluateConditions(const Json& input, std::string_view etag,
                                        int64_t last_modified_ms, std::string_view prefix) {
  const std::string p(prefix);
  auto str = [&](const char* name) -> std::optional<std::string> {
    auto it = input.find(p + name);
    if (it == input.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto time = [&](const char* name) -> std::optional<int64_t> {
    auto it = input.find(p + name);
    if (it == input.end() || !it->is_number()) return std::nullopt;
    return static_cast<int64_t>(std::floor(it->get<double>()));
  };
  const int64_t modified = last_modified_ms / 1000;  // HTTP dates have second precision
  const bool copy = !prefix.empty();
  auto header = [&](const char* name) {
    return copy ? "x-amz-copy-source-" + ToLower(name) : std::string(name);
  };  // "If-Match" or "x-amz-copy-source-if-match"
  auto if_match = str("IfMatch");
  if (if_match) {
    if (!EtagListMatches(*if_match, etag)) return PreconditionFailed(header("If-Match"));
  } else if (auto since = time("IfUnmodifiedSince"); since && modified > *since) {
    return PreconditionFailed(header("If-Unmodified-Since"));
  }
  auto if_none_match = str("IfNoneMatch");
  if (if_none_match) {
    if (EtagListMatches(*if_none_match, etag)) {
      if (copy) return PreconditionFailed(header("If-None-Match"));
      return Precondition::kNotModified;
    }
  } else if (auto since = time("IfModifiedSince"); since && modified <= *since) {
    if (copy) return PreconditionFailed(header("If-Modified-Since"));
    return Precondition::kNotModified;
  }
  return Precondition::kProceed;
}

}  // namespace stratus::services::s3

#pragma once
// The one JSON DOM of the codebase (see docs/DECISIONS.md): nlohmann's ordered_json, so that
// objects keep the order their members were written in, as AWS responses and JSONata do.
#include <nlohmann/json.hpp>

namespace stratus {

using Json = nlohmann::ordered_json;

// Parses text as JSON without throwing; returns a discarded value (is_discarded()) when the
// text is not valid JSON.
inline Json ParseJsonOrDiscarded(std::string_view text) {
  return Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

// Serializes compactly; invalid UTF-8 is replaced rather than thrown on.
inline std::string DumpJson(const Json& j) {
  return j.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

}  // namespace stratus

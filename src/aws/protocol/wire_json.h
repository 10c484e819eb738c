#pragma once
// Pre-encoded members of an operation's output. A handler may put, in place of a member's
// canonical JSON, a value made by WireJson: the member's wire JSON text, already encoded (a
// service splicing a document it stored in wire form, such as a DynamoDB item, instead of
// parsing it into a DOM only to have the codec write it back out).
//
// Contract: the text must be exactly the JSON the json/rest-json codec would write for the
// member's canonical value (valid JSON, the member's wire names). Only the json and rest-json
// codecs write such values (they append the text as it is); FrontDoor::Call parses top-level
// ones back into canonical JSON for in-process callers, so only top-level output members whose
// wire JSON is their canonical JSON (no jsonName renames, no timestamps inside) may hold one.
// Other codecs do not support them.
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace stratus::aws {

// The binary subtype that marks a Json binary value as pre-encoded wire JSON.
inline constexpr std::uint64_t kWireJsonSubtype = 0x57;

inline Json WireJson(std::string_view text) {
  return Json::binary(std::vector<std::uint8_t>(text.begin(), text.end()), kWireJsonSubtype);
}

inline bool IsWireJson(const Json& v) {
  return v.is_binary() && v.get_binary().has_subtype() &&
         v.get_binary().subtype() == kWireJsonSubtype;
}

// The text of a WireJson value; `v` must satisfy IsWireJson.
inline std::string_view WireJsonText(const Json& v) {
  const auto& bytes = v.get_binary();
  return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace stratus::aws

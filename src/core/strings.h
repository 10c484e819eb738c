#pragma once
// Small string helpers used across modules. All functions are pure and thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stratus {

std::string ToLower(std::string_view s);
std::string ToUpper(std::string_view s);
std::string_view Trim(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
// Splits on `sep`; keeps empty pieces.
std::vector<std::string> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::string ReplaceAll(std::string s, std::string_view from, std::string_view to);

// Base64 (standard alphabet, padded). Decode returns nullopt on malformed input.
std::string Base64Encode(std::string_view data);
std::optional<std::string> Base64Decode(std::string_view text);
std::string HexEncode(std::string_view data);  // lowercase
std::optional<std::string> HexDecode(std::string_view text);

// Parses a whole string as a signed 64-bit decimal integer.
std::optional<int64_t> ParseInt64(std::string_view s);
// Parses a whole string as a double (JSON number syntax plus "Infinity", "-Infinity", "NaN").
std::optional<double> ParseDouble(std::string_view s);
// Formats a double the way AWS protocols do: shortest round-trip form, integers without ".0".
std::string FormatDouble(double v);

// True when `s` is valid UTF-8.
bool IsValidUtf8(std::string_view s);
// Appends `s` to `out` as a quoted JSON string (`"`, `\` and control characters escaped, other
// bytes as they are), eight bytes at a time while nothing needs escaping. Returns false when `s`
// is not valid UTF-8 (`out` is written all the same; the caller decides what to do).
bool AppendJsonString(std::string& out, std::string_view s);
// Escapes text for XML character data and attribute values.
std::string XmlEscape(std::string_view s);

}  // namespace stratus

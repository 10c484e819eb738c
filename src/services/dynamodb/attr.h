#pragma once
// DynamoDB AttributeValues held as canonical JSON in wire form ({"S": "x"}, {"N": "1"},
// {"M": {...}}): validation and normalization with DynamoDB's error texts, item sizes as
// DynamoDB charges them, equality, ordering of scalars, and the order-preserving key encoding
// that makes Query a range scan of the store.
//
// All functions are pure; thread-compatible.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/result.h"
#include "services/dynamodb/number.h"

namespace stratus::services::dynamodb {

inline constexpr size_t kMaxItemBytes = 400 * 1024;
inline constexpr int kMaxAttrDepth = 32;

// DynamoDB's ValidationException.
Error Validation(std::string message);
// "One or more parameter values were invalid: <message>".
Error InvalidParam(std::string message);

// The type tag of an AttributeValue ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL",
// "BOOL"), or "" when `v` is not exactly one typed value.
std::string_view TypeOf(const Json& v);
bool IsScalarKeyType(std::string_view t);  // S, N, B

// Validates an AttributeValue and normalizes it in place (numbers canonical, blobs re-encoded).
// Errors are DynamoDB's texts without any context prefix.
Status NormalizeValue(Json& v, int depth = 0);
// Validates every attribute of an item map.
Status NormalizeItem(Json& item);

// Storage size as DynamoDB computes it (names in UTF-8 bytes + values).
size_t ValueSize(const Json& v);
size_t ItemSize(const Json& item);

// The JSON text of an item (or any AttributeValue) exactly as DumpJson writes it — items are
// stored as this text — written directly rather than through nlohmann's serializer.
std::string ItemText(const Json& item);

// Deep equality (sets ignore order).
bool ValuesEqual(const Json& a, const Json& b);
// Orders two values of the same scalar type (S by UTF-8 bytes, N numerically, B by bytes).
// Returns false when the types differ or are not S/N/B.
bool CompareScalars(const Json& a, const Json& b, int& out);

// The number of an {"N": ...} value (already normalized, so parsing cannot fail).
Decimal NumberOf(const Json& v);
// The raw bytes of a {"B": base64} value.
std::string BytesOf(const Json& v);

// Order-preserving, self-delimiting encoding of a key attribute (S, N or B): memcmp order of
// encodings equals DynamoDB's sort order within a type.
std::string EncodeKeyValue(const Json& v);
// Decodes one key value of type `type` from `in` at `pos` (advancing it); false on bad input.
bool DecodeKeyValue(std::string_view type, std::string_view in, size_t& pos, Json& out);

// A JSON shorthand for values in tests and code: S("x"), N("1").
inline Json S(std::string s) { return Json{{"S", std::move(s)}}; }
inline Json N(std::string s) { return Json{{"N", std::move(s)}}; }

}  // namespace stratus::services::dynamodb

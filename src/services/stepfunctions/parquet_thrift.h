#pragma once
// The Thrift compact protocol as Parquet's footer and page headers use it, decoded into a
// generic JSON tree (parquet_reader.cc's private helper): a struct is an object keyed by field
// id ("1", "2", …), integers are JSON integers, binary is a string of the raw bytes, a list or
// set is an array, a map an array of [key, value] pairs. Every element decoded consumes at
// least one input byte and nesting is capped at kMaxThriftDepth, so the tree is bounded by the
// input's size. Pure function; thread-safe.
#include <cstddef>
#include <string_view>

#include "core/json.h"
#include "core/result.h"

namespace stratus::services::stepfunctions {

inline constexpr int kMaxThriftDepth = 32;

// Decodes one struct starting at data[*pos]; on success *pos is just past it. Errors carry
// States.ItemReaderFailed with `what` (the structure being read) in the message.
Result<Json> DecodeThriftStruct(std::string_view data, size_t& pos, std::string_view what);

}  // namespace stratus::services::stepfunctions

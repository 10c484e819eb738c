#pragma once
// A minimal reader of Apache Parquet files for the Distributed Map's ItemReader (InputType
// PARQUET): each row becomes a JSON object of column name → value, in schema order.
//
// What it reads: flat schemas (the root's children are primitive columns, REQUIRED or
// OPTIONAL); physical types BOOLEAN, INT32, INT64, FLOAT, DOUBLE, BYTE_ARRAY and
// FIXED_LEN_BYTE_ARRAY; data pages v1 and v2 with PLAIN, PLAIN_DICTIONARY or RLE_DICTIONARY
// values (and RLE for BOOLEAN) and RLE/bit-packed definition levels; codecs UNCOMPRESSED,
// SNAPPY and GZIP.
// Values: BOOLEAN → true/false, integers → JSON integers, FLOAT/DOUBLE → numbers, a BYTE_ARRAY
// annotated as a string (UTF8, STRING, ENUM, JSON) → its text, a UUID → its canonical text,
// other byte arrays → base64 text, a null (OPTIONAL column without a value) → null.
//
// Everything else fails with a States.ItemReaderFailed error naming what is not read (nested
// or repeated columns, INT96, another codec or encoding). Hostile input (bad magic, a truncated
// footer, lengths or offsets outside the file, huge counts) fails the same way: no allocation
// is sized by a count the file claims without the bytes to back it, and the output is capped
// at kMaxParquetCells values (pages at 256 MiB uncompressed, the footer at 64 MiB). Pure
// function; thread-safe.
#include <cstddef>
#include <string_view>

#include "core/json.h"
#include "core/result.h"

namespace stratus::services::stepfunctions {

// At most this many values (rows × columns) are produced from one file, and a row group may
// claim at most kMaxParquetRowsPerGroup rows.
inline constexpr size_t kMaxParquetCells = 10'000'000;
inline constexpr size_t kMaxParquetRowsPerGroup = 10'000'000;

// The rows of `file` (the whole object), the first `max_rows` of them when max_rows > 0.
Result<Json> ParquetRows(std::string_view file, size_t max_rows);

}  // namespace stratus::services::stepfunctions

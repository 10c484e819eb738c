#include "services/stepfunctions/parquet_reader.h"

#include <snappy.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/strings.h"
#include "services/stepfunctions/parquet_thrift.h"

namespace stratus::services::stepfunctions {

namespace {

constexpr char kReaderFailed[] = "States.ItemReaderFailed";
constexpr std::string_view kMagic = "PAR1";
// A page larger than this (uncompressed) is refused rather than allocated.
constexpr int64_t kMaxPageBytes = 256 * 1024 * 1024;
// A footer larger than this is refused: its decoded tree costs a multiple of its bytes.
constexpr uint32_t kMaxFooterBytes = 64 * 1024 * 1024;

// Parquet's enums (parquet.thrift).
enum PhysicalType { kBoolean = 0, kInt32 = 1, kInt64 = 2, kInt96 = 3, kFloat = 4, kDouble = 5, kByteArray = 6, kFixed = 7 };
enum Repetition { kRequired = 0, kOptional = 1, kRepeated = 2 };
enum Codec { kUncompressed = 0, kSnappy = 1, kGzip = 2 };
enum PageType { kDataPage = 0, kDictionaryPage = 2, kDataPageV2 = 3 };
enum Encoding { kPlain = 0, kPlainDictionary = 2, kRle = 3, kRleDictionary = 8 };
constexpr const char* kCodecNames[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
constexpr const char* kEncodingNames[] = {"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED",
                                          "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
                                          "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
// ConvertedType values that mark a BYTE_ARRAY as text: UTF8, ENUM, JSON.
constexpr int64_t kConvertedUtf8 = 0, kConvertedEnum = 4, kConvertedJson = 19;

Error Fail(const std::string& why) { return Error(kReaderFailed, "The Parquet file " + why); }

std::string NameOf(const char* const* names, size_t n, int64_t v) {
  return v >= 0 && static_cast<size_t>(v) < n ? names[v] : std::to_string(v);
}

int64_t Int(const Json& s, const char* id, int64_t fallback = -1) {
  auto it = s.find(id);
  return it != s.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

// The tree's member `id` of a struct (null when `s` is no struct or lacks it), and typed views
// that fall back when a corrupt file put another type there.
Json Get(const Json& s, const char* id) {
  if (!s.is_object()) return Json();
  auto it = s.find(id);
  return it == s.end() ? Json() : *it;
}
Json Obj(const Json& s, const char* id) {
  Json v = Get(s, id);
  return v.is_object() ? v : Json::object();
}
Json Arr(const Json& s, const char* id) {
  Json v = Get(s, id);
  return v.is_array() ? v : Json::array();
}
std::string Str(const Json& s, const char* id, const char* fallback) {
  Json v = Get(s, id);
  return v.is_string() ? v.get<std::string>() : fallback;
}

struct Column {
  std::string name;
  int64_t type = 0;
  int64_t type_length = 0;
  bool optional = false;
  enum class As { kText, kUuid, kBase64, kNative } as = As::kNative;
};

Result<std::vector<Column>> FlatSchema(const Json& meta) {
  auto it = meta.find("2");
  if (it == meta.end() || !it->is_array() || it->empty()) return Fail("has no schema");
  const Json& schema = *it;
  const int64_t children = Int(schema[0], "5", 0);
  if (children <= 0 || static_cast<size_t>(children) != schema.size() - 1) {
    std::vector<std::string> nested;
    for (size_t i = 1; i < schema.size(); ++i) {
      if (Int(schema[i], "5", 0) > 0) nested.push_back(Str(schema[i], "4", "?"));
    }
    return Fail("has nested columns, which stratus does not read (only flat schemas): " +
                (nested.empty() ? std::string("the root has ") + std::to_string(children) + " children" : Join(nested, ", ")));
  }
  std::vector<Column> cols;
  std::vector<std::string> repeated;
  for (size_t i = 1; i < schema.size(); ++i) {
    const Json& e = schema[i];
    Column c;
    c.name = Str(e, "4", "");
    c.type = Int(e, "1");
    c.type_length = Int(e, "2", 0);
    int64_t rep = Int(e, "3", kRequired);
    if (rep == kRepeated) repeated.push_back(c.name);
    c.optional = rep == kOptional;
    if (c.type < 0) return Fail("has a column without a physical type: " + c.name);
    if (c.type == kInt96) return Fail("has an INT96 column, which stratus does not read: " + c.name);
    if (c.type > kFixed) return Fail("has a column of unknown physical type " + std::to_string(c.type) + ": " + c.name);
    const int64_t converted = Int(e, "6");
    const Json logical = Obj(e, "10");
    if (c.type == kByteArray || c.type == kFixed) {
      c.as = Column::As::kBase64;
      if (converted == kConvertedUtf8 || converted == kConvertedEnum || converted == kConvertedJson ||
          logical.contains("1") || logical.contains("4") || logical.contains("12")) {
        c.as = Column::As::kText;
      } else if (logical.contains("14") && c.type == kFixed && c.type_length == 16) {
        c.as = Column::As::kUuid;
      }
    }
    if (c.type == kFixed && (c.type_length <= 0 || c.type_length > kMaxPageBytes)) {
      return Fail("has a FIXED_LEN_BYTE_ARRAY column without a valid length: " + c.name);
    }
    cols.push_back(std::move(c));
  }
  if (!repeated.empty()) {
    return Fail("has repeated columns, which stratus does not read (only REQUIRED and OPTIONAL): " + Join(repeated, ", "));
  }
  return cols;
}

// Reads the RLE/bit-packed hybrid encoding: `count` values of `bit_width` bits from `in`.
Result<std::vector<uint32_t>> ReadHybrid(std::string_view in, int bit_width, size_t count) {
  if (bit_width < 0 || bit_width > 32) return Fail("has a bit width of " + std::to_string(bit_width));
  std::vector<uint32_t> out;
  out.reserve(std::min(count, in.size() * 8 + 64));
  size_t pos = 0;
  const size_t value_bytes = static_cast<size_t>((bit_width + 7) / 8);
  while (out.size() < count) {
    uint64_t header = 0;
    int shift = 0;
    for (;;) {
      if (pos >= in.size()) return Fail("has truncated RLE data");
      uint8_t b = static_cast<uint8_t>(in[pos++]);
      header |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
      shift += 7;
      if (shift > 35) return Fail("has a bad RLE header");
    }
    if (header & 1) {
      const uint64_t groups = header >> 1;
      const uint64_t bytes = groups * static_cast<uint64_t>(bit_width);
      if (bytes > in.size() - pos) return Fail("has truncated bit-packed data");
      const size_t n = static_cast<size_t>(groups * 8);
      uint64_t bitpos = 0;
      for (size_t i = 0; i < n && out.size() < count; ++i) {
        uint32_t v = 0;
        for (int b = 0; b < bit_width; ++b, ++bitpos) {
          uint8_t byte = static_cast<uint8_t>(in[pos + static_cast<size_t>(bitpos / 8)]);
          v |= static_cast<uint32_t>((byte >> (bitpos % 8)) & 1) << b;
        }
        out.push_back(v);
      }
      pos += static_cast<size_t>(bytes);
    } else {
      const uint64_t run = header >> 1;
      if (value_bytes > in.size() - pos) return Fail("has a truncated RLE run");
      uint32_t v = 0;
      for (size_t b = 0; b < value_bytes; ++b) v |= static_cast<uint32_t>(static_cast<uint8_t>(in[pos + b])) << (8 * b);
      pos += value_bytes;
      if (run == 0) return Fail("has an empty RLE run");
      for (uint64_t i = 0; i < run && out.size() < count; ++i) out.push_back(v);
    }
  }
  return out;
}

int BitWidth(uint32_t max) {
  int w = 0;
  while (max > 0) {
    ++w;
    max >>= 1;
  }
  return w;
}

Result<std::string> Decompress(int64_t codec, std::string_view in, int64_t uncompressed_size) {
  if (uncompressed_size < 0 || uncompressed_size > kMaxPageBytes) {
    return Fail("has a page of " + std::to_string(uncompressed_size) + " bytes (stratus reads pages up to " +
                std::to_string(kMaxPageBytes) + ")");
  }
  const size_t size = static_cast<size_t>(uncompressed_size);
  if (codec == kUncompressed) {
    if (in.size() != size) return Fail("has an uncompressed page whose sizes disagree");
    return std::string(in);
  }
  if (codec == kSnappy) {
    size_t n = 0;
    if (!snappy::GetUncompressedLength(in.data(), in.size(), &n) || n != size) return Fail("has a corrupt SNAPPY page");
    std::string out(n, '\0');
    if (!snappy::RawUncompress(in.data(), in.size(), out.data())) return Fail("has a corrupt SNAPPY page");
    return out;
  }
  if (codec == kGzip) {
    std::string out(size, '\0');
    z_stream z{};
    if (inflateInit2(&z, 15 + 32) != Z_OK) return Fail("could not be inflated");
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    int rc = inflate(&z, Z_FINISH);
    const size_t produced = out.size() - z.avail_out;
    inflateEnd(&z);
    if (rc != Z_STREAM_END || produced != size) return Fail("has a corrupt GZIP page");
    return out;
  }
  return Fail("uses the " + NameOf(kCodecNames, std::size(kCodecNames), codec) +
              " codec, which stratus does not read (UNCOMPRESSED, SNAPPY and GZIP are)");
}

std::string UuidText(std::string_view b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += kHex[static_cast<uint8_t>(b[i]) >> 4];
    s += kHex[static_cast<uint8_t>(b[i]) & 0xf];
  }
  return s;
}

// Decodes `count` PLAIN values of the column from `in`.
Result<std::vector<Json>> ReadPlain(const Column& c, std::string_view in, size_t count) {
  std::vector<Json> out;
  size_t pos = 0;
  auto need = [&](size_t n) { return n <= in.size() - pos; };
  auto bytes_value = [&](std::string_view b) -> Json {
    switch (c.as) {
      case Column::As::kText: return std::string(b);
      case Column::As::kUuid: return UuidText(b);
      default: return Base64Encode(b);
    }
  };
  if (c.type == kBoolean) {
    if (count > in.size() * 8) return Fail("has a truncated BOOLEAN page in column " + c.name);
    out.reserve(count);
    for (size_t i = 0; i < count; ++i) out.emplace_back(((static_cast<uint8_t>(in[i / 8]) >> (i % 8)) & 1) != 0);
    return out;
  }
  const size_t width = c.type == kInt32 || c.type == kFloat ? 4 : c.type == kInt64 || c.type == kDouble ? 8
                       : c.type == kFixed ? static_cast<size_t>(c.type_length) : 4;
  if (count > in.size() / width) return Fail("has a truncated page in column " + c.name);
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const char* p = in.data() + pos;
    switch (c.type) {
      case kInt32: {
        int32_t v;
        std::memcpy(&v, p, 4);
        out.emplace_back(static_cast<int64_t>(v));
        pos += 4;
        break;
      }
      case kInt64: {
        int64_t v;
        std::memcpy(&v, p, 8);
        out.emplace_back(v);
        pos += 8;
        break;
      }
      case kFloat: {
        float v;
        std::memcpy(&v, p, 4);
        out.emplace_back(static_cast<double>(v));
        pos += 4;
        break;
      }
      case kDouble: {
        double v;
        std::memcpy(&v, p, 8);
        out.emplace_back(v);
        pos += 8;
        break;
      }
      case kFixed:
        out.push_back(bytes_value(in.substr(pos, width)));
        pos += width;
        break;
      default: {  // BYTE_ARRAY: a 4-byte length, then the bytes
        if (!need(4)) return Fail("has a truncated BYTE_ARRAY in column " + c.name);
        uint32_t n;
        std::memcpy(&n, p, 4);
        pos += 4;
        if (!need(n)) return Fail("has a BYTE_ARRAY longer than its page in column " + c.name);
        out.push_back(bytes_value(in.substr(pos, n)));
        pos += n;
      }
    }
  }
  return out;
}

// One column chunk's values, with nulls where an OPTIONAL column has none.
struct ChunkReader {
  std::string_view file;
  const Column& col;
  size_t rows;  // the row group's rows: no page may claim values beyond them
  size_t keep;  // the values wanted (MaxItems): reading stops once they are decoded
  size_t consumed = 0;  // values the pages read so far claimed

  Result<std::vector<Json>> Read(const Json& meta) {
    const int64_t codec = Int(meta, "4", 0);
    const int64_t data_offset = Int(meta, "9");
    const int64_t dict_offset = Int(meta, "11");
    const int64_t total = Int(meta, "7");
    int64_t start = dict_offset > 0 && dict_offset < data_offset ? dict_offset : data_offset;
    const int64_t body_end = static_cast<int64_t>(file.size()) - 8;
    if (start < 4 || total <= 0 || start >= body_end || total > body_end - start) {
      return Fail("has a column chunk outside the file (column " + col.name + ")");
    }
    std::string_view chunk = file.substr(static_cast<size_t>(start), static_cast<size_t>(total));
    std::vector<Json> dictionary;
    bool have_dictionary = false;
    std::vector<Json> values;
    size_t pos = 0;
    while (values.size() < keep) {
      if (pos >= chunk.size()) return Fail("has fewer values than rows in column " + col.name);
      STRATUS_ASSIGN_OR_RETURN(Json header, DecodeThriftStruct(chunk, pos, "page header"));
      const int64_t type = Int(header, "1");
      const int64_t uncompressed = Int(header, "2");
      const int64_t compressed = Int(header, "3");
      if (compressed < 0 || static_cast<uint64_t>(compressed) > chunk.size() - pos) {
        return Fail("has a page longer than its column chunk (column " + col.name + ")");
      }
      std::string_view raw = chunk.substr(pos, static_cast<size_t>(compressed));
      pos += static_cast<size_t>(compressed);
      if (type == kDictionaryPage) {
        const Json h = Obj(header, "7");
        const int64_t n = Int(h, "1", 0);
        const int64_t enc = Int(h, "2", kPlain);
        if (enc != kPlain && enc != kPlainDictionary) return Fail("has a dictionary that is not PLAIN in column " + col.name);
        if (n < 0) return Fail("has a negative dictionary size in column " + col.name);
        STRATUS_ASSIGN_OR_RETURN(std::string page, Decompress(codec, raw, uncompressed));
        STRATUS_ASSIGN_OR_RETURN(dictionary, ReadPlain(col, page, static_cast<size_t>(n)));
        have_dictionary = true;
      } else if (type == kDataPage || type == kDataPageV2) {
        STRATUS_RETURN_IF_ERROR(DataPage(header, type == kDataPageV2, codec, raw, uncompressed,
                                         have_dictionary ? &dictionary : nullptr, values));
      } else {
        continue;  // index pages carry no values
      }
    }
    return values;
  }

  Result<bool> DataPage(const Json& header, bool v2, int64_t codec, std::string_view raw, int64_t uncompressed,
                        const std::vector<Json>* dictionary, std::vector<Json>& values) {
    const Json h = Obj(header, v2 ? "8" : "5");
    const int64_t n = Int(h, "1");
    const int64_t encoding = Int(h, v2 ? "4" : "2");
    if (n < 0 || static_cast<uint64_t>(n) > rows - consumed) {
      return Fail("has a page of " + std::to_string(n) + " values where " + std::to_string(rows - consumed) +
                  " remain (column " + col.name + ")");
    }
    const size_t count = static_cast<size_t>(n);
    consumed += count;
    std::string page;
    std::string_view levels, data;
    if (v2) {
      const int64_t def_len = Int(h, "5", 0), rep_len = Int(h, "6", 0);
      const Json compressed_flag = Get(h, "7");
      const bool compressed = !compressed_flag.is_boolean() || compressed_flag.get<bool>();
      if (def_len < 0 || rep_len < 0 || static_cast<uint64_t>(def_len) + static_cast<uint64_t>(rep_len) > raw.size()) {
        return Fail("has a v2 page whose level lengths exceed the page (column " + col.name + ")");
      }
      levels = raw.substr(static_cast<size_t>(rep_len), static_cast<size_t>(def_len));
      std::string_view rest = raw.substr(static_cast<size_t>(rep_len + def_len));
      const int64_t rest_size = uncompressed - rep_len - def_len;
      if (compressed && codec != kUncompressed) {
        STRATUS_ASSIGN_OR_RETURN(page, Decompress(codec, rest, rest_size));
      } else {
        page = std::string(rest);
      }
      data = page;
    } else {
      STRATUS_ASSIGN_OR_RETURN(page, Decompress(codec, raw, uncompressed));
      data = page;
      if (col.optional) {
        if (Int(h, "3", kRle) != kRle) return Fail("has definition levels that are not RLE (column " + col.name + ")");
        if (data.size() < 4) return Fail("has truncated definition levels (column " + col.name + ")");
        uint32_t len;
        std::memcpy(&len, data.data(), 4);
        if (len > data.size() - 4) return Fail("has definition levels longer than the page (column " + col.name + ")");
        levels = data.substr(4, len);
        data = data.substr(4 + len);
      }
    }
    // Which of the page's values are present.
    std::vector<uint32_t> defined;
    size_t present = count;
    if (col.optional) {
      STRATUS_ASSIGN_OR_RETURN(defined, ReadHybrid(levels, BitWidth(1), count));
      present = 0;
      for (uint32_t d : defined) present += d == 1 ? 1 : 0;
    }
    std::vector<Json> decoded;
    if (encoding == kPlain) {
      STRATUS_ASSIGN_OR_RETURN(decoded, ReadPlain(col, data, present));
    } else if (encoding == kPlainDictionary || encoding == kRleDictionary) {
      if (!dictionary) return Fail("has a dictionary-encoded page without a dictionary (column " + col.name + ")");
      if (data.empty()) {
        if (present > 0) return Fail("has a truncated dictionary-encoded page (column " + col.name + ")");
      } else {
        const int width = static_cast<uint8_t>(data[0]);
        STRATUS_ASSIGN_OR_RETURN(std::vector<uint32_t> idx, ReadHybrid(data.substr(1), width, present));
        decoded.reserve(idx.size());
        for (uint32_t i : idx) {
          if (i >= dictionary->size()) return Fail("has a dictionary index out of range (column " + col.name + ")");
          decoded.push_back((*dictionary)[i]);
        }
      }
    } else if (encoding == kRle && col.type == kBoolean) {
      // Booleans as the RLE/bit-packed hybrid of width 1, after a 4-byte length.
      if (data.size() < 4) return Fail("has a truncated RLE BOOLEAN page (column " + col.name + ")");
      uint32_t len;
      std::memcpy(&len, data.data(), 4);
      if (len > data.size() - 4) return Fail("has an RLE BOOLEAN run longer than its page (column " + col.name + ")");
      STRATUS_ASSIGN_OR_RETURN(std::vector<uint32_t> bits, ReadHybrid(data.substr(4, len), 1, present));
      decoded.reserve(bits.size());
      for (uint32_t b : bits) decoded.emplace_back(b != 0);
    } else {
      return Fail("uses the " + NameOf(kEncodingNames, std::size(kEncodingNames), encoding) +
                  " encoding in column " + col.name +
                  ", which stratus does not read (PLAIN, PLAIN_DICTIONARY, RLE_DICTIONARY and RLE for BOOLEAN are)");
    }
    size_t next = 0;
    for (size_t i = 0; i < count && values.size() < keep; ++i) {
      if (col.optional && defined[i] != 1) {
        values.emplace_back(nullptr);
      } else {
        values.push_back(std::move(decoded[next++]));
      }
    }
    return true;
  }
};

}  // namespace

Result<Json> ParquetRows(std::string_view file, size_t max_rows) {
  if (file.size() < 12 || file.substr(0, 4) != kMagic || file.substr(file.size() - 4) != kMagic) {
    return Fail("is not a Parquet file (it does not begin and end with PAR1)");
  }
  uint32_t footer_len;
  std::memcpy(&footer_len, file.data() + file.size() - 8, 4);
  if (footer_len == 0 || footer_len > file.size() - 12) {
    return Fail("has a footer length (" + std::to_string(footer_len) + ") outside the file");
  }
  if (footer_len > kMaxFooterBytes) {
    return Fail("has a footer of " + std::to_string(footer_len) + " bytes (stratus reads footers up to " +
                std::to_string(kMaxFooterBytes) + ")");
  }
  std::string_view footer = file.substr(file.size() - 8 - footer_len, footer_len);
  size_t pos = 0;
  STRATUS_ASSIGN_OR_RETURN(Json meta, DecodeThriftStruct(footer, pos, "footer"));
  STRATUS_ASSIGN_OR_RETURN(std::vector<Column> cols, FlatSchema(meta));
  Json rows = Json::array();
  const Json groups = Arr(meta, "4");
  size_t cells = 0;
  for (const Json& group : groups) {
    if (max_rows > 0 && rows.size() >= max_rows) break;
    const int64_t num_rows = Int(group, "3", 0);
    const Json chunks = Arr(group, "1");
    if (num_rows < 0 || !chunks.is_array() || chunks.size() != cols.size()) {
      return Fail("has a row group whose columns do not match its schema");
    }
    if (num_rows == 0) continue;
    if (static_cast<uint64_t>(num_rows) > kMaxParquetRowsPerGroup ||
        std::min<uint64_t>(static_cast<uint64_t>(num_rows), max_rows > 0 ? max_rows : UINT64_MAX) >
            (kMaxParquetCells - cells) / std::max<size_t>(cols.size(), 1)) {
      return Fail("has more than " + std::to_string(kMaxParquetCells) + " values, which stratus does not read");
    }
    const size_t n = static_cast<size_t>(num_rows);
    const size_t keep = max_rows > 0 ? std::min(n, max_rows - rows.size()) : n;
    cells += keep * cols.size();
    std::vector<std::vector<Json>> columns;
    for (size_t c = 0; c < cols.size(); ++c) {
      const Json chunk_meta = Get(chunks[c], "3");
      if (!chunk_meta.is_object()) return Fail("has a column chunk without metadata (column " + cols[c].name + ")");
      if (chunks[c].contains("1")) return Fail("refers to another file for column " + cols[c].name);
      ChunkReader reader{file, cols[c], n, keep};
      STRATUS_ASSIGN_OR_RETURN(std::vector<Json> values, reader.Read(chunk_meta));
      columns.push_back(std::move(values));
    }
    for (size_t r = 0; r < keep; ++r) {
      Json row = Json::object();
      for (size_t c = 0; c < cols.size(); ++c) row[cols[c].name] = std::move(columns[c][r]);
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

}  // namespace stratus::services::stepfunctions

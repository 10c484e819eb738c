#include "services/stepfunctions/s3_inventory.h"

#include <zlib.h>

#include "core/strings.h"
#include "services/stepfunctions/map_io.h"

namespace stratus::services::stepfunctions {

namespace {

constexpr char kReaderFailed[] = "States.ItemReaderFailed";

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

Result<InventoryManifest> ParseInventoryManifest(std::string_view body, const std::string& manifest_bucket) {
  Json m = ParseJsonOrDiscarded(body);
  if (m.is_discarded() || !m.is_object()) {
    return Error(kReaderFailed, "The S3 inventory manifest is not a JSON object.");
  }
  const std::string format = StringMember(m, "fileFormat");
  if (format != "CSV") {
    return Error(kReaderFailed, "The S3 inventory manifest's fileFormat '" + format +
                                    "' is not supported by stratus (CSV is)");
  }
  InventoryManifest out;
  for (const std::string& c : Split(StringMember(m, "fileSchema"), ',')) {
    std::string name = Trim(c);
    if (name.empty()) return Error(kReaderFailed, "The S3 inventory manifest's fileSchema has an empty column.");
    out.columns.push_back(std::move(name));
  }
  if (out.columns.empty()) return Error(kReaderFailed, "The S3 inventory manifest has no fileSchema.");
  std::string bucket = StringMember(m, "destinationBucket");
  if (bucket.starts_with("arn:")) bucket = bucket.substr(bucket.rfind(':') + 1);
  if (bucket.empty()) bucket = manifest_bucket;
  const Json files = m.value("files", Json());
  if (!files.is_array()) return Error(kReaderFailed, "The S3 inventory manifest has no files array.");
  for (const Json& f : files) {
    const Json key = f.is_object() ? f.value("key", Json()) : Json();
    if (!key.is_string() || key.get_ref<const std::string&>().empty()) {
      return Error(kReaderFailed, "An S3 inventory manifest file entry has no key: " + DumpJson(f));
    }
    out.files.push_back(S3Location{bucket, key.get<std::string>()});
  }
  return out;
}

Result<std::string> Gunzip(std::string_view data) {
  std::string out;
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) return Error(kReaderFailed, "The gzip stream could not be inflated.");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  char buf[64 * 1024];
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    int rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      inflateEnd(&z);
      return Error(kReaderFailed, "The inventory file is not valid gzip data.");
    }
    out.append(buf, sizeof(buf) - z.avail_out);
    if (out.size() > kMaxInflatedBytes) {
      inflateEnd(&z);
      return Error(kReaderFailed, "The inventory file inflates to more than " + std::to_string(kMaxInflatedBytes) +
                                      " bytes, which stratus does not read");
    }
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      inflateReset(&z);  // the next gzip member
      continue;
    }
    if (rc == Z_BUF_ERROR || (z.avail_in == 0 && z.avail_out != 0)) {
      inflateEnd(&z);
      return Error(kReaderFailed, "The inventory file's gzip data is truncated.");
    }
  }
  inflateEnd(&z);
  return out;
}

Result<Json> InventoryItems(const std::vector<std::string>& columns, std::string_view csv, size_t max_items) {
  STRATUS_ASSIGN_OR_RETURN(auto rows, ParseCsvRows(std::string(csv), ','));
  Json items = Json::array();
  for (size_t r = 0; r < rows.size(); ++r) {
    if (max_items > 0 && items.size() >= max_items) break;
    if (rows[r].size() != columns.size()) {
      return Error(kReaderFailed, "The inventory row " + std::to_string(r + 1) + " has " +
                                      std::to_string(rows[r].size()) + " fields but the fileSchema has " +
                                      std::to_string(columns.size()) + " columns");
    }
    Json item = Json::object();
    for (size_t c = 0; c < columns.size(); ++c) item[columns[c]] = std::move(rows[r][c]);
    items.push_back(std::move(item));
  }
  return items;
}

Result<std::vector<S3Location>> ParseAthenaManifest(std::string_view body) {
  std::vector<S3Location> out;
  for (const std::string& raw : Split(body, '\n')) {
    std::string line = Trim(raw);
    if (line.empty()) continue;
    if (!line.starts_with("s3://")) {
      return Error(kReaderFailed, "The Athena manifest line '" + line + "' is not an s3:// URI.");
    }
    std::string rest = line.substr(5);
    size_t slash = rest.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == rest.size()) {
      return Error(kReaderFailed, "The Athena manifest line '" + line + "' names no bucket and key.");
    }
    out.push_back(S3Location{rest.substr(0, slash), rest.substr(slash + 1)});
  }
  return out;
}

}  // namespace stratus::services::stepfunctions

#include "services/stepfunctions/map_io.h"

#include <cmath>

namespace stratus::services::stepfunctions {

namespace {

constexpr char kReaderFailed[] = "States.ItemReaderFailed";

// MaxItems of a resolved ReaderConfig; 0 = no limit.
size_t MaxItems(const Json& config) {
  if (!config.is_object()) return 0;
  auto it = config.find("MaxItems");
  if (it == config.end() || !it->is_number() || it->get<double>() <= 0) return 0;
  return static_cast<size_t>(it->get<double>());
}

}  // namespace

// RFC 4180 rows: fields separated by `delimiter` (a comma unless CSVDelimiter says otherwise),
// optionally in double quotes ("" escapes a quote, quoted fields may hold delimiters and line
// breaks), rows end with LF or CRLF. A blank line ends nothing and yields no row.
Result<std::vector<std::vector<std::string>>> ParseCsvRows(const std::string& text, char delimiter) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, in_quotes = false, field_started = false, row_started = false;
  size_t line = 1;
  auto end_field = [&]() {
    row.push_back(std::move(field));
    field.clear();
    quoted = false;
    field_started = false;
  };
  auto end_row = [&]() {
    if (!row_started) return;  // a blank line
    end_field();
    rows.push_back(std::move(row));
    row.clear();
    row_started = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"') {
      if (field_started || quoted) {
        return Error(kReaderFailed, "The CSV file has a quote inside an unquoted field on line " + std::to_string(line));
      }
      quoted = in_quotes = field_started = row_started = true;
    } else if (c == delimiter) {
      end_field();
      row_started = true;  // the next field exists even when empty
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;
    } else if (c == '\n') {
      end_row();
      ++line;
    } else {
      if (quoted) {
        return Error(kReaderFailed, "The CSV file has characters after a closing quote on line " + std::to_string(line));
      }
      field += c;
      field_started = row_started = true;
    }
  }
  if (in_quotes) return Error(kReaderFailed, "The CSV file ends inside a quoted field (line " + std::to_string(line) + ")");
  end_row();
  return rows;
}

namespace {

Result<Json> CsvItems(const Json& config, const std::string& body) {
  std::string location = StringMember(config, "CSVHeaderLocation", "FIRST_ROW");
  if (location != "FIRST_ROW" && location != "GIVEN") {
    return Error(kReaderFailed, "CSVHeaderLocation must be FIRST_ROW or GIVEN but was: " + location);
  }
  // ReaderConfig.CSVDelimiter, as AWS names the separators.
  std::string delimiter_name = StringMember(config, "CSVDelimiter", "COMMA");
  char delimiter = ',';
  if (delimiter_name == "PIPE") {
    delimiter = '|';
  } else if (delimiter_name == "SEMICOLON") {
    delimiter = ';';
  } else if (delimiter_name == "SPACE") {
    delimiter = ' ';
  } else if (delimiter_name == "TAB") {
    delimiter = '\t';
  } else if (delimiter_name != "COMMA") {
    return Error(kReaderFailed, "CSVDelimiter must be COMMA, PIPE, SEMICOLON, SPACE or TAB but was: " + delimiter_name);
  }
  STRATUS_ASSIGN_OR_RETURN(auto rows, ParseCsvRows(body, delimiter));
  std::vector<std::string> headers;
  size_t first = 0;
  if (location == "GIVEN") {
    auto it = config.find("CSVHeaders");
    if (it == config.end() || !it->is_array() || it->empty()) {
      return Error(kReaderFailed, "CSVHeaders must be a non-empty array of strings when CSVHeaderLocation is GIVEN");
    }
    for (const auto& h : *it) {
      if (!h.is_string()) return Error(kReaderFailed, "CSVHeaders must be a non-empty array of strings");
      headers.push_back(h.get<std::string>());
    }
  } else {
    if (rows.empty()) return Json::array();
    headers = rows[0];
    first = 1;
  }
  size_t max = MaxItems(config);
  Json items = Json::array();
  for (size_t r = first; r < rows.size(); ++r) {
    if (max > 0 && items.size() >= max) break;
    const auto& row = rows[r];
    if (row.size() != headers.size()) {
      return Error(kReaderFailed, "The CSV row " + std::to_string(r + 1) + " has " + std::to_string(row.size()) +
                                      " fields but there are " + std::to_string(headers.size()) + " headers");
    }
    Json item = Json::object();
    for (size_t k = 0; k < headers.size(); ++k) item[headers[k]] = row[k];
    items.push_back(std::move(item));
  }
  return items;
}

std::string OutcomeName(IterationOutcome::Status s) {
  switch (s) {
    case IterationOutcome::Status::kSucceeded: return "SUCCEEDED";
    case IterationOutcome::Status::kFailed: return "FAILED";
    case IterationOutcome::Status::kPending: return "PENDING";
  }
  return "";
}

// JSON Lines: one JSON value per line (LF or CRLF); blank lines are skipped.
Result<Json> JsonLinesItems(const Json& config, const std::string& body) {
  size_t max = MaxItems(config);
  Json items = Json::array();
  size_t line = 0;
  for (size_t start = 0; start < body.size() && (max == 0 || items.size() < max);) {
    size_t end = body.find('\n', start);
    if (end == std::string::npos) end = body.size();
    ++line;
    std::string_view text(body.data() + start, end - start);
    start = end + 1;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.find_first_not_of(" \t") == std::string_view::npos) continue;
    Json item = ParseJsonOrDiscarded(text);
    if (item.is_discarded()) {
      return Error(kReaderFailed, "The object's line " + std::to_string(line) + " is not valid JSON.");
    }
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace

std::string StringMember(const Json& o, const char* name, std::string fallback) {
  if (!o.is_object()) return fallback;
  auto it = o.find(name);
  return it != o.end() && it->is_string() ? it->get<std::string>() : fallback;
}

Result<Json> ItemsFromObject(const Json& reader_config, const std::string& body) {
  Json config = reader_config.is_object() ? reader_config : Json::object();
  std::string type = StringMember(config, "InputType");
  if (type == "CSV") return CsvItems(config, body);
  if (type == "JSONL") return JsonLinesItems(config, body);
  if (type != "JSON") {
    return Error(kReaderFailed, "ReaderConfig InputType '" + type +
                                    "' is not supported by stratus for s3:getObject (JSON, JSONL, CSV, PARQUET and MANIFEST are)");
  }
  Json parsed = ParseJsonOrDiscarded(body);
  if (parsed.is_discarded()) return Error(kReaderFailed, "The object's content is not valid JSON.");
  if (!parsed.is_array()) return Error(kReaderFailed, "Attempting to map over non-iterable node.");
  size_t max = MaxItems(config);
  if (max > 0 && parsed.size() > max) parsed.get_ref<Json::array_t&>().resize(max);
  return parsed;
}

Json ItemsFromListing(const Json& reader_config, const Json& contents) {
  size_t max = MaxItems(reader_config);
  Json items = Json::array();
  if (!contents.is_array()) return items;
  for (const auto& o : contents) {
    if (max > 0 && items.size() >= max) break;
    Json item = Json::object();
    item["Etag"] = o.value("ETag", "");
    item["Key"] = o.value("Key", "");
    const Json modified = o.value("LastModified", Json());
    item["LastModified"] = modified.is_number() ? Json(static_cast<int64_t>(std::floor(modified.get<double>()))) : modified;
    item["Size"] = o.value("Size", int64_t{0});
    item["StorageClass"] = o.value("StorageClass", "STANDARD");
    items.push_back(std::move(item));
  }
  return items;
}

std::string ManifestKey(const std::string& prefix, const std::string& map_run_id) {
  std::string base = prefix;
  if (!base.empty() && base.back() != '/') base += '/';
  return base + map_run_id + "/manifest.json";
}

namespace {

// One iteration as Transformation NONE reports it.
Json Entry(const MapRunNames& names, size_t i, const IterationOutcome& o) {
  const std::string name = OutcomeName(o.status);
  Json e = Json::object();
  e["ExecutionArn"] = names.execution_arn_prefix + std::to_string(i);
  e["Input"] = DumpJson(o.input);
  e["InputDetails"] = Json{{"Included", true}};
  e["Name"] = names.map_run_id + "_" + std::to_string(i);
  if (o.status == IterationOutcome::Status::kSucceeded) {
    e["Output"] = DumpJson(o.output);
    e["OutputDetails"] = Json{{"Included", true}};
  } else if (o.status == IterationOutcome::Status::kFailed) {
    e["Error"] = o.error;
    e["Cause"] = o.cause;
  }
  e["RedriveCount"] = 0;
  e["RedriveStatus"] = o.status == IterationOutcome::Status::kSucceeded ? "NOT_REDRIVABLE" : "REDRIVABLE";
  if (o.status == IterationOutcome::Status::kSucceeded) {
    e["RedriveStatusReason"] = "Execution is SUCCEEDED and cannot be redriven";
  }
  e["StartDate"] = names.start_date;
  e["StateMachineArn"] = names.state_machine_arn;
  e["Status"] = name;
  if (o.status != IterationOutcome::Status::kPending) e["StopDate"] = names.stop_date;
  return e;
}

// Appends the iteration's result(s) as `config` transforms them.
void AppendResult(const WriterConfig& config, const MapRunNames& names, size_t i, const IterationOutcome& o,
                  Json& out) {
  using T = WriterConfig::Transformation;
  if (config.transformation == T::kNone || o.status != IterationOutcome::Status::kSucceeded) {
    out.push_back(Entry(names, i, o));
  } else if (config.transformation == T::kFlatten && o.output.is_array()) {
    for (const Json& v : o.output) out.push_back(v);
  } else {
    out.push_back(o.output);
  }
}

std::string Serialize(const WriterConfig& config, const Json& results) {
  if (!config.json_lines) return DumpJson(results);
  std::string body;
  for (const Json& r : results) {
    body += DumpJson(r);
    body += '\n';
  }
  return body;
}

}  // namespace

Result<WriterConfig> ParseWriterConfig(const Json& result_writer) {
  WriterConfig config;
  if (!result_writer.is_object() || !result_writer.contains("WriterConfig")) return config;
  const Json& wc = result_writer["WriterConfig"];
  if (!wc.is_object()) return Error("States.Runtime", "ResultWriter WriterConfig must be an object but was: " + DumpJson(wc));
  const Json t = wc.value("Transformation", Json("NONE"));
  const Json o = wc.value("OutputType", Json("JSON"));
  if (t == "NONE") {
    config.transformation = WriterConfig::Transformation::kNone;
  } else if (t == "COMPACT") {
    config.transformation = WriterConfig::Transformation::kCompact;
  } else if (t == "FLATTEN") {
    config.transformation = WriterConfig::Transformation::kFlatten;
  } else {
    return Error("States.Runtime", "ResultWriter WriterConfig Transformation must be NONE, COMPACT or FLATTEN but was: " + DumpJson(t));
  }
  if (o != "JSON" && o != "JSONL") {
    return Error("States.Runtime", "ResultWriter WriterConfig OutputType must be JSON or JSONL but was: " + DumpJson(o));
  }
  config.json_lines = o == "JSONL";
  return config;
}

Json TransformedResults(const WriterConfig& config, const MapRunNames& names,
                        const std::vector<IterationOutcome>& outcomes) {
  Json out = Json::array();
  for (size_t i = 0; i < outcomes.size(); ++i) AppendResult(config, names, i, outcomes[i], out);
  return out;
}

std::vector<ResultFile> ResultFiles(const std::string& bucket, const std::string& prefix,
                                    const MapRunNames& names,
                                    const std::vector<IterationOutcome>& outcomes,
                                    const WriterConfig& config) {
  std::string base = prefix;
  if (!base.empty() && base.back() != '/') base += '/';
  base += names.map_run_id + "/";
  std::vector<ResultFile> files;
  Json manifest_files = Json::object();
  for (auto status : {IterationOutcome::Status::kFailed, IterationOutcome::Status::kPending,
                      IterationOutcome::Status::kSucceeded}) {
    std::string name = OutcomeName(status);
    Json entries = Json::array();
    bool any = false;
    for (size_t i = 0; i < outcomes.size(); ++i) {
      if (outcomes[i].status != status) continue;
      any = true;
      AppendResult(config, names, i, outcomes[i], entries);
    }
    Json listed = Json::array();
    if (any) {
      ResultFile f{base + name + (config.json_lines ? "_0.jsonl" : "_0.json"), Serialize(config, entries)};
      listed.push_back(Json{{"Key", f.key}, {"Size", f.body.size()}});
      files.push_back(std::move(f));
    }
    manifest_files[name] = std::move(listed);
  }
  Json manifest{{"DestinationBucket", bucket}, {"MapRunArn", names.map_run_arn}, {"ResultFiles", std::move(manifest_files)}};
  files.push_back(ResultFile{ManifestKey(prefix, names.map_run_id), DumpJson(manifest)});
  return files;
}

}  // namespace stratus::services::stepfunctions

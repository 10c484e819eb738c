#pragma once
// Distributed Map over S3, the parts that need no I/O: turning what the ItemReader read
// (an object's body, or a bucket listing) into the Map's items, and shaping the ResultWriter's
// files (AWS's manifest.json and SUCCEEDED_0/FAILED_0/PENDING_0.json). The reads and writes
// themselves are TaskCalls (TaskCall::Purpose) that the integrations run through
// OperationCaller; the readers of several objects or of binary ones (MANIFEST, ATHENA_DATA,
// PARQUET) are integrations_map.cc's, over s3_inventory.h and parquet_reader.h. Pure functions;
// thread-safe.
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace stratus::services::stepfunctions {

inline constexpr char kS3GetObject[] = "arn:aws:states:::s3:getObject";
inline constexpr char kS3ListObjectsV2[] = "arn:aws:states:::s3:listObjectsV2";
inline constexpr char kS3PutObject[] = "arn:aws:states:::s3:putObject";

// `o[name]` when o is an object whose member is a string, else `fallback` (never throws, unlike
// Json::value on a member of another type).
std::string StringMember(const Json& o, const char* name, std::string fallback = "");

// The Map's items from an s3:getObject read: `reader_config` is the ItemReader's ReaderConfig
// with MaxItems resolved (InputType JSON — the body is a JSON array —, JSONL, or CSV, with
// CSVHeaderLocation FIRST_ROW (default) or GIVEN + CSVHeaders; CSV items are objects of strings).
// Errors carry the cause of States.ItemReaderFailed.
Result<Json> ItemsFromObject(const Json& reader_config, const std::string& body);

// RFC 4180 rows split on `delimiter` (double quotes, "" escapes, LF or CRLF; blank lines are
// skipped). Errors carry States.ItemReaderFailed.
Result<std::vector<std::vector<std::string>>> ParseCsvRows(const std::string& text, char delimiter);

// The Map's items from an s3:listObjectsV2 read: `contents` is the concatenated `Contents` of
// every page, each item shaped as AWS does: {Etag, Key, LastModified (epoch seconds), Size,
// StorageClass}. MaxItems applies.
Json ItemsFromListing(const Json& reader_config, const Json& contents);

// One iteration's outcome, as the ResultWriter reports it.
struct IterationOutcome {
  enum class Status { kSucceeded, kFailed, kPending };
  Status status = Status::kPending;
  Json input;
  Json output;  // kSucceeded
  std::string error, cause;  // kFailed
};

struct ResultFile {
  std::string key;
  std::string body;
};

struct MapRunNames {
  std::string map_run_arn;   // arn:aws:states:<region>:<acct>:mapRun:<machine>/<label>:<id>
  std::string map_run_id;    // the last part of the ARN (the folder under the Prefix)
  std::string execution_arn_prefix;  // child executions: <prefix><n>
  std::string state_machine_arn;     // the map run's state machine: <machine arn>/<label>
  std::string start_date, stop_date; // ISO 8601
};

// ResultWriter.WriterConfig, as AWS documents it. Transformation NONE keeps each iteration's
// metadata (ExecutionArn, Input, Output, Status, dates, …); COMPACT keeps only the outputs of
// the iterations that succeeded; FLATTEN does too, and splices an output that is an array into
// the results. An iteration that failed is reported as NONE reports it whatever the
// Transformation. OutputType JSON writes each result file as one JSON array, JSONL as one JSON
// value per line (files named *.jsonl).
struct WriterConfig {
  enum class Transformation { kNone, kCompact, kFlatten };
  Transformation transformation = Transformation::kNone;
  bool json_lines = false;
};

// The WriterConfig of a ResultWriter (NONE and JSON when it has none). Errors (States.Runtime)
// name a bad Transformation or OutputType.
Result<WriterConfig> ParseWriterConfig(const Json& result_writer);

// The Map's result when the ResultWriter has a WriterConfig but no Resource: the outcomes in
// item order, transformed as `config` says.
Json TransformedResults(const WriterConfig& config, const MapRunNames& names,
                        const std::vector<IterationOutcome>& outcomes);

// The files the ResultWriter puts, in order (result files first, manifest.json last), under
// `<prefix>/<map_run_id>/`. Empty categories get no file (the manifest lists them empty).
std::vector<ResultFile> ResultFiles(const std::string& bucket, const std::string& prefix,
                                    const MapRunNames& names,
                                    const std::vector<IterationOutcome>& outcomes,
                                    const WriterConfig& config = WriterConfig{});

// The manifest's key, which the Map state outputs as ResultWriterDetails.Key.
std::string ManifestKey(const std::string& prefix, const std::string& map_run_id);

}  // namespace stratus::services::stepfunctions

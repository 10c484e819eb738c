// Distributed Map over S3: the ItemReader read before the iterations and the ResultWriter write
// after them, each a TaskCall waited for in its own frame phase (kReader / kWriter), so that a
// standard execution resumes either after a restart. Item parsing and file shapes: map_io.h.
#include "core/crypto.h"
#include "core/time_format.h"
#include "services/stepfunctions/state_runner.h"

namespace stratus::services::stepfunctions {

namespace {

std::string UuidFromHex(const std::string& hex) {
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20, 12);
}

std::string ReplaceOnce(std::string s, std::string_view from, std::string_view to) {
  if (auto pos = s.find(from); pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

}  // namespace

MapRunNames StateRunner::RunNames(const Frame& f) const {
  const State& s = f.current();
  std::string label = s.map->label.empty() ? s.name : s.map->label;
  // Derived from the Map's entry (and attempt), so that it is the same after a restart.
  std::string id = UuidFromHex(Sha256Hex(e_.info_.arn + "#" + std::to_string(f.id) + "#" +
                                         std::to_string(f.entered_event) + "#" + std::to_string(f.retry_total)));
  MapRunNames n;
  n.map_run_id = id;
  n.state_machine_arn = e_.info_.state_machine_arn + "/" + label;
  n.map_run_arn = ReplaceOnce(n.state_machine_arn, ":stateMachine:", ":mapRun:") + ":" + id;
  n.execution_arn_prefix = ReplaceOnce(n.state_machine_arn, ":stateMachine:", ":execution:") + ":" + id + "_";
  n.start_date = FormatIso8601(static_cast<double>(f.entered_ms) / 1000.0, true);
  n.stop_date = FormatIso8601(static_cast<double>(e_.host_.NowMs()) / 1000.0, true);
  return n;
}

void StateRunner::DispatchMapIo(Frame& f, Phase phase) {
  const MapConfig& m = *f.current().map;
  f.seq += 1;
  f.phase = phase;
  e_.MarkDirty(f);
  TaskCall call;
  call.purpose = phase == Phase::kReader ? TaskCall::Purpose::kItemReader : TaskCall::Purpose::kResultWriter;
  call.frame = f.id;
  call.seq = f.seq;
  call.state_name = f.current().name;
  call.resource = phase == Phase::kReader ? m.reader_resource : m.writer_resource;
  call.parameters = f.task_parameters;
  call.entered_event = f.entered_event;
  e_.host_.Dispatch(call);
}

void StateRunner::StartReader(Frame& f, Json selector_input) {
  const State& s = f.current();
  const MapConfig& m = *s.map;
  if (m.reader_resource != kS3GetObject && m.reader_resource != kS3ListObjectsV2) {
    return EvaluationError(f, Error("States.Runtime", "The ItemReader resource '" + m.reader_resource +
                                                          "' is not supported by stratus (" + kS3GetObject + " and " +
                                                          kS3ListObjectsV2 + " are)"));
  }
  Json params = Json::object();
  if (m.reader_arguments) {
    Json states = StatesVar(f, nullptr, nullptr);
    auto v = m.reader_arguments->Evaluate(Bindings(f, states));
    if (!v.ok()) return EvaluationError(f, v.error());
    params = std::move(*v);
  } else if (m.reader_parameters) {
    Json ctx = Context(f);
    EvalEnv env{selector_input, ctx, &f};
    auto v = m.reader_parameters->Evaluate(env);
    if (!v.ok()) return EvaluationError(f, v.error());
    params = std::move(*v);
  }
  Json config = m.item_reader.value("ReaderConfig", Json::object());
  if (m.reader_max_items.present) {
    auto v = ResolveNumber(f, m.reader_max_items, "MaxItems", selector_input, true);
    if (!v.ok()) return EvaluationError(f, v.error());
    config.erase("MaxItemsPath");
    config["MaxItems"] = *v;
  }
  f.result = std::move(selector_input);  // the ItemSelector's $ once the items are read
  f.task_parameters = Json{{"Parameters", std::move(params)}, {"ReaderConfig", std::move(config)}};
  DispatchMapIo(f, Phase::kReader);
}

std::vector<IterationOutcome> StateRunner::Outcomes(Frame& f) {
  Children& c = *f.children;
  std::set<size_t> running;
  for (uint64_t id : c.running) {
    if (Frame* r = e_.Get(id)) running.insert(static_cast<size_t>(r->index));
  }
  std::vector<IterationOutcome> out(c.total);
  for (size_t i = 0; i < c.total && i < c.items.size(); ++i) {
    IterationOutcome& o = out[i];
    if (c.items_selected) {
      o.input = c.items[i];
    } else {
      auto v = SelectItem(f, i, c.items[i]);
      o.input = v.ok() ? std::move(*v) : c.items[i];
    }
    if (i >= c.started || running.count(i)) {
      o.status = IterationOutcome::Status::kPending;
    } else if (c.failed_indices.count(i)) {
      o.status = IterationOutcome::Status::kFailed;
      o.error = c.results[i].value("Error", "");
      o.cause = c.results[i].value("Cause", "");
    } else {
      o.status = IterationOutcome::Status::kSucceeded;
      o.output = c.results[i];
    }
  }
  return out;
}

void StateRunner::StartWriter(Frame& f, const std::vector<IterationOutcome>& outcomes) {
  const MapConfig& m = *f.current().map;
  f.phase = Phase::kEnter;
  Json selector_input = std::move(f.result);
  f.result = Json();
  auto config = ParseWriterConfig(m.result_writer);
  if (!config.ok()) return EvaluationError(f, config.error());
  if (m.writer_resource.empty()) {
    // A WriterConfig without a Resource: the results, transformed, are the Map's result.
    Json results = TransformedResults(*config, RunNames(f), outcomes);
    if (m.distributed) e_.Emit(&f, "MapRunSucceeded");
    e_.Emit(&f, "MapStateSucceeded");
    auto out = ProcessResult(f, std::move(results));
    if (!out.ok()) return EvaluationError(f, out.error());
    Complete(f, std::move(*out));
    return;
  }
  if (m.writer_resource != kS3PutObject) {
    return EvaluationError(f, Error("States.Runtime", "The ResultWriter resource '" + m.writer_resource +
                                                          "' is not supported by stratus (" + kS3PutObject + " is)"));
  }
  Json params = Json::object();
  if (m.writer_arguments) {
    Json states = StatesVar(f, nullptr, nullptr);
    auto v = m.writer_arguments->Evaluate(Bindings(f, states));
    if (!v.ok()) return EvaluationError(f, v.error());
    params = std::move(*v);
  } else if (m.writer_parameters) {
    Json ctx = Context(f);
    EvalEnv env{selector_input, ctx, &f};
    auto v = m.writer_parameters->Evaluate(env);
    if (!v.ok()) return EvaluationError(f, v.error());
    params = std::move(*v);
  }
  const Json bucket = params.is_object() ? params.value("Bucket", Json()) : Json();
  const Json prefix = params.is_object() ? params.value("Prefix", Json("")) : Json("");
  if (!bucket.is_string() || bucket.get_ref<const std::string&>().empty() || !prefix.is_string()) {
    return EvaluationError(f, Error("States.Runtime", "The ResultWriter Parameters need a Bucket (and an optional "
                                                          "Prefix), as strings, but were: " + DumpJson(params)));
  }
  MapRunNames names = RunNames(f);
  Json files = Json::array();
  for (auto& file : ResultFiles(bucket.get<std::string>(), prefix.get<std::string>(), names, outcomes, *config)) {
    files.push_back(Json{{"Key", std::move(file.key)}, {"Body", std::move(file.body)}});
  }
  f.task_parameters = Json{{"Bucket", bucket},
                           {"Files", std::move(files)},
                           {"ManifestKey", ManifestKey(prefix.get<std::string>(), names.map_run_id)},
                           {"MapRunArn", names.map_run_arn}};
  DispatchMapIo(f, Phase::kWriter);
}

void StateRunner::MapIoResult(Frame& f, stepfunctions::TaskResult r) {
  using K = stepfunctions::TaskResult::Kind;
  if (r.kind != K::kSucceeded && r.kind != K::kFailed) return;
  const MapConfig& m = *f.current().map;
  Phase phase = f.phase;
  Json request = std::move(f.task_parameters);
  f.task_parameters = Json();
  ++f.seq;
  f.phase = Phase::kEnter;
  e_.MarkDirty(f);
  Json map_run_record = std::exchange(f.map_run_record, Json());
  auto fail = [&](const std::string& error, const std::string& cause) {
    if (m.distributed && phase == Phase::kWriter) {
      e_.Emit(&f, "MapRunFailed", "mapRunFailedEventDetails", Json{{"error", error}, {"cause", cause}});
      // As on AWS, the map run fails with its ResultWriter: DescribeMapRun shows FAILED, and no
      // results were written.
      if (map_run_record.is_object()) {
        map_run_record["status"] = "FAILED";
        map_run_record["stopMs"] = e_.host_.NowMs();
        for (const char* k : {"itemCounts", "executionCounts"}) map_run_record[k]["resultsWritten"] = 0;
        std::string arn = map_run_record.value("mapRunArn", "");
        e_.map_run_changes_.runs[arn] = std::move(map_run_record);
      }
    }
    e_.Emit(&f, "MapStateFailed");
    HandleFailure(f, error, cause);
  };
  if (phase == Phase::kReader) {
    Json selector_input = std::move(f.result);
    f.result = Json();
    if (r.kind == K::kFailed) return fail("States.ItemReaderFailed", r.cause.empty() ? r.error : r.cause);
    const Json& config = request["ReaderConfig"];
    // MANIFEST, ATHENA_DATA and PARQUET readers answer with the items themselves.
    Result<Json> items = r.output.contains("Items")       ? Result<Json>(std::move(r.output["Items"]))
                         : m.reader_resource == kS3ListObjectsV2
                             ? Result<Json>(ItemsFromListing(config, r.output.value("Contents", Json::array())))
                             : ItemsFromObject(config, r.output.value("Body", ""));
    if (!items.ok()) return fail(items.error().code, items.error().message);
    return StartMap(f, std::move(*items), std::move(selector_input));
  }
  std::string error = std::move(f.error), cause = std::move(f.cause);
  f.error.clear();
  f.cause.clear();
  if (r.kind == K::kFailed) return fail("States.ResultWriterFailed", r.cause.empty() ? r.error : r.cause);
  if (!error.empty()) return fail(error, cause);
  if (m.distributed) e_.Emit(&f, "MapRunSucceeded");
  e_.Emit(&f, "MapStateSucceeded");
  // AWS's output: the map run and where its manifest is.
  Json details{{"MapRunArn", request.value("MapRunArn", "")},
               {"ResultWriterDetails", Json{{"Bucket", request.value("Bucket", "")}, {"Key", request.value("ManifestKey", "")}}}};
  auto out = ProcessResult(f, std::move(details));
  if (!out.ok()) return EvaluationError(f, out.error());
  Complete(f, std::move(*out));
}

}  // namespace stratus::services::stepfunctions

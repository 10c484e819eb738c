#include "services/stepfunctions/map_run_api.h"

#include <algorithm>
#include <unordered_map>

#include "core/strings.h"
#include "services/stepfunctions/api_util.h"
#include "services/stepfunctions/runner.h"

namespace stratus::services::stepfunctions {

namespace {

Json DescribeFrom(const Json& rec) {
  Json out{{"mapRunArn", rec.value("mapRunArn", "")},
           {"executionArn", rec.value("executionArn", "")},
           {"status", rec.value("status", "RUNNING")},
           {"startDate", Seconds(rec.value("startMs", int64_t{0}))},
           {"maxConcurrency", rec.value("maxConcurrency", 0)},
           {"toleratedFailurePercentage", rec.value("toleratedFailurePercentage", 0.0)},
           {"toleratedFailureCount", rec.value("toleratedFailureCount", int64_t{0})},
           {"itemCounts", rec.value("itemCounts", Json::object())},
           {"executionCounts", rec.value("executionCounts", Json::object())},
           {"redriveCount", rec.value("redriveCount", int64_t{0})}};
  if (rec.contains("stopMs")) out["stopDate"] = Seconds(rec.value("stopMs", int64_t{0}));
  if (rec.value("redriveMs", int64_t{0}) > 0) out["redriveDate"] = Seconds(rec.value("redriveMs", int64_t{0}));
  return out;
}

}  // namespace

Result<Json> DescribeMapRun(store::Store& store, const std::string& map_run_arn) {
  auto key = MapRunKey(map_run_arn);
  if (!key) return InvalidArn(map_run_arn);
  auto raw = store.Get(*key);
  if (!raw.ok()) return raw.error();
  if (!raw->has_value()) return Error("ResourceNotFound", "Resource not found: '" + map_run_arn + "'");
  return DescribeFrom(ParseJsonOrDiscarded(**raw));
}

Result<Json> ListMapRuns(store::Store& store, const Json& in) {
  std::string arn = in.value("executionArn", "");
  auto keys = KeysForExecution(arn);
  if (!keys) return InvalidArn(arn);
  std::vector<Json> records;
  bool exists = false;
  STRATUS_RETURN_IF_ERROR(store.Read([&](store::ReadTxn& txn) -> Status {
    auto meta = txn.Get(keys->meta);
    if (!meta.ok()) return meta.error();
    exists = meta->has_value();
    auto index = txn.Scan(store::PrefixScan(MapRunIndexPrefix(arn)));
    if (!index.ok()) return index.error();
    for (const auto& kv : *index) {
      auto key = MapRunKey(kv.value);
      if (!key) continue;
      auto rec = txn.Get(*key);
      if (!rec.ok()) return rec.error();
      if (rec->has_value()) records.push_back(ParseJsonOrDiscarded(**rec));
    }
    return Status::Ok();
  }));
  if (!exists) return NotFound("ExecutionDoesNotExist", "Execution", arn);
  Json items = Json::array();
  for (const Json& rec : records) {
    Json item{{"executionArn", rec.value("executionArn", "")},
              {"mapRunArn", rec.value("mapRunArn", "")},
              {"stateMachineArn", rec.value("stateMachineArn", "")},
              {"startDate", Seconds(rec.value("startMs", int64_t{0}))}};
    if (rec.contains("stopMs")) item["stopDate"] = Seconds(rec.value("stopMs", int64_t{0}));
    items.push_back(std::move(item));
  }
  return Paginate(std::move(items), in, "mapRuns");
}

Result<Json> ListMapRunExecutions(store::Store& store, const Json& in) {
  std::string map_run_arn = in.value("mapRunArn", "");
  auto key = MapRunKey(map_run_arn);
  if (!key) return InvalidArn(map_run_arn);
  // Children are "arn:...:execution:<machine>/<label>:<map run id>_<n>".
  auto parts = Split(map_run_arn, ':');
  std::string base = "stepfunctions/" + parts[4] + "/" + parts[3];
  std::string tail = parts[6] + "/" + parts[7] + "_";
  std::vector<store::KeyValue> metas, states;
  bool exists = false;
  STRATUS_RETURN_IF_ERROR(store.Read([&](store::ReadTxn& txn) -> Status {
    auto run = txn.Get(*key);
    if (!run.ok()) return run.error();
    exists = run->has_value();
    auto m = txn.Scan(store::PrefixScan(base + "/ex/" + tail));
    if (!m.ok()) return m.error();
    metas = std::move(*m);
    auto s = txn.Scan(store::PrefixScan(base + "/xs/" + tail));
    if (!s.ok()) return s.error();
    states = std::move(*s);
    return Status::Ok();
  }));
  if (!exists) return Error("ResourceNotFound", "Resource not found: '" + map_run_arn + "'");
  std::unordered_map<std::string, Json> by_name;
  for (auto& kv : states) by_name[kv.key.substr(kv.key.rfind('/') + 1)] = ParseJsonOrDiscarded(kv.value);
  std::string filter = in.value("statusFilter", "");
  std::vector<Json> rows;
  for (auto& kv : metas) {
    Json m = ParseJsonOrDiscarded(kv.value);
    const Json& s = by_name[kv.key.substr(kv.key.rfind('/') + 1)];
    const Json& info = m["info"];
    std::string status = s.value("status", "RUNNING");
    if (!filter.empty() && status != filter) continue;
    Json row{{"executionArn", info.value("arn", "")},
             {"stateMachineArn", info.value("stateMachineArn", "")},
             {"name", info.value("name", "")},
             {"status", status},
             {"startDate", Seconds(info.value("startMs", int64_t{0}))},
             {"mapRunArn", map_run_arn},
             {"redriveCount", 0}};
    if (s.value("stop_ms", int64_t{0}) > 0) row["stopDate"] = Seconds(s.value("stop_ms", int64_t{0}));
    rows.push_back(std::move(row));
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Json& a, const Json& b) {
    return a["startDate"].get<double>() > b["startDate"].get<double>();
  });
  Json items = Json::array();
  for (auto& r : rows) items.push_back(std::move(r));
  return Paginate(std::move(items), in, "executions");
}

}  // namespace stratus::services::stepfunctions

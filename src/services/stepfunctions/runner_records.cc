// The runner's record formats: execution info, history chunks (the execution's own and its
// distributed Map child executions'), map run and child execution records.
#include <cstdio>
#include <map>

#include "services/stepfunctions/runner.h"

namespace stratus::services::stepfunctions {

std::string PadKey(uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%012llu", static_cast<unsigned long long>(n));
  return buf;
}

Json InfoToJson(const ExecutionInfo& i) {
  return Json{{"arn", i.arn},
              {"name", i.name},
              {"stateMachineArn", i.state_machine_arn},
              {"stateMachineName", i.state_machine_name},
              {"roleArn", i.role_arn},
              {"account", i.account},
              {"region", i.region},
              {"versionArn", i.state_machine_version_arn},
              {"aliasArn", i.state_machine_alias_arn},
              {"startMs", i.start_ms},
              {"express", i.express},
              {"redriveCount", i.redrive_count},
              {"redriveMs", i.redrive_ms}};
}

ExecutionInfo InfoFromJson(const Json& j) {
  ExecutionInfo i;
  i.arn = j.value("arn", "");
  i.name = j.value("name", "");
  i.state_machine_arn = j.value("stateMachineArn", "");
  i.state_machine_name = j.value("stateMachineName", "");
  i.role_arn = j.value("roleArn", "");
  i.account = j.value("account", "");
  i.region = j.value("region", "");
  i.state_machine_version_arn = j.value("versionArn", "");
  i.state_machine_alias_arn = j.value("aliasArn", "");
  i.start_ms = j.value("startMs", int64_t{0});
  i.express = j.value("express", false);
  i.redrive_count = j.value("redriveCount", int64_t{0});
  i.redrive_ms = j.value("redriveMs", int64_t{0});
  return i;
}

HistoryChunks SplitHistory(const std::vector<HistoryEvent>& events) {
  HistoryChunks out;
  if (events.empty()) return out;
  out.own.reserve(events.size() * 160);
  // Child ARN -> (first event id in this batch, chunk text).
  std::map<std::string, std::pair<int64_t, std::string>> children;
  for (const HistoryEvent& ev : events) {
    std::string* chunk = &out.own;
    if (!ev.execution_arn.empty()) {
      chunk = &children.try_emplace(ev.execution_arn, ev.id, std::string()).first->second.second;
    } else if (out.first_own == 0) {
      out.first_own = ev.id;
    }
    chunk->push_back(chunk->empty() ? '[' : ',');
    *chunk += DumpJson(EventToJson(ev));
  }
  if (!out.own.empty()) out.own.push_back(']');
  for (auto& [arn, chunk] : children) {
    auto keys = KeysForExecution(arn);
    if (!keys) continue;
    chunk.second.push_back(']');
    out.children.emplace_back(keys->history + PadKey(static_cast<uint64_t>(chunk.first)), std::move(chunk.second));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> MapRunWrites(const ExecutionInfo& parent, MapRunChanges runs) {
  std::vector<std::pair<std::string, std::string>> writes;
  for (auto& [arn, rec] : runs.runs) {
    auto key = MapRunKey(arn);
    if (!key) continue;
    writes.emplace_back(MapRunIndexPrefix(parent.arn) + PadKey(rec.value("startMs", uint64_t{0})) + ":" +
                            arn.substr(arn.rfind(':') + 1),
                        arn);
    writes.emplace_back(*key, DumpJson(rec));
  }
  for (auto& child : runs.children) {
    auto keys = KeysForExecution(child.value("arn", ""));
    if (!keys) continue;
    ExecutionInfo ci;
    ci.arn = child.value("arn", "");
    ci.name = child.value("name", "");
    ci.state_machine_arn = child.value("stateMachineArn", "");
    ci.state_machine_name = ci.state_machine_arn.substr(ci.state_machine_arn.rfind(':') + 1);
    ci.role_arn = parent.role_arn;
    ci.account = parent.account;
    ci.region = parent.region;
    ci.start_ms = child.value("startMs", int64_t{0});
    ci.redrive_count = child.value("redriveCount", int64_t{0});
    ci.redrive_ms = child.value("redriveMs", int64_t{0});
    Json meta_rec{{"info", InfoToJson(ci)}, {"input", child.value("input", Json())},
                  {"mapRunArn", child.value("mapRunArn", "")}, {"parentExecutionArn", parent.arn}};
    Json state_rec{{"status", child.value("status", "SUCCEEDED")}, {"stop_ms", child.value("stopMs", int64_t{0})}};
    for (const char* k : {"output", "error", "cause"}) {
      if (child.contains(k)) state_rec[k] = child[k];
    }
    writes.emplace_back(keys->meta, DumpJson(meta_rec));
    writes.emplace_back(keys->state, DumpJson(state_rec));
  }
  return writes;
}

std::optional<int64_t> RedriveTokenAnswer(const Json& tokens, const std::string& token, int64_t now_ms) {
  if (token.empty() || !tokens.is_array()) return std::nullopt;
  for (const Json& t : tokens) {
    if (!t.is_object() || t.value("token", "") != token) continue;
    if (now_ms - t.value("firstMs", int64_t{0}) > kRedriveTokenValidMs) return std::nullopt;
    return t.value("redriveMs", int64_t{0});
  }
  return std::nullopt;
}

Json RememberRedriveToken(const Json& tokens, const std::string& token, int64_t redrive_ms) {
  Json out = Json::array();
  if (tokens.is_array()) {
    for (const Json& t : tokens) {
      if (!t.is_object() || t.value("token", "") == token) continue;
      if (redrive_ms - t.value("firstMs", int64_t{0}) > kRedriveTokenValidMs) continue;
      out.push_back(t);
    }
  }
  if (!token.empty()) out.push_back(Json{{"token", token}, {"firstMs", redrive_ms}, {"redriveMs", redrive_ms}});
  if (out.size() > kRedriveTokensKept) {
    out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(out.size() - kRedriveTokensKept));
  }
  return out;
}

}  // namespace stratus::services::stepfunctions

#include "services/dynamodb/streams.h"

#include <cstdio>

#include "core/strings.h"
#include "services/dynamodb/attr.h"

namespace stratus::services::dynamodb {

namespace {

constexpr int64_t kIteratorTtlMs = 15 * 60 * 1000;
constexpr int64_t kDefaultRecords = 1000;
constexpr size_t kMaxRecordBytes = 1024 * 1024;

std::string Seq(uint64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%021llu", static_cast<unsigned long long>(v));
  return buf;
}

Result<uint64_t> ParseSeq(const std::string& s) {
  if (s.empty() || s.size() > 40) return Validation("Invalid SequenceNumber: " + s);
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return Validation("Invalid SequenceNumber: " + s);
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::string ShardId(const Json& meta) {
  char buf[64];
  snprintf(buf, sizeof buf, "shardId-%020lld-%08llx",
           static_cast<long long>(meta.value("created", 0.0) * 1000),
           static_cast<unsigned long long>(meta.value("uid", uint64_t{0}) & 0xFFFFFFFF));
  return buf;
}

std::string RecordPrefix(uint64_t uid) { return "ddb/s/" + BigEndian64(uid); }

std::string Iterator(const std::string& arn, uint64_t uid, uint64_t pos, int64_t now) {
  return arn + "|1|" + HexEncode(BigEndian64(uid) + BigEndian64(pos) + BigEndian64(static_cast<uint64_t>(now)));
}

}  // namespace

Result<Json> StreamReader::LoadStream(const std::string& arn) {
  STRATUS_ASSIGN_OR_RETURN(auto raw, store_.Get("ddb/st/" + arn));
  if (!raw) return ResourceNotFound("Requested resource not found: Stream: " + arn + " not found");
  Json j = ParseJsonOrDiscarded(*raw);
  if (!j.is_object()) return InternalFailure("corrupt stream record");
  return j;
}

Result<std::pair<uint64_t, uint64_t>> StreamReader::Bounds(uint64_t uid) {
  std::string p = RecordPrefix(uid);
  STRATUS_ASSIGN_OR_RETURN(auto first, store_.Scan(store::PrefixScan(p, 1)));
  STRATUS_ASSIGN_OR_RETURN(auto last, store_.Scan(store::PrefixScan(p, 1, true)));
  uint64_t lo = first.empty() ? 0 : ReadBigEndian64(std::string_view(first[0].key).substr(p.size()));
  uint64_t hi = last.empty() ? 0 : ReadBigEndian64(std::string_view(last[0].key).substr(p.size()));
  return std::make_pair(lo, hi);
}

Result<Json> StreamReader::ListStreams(const Scope& s, const Json& in) {
  std::string prefix = "ddb/st/arn:aws:dynamodb:" + s.region + ":" + s.account + ":table/";
  if (in.contains("TableName")) prefix += in["TableName"].get<std::string>() + "/stream/";
  store::ScanOptions scan = store::PrefixScan(prefix);
  if (in.contains("ExclusiveStartStreamArn")) {
    scan.start = "ddb/st/" + in["ExclusiveStartStreamArn"].get<std::string>() + std::string(1, '\0');
  }
  int64_t limit = in.value("Limit", int64_t{100});
  scan.limit = static_cast<size_t>(limit) + 1;
  STRATUS_ASSIGN_OR_RETURN(auto rows, store_.Scan(scan));
  Json streams = Json::array();
  for (size_t i = 0; i < rows.size() && static_cast<int64_t>(i) < limit; ++i) {
    Json m = ParseJsonOrDiscarded(rows[i].value);
    if (!m.is_object()) continue;
    streams.push_back(Json{{"StreamArn", m.value("arn", "")}, {"TableName", m.value("table", "")},
                           {"StreamLabel", m.value("label", "")}});
  }
  Json out = {{"Streams", streams}};
  if (static_cast<int64_t>(rows.size()) > limit && !streams.empty()) {
    out["LastEvaluatedStreamArn"] = streams.back()["StreamArn"];
  }
  return out;
}

Result<Json> StreamReader::DescribeStream(const Scope& s, const Json& in) {
  std::string arn = in.value("StreamArn", "");
  STRATUS_ASSIGN_OR_RETURN(Json m, LoadStream(arn));
  uint64_t uid = m.value("uid", uint64_t{0});
  STRATUS_ASSIGN_OR_RETURN(auto bounds, Bounds(uid));
  bool enabled = m.value("status", "ENABLED") == "ENABLED";
  Json range = {{"StartingSequenceNumber", Seq(bounds.first == 0 ? m.value("first_seq", uint64_t{1}) : bounds.first)}};
  if (!enabled) range["EndingSequenceNumber"] = Seq(bounds.second);
  Json shards = Json::array();
  std::string shard = ShardId(m);
  if (!in.contains("ExclusiveStartShardId") || in["ExclusiveStartShardId"].get<std::string>() < shard) {
    shards.push_back(Json{{"ShardId", shard}, {"SequenceNumberRange", range}});
  }
  Json d = {{"StreamArn", arn},
            {"StreamLabel", m.value("label", "")},
            {"StreamStatus", enabled ? "ENABLED" : "DISABLED"},
            {"StreamViewType", m.value("view", "")},
            {"CreationRequestDateTime", m.value("created", 0.0)},
            {"TableName", m.value("table", "")},
            {"KeySchema", m.value("keys", Json::array())},
            {"Shards", shards}};
  return Json{{"StreamDescription", d}};
}

Result<Json> StreamReader::GetShardIterator(const Scope& s, const Json& in) {
  std::string arn = in.value("StreamArn", "");
  STRATUS_ASSIGN_OR_RETURN(Json m, LoadStream(arn));
  if (in.value("ShardId", "") != ShardId(m)) {
    return ResourceNotFound("Requested resource not found: Shard does not exist");
  }
  uint64_t uid = m.value("uid", uint64_t{0});
  std::string type = in.value("ShardIteratorType", "");
  uint64_t pos = 0;
  if (type == "TRIM_HORIZON") {
    pos = 0;
  } else if (type == "LATEST") {
    STRATUS_ASSIGN_OR_RETURN(auto bounds, Bounds(uid));
    pos = bounds.second + 1;
  } else {
    if (!in.contains("SequenceNumber")) {
      return Validation("Must provide SequenceNumber for ShardIteratorType " + type);
    }
    STRATUS_ASSIGN_OR_RETURN(uint64_t seq, ParseSeq(in["SequenceNumber"].get<std::string>()));
    pos = type == "AFTER_SEQUENCE_NUMBER" ? seq + 1 : seq;
  }
  return Json{{"ShardIterator", Iterator(arn, uid, pos, clock_.NowMillis())}};
}

Result<Json> StreamReader::GetRecords(const Scope& s, const Json& in) {
  std::string it = in.value("ShardIterator", "");
  auto bar = it.rfind('|');
  auto first_bar = it.find('|');
  if (bar == std::string::npos || first_bar == bar) return Validation("Invalid ShardIterator");
  std::string arn = it.substr(0, first_bar);
  auto raw = HexDecode(it.substr(bar + 1));
  if (!raw || raw->size() != 24) return Validation("Invalid ShardIterator");
  uint64_t uid = ReadBigEndian64(raw->substr(0, 8));
  uint64_t pos = ReadBigEndian64(raw->substr(8, 8));
  int64_t issued = static_cast<int64_t>(ReadBigEndian64(raw->substr(16, 8)));
  int64_t now = clock_.NowMillis();
  if (now - issued > kIteratorTtlMs) {
    return Error("ExpiredIteratorException", "Iterator expired. The iterator was created at time " +
                                                 std::to_string(issued) + " while right now it is " +
                                                 std::to_string(now) + " which is further in the future than the tolerated delay of 900000 milliseconds.");
  }
  int64_t limit = in.value("Limit", kDefaultRecords);
  std::string prefix = RecordPrefix(uid);
  store::ScanOptions scan;
  scan.start = prefix + BigEndian64(pos);
  scan.end = store::PrefixEnd(prefix);
  scan.limit = static_cast<size_t>(limit);
  STRATUS_ASSIGN_OR_RETURN(auto rows, store_.Scan(scan));
  Json records = Json::array();
  uint64_t next = pos;
  size_t bytes = 0;
  for (const auto& kv : rows) {
    Json r = ParseJsonOrDiscarded(kv.value);
    if (!r.is_object()) continue;
    records.push_back(std::move(r));
    next = ReadBigEndian64(std::string_view(kv.key).substr(prefix.size())) + 1;
    bytes += kv.value.size();
    if (bytes >= kMaxRecordBytes) break;
  }
  Json out = {{"Records", records}};
  // A disabled stream's shard is closed: once drained, no next iterator.
  bool closed = false;
  if (records.empty()) {
    auto m = LoadStream(arn);
    closed = m.ok() && m->value("status", "ENABLED") != "ENABLED";
  }
  if (!closed) out["NextShardIterator"] = Iterator(arn, uid, next, now);
  return out;
}

}  // namespace stratus::services::dynamodb

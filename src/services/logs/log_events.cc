// LogStore's event operations: PutLogEvents, GetLogEvents, FilterLogEvents.
#include <algorithm>
#include <queue>

#include "core/crypto.h"
#include "core/strings.h"
#include "services/logs/event_rows.h"
#include "services/logs/filter_pattern.h"
#include "services/logs/keys.h"
#include "services/logs/log_store.h"

namespace stratus::services::logs {

namespace {

// CloudWatch Logs' documented PutLogEvents limits.
constexpr size_t kMaxBatchBytes = 1'048'576;
constexpr size_t kEventOverheadBytes = 26;
constexpr size_t kMaxEventBytes = 1'048'576 - kEventOverheadBytes;
constexpr int64_t kMaxBatchSpanMs = 24 * 3600 * 1000;
constexpr int64_t kTooOldMs = 14LL * 24 * 3600 * 1000;
constexpr int64_t kTooNewMs = 2LL * 3600 * 1000;
// GetLogEvents / FilterLogEvents pages: at most 10,000 events or 1 MB.
constexpr int64_t kMaxEventsPerPage = 10'000;
constexpr size_t kMaxPageBytes = 1'048'576;
// FilterLogEvents examines at most this many events per call before returning a nextToken.
constexpr size_t kMaxScannedPerFilter = 200'000;

// GetLogEvents tokens: "f/<hex position>" continues after the position, "b/<hex>" before it.
std::string Token(char dir, std::string_view position) {
  return std::string(1, dir) + "/" + HexEncode(position);
}

// Enough for every instance stream of a busy node; past it the map starts over (a miss costs a
// parse, as before).
constexpr size_t kMaxRememberedRecords = 4096;

}  // namespace

Status LogStore::CheckBatch(const std::vector<InputEvent>& events) {
  if (events.empty()) return InvalidParameter("The batch of log events must not be empty.");
  size_t batch_bytes = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    if (i > 0 && events[i].timestamp < events[i - 1].timestamp) {
      return InvalidParameter(
          "Log events in a single PutLogEvents request must be in chronological order.");
    }
    if (events[i].message.size() > kMaxEventBytes) {
      return InvalidParameter("Log event too large: " + std::to_string(events[i].message.size()) +
                              " bytes exceeds limit of " + std::to_string(kMaxEventBytes));
    }
    batch_bytes += events[i].message.size() + kEventOverheadBytes;
  }
  if (batch_bytes > kMaxBatchBytes) {
    return InvalidParameter("Upload too large: " + std::to_string(batch_bytes) +
                            " bytes exceeds limit of " + std::to_string(kMaxBatchBytes));
  }
  if (events.back().timestamp - events.front().timestamp > kMaxBatchSpanMs) {
    return InvalidParameter(
        "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.");
  }
  return Status::Ok();
}

Result<Json> LogStore::AppendInTxn(store::WriteTxn& txn, const Scope& s, const std::string& group,
                                   const std::string& stream,
                                   const std::vector<InputEvent>& events, bool create_missing,
                                   int64_t now, GroupCache& groups) {
  std::string gkey = keys::Group(s, group);
  auto cached = groups.find(gkey);
  if (cached == groups.end()) {
    STRATUS_ASSIGN_OR_RETURN(auto graw, txn.Get(gkey));
    Json g;
    if (!graw) {
      if (!create_missing) return ResourceNotFound("The specified log group does not exist.");
      g = {{"creationTime", now}, {"tags", Json::object()}, {"logGroupClass", "STANDARD"},
           {"storedBytes", 0}};
    } else {
      g = ParseJsonOrDiscarded(*graw);
      if (g.is_discarded()) return InternalFailure("corrupt log group record");
    }
    cached = groups.emplace(gkey, std::move(g)).first;
  }
  Json& g = cached->second;
  std::string skey = keys::Stream(s, group, stream);
  STRATUS_ASSIGN_OR_RETURN(auto sraw, txn.Get(skey));
  Json st;
  if (!sraw) {
    if (!create_missing) return ResourceNotFound("The specified log stream does not exist.");
    st = {{"creationTime", now}, {"nextSeq", 1}, {"storedBytes", 0}};
  } else {
    st = StreamRecord(skey, *sraw);
    if (st.is_discarded()) return InternalFailure("corrupt log stream record");
  }
  int64_t retention_cutoff = INT64_MIN;
  if (g.contains("retentionInDays")) {
    retention_cutoff = now - g["retentionInDays"].get<int64_t>() * 86'400'000;
  }
  Json rejected = Json::object();
  uint64_t seq = st.value("nextSeq", uint64_t{1});
  std::string prefix = keys::EventPrefix(s, group, stream);
  int64_t stored = 0;
  int64_t first = st.value("firstEventTimestamp", INT64_MAX);
  int64_t last = st.value("lastEventTimestamp", INT64_MIN);
  // Events are written as rows of many (event_rows.h). When the batch starts at or after the
  // stream's latest event (always, for function logs), its events follow every stored one and
  // go straight into new rows; otherwise they are merged into the rows they fall between.
  const bool has_events = st.contains("lastEventTimestamp");
  const int64_t stored_last = last;
  bool appending = true;
  bool decided = false;
  rows::RowWriter writer(txn, prefix);
  std::vector<rows::StoredEvent> merged;
  for (size_t i = 0; i < events.size(); ++i) {
    const InputEvent& e = events[i];
    int index = static_cast<int>(i);
    if (e.timestamp > now + kTooNewMs) {
      if (!rejected.contains("tooNewLogEventStartIndex")) rejected["tooNewLogEventStartIndex"] = index;
      continue;
    }
    if (e.timestamp < now - kTooOldMs) {
      rejected["tooOldLogEventEndIndex"] = index;
      continue;
    }
    if (e.timestamp < retention_cutoff) {
      rejected["expiredLogEventEndIndex"] = index;
      continue;
    }
    if (!decided) {
      // The batch is in time order, so its first accepted event is its earliest.
      appending = !has_events || e.timestamp >= stored_last;
      decided = true;
    }
    if (appending) {
      char position[16];
      keys::WritePosition(position, e.timestamp, seq++);
      STRATUS_RETURN_IF_ERROR(writer.Add(std::string_view(position, 16), now, e.message));
    } else {
      merged.push_back(rows::StoredEvent{keys::Position(e.timestamp, seq++), now, e.message});
    }
    stored += static_cast<int64_t>(e.message.size());
    first = std::min(first, e.timestamp);
    last = std::max(last, e.timestamp);
  }
  STRATUS_RETURN_IF_ERROR(writer.Finish());
  STRATUS_RETURN_IF_ERROR(rows::InsertEvents(txn, prefix, std::move(merged)));
  st["nextSeq"] = seq;
  if (stored > 0 || first != INT64_MAX) {
    st["firstEventTimestamp"] = first;
    st["lastEventTimestamp"] = last;
    st["lastIngestionTime"] = now;
  }
  st["storedBytes"] = st.value("storedBytes", int64_t{0}) + stored;
  g["storedBytes"] = g.value("storedBytes", int64_t{0}) + stored;
  std::string record = st.dump();
  STRATUS_RETURN_IF_ERROR(txn.Put(skey, record));
  RememberStreamRecord(skey, std::move(record), std::move(st));
  txn.Notify("logs/" + s.account + "/" + s.region + "/" + group);
  Json result = Json::object();
  result["nextSequenceToken"] = std::to_string(seq);
  if (!rejected.empty()) result["rejectedLogEventsInfo"] = rejected;
  return result;
}

Json LogStore::StreamRecord(const std::string& key, const std::string& bytes) {
  {
    std::lock_guard lock(records_mu_);
    auto it = records_.find(key);
    if (it != records_.end()) {
      Json value;
      bool same = it->second.bytes == bytes;
      if (same) value = std::move(it->second.value);
      records_.erase(it);  // taken (or stale): re-remembered when written
      if (same) return value;
    }
  }
  return ParseJsonOrDiscarded(bytes);
}

void LogStore::RememberStreamRecord(const std::string& key, std::string bytes, Json value) {
  std::lock_guard lock(records_mu_);
  if (records_.size() >= kMaxRememberedRecords) records_.clear();
  records_.insert_or_assign(key, ParsedRecord{std::move(bytes), std::move(value)});
}

Status LogStore::WriteGroups(store::WriteTxn& txn, const GroupCache& groups) {
  for (const auto& [gkey, g] : groups) STRATUS_RETURN_IF_ERROR(txn.Put(gkey, g.dump()));
  return Status::Ok();
}

Result<Json> LogStore::PutEvents(const Scope& s, const std::string& group,
                                 const std::string& stream, const std::vector<InputEvent>& events,
                                 bool create_missing) {
  STRATUS_RETURN_IF_ERROR(CheckBatch(events));
  int64_t now = clock_.NowMillis();
  Json result;
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    GroupCache groups;
    STRATUS_ASSIGN_OR_RETURN(result,
                             AppendInTxn(txn, s, group, stream, events, create_missing, now, groups));
    return WriteGroups(txn, groups);
  }));
  return result;
}

std::vector<Status> LogStore::PutEventsMany(const std::vector<StreamBatch>& batches) {
  std::vector<Status> out(batches.size(), Status::Ok());
  std::vector<size_t> valid;  // indexes of batches that pass CheckBatch
  valid.reserve(batches.size());
  for (size_t i = 0; i < batches.size(); ++i) {
    Status st = CheckBatch(batches[i].events);
    if (st.ok()) {
      valid.push_back(i);
    } else {
      out[i] = std::move(st);
    }
  }
  if (valid.empty()) return out;
  int64_t now = clock_.NowMillis();
  Status written = store_.Write([&](store::WriteTxn& txn) -> Status {
    GroupCache groups;
    for (size_t i : valid) {
      const StreamBatch& b = batches[i];
      auto r = AppendInTxn(txn, b.scope, b.group, b.stream, b.events, /*create_missing=*/true,
                           now, groups);
      if (!r.ok()) return std::move(r).error();
    }
    return WriteGroups(txn, groups);
  });
  if (!written.ok()) {
    for (size_t i : valid) out[i] = written;
  }
  return out;
}

Result<Json> LogStore::GetEvents(const Scope& s, const std::string& group,
                                 const std::string& stream, const Json& input) {
  int64_t limit = input.value("limit", kMaxEventsPerPage);
  if (limit < 1 || limit > kMaxEventsPerPage) limit = kMaxEventsPerPage;
  bool from_head = input.value("startFromHead", false);
  std::string prefix = keys::EventPrefix(s, group, stream);
  // The window [startTime, endTime), as positions.
  std::string lo;
  std::string hi = rows::Cursor::kAfterAll;
  if (input.contains("startTime")) lo = keys::Position(input["startTime"].get<int64_t>(), 0);
  if (input.contains("endTime")) hi = keys::Position(input["endTime"].get<int64_t>(), 0);
  std::string given_token;
  bool forward = from_head;
  if (input.contains("nextToken")) {
    given_token = input["nextToken"].get<std::string>();
    std::optional<std::string> pos;
    if (given_token.size() > 2 && given_token[1] == '/') pos = HexDecode(given_token.substr(2));
    if (!pos || pos->size() != 16 || (given_token[0] != 'f' && given_token[0] != 'b')) {
      return InvalidParameter("The specified nextToken is invalid.");
    }
    if (given_token[0] == 'f') {
      forward = true;
      lo = std::max(lo, *pos + std::string(1, '\0'));
    } else {
      forward = false;
      hi = std::min(hi, *pos);
    }
  }
  // Events in walk order (oldest first when forward), at most `limit` and the 1 MB page limit.
  std::vector<rows::StoredEvent> events;
  STRATUS_RETURN_IF_ERROR(store_.Read([&](store::ReadTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto g, txn.Get(keys::Group(s, group)));
    if (!g) return ResourceNotFound("The specified log group does not exist.");
    STRATUS_ASSIGN_OR_RETURN(auto st, txn.Get(keys::Stream(s, group, stream)));
    if (!st) return ResourceNotFound("The specified log stream does not exist.");
    rows::Cursor cursor(prefix, lo, hi, forward);
    rows::Cursor::ScanFn scan = [&txn](const store::ScanOptions& o) { return txn.Scan(o); };
    size_t bytes = 0;
    STRATUS_RETURN_IF_ERROR(cursor.Fill(scan));
    while (cursor.Valid() && static_cast<int64_t>(events.size()) < limit) {
      bytes += cursor.Current().message.size() + kEventOverheadBytes;
      if (bytes > kMaxPageBytes && !events.empty()) break;
      events.push_back(std::move(cursor.Current()));
      cursor.Next();
      STRATUS_RETURN_IF_ERROR(cursor.Fill(scan));
    }
    return Status::Ok();
  }));
  if (!forward) std::reverse(events.begin(), events.end());
  Json out = Json::array();
  for (auto& e : events) {
    out.push_back({{"timestamp", keys::PositionTimestamp(e.position)},
                   {"message", std::move(e.message)},
                   {"ingestionTime", e.ingestion}});
  }
  Json result = {{"events", std::move(out)}};
  if (events.empty()) {
    // Nothing more in this direction: hand back the same position, which is how clients (the
    // aws CLI's paginator among them) know they reached the end.
    std::string pos = given_token.empty() ? std::string(16, '\0') : *HexDecode(given_token.substr(2));
    if (given_token.empty() && !forward) pos = std::string(16, '\xff');
    result["nextForwardToken"] = given_token.empty() || given_token[0] == 'b'
                                     ? Token('f', pos) : given_token;
    result["nextBackwardToken"] = given_token.empty() || given_token[0] == 'f'
                                      ? Token('b', pos) : given_token;
    return result;
  }
  result["nextForwardToken"] = Token('f', events.back().position);
  result["nextBackwardToken"] = Token('b', events.front().position);
  return result;
}

namespace {

// One stream's events in a time window, for the k-way merge.
struct StreamCursor {
  std::string stream;
  rows::Cursor events;
  std::string event_id_suffix;  // the stream's part of its events' eventId
};

// FilterLogEvents tokens: hex of (position, stream name) of the last event examined.
std::string FilterToken(std::string_view position, const std::string& stream) {
  return HexEncode(std::string(position) + stream);
}

}  // namespace

Result<Json> LogStore::FilterEvents(const Scope& s, const std::string& group, const Json& input) {
  int64_t limit = input.value("limit", kMaxEventsPerPage);
  if (limit < 1 || limit > kMaxEventsPerPage) limit = kMaxEventsPerPage;
  if (input.contains("logStreamNames") && input.contains("logStreamNamePrefix")) {
    return InvalidParameter(
        "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.");
  }
  STRATUS_ASSIGN_OR_RETURN(auto pattern,
                           FilterPattern::Compile(input.value("filterPattern", "")));
  int64_t start_time = input.value("startTime", INT64_MIN / 2);
  int64_t end_time = input.value("endTime", INT64_MAX / 2);
  // Resume strictly after the (position, stream) of the token.
  std::string after_pos;
  std::string after_stream;
  if (input.contains("nextToken")) {
    auto raw = HexDecode(input["nextToken"].get<std::string>());
    if (!raw || raw->size() < 16) return InvalidParameter("The specified nextToken is invalid.");
    after_pos = raw->substr(0, 16);
    after_stream = raw->substr(16);
  }

  // Which streams to search.
  std::vector<std::string> streams;
  STRATUS_RETURN_IF_ERROR(store_.Read([&](store::ReadTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto g, txn.Get(keys::Group(s, group)));
    if (!g) return ResourceNotFound("The specified log group does not exist.");
    std::string base = keys::StreamPrefix(s, group);
    if (input.contains("logStreamNames")) {
      for (const auto& n : input["logStreamNames"]) {
        STRATUS_ASSIGN_OR_RETURN(auto st, txn.Get(base + n.get<std::string>()));
        if (st) streams.push_back(n.get<std::string>());
      }
    } else {
      STRATUS_ASSIGN_OR_RETURN(
          auto rows, txn.Scan(store::PrefixScan(base + input.value("logStreamNamePrefix", ""))));
      for (const auto& r : rows) streams.push_back(r.key.substr(base.size()));
    }
    return Status::Ok();
  }));

  rows::Cursor::ScanFn scan = [this](const store::ScanOptions& o) { return store_.Scan(o); };
  std::vector<StreamCursor> cursors;
  cursors.reserve(streams.size());
  for (const auto& name : streams) {
    std::string lo = keys::Position(start_time, 0);
    if (!after_pos.empty()) {
      // Events at the token's exact position belong to streams ordered after the token's stream.
      std::string resume = after_pos;
      if (name <= after_stream) resume += std::string(1, '\0');
      lo = std::max(lo, resume);
    }
    StreamCursor c{name,
                   rows::Cursor(keys::EventPrefix(s, group, name), std::move(lo),
                                keys::Position(end_time + 1, 0), /*forward=*/true),
                   Sha256Hex(name).substr(0, 16)};
    STRATUS_RETURN_IF_ERROR(c.events.Fill(scan));
    cursors.push_back(std::move(c));
  }
  // Merge by (position, stream name): timestamps interleave across streams.
  auto later = [&](size_t a, size_t b) {
    const std::string& pa = cursors[a].events.Current().position;
    const std::string& pb = cursors[b].events.Current().position;
    if (pa != pb) return pa > pb;
    return cursors[a].stream > cursors[b].stream;
  };
  std::priority_queue<size_t, std::vector<size_t>, decltype(later)> heap(later);
  for (size_t i = 0; i < cursors.size(); ++i) {
    if (cursors[i].events.Valid()) heap.push(i);
  }
  Json events = Json::array();
  size_t scanned = 0;
  size_t bytes = 0;
  std::string last_pos;
  std::string last_stream;
  bool truncated = false;
  while (!heap.empty()) {
    if (static_cast<int64_t>(events.size()) >= limit || scanned >= kMaxScannedPerFilter ||
        bytes >= kMaxPageBytes) {
      truncated = true;
      break;
    }
    size_t i = heap.top();
    heap.pop();
    StreamCursor& c = cursors[i];
    rows::StoredEvent& e = c.events.Current();
    ++scanned;
    last_pos = e.position;
    last_stream = c.stream;
    if (pattern->Matches(e.message)) {
      bytes += e.message.size() + kEventOverheadBytes;
      events.push_back({{"logStreamName", c.stream},
                        {"timestamp", keys::PositionTimestamp(e.position)},
                        {"message", std::move(e.message)},
                        {"ingestionTime", e.ingestion},
                        {"eventId", HexEncode(e.position) + c.event_id_suffix}});
    }
    c.events.Next();
    STRATUS_RETURN_IF_ERROR(c.events.Fill(scan));
    if (c.events.Valid()) heap.push(i);
  }
  Json searched = Json::array();
  for (const auto& c : cursors) {
    searched.push_back({{"logStreamName", c.stream}, {"searchedCompletely", !truncated}});
  }
  Json result = {{"events", std::move(events)}, {"searchedLogStreams", std::move(searched)}};
  if (truncated) result["nextToken"] = FilterToken(last_pos, last_stream);
  return result;
}

}  // namespace stratus::services::logs

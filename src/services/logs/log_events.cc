// LogStore's event operations: PutLogEvents, GetLogEvents, FilterLogEvents.
#include <algorithm>
#include <queue>

#include "core/crypto.h"
#include "core/strings.h"
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
constexpr size_t kScanPage = 512;

std::string EncodeEvent(int64_t ingestion, std::string_view message) {
  std::string v;
  keys::AppendBigEndian(v, static_cast<uint64_t>(ingestion));
  v.append(message);
  return v;
}

struct StoredEvent {
  int64_t timestamp;
  uint64_t seq;
  int64_t ingestion;
  std::string message;
};

StoredEvent DecodeEvent(std::string_view key_suffix, std::string_view value) {
  StoredEvent e;
  e.timestamp = keys::PositionTimestamp(key_suffix);
  e.seq = keys::PositionSeq(key_suffix);
  e.ingestion = static_cast<int64_t>(keys::ReadBigEndian(value.substr(0, 8)));
  e.message = std::string(value.size() > 8 ? value.substr(8) : std::string_view());
  return e;
}

// GetLogEvents tokens: "f/<hex position>" continues after the position, "b/<hex>" before it.
std::string Token(char dir, std::string_view position) {
  return std::string(1, dir) + "/" + HexEncode(position);
}

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
    st = ParseJsonOrDiscarded(*sraw);
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
  std::string key = prefix;
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
    key.resize(prefix.size());
    key += keys::Position(e.timestamp, seq++);
    STRATUS_RETURN_IF_ERROR(txn.Put(key, EncodeEvent(now, e.message)));
    stored += static_cast<int64_t>(e.message.size());
    first = std::min(first, e.timestamp);
    last = std::max(last, e.timestamp);
  }
  st["nextSeq"] = seq;
  if (stored > 0 || first != INT64_MAX) {
    st["firstEventTimestamp"] = first;
    st["lastEventTimestamp"] = last;
    st["lastIngestionTime"] = now;
  }
  st["storedBytes"] = st.value("storedBytes", int64_t{0}) + stored;
  g["storedBytes"] = g.value("storedBytes", int64_t{0}) + stored;
  STRATUS_RETURN_IF_ERROR(txn.Put(skey, st.dump()));
  txn.Notify("logs/" + s.account + "/" + s.region + "/" + group);
  Json result = Json::object();
  result["nextSequenceToken"] = std::to_string(seq);
  if (!rejected.empty()) result["rejectedLogEventsInfo"] = rejected;
  return result;
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
  // The time window [startTime, endTime).
  std::string lo = prefix;
  std::string hi = store::PrefixEnd(prefix);
  if (input.contains("startTime")) lo = prefix + keys::Position(input["startTime"].get<int64_t>(), 0);
  if (input.contains("endTime")) hi = prefix + keys::Position(input["endTime"].get<int64_t>(), 0);
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
      lo = std::max(lo, prefix + *pos + std::string(1, '\0'));
    } else {
      forward = false;
      hi = std::min(hi, prefix + *pos);
    }
  }
  std::vector<store::KeyValue> rows;
  STRATUS_RETURN_IF_ERROR(store_.Read([&](store::ReadTxn& txn) -> Status {
    STRATUS_ASSIGN_OR_RETURN(auto g, txn.Get(keys::Group(s, group)));
    if (!g) return ResourceNotFound("The specified log group does not exist.");
    STRATUS_ASSIGN_OR_RETURN(auto st, txn.Get(keys::Stream(s, group, stream)));
    if (!st) return ResourceNotFound("The specified log stream does not exist.");
    if (lo >= hi) return Status::Ok();
    store::ScanOptions scan{lo, hi, static_cast<size_t>(limit), !forward};
    STRATUS_ASSIGN_OR_RETURN(rows, txn.Scan(scan));
    return Status::Ok();
  }));
  // Keep to the 1 MB page limit.
  size_t bytes = 0;
  size_t keep = 0;
  for (; keep < rows.size(); ++keep) {
    bytes += rows[keep].value.size() + kEventOverheadBytes;
    if (bytes > kMaxPageBytes && keep > 0) break;
  }
  rows.resize(keep);
  if (!forward) std::reverse(rows.begin(), rows.end());
  Json events = Json::array();
  for (const auto& row : rows) {
    StoredEvent e = DecodeEvent(std::string_view(row.key).substr(prefix.size()), row.value);
    events.push_back({{"timestamp", e.timestamp}, {"message", e.message}, {"ingestionTime", e.ingestion}});
  }
  Json result = {{"events", std::move(events)}};
  if (rows.empty()) {
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
  result["nextForwardToken"] = Token('f', std::string_view(rows.back().key).substr(prefix.size()));
  result["nextBackwardToken"] = Token('b', std::string_view(rows.front().key).substr(prefix.size()));
  return result;
}

namespace {

// One stream's events in a time window, read page by page (a cursor for the k-way merge).
struct StreamCursor {
  std::string stream;
  std::string prefix;
  std::string next;   // next key to read from
  std::string end;
  std::vector<store::KeyValue> page;
  size_t index = 0;
  bool exhausted = false;

  Status Fill(store::Store& store) {
    if (index < page.size() || exhausted) return Status::Ok();
    page.clear();
    index = 0;
    if (next >= end) {
      exhausted = true;
      return Status::Ok();
    }
    STRATUS_ASSIGN_OR_RETURN(page, store.Scan(store::ScanOptions{next, end, kScanPage, false}));
    if (page.size() < kScanPage) exhausted = true;
    if (!page.empty()) next = page.back().key + std::string(1, '\0');
    return Status::Ok();
  }
  bool Valid() const { return index < page.size(); }
  std::string_view Position() const {
    return std::string_view(page[index].key).substr(prefix.size());
  }
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

  std::vector<StreamCursor> cursors;
  cursors.reserve(streams.size());
  for (const auto& name : streams) {
    StreamCursor c;
    c.stream = name;
    c.prefix = keys::EventPrefix(s, group, name);
    c.next = c.prefix + keys::Position(start_time, 0);
    if (!after_pos.empty()) {
      // Events at the token's exact position belong to streams ordered after the token's stream.
      std::string resume = c.prefix + after_pos;
      if (name <= after_stream) resume += std::string(1, '\0');
      c.next = std::max(c.next, resume);
    }
    c.end = c.prefix + keys::Position(end_time + 1, 0);
    STRATUS_RETURN_IF_ERROR(c.Fill(store_));
    cursors.push_back(std::move(c));
  }
  // Merge by (position, stream name): timestamps interleave across streams.
  auto later = [&](size_t a, size_t b) {
    auto pa = cursors[a].Position();
    auto pb = cursors[b].Position();
    if (pa != pb) return pa > pb;
    return cursors[a].stream > cursors[b].stream;
  };
  std::priority_queue<size_t, std::vector<size_t>, decltype(later)> heap(later);
  for (size_t i = 0; i < cursors.size(); ++i) {
    if (cursors[i].Valid()) heap.push(i);
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
    const auto& row = c.page[c.index];
    std::string_view pos = c.Position();
    StoredEvent e = DecodeEvent(pos, row.value);
    ++scanned;
    last_pos = std::string(pos);
    last_stream = c.stream;
    if (pattern->Matches(e.message)) {
      bytes += e.message.size() + kEventOverheadBytes;
      events.push_back({{"logStreamName", c.stream},
                        {"timestamp", e.timestamp},
                        {"message", std::move(e.message)},
                        {"ingestionTime", e.ingestion},
                        {"eventId", HexEncode(pos) + Sha256Hex(c.stream).substr(0, 16)}});
    }
    ++c.index;
    STRATUS_RETURN_IF_ERROR(c.Fill(store_));
    if (c.Valid()) heap.push(i);
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

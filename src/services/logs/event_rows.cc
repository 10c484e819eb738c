#include "services/logs/event_rows.h"

#include <algorithm>

#include "core/strings.h"
#include "services/logs/keys.h"

namespace stratus::services::logs::rows {

namespace {

// Rows fetched by a cursor's first scan; each later scan doubles it up to kMaxPageRows, so that
// a page of 10 events reads a row or two and a long walk reads in large steps.
constexpr size_t kFirstPageRows = 2;
constexpr size_t kMaxPageRows = 128;
// Rows per scan when rewriting or deleting (InsertEvents, DeleteBefore).
constexpr size_t kWritePageRows = 256;

uint32_t ReadU32(std::string_view in) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}
void PutU32At(std::string& out, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<char>((v >> ((3 - i) * 8)) & 0xFF);
}

Error Corrupt(std::string_view key_position) {
  return InternalFailure("corrupt log event row at position " + HexEncode(key_position));
}

void AppendVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
// The difference b - a of two u64s, as a zigzag varint (small either way).
void AppendDelta(std::string& out, uint64_t a, uint64_t b) {
  auto d = static_cast<int64_t>(b - a);
  AppendVarint(out, (static_cast<uint64_t>(d) << 1) ^ static_cast<uint64_t>(d >> 63));
}
// Reads a varint at `at` (advancing it); false when the value is truncated or too long.
bool ReadVarint(std::string_view in, size_t& at, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && at < in.size(); shift += 7) {
    auto byte = static_cast<unsigned char>(in[at++]);
    v |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if (byte < 0x80) return true;
  }
  return false;
}
// Applies a zigzag delta to `base`.
uint64_t ApplyDelta(uint64_t base, uint64_t zigzag) {
  return base + ((zigzag >> 1) ^ (~(zigzag & 1) + 1));
}
void PutPosition(char* out, uint64_t biased_ts, uint64_t seq) {
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>((biased_ts >> ((7 - i) * 8)) & 0xFF);
    out[8 + i] = static_cast<char>((seq >> ((7 - i) * 8)) & 0xFF);
  }
}
size_t CommonPrefix(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size()), i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}
size_t CommonSuffix(std::string_view a, std::string_view b, size_t limit) {
  size_t i = 0;
  while (i < limit && a[a.size() - 1 - i] == b[b.size() - 1 - i]) ++i;
  return i;
}
// A reference must save at least this many bytes to be used.
constexpr size_t kMinSharedBytes = 4;

// Calls `fn` for each event of a compact chunk (see ForEachEvent).
template <class Fn>
Status ForEachCompactEvent(std::string_view key_position, std::string_view value, Fn&& fn) {
  if (key_position.size() != kPositionBytes) return Corrupt(key_position);
  uint32_t count = ReadU32(value.substr(1, 4));
  uint64_t ts = keys::ReadBigEndian(key_position.substr(0, 8));
  uint64_t seq = keys::ReadBigEndian(key_position.substr(8, 8));
  uint64_t ingestion = 0;
  // The message being built and the kMaxRefBack before it; message i lives in slot i % size.
  std::string recent[kMaxRefBack + 1];
  char position[kPositionBytes];
  size_t at = kChunkHeaderBytes;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t dts = 0, dseq = 0, ding = 0, ref = 0, prefix = 0, suffix = 0, len = 0;
    if (!ReadVarint(value, at, dts) || !ReadVarint(value, at, dseq) ||
        !ReadVarint(value, at, ding) || !ReadVarint(value, at, ref) || ref > kMaxRefBack ||
        ref > i) {
      return Corrupt(key_position);
    }
    std::string& message = recent[i % (kMaxRefBack + 1)];
    std::string_view base;
    if (ref > 0) {
      base = recent[(i - ref) % (kMaxRefBack + 1)];
      if (!ReadVarint(value, at, prefix) || !ReadVarint(value, at, suffix) ||
          prefix > base.size() || suffix > base.size() - prefix) {
        return Corrupt(key_position);
      }
    }
    if (!ReadVarint(value, at, len) || len > value.size() - at) return Corrupt(key_position);
    ts = ApplyDelta(ts, dts);
    seq = ApplyDelta(seq, dseq);
    ingestion = ApplyDelta(ingestion, ding);
    message.clear();
    if (ref > 0) message.append(base.substr(0, prefix));
    message.append(value.substr(at, len));
    if (ref > 0) message.append(base.substr(base.size() - suffix));
    at += len;
    PutPosition(position, ts, seq);
    STRATUS_RETURN_IF_ERROR(fn(std::string_view(position, kPositionBytes),
                               static_cast<int64_t>(ingestion), std::string_view(message)));
  }
  if (at != value.size()) return Corrupt(key_position);
  return Status::Ok();
}

// Calls `fn(position, ingestion, message)` for each event of a row in order; stops at the first
// error `fn` returns.
template <class Fn>
Status ForEachEvent(std::string_view key_position, std::string_view value, Fn&& fn) {
  if (value.empty()) return Corrupt(key_position);
  if (value[0] != kChunkTag && value[0] != kCompactTag) {
    if (value.size() < 8) return Corrupt(key_position);
    return fn(key_position, static_cast<int64_t>(keys::ReadBigEndian(value.substr(0, 8))),
              value.substr(8));
  }
  if (value.size() < kChunkHeaderBytes) return Corrupt(key_position);
  if (value[0] == kCompactTag) return ForEachCompactEvent(key_position, value, fn);
  uint32_t count = ReadU32(value.substr(1, 4));
  size_t at = kChunkHeaderBytes;
  for (uint32_t i = 0; i < count; ++i) {
    if (value.size() - at < kEventHeaderBytes) return Corrupt(key_position);
    std::string_view position = value.substr(at, kPositionBytes);
    auto ingestion = static_cast<int64_t>(keys::ReadBigEndian(value.substr(at + kPositionBytes, 8)));
    uint32_t len = ReadU32(value.substr(at + kPositionBytes + 8, 4));
    at += kEventHeaderBytes;
    if (value.size() - at < len) return Corrupt(key_position);
    STRATUS_RETURN_IF_ERROR(fn(position, ingestion, value.substr(at, len)));
    at += len;
  }
  if (at != value.size()) return Corrupt(key_position);
  return Status::Ok();
}

}  // namespace

const std::string Cursor::kAfterAll(kPositionBytes + 1, '\xff');

Result<std::vector<StoredEvent>> DecodeRow(std::string_view key_position, std::string_view value) {
  std::vector<StoredEvent> out;
  if (!value.empty() && (value[0] == kChunkTag || value[0] == kCompactTag) &&
      value.size() >= kChunkHeaderBytes) {
    out.reserve(std::min<uint32_t>(ReadU32(value.substr(1, 4)), kMaxRowEvents));
  }
  STRATUS_RETURN_IF_ERROR(ForEachEvent(
      key_position, value,
      [&](std::string_view position, int64_t ingestion, std::string_view message) -> Status {
        out.push_back(StoredEvent{std::string(position), ingestion, std::string(message)});
        return Status::Ok();
      }));
  return out;
}

Result<RowSummary> SummarizeRow(std::string_view key_position, std::string_view value) {
  if (value.empty()) return Corrupt(key_position);
  if (value[0] != kChunkTag && value[0] != kCompactTag) {
    if (value.size() < 8) return Corrupt(key_position);
    return RowSummary{1, std::string(key_position)};
  }
  if (value.size() < kChunkHeaderBytes) return Corrupt(key_position);
  return RowSummary{ReadU32(value.substr(1, 4)), std::string(value.substr(5, kPositionBytes))};
}

RowWriter::RowWriter(store::WriteTxn& txn, std::string_view prefix)
    : txn_(txn), key_(prefix), prefix_size_(prefix.size()) {}

Status RowWriter::Add(std::string_view position, int64_t ingestion, std::string_view message) {
  if (count_ > 0 && (count_ >= kMaxRowEvents ||
                     value_.size() + kMaxCompactOverheadBytes + message.size() > kMaxRowBytes)) {
    STRATUS_RETURN_IF_ERROR(Flush());
  }
  uint64_t ts = keys::ReadBigEndian(position.substr(0, 8));
  uint64_t seq = keys::ReadBigEndian(position.substr(8, 8));
  if (count_ == 0) {
    key_.resize(prefix_size_);
    key_.append(position);
    value_.clear();
    value_.push_back(kCompactTag);
    value_.append(4 + kPositionBytes, '\0');  // count and last position, set by Flush
    prev_ts_ = ts;
    prev_seq_ = seq;
    prev_ingestion_ = 0;
  }
  AppendDelta(value_, prev_ts_, ts);
  AppendDelta(value_, prev_seq_, seq);
  AppendDelta(value_, static_cast<uint64_t>(prev_ingestion_), static_cast<uint64_t>(ingestion));
  prev_ts_ = ts;
  prev_seq_ = seq;
  prev_ingestion_ = ingestion;
  last_.assign(position);
  AppendMessage(message);
  ++count_;
  return Status::Ok();
}

void RowWriter::AppendMessage(std::string_view message) {
  // The recent message sharing the longest prefix + suffix with this one.
  uint32_t best_ref = 0;
  size_t best_prefix = 0, best_suffix = 0;
  uint32_t back_limit = std::min<uint32_t>(count_, kMaxRefBack);
  for (uint32_t back = 1; back <= back_limit; ++back) {
    std::string_view base = recent_[(count_ - back) % kMaxRefBack];
    size_t prefix = CommonPrefix(message, base);
    size_t suffix =
        CommonSuffix(message, base, std::min(message.size(), base.size()) - prefix);
    if (prefix + suffix > best_prefix + best_suffix) {
      best_ref = back;
      best_prefix = prefix;
      best_suffix = suffix;
    }
  }
  if (best_prefix + best_suffix < kMinSharedBytes) best_ref = 0;
  AppendVarint(value_, best_ref);
  if (best_ref == 0) {
    best_prefix = best_suffix = 0;
  } else {
    AppendVarint(value_, best_prefix);
    AppendVarint(value_, best_suffix);
  }
  size_t literal = message.size() - best_prefix - best_suffix;
  AppendVarint(value_, literal);
  value_.append(message.substr(best_prefix, literal));
  recent_[count_ % kMaxRefBack].assign(message);
}

Status RowWriter::Flush() {
  if (count_ == 0) return Status::Ok();
  PutU32At(value_, 1, count_);
  value_.replace(5, kPositionBytes, last_);
  count_ = 0;
  return txn_.Put(key_, value_);
}

Status RowWriter::Finish() { return Flush(); }

Status InsertEvents(store::WriteTxn& txn, const std::string& prefix,
                    std::vector<StoredEvent> events) {
  if (events.empty()) return Status::Ok();
  size_t i = 0;  // the first event not yet placed
  RowWriter gap(txn, prefix);
  // Places the events that come before `row` (in the gap before it) and merges the ones inside
  // its span into it.
  auto place_around = [&](const store::KeyValue& row) -> Status {
    std::string_view first = std::string_view(row.key).substr(prefix.size());
    STRATUS_ASSIGN_OR_RETURN(RowSummary summary, SummarizeRow(first, row.value));
    for (; i < events.size() && events[i].position < first; ++i) {
      STRATUS_RETURN_IF_ERROR(gap.Add(events[i].position, events[i].ingestion, events[i].message));
    }
    STRATUS_RETURN_IF_ERROR(gap.Finish());  // a gap row must not reach past this row
    size_t inside_end = i;
    while (inside_end < events.size() && events[inside_end].position < summary.last) ++inside_end;
    if (inside_end == i) return Status::Ok();
    STRATUS_ASSIGN_OR_RETURN(std::vector<StoredEvent> existing, DecodeRow(first, row.value));
    // The merged rows start at the row's own first position, so they replace it key for key.
    RowWriter merged(txn, prefix);
    size_t e = 0;
    while (e < existing.size() || i < inside_end) {
      bool take_new = e == existing.size() ||
                      (i < inside_end && events[i].position < existing[e].position);
      const StoredEvent& next = take_new ? events[i++] : existing[e++];
      STRATUS_RETURN_IF_ERROR(merged.Add(next.position, next.ingestion, next.message));
    }
    return merged.Finish();
  };
  // The row that starts before the first new event may span it.
  const std::string& front = events.front().position;
  STRATUS_ASSIGN_OR_RETURN(auto before,
                           txn.Scan(store::ScanOptions{prefix, prefix + front, 1, true}));
  std::string scan_from = prefix + front;
  if (!before.empty()) {
    STRATUS_RETURN_IF_ERROR(place_around(before.front()));
  }
  // Then every row that starts within the new events' span. Rows written above lie before
  // scan_from (a merged row's keys are within the old row's span), so none is read twice.
  std::string scan_end = prefix + events.back().position + std::string(1, '\0');
  while (i < events.size()) {
    STRATUS_ASSIGN_OR_RETURN(
        auto page, txn.Scan(store::ScanOptions{scan_from, scan_end, kWritePageRows, false}));
    for (const auto& row : page) {
      STRATUS_ASSIGN_OR_RETURN(
          RowSummary summary,
          SummarizeRow(std::string_view(row.key).substr(prefix.size()), row.value));
      STRATUS_RETURN_IF_ERROR(place_around(row));
      scan_from = std::max(scan_from, prefix + summary.last + std::string(1, '\0'));
      if (i == events.size()) break;
    }
    if (page.size() < kWritePageRows) break;
  }
  for (; i < events.size(); ++i) {
    STRATUS_RETURN_IF_ERROR(gap.Add(events[i].position, events[i].ingestion, events[i].message));
  }
  return gap.Finish();
}

Result<int64_t> DeleteBefore(store::WriteTxn& txn, const std::string& prefix,
                             std::string_view cutoff) {
  std::string cutoff_key = prefix + std::string(cutoff);
  int64_t deleted = 0;
  std::vector<StoredEvent> survivors;
  std::string from = prefix;
  while (true) {
    STRATUS_ASSIGN_OR_RETURN(
        auto page, txn.Scan(store::ScanOptions{from, cutoff_key, kWritePageRows, false}));
    for (const auto& row : page) {
      std::string_view first = std::string_view(row.key).substr(prefix.size());
      STRATUS_ASSIGN_OR_RETURN(RowSummary summary, SummarizeRow(first, row.value));
      if (summary.last < cutoff) {
        deleted += summary.count;
        continue;
      }
      // Rows do not overlap, so only the last row before the cutoff can reach past it.
      STRATUS_ASSIGN_OR_RETURN(std::vector<StoredEvent> events, DecodeRow(first, row.value));
      for (auto& e : events) {
        if (e.position < cutoff) {
          ++deleted;
        } else {
          survivors.push_back(std::move(e));
        }
      }
    }
    if (page.size() < kWritePageRows) break;
    from = page.back().key + std::string(1, '\0');
  }
  STRATUS_ASSIGN_OR_RETURN(int64_t removed_rows, txn.DeleteRange(prefix, cutoff_key));
  (void)removed_rows;
  RowWriter writer(txn, prefix);
  for (const auto& e : survivors) {
    STRATUS_RETURN_IF_ERROR(writer.Add(e.position, e.ingestion, e.message));
  }
  STRATUS_RETURN_IF_ERROR(writer.Finish());
  return deleted;
}

Cursor::Cursor(std::string prefix, std::string lo, std::string hi, bool forward)
    : prefix_(std::move(prefix)),
      lo_(std::move(lo)),
      hi_(std::move(hi)),
      forward_(forward),
      page_rows_(kFirstPageRows) {}

Status Cursor::Take(const store::KeyValue& row) {
  size_t begin = events_.size();
  STRATUS_RETURN_IF_ERROR(ForEachEvent(
      std::string_view(row.key).substr(prefix_.size()), row.value,
      [&](std::string_view position, int64_t ingestion, std::string_view message) -> Status {
        if (position >= lo_ && position < hi_) {
          events_.push_back(StoredEvent{std::string(position), ingestion, std::string(message)});
        }
        return Status::Ok();
      }));
  if (!forward_) std::reverse(events_.begin() + static_cast<ptrdiff_t>(begin), events_.end());
  return Status::Ok();
}

Status Cursor::Fill(const ScanFn& scan) {
  if (index_ < events_.size() || exhausted_) return Status::Ok();
  events_.clear();
  index_ = 0;
  if (lo_ >= hi_) {
    exhausted_ = true;
    return Status::Ok();
  }
  while (events_.empty() && !exhausted_) {
    if (forward_) {
      if (!started_) {
        started_ = true;
        next_ = prefix_ + lo_;
        if (!lo_.empty()) {
          // The row starting at or before lo may hold events at or after it.
          next_.push_back('\0');
          STRATUS_ASSIGN_OR_RETURN(auto before,
                                   scan(store::ScanOptions{prefix_, next_, 1, true}));
          if (!before.empty()) STRATUS_RETURN_IF_ERROR(Take(before.front()));
          continue;
        }
      }
      std::string end = prefix_ + hi_;
      if (next_ >= end) {
        exhausted_ = true;
        break;
      }
      STRATUS_ASSIGN_OR_RETURN(auto page,
                               scan(store::ScanOptions{next_, end, page_rows_, false}));
      for (const auto& row : page) STRATUS_RETURN_IF_ERROR(Take(row));
      if (page.size() < page_rows_) {
        exhausted_ = true;
      } else {
        next_ = page.back().key + std::string(1, '\0');
      }
    } else {
      if (!started_) {
        started_ = true;
        next_ = prefix_ + hi_;
      }
      STRATUS_ASSIGN_OR_RETURN(auto page,
                               scan(store::ScanOptions{prefix_, next_, page_rows_, true}));
      std::string lo_key = prefix_ + lo_;
      for (const auto& row : page) {
        STRATUS_RETURN_IF_ERROR(Take(row));
        // Rows do not overlap: one starting at or before lo is the last that can matter.
        if (row.key <= lo_key) {
          exhausted_ = true;
          break;
        }
      }
      if (page.size() < page_rows_) {
        exhausted_ = true;
      } else if (!exhausted_) {
        next_ = page.back().key;
      }
    }
    page_rows_ = std::min(page_rows_ * 2, kMaxPageRows);
  }
  return Status::Ok();
}

}  // namespace stratus::services::logs::rows

#pragma once
// Internal to LogStore: how a log stream's events are kept in the store (key layout in
// log_store.h). Many events share one row, so that a flush of a function's log lines (or one
// PutLogEvents call) is one store write per stream instead of one per event; every event keeps
// its own position (timestamp, sequence number), ingestion time and message, and every read
// (GetLogEvents, FilterLogEvents, the retention sweep) sees the events one by one, exactly as if
// each had its own row.
//
// Invariants of one stream's rows (prefix keys::EventPrefix):
//  * a row's key is prefix + the position of its first event; its events are in position order;
//  * rows do not overlap: every event of a row lies between the row's key and the next row's key.
//    A new event that falls inside an existing row's span (a PutLogEvents call with timestamps
//    older than events already stored) is merged into that row, which is rewritten.
//  * a row holds at most kMaxRowEvents events and about kMaxRowBytes bytes.
//
// Row value formats (integers in headers big-endian; varints LEB128, signed ones zigzag):
//  * compact chunk (written now): kCompactTag, u32 event count, the last event's 16-byte
//    position, then per event: its timestamp, sequence number and ingestion time as signed varint
//    deltas from the previous event's (the first event's position from the row key's, its
//    ingestion time from 0), then its message as a varint `ref` — 0, or k in 1..kMaxRefBack for
//    "shares a prefix and a suffix with the k-th previous message of this row", followed then by
//    the varint prefix and suffix lengths — and a varint length plus the bytes between them.
//    Function log lines repeat their words and request ids from line to line (START / END /
//    REPORT), so a row of them is under half the chunk format's size: fewer store pages a flush;
//  * chunk (written until the compact chunk, still read): kChunkTag, the same 21-byte header,
//    then per event its 16-byte position, u64 ingestion time, u32 message length and the bytes;
//  * single event (written before chunks existed, still read): u64 ingestion time, message; its
//    position is the key's. Its first byte is 0 for any ingestion time before the year 2.2
//    million, which is how the two are told apart.
//
// Not thread-safe by itself: each call works inside the caller's transaction.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/store.h"

namespace stratus::services::logs::rows {

inline constexpr char kChunkTag = 0x01;
inline constexpr char kCompactTag = 0x02;
inline constexpr size_t kPositionBytes = 16;
inline constexpr size_t kChunkHeaderBytes = 1 + 4 + kPositionBytes;
inline constexpr size_t kEventHeaderBytes = kPositionBytes + 8 + 4;
// A compact event's encoding beyond its literal bytes is at most this long (six varints).
inline constexpr size_t kMaxCompactOverheadBytes = 6 * 10;
// How far back (in messages of the same row) a compact message may take its prefix and suffix.
inline constexpr uint32_t kMaxRefBack = 4;
inline constexpr size_t kMaxRowEvents = 1024;
// A row is closed once it reaches this size (one event larger than it gets a row of its own).
inline constexpr size_t kMaxRowBytes = 32 * 1024;

struct StoredEvent {
  std::string position;  // keys::Position(timestamp, seq)
  int64_t ingestion = 0;
  std::string message;
};

// Decodes a row (either format). `key_position` is the row key's suffix after the stream prefix.
// A malformed value is an InternalFailure (a corrupt store), never a crash.
Result<std::vector<StoredEvent>> DecodeRow(std::string_view key_position, std::string_view value);

// A row's event count and last position without copying its messages.
struct RowSummary {
  uint32_t count = 0;
  std::string last;
};
Result<RowSummary> SummarizeRow(std::string_view key_position, std::string_view value);

// Writes events, given in strictly increasing position order, as compact chunk rows of at most
// kMaxRowEvents / kMaxRowBytes each. The caller guarantees no existing row's span contains them
// (see InsertEvents for when it cannot).
class RowWriter {
 public:
  RowWriter(store::WriteTxn& txn, std::string_view prefix);
  Status Add(std::string_view position, int64_t ingestion, std::string_view message);
  // Writes the row being built, if any. Must be called once all events are added.
  Status Finish();

 private:
  Status Flush();
  // Appends `message` to value_ as a ref, prefix/suffix and literal against recent_.
  void AppendMessage(std::string_view message);

  store::WriteTxn& txn_;
  std::string key_;     // prefix, then the open row's first position
  size_t prefix_size_;
  std::string value_;   // the open row's value; empty when no row is open
  uint32_t count_ = 0;
  std::string last_;    // the open row's last position
  // The previous event's position (biased timestamp, sequence number) and ingestion time.
  uint64_t prev_ts_ = 0, prev_seq_ = 0;
  int64_t prev_ingestion_ = 0;
  // The open row's last kMaxRefBack messages, the latest at recent_[(count_ - 1) % size].
  std::string recent_[kMaxRefBack];
};

// Adds events (strictly increasing positions, none already stored) to a stream whose existing
// rows may span some of them: events falling inside a row's span are merged into that row (the
// row is rewritten), the others get rows of their own between the existing ones.
Status InsertEvents(store::WriteTxn& txn, const std::string& prefix,
                    std::vector<StoredEvent> events);

// Deletes every event of the stream positioned before `cutoff` (a position); the row that spans
// the cutoff keeps its later events (rewritten under their first position). Returns how many
// events were deleted.
Result<int64_t> DeleteBefore(store::WriteTxn& txn, const std::string& prefix,
                             std::string_view cutoff);

// Reads a stream's events one by one, in position order (or reverse), within [lo, hi) where lo
// and hi are positions or any strings compared bytewise with positions ("" = from the start;
// kAfterAll = to the end). Rows are fetched lazily, a few at first and more as the walk goes on,
// so a short page reads little. `scan` runs a store scan (a ReadTxn's or the Store's).
class Cursor {
 public:
  using ScanFn = std::function<Result<std::vector<store::KeyValue>>(const store::ScanOptions&)>;
  static const std::string kAfterAll;  // greater than every position

  Cursor(std::string prefix, std::string lo, std::string hi, bool forward);
  // Loads the next events if the current ones are used up. Call before Valid() the first time
  // and after each Next().
  Status Fill(const ScanFn& scan);
  bool Valid() const { return index_ < events_.size(); }
  const StoredEvent& Current() const { return events_[index_]; }
  StoredEvent& Current() { return events_[index_]; }
  void Next() { ++index_; }

 private:
  // Appends a decoded row's events that lie within [lo_, hi_) in walk order.
  Status Take(const store::KeyValue& row);

  std::string prefix_;
  std::string lo_;
  std::string hi_;
  bool forward_;
  bool started_ = false;
  bool exhausted_ = false;
  std::string next_;  // forward: next key to scan from; backward: the key to scan below
  size_t page_rows_;
  std::vector<StoredEvent> events_;
  size_t index_ = 0;
};

}  // namespace stratus::services::logs::rows

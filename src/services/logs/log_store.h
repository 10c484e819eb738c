#pragma once
// The CloudWatch Logs data model on store::Store: log groups, streams and events, keyed per
// account and region. Plain logic, callable without a server (the service's handlers adapt
// requests to it). Thread-safe: all state lives in the store; each call is one transaction.
//
// Keys ("\0" separates names, which cannot contain NUL):
//   logs/<acct>/<region>/g/<group>                          group record (JSON)
//   logs/<acct>/<region>/s/<group>\0<stream>                stream record (JSON)
//   logs/<acct>/<region>/e/<group>\0<stream>\0<ts><seq>     a row of events, <ts><seq> the first's
// where <ts> and <seq> are 8-byte big-endian integers, so a stream's rows scan in time order.
// One row holds the events of one append (a PutLogEvents call, or one stream's lines of a Lambda
// log flush), each with its own timestamp, sequence number, ingestion time and message; every
// read sees the events one by one (format and invariants: event_rows.h). Durability is the
// store's: an append is one transaction, acknowledged only once committed.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "store/store.h"

namespace stratus::services::logs {

// Which account and region a call acts in.
struct Scope {
  std::string account;
  std::string region;
};

struct InputEvent {
  int64_t timestamp = 0;  // ms since the epoch
  std::string message;
};

// Errors, named as CloudWatch Logs names them.
Error ResourceNotFound(std::string message);
Error ResourceAlreadyExists(std::string message);
Error InvalidParameter(std::string message);

class LogStore {
 public:
  LogStore(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Groups. `input` members are the API's (logGroupName, tags, retentionInDays, ...).
  Status CreateGroup(const Scope& s, const Json& input);
  Status DeleteGroup(const Scope& s, const std::string& group);
  Result<Json> DescribeGroups(const Scope& s, const Json& input);
  Status PutRetention(const Scope& s, const std::string& group, int64_t days);
  Status DeleteRetention(const Scope& s, const std::string& group);
  Status TagGroup(const Scope& s, const std::string& group, const Json& tags);
  Status UntagGroup(const Scope& s, const std::string& group, const std::vector<std::string>& keys);
  Result<Json> ListGroupTags(const Scope& s, const std::string& group);

  // Streams.
  Status CreateStream(const Scope& s, const std::string& group, const std::string& stream);
  Status DeleteStream(const Scope& s, const std::string& group, const std::string& stream);
  Result<Json> DescribeStreams(const Scope& s, const std::string& group, const Json& input);

  // Events.
  // Appends events (PutLogEvents semantics: chronological order, size and age limits; events
  // too old, too new or past retention are rejected and reported in rejectedLogEventsInfo).
  // With `create_missing`, a missing group or stream is created (in-process writers such as
  // Lambda's function logs).
  Result<Json> PutEvents(const Scope& s, const std::string& group, const std::string& stream,
                         const std::vector<InputEvent>& events, bool create_missing = false);
  // One stream's events for PutEventsMany.
  struct StreamBatch {
    Scope scope;
    std::string group;
    std::string stream;
    std::vector<InputEvent> events;
  };
  // Appends several streams' events (missing groups and streams are created, as PutEvents with
  // create_missing does) in one store transaction: one commit for all of them, each group record
  // read and written once. Returns one status per batch, in order: a batch that fails
  // PutLogEvents' checks gets its error and is skipped; a failed transaction fails every other.
  std::vector<Status> PutEventsMany(const std::vector<StreamBatch>& batches);
  Result<Json> GetEvents(const Scope& s, const std::string& group, const std::string& stream,
                         const Json& input);
  Result<Json> FilterEvents(const Scope& s, const std::string& group, const Json& input);

  // Deletes events older than each group's retention. Returns how many were deleted.
  Result<int64_t> SweepExpired();

  // Resolves a log group name from logGroupName or logGroupIdentifier (a name or an ARN).
  static Result<std::string> GroupNameFrom(const Json& input);
  // "arn:aws:logs:<region>:<acct>:log-group:<name>" (with ":*" when `star`).
  static std::string GroupArn(const Scope& s, const std::string& group, bool star);

 private:
  // Group records read (and updated) in one transaction, by key.
  using GroupCache = std::map<std::string, Json>;
  // PutLogEvents' checks of one batch (order, sizes, span).
  static Status CheckBatch(const std::vector<InputEvent>& events);
  // Appends a checked batch to one stream inside `txn`; the group's record is taken from and
  // updated in `groups` (written by WriteGroups), the stream's record is written here.
  Result<Json> AppendInTxn(store::WriteTxn& txn, const Scope& s, const std::string& group,
                           const std::string& stream, const std::vector<InputEvent>& events,
                           bool create_missing, int64_t now, GroupCache& groups);
  static Status WriteGroups(store::WriteTxn& txn, const GroupCache& groups);
  // The stream record stored as `bytes`: taken from records_ when it holds exactly those bytes
  // (then removed from it), else parsed. Null when the bytes are not a JSON record.
  Json StreamRecord(const std::string& key, const std::string& bytes);
  // Keeps `value`, just written as `bytes`, for the next StreamRecord of `key`.
  void RememberStreamRecord(const std::string& key, std::string bytes, Json value);

  store::Store& store_;
  const Clock& clock_;
  // Stream records as last written, by key, with their bytes: every flush of a function's logs
  // rewrites its stream's record, and parsing it back was most of a flush's per-stream cost. A
  // record read back byte for byte unchanged is taken from here; any other writer's change (or
  // a write whose transaction rolled back) shows as different bytes and is parsed. Bounded.
  struct ParsedRecord {
    std::string bytes;
    Json value;
  };
  std::mutex records_mu_;
  std::unordered_map<std::string, ParsedRecord> records_;  // guarded by records_mu_
};

}  // namespace stratus::services::logs

#pragma once
// The DynamoDB Streams API (dynamodbstreams-2012-08-10) over the stream records that item
// writes append in their own transactions (engine.h). Each stream has one shard that stays open
// while the stream is enabled; records are keyed ddb/s/<stream uid><sequence number>, so
// GetRecords is one ordered range read from the iterator's position.
//
// Shard iterators are opaque strings "<stream arn>|1|<hex>" carrying the stream, the position
// and the issue time; they expire after 15 minutes like AWS's. Records are kept 24 hours.
//
// In-process readers (Lambda's event source mappings) call GetShardIterator/GetRecords through
// context.clients.operations; after a commit that appends records, the store notifies
// StreamTopic(stream_arn) so a poller can sleep until then.
//
// Thread-safe: all state is in the store.
#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "services/dynamodb/table.h"
#include "store/store.h"

namespace stratus::services::dynamodb {

class StreamReader {
 public:
  StreamReader(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  Result<Json> ListStreams(const Scope& s, const Json& in);
  Result<Json> DescribeStream(const Scope& s, const Json& in);
  Result<Json> GetShardIterator(const Scope& s, const Json& in);
  Result<Json> GetRecords(const Scope& s, const Json& in);

 private:
  Result<Json> LoadStream(const std::string& arn);
  // The first and last sequence numbers present (0 when none).
  Result<std::pair<uint64_t, uint64_t>> Bounds(uint64_t uid);

  store::Store& store_;
  const Clock& clock_;
};

}  // namespace stratus::services::dynamodb

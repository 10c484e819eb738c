#pragma once
// Internal to the SQS engine: one queue's in-memory index over the messages kept in the store.
//
// The store holds every message (sqs/m/<queue id>/<seq>) and its receive state
// (sqs/s/<queue id>/<seq>); this index is rebuilt from them at start-up and updated after each
// commit, so receives pick messages without scanning the store. All members are guarded by `mu`.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "services/sqs/queue_config.h"
#include "services/sqs/queue_ref.h"

namespace stratus::services::sqs {

struct Message {
  uint64_t seq = 0;
  std::string id;
  std::string body;
  Json attributes;        // message attributes, canonical JSON object (may be empty)
  std::string md5_body;
  std::string md5_attributes;
  std::string trace_header;   // the AWSTraceHeader system attribute
  std::string sender_id;
  std::string group;
  std::string dedup_id;
  std::string dlq_source_arn;  // set once redriven to a dead-letter queue
  int64_t sent_ms = 0;
  // Receive state.
  int64_t visible_at_ms = 0;
  int32_t receive_count = 0;
  int64_t first_receive_ms = 0;
  int64_t received_ms = 0;     // the current receipt's receive (12-hour visibility cap)
  uint64_t nonce = 0;          // the current receipt's; 0 = never received
  bool in_flight = false;
  size_t Bytes() const { return body.size() + 256; }
};

// What a waiting receive asked for, kept with its waiter so that a send can answer it directly.
struct ReceiveSpec {
  int64_t max = 1;                   // MaxNumberOfMessages
  int64_t visibility_s = 0;          // the receive's visibility timeout
  std::set<std::string> system;      // system attribute names asked for ("All" = every one)
  Json message_attributes;           // MessageAttributeNames as given (array)
};

// A long poll waiting for messages: `wake` is called (outside the queue lock) when messages may
// have become visible; it runs the receive again on a worker.
//
// Hand-off (standard queues): a send that finds the waiter registered and idle may lease its
// messages to the waiter in the send's own commit and answer it with `deliver`, saving the
// receive's own trip through the store's writer. Who answers a long poll is decided under the
// queue's mutex: a waiter is either registered (idle: nothing found yet; a send may claim it),
// or `answering` (a receive took messages for it, found it expired, or a send claimed it): from
// then on no receive takes messages for it, so exactly one answer carries leased messages.
struct Waiter {
  std::function<void()> wake;
  // Answers the long poll with a ReceiveMessage output; call only while holding `owner.lock()`.
  std::function<void(Result<Json>)> deliver;
  std::weak_ptr<void> owner;        // keeps what `deliver` uses alive; expired = nobody waits
  std::atomic<bool> done{false};    // set once the long poll has answered (or been claimed)
  std::atomic<bool> expired{false}; // past its deadline: a receive answers, empty if need be
  // Guarded by the mutex of the queue the waiter is registered on.
  bool answering = false;
  ReceiveSpec spec;  // as of its last registration; guarded likewise
};

struct DedupEntry {
  int64_t expires_ms = 0;
  std::string message_id;
  uint64_t seq = 0;
};

struct Queue {
  std::mutex mu;
  uint64_t id = 0;
  QueueRef ref;
  std::string arn;
  Json attributes = Json::object();  // as set (strings)
  Json tags = Json::object();
  QueueConfig config;
  int64_t created_s = 0;
  int64_t modified_s = 0;
  int64_t last_purge_ms = 0;
  bool deleted = false;

  std::map<uint64_t, std::unique_ptr<Message>> messages;  // every message, in send order
  std::set<uint64_t> available;                           // visible now (or due), by seq
  std::set<std::pair<int64_t, uint64_t>> pending;         // (visible_at, seq): delayed or in flight
  std::unordered_map<std::string, int> group_in_flight;   // FIFO: in-flight count per group
  std::unordered_map<std::string, DedupEntry> dedup;      // FIFO: dedup key -> entry
  std::vector<std::shared_ptr<Waiter>> waiters;
  uint64_t next_seq = 1;
  // Sends committing after a PurgeQueue do not index messages numbered below this: the purge's
  // write (queued after theirs) removed them from the store.
  uint64_t purged_below_seq = 0;

  // Moves pending messages whose time has come to `available`. Call with mu held.
  void Promote(int64_t now_ms) {
    while (!pending.empty() && pending.begin()->first <= now_ms) {
      uint64_t seq = pending.begin()->second;
      pending.erase(pending.begin());
      auto it = messages.find(seq);
      if (it == messages.end()) continue;
      Message& m = *it->second;
      if (m.in_flight) {
        m.in_flight = false;
        if (config.fifo) {
          if (--group_in_flight[m.group] <= 0) group_in_flight.erase(m.group);
        }
      }
      available.insert(seq);
    }
  }

  // Indexes a message by its visibility. Call with mu held.
  void Index(Message& m, int64_t now_ms) {
    if (m.in_flight) {
      pending.emplace(m.visible_at_ms, m.seq);
      if (config.fifo) ++group_in_flight[m.group];
    } else if (m.visible_at_ms > now_ms) {
      pending.emplace(m.visible_at_ms, m.seq);
    } else {
      available.insert(m.seq);
    }
  }

  // Removes a message from every index (not from `messages`). Call with mu held.
  void Unindex(Message& m) {
    available.erase(m.seq);
    pending.erase({m.visible_at_ms, m.seq});
    if (m.in_flight && config.fifo) {
      if (--group_in_flight[m.group] <= 0) group_in_flight.erase(m.group);
    }
  }

  // Hands back every waiter (to be woken outside the lock). Call with mu held.
  std::vector<std::shared_ptr<Waiter>> TakeWaiters() {
    std::vector<std::shared_ptr<Waiter>> w;
    w.swap(waiters);
    return w;
  }
};

}  // namespace stratus::services::sqs

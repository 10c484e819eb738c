#pragma once
// Group commit for single-item writes at the service level. PutItem, UpdateItem, DeleteItem and
// BatchWriteItem hand their prepared operations here instead of each blocking a worker thread
// in store::Store::Write; two committer threads drain the queue and apply everything queued in
// ONE store transaction (one fsync), then complete each request. While one group is being
// committed the other thread gathers the next, so the disk is never idle under load.
//
// Why it is safe to share a transaction: a request's own failures (a condition that does not
// hold, an invalid update) are detected before it writes anything, so a failing request leaves
// no trace and the others of the group commit; a storage failure fails the whole group, as it
// would fail each of them. Requests are applied in arrival order, as if one after another.
// Requests that must commit alone (TransactWriteItems: all-or-nothing) do not come here.
//
// Thread-safe. Stop() completes everything queued, then joins.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/result.h"
#include "services/dynamodb/engine.h"

namespace stratus::services::dynamodb {

class WriteBatcher {
 public:
  // `done` receives the request's own status once the group that holds it is durable.
  struct Request {
    Scope scope;
    std::vector<WriteOp> ops;
    std::function<void(Status, std::vector<WriteOp>&)> done;
  };

  explicit WriteBatcher(Engine& engine, int threads = 2);
  ~WriteBatcher();
  WriteBatcher(const WriteBatcher&) = delete;
  WriteBatcher& operator=(const WriteBatcher&) = delete;

  void Submit(Request request);
  void Stop();

 private:
  void Loop();

  Engine& engine_;
  std::mutex mu_;  // guards queue_ and stopping_
  std::condition_variable cv_;
  std::deque<Request> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace stratus::services::dynamodb

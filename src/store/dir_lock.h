#pragma once
// Internal to src/store: an exclusive advisory lock (flock) on a data directory, so two stratus
// processes never open the same database. The kernel releases it when the holder dies (even by
// SIGKILL), so a stale lock file never blocks a restart. Thread-compatible.
#include <memory>
#include <string>

#include "core/result.h"

namespace stratus::store::internal {

class DirLock {
 public:
  // The lock file inside the directory; it holds the holder's pid for the error message.
  static constexpr const char* kFileName = "stratus.lock";

  // Takes the lock or fails with a message naming the directory, the holder's pid and the fix.
  static Result<std::unique_ptr<DirLock>> Acquire(const std::string& dir);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace stratus::store::internal

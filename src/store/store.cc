#include "store/store.h"

namespace stratus::store {

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  // Drop trailing 0xFF bytes (nothing is above them at that position), then bump the last byte.
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xFF) {
    end.pop_back();
  }
  if (!end.empty()) {
    end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  }
  return end;
}

ScanOptions PrefixScan(std::string_view prefix, size_t limit, bool reverse) {
  ScanOptions options;
  options.start = std::string(prefix);
  options.end = PrefixEnd(prefix);
  options.limit = limit;
  options.reverse = reverse;
  return options;
}

Status WriteTxn::SyncBeforeCommit(const void* /*key*/, std::function<Status()> sync) {
  return sync();
}

Status WriteTxn::AddBeforeCommit(const void* /*key*/, uint64_t slot, int64_t delta, uint64_t mark,
                                 ApplyTotals apply) {
  return apply(*this, {CommitTotal{slot, delta, mark}});
}

void Store::WriteAsync(std::function<Status(WriteTxn&)> fn, std::function<void(Status)> done) {
  // Backends without a native asynchronous path: synchronous, on the caller's thread.
  done(Write(fn));
}

Status Store::Put(std::string_view key, std::string_view value) {
  return Write([&](WriteTxn& txn) { return txn.Put(key, value); });
}

Status Store::Delete(std::string_view key) {
  return Write([&](WriteTxn& txn) { return txn.Delete(key); });
}

}  // namespace stratus::store

// store_crash_writer <data_dir> <threads> <tag>: opens a store in <data_dir> and writes from
// <threads> threads as fast as it can until killed. After each Write() returns OK it prints
//   K <key> <value>          for the key it wrote, and, for every third write,
//   Q <id> <payload>         for the queue item it enqueued in the same transaction,
// flushing stdout, so everything printed was acknowledged. crash_test.cc kills it with SIGKILL
// and checks that every acknowledged write survived.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite_store.h"
#include "store/store.h"

namespace {

constexpr const char* kQueue = "crash";

std::string ValueFor(const std::string& key, int n) {
  // Varying sizes, so batches mix small and multi-page WAL frames.
  return "v:" + key + ":" +
         std::string(static_cast<size_t>(n % 300), static_cast<char>('a' + n % 26));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <data_dir> <threads> <tag>\n", argv[0]);
    return 2;
  }
  // stdout carries the acknowledgements only; logs go to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("stderr"));
  stratus::store::SqliteOptions options;
  options.data_dir = argv[1];
  int threads = std::atoi(argv[2]);
  std::string tag = argv[3];
  // Checkpoints every few pages (the default in-commit mode), so that a kill lands in the middle
  // of one often: the WAL replay at the next open must lose nothing.
  stratus::store::CheckpointOptions checkpoints;
  checkpoints.checkpoint_pages = 16;
  checkpoints.wal_limit_pages = 256;
  auto opened = stratus::store::OpenSqliteStoreWithCheckpoints(options, checkpoints);
  if (!opened.ok()) {
    std::fprintf(stderr, "open failed: %s\n", opened.error().message.c_str());
    return 1;
  }
  stratus::store::Store& store = **opened;
  std::mutex out_mu;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int n = 0;; ++n) {
        std::string key = "crash/" + tag + "/" + std::to_string(t) + "/" + std::to_string(n);
        std::string value = ValueFor(key, n);
        bool enqueue = n % 3 == 0;
        std::string payload = "p:" + key;
        int64_t id = 0;
        stratus::Status status = store.Write([&](stratus::store::WriteTxn& txn) -> stratus::Status {
          STRATUS_RETURN_IF_ERROR(txn.Put(key, value));
          if (enqueue) {
            STRATUS_ASSIGN_OR_RETURN(id, txn.Enqueue(kQueue, payload));
          }
          return stratus::Status::Ok();
        });
        if (!status.ok()) {
          std::fprintf(stderr, "write failed: %s\n", status.error().message.c_str());
          std::_Exit(1);
        }
        std::string line = "K " + key + " " + value + "\n";
        if (enqueue) {
          line += "Q " + std::to_string(id) + " " + payload + "\n";
        }
        std::lock_guard lock(out_mu);
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fflush(stdout);
      }
    });
  }
  for (auto& worker : workers) {
    worker.join();  // never: the test kills us
  }
  return 0;
}

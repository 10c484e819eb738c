// Durability under SIGKILL: a real writer process (store_crash_writer) is killed mid-stream, and
// every write it acknowledged must be in the store after reopening it here.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "store/store.h"
#include "store/store_test_util.h"

extern char** environ;

namespace stratus::store {
namespace {

using testing::MustOpen;
using testing::TempDir;

constexpr int kRuns = 5;
constexpr int kWriterThreads = 8;
constexpr const char* kQueue = "crash";
constexpr std::chrono::seconds kStartTimeout(30);

struct Acknowledged {
  std::map<std::string, std::string> keys;     // key -> value
  std::map<int64_t, std::string> queue_items;  // id -> payload
};

// Parses the complete lines of the writer's output; a torn last line is ignored (it was being
// written when the process died, so it may not have been acknowledged in full).
void Parse(const std::string& output, Acknowledged& ack) {
  size_t begin = 0;
  for (;;) {
    size_t end = output.find('\n', begin);
    if (end == std::string::npos) {
      return;
    }
    std::string line = output.substr(begin, end - begin);
    begin = end + 1;
    size_t space = line.find(' ', 2);
    ASSERT_TRUE(line.size() > 2 && space != std::string::npos) << line;
    std::string first = line.substr(2, space - 2);
    std::string second = line.substr(space + 1);
    if (line[0] == 'K') {
      ack.keys[first] = second;
    } else if (line[0] == 'Q') {
      ack.queue_items[std::stoll(first)] = second;
    } else {
      FAIL() << "unexpected line: " << line;
    }
  }
}

// Runs the writer on `dir` for about `run_for`, kills it with SIGKILL and returns its output.
// `on_first_ack`, if set, runs once the writer has acknowledged its first write.
std::string RunAndKill(const std::string& dir, const std::string& tag,
                       std::chrono::milliseconds run_for,
                       const std::function<void(pid_t)>& on_first_ack = {}) {
  int fds[2];
  EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  std::string threads = std::to_string(kWriterThreads);
  const char* path = STRATUS_STORE_CRASH_WRITER;
  char* argv[] = {const_cast<char*>(path), const_cast<char*>(dir.c_str()),
                  const_cast<char*>(threads.c_str()), const_cast<char*>(tag.c_str()), nullptr};
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, path, &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  EXPECT_EQ(spawned, 0) << "cannot start " << path;
  if (spawned != 0) {
    close(fds[0]);
    return "";
  }

  std::string output;
  char buffer[65536];
  auto deadline = std::chrono::steady_clock::time_point::max();
  auto started = std::chrono::steady_clock::now();
  bool killed = false;
  for (;;) {
    auto now = std::chrono::steady_clock::now();
    if (!killed && now >= deadline) {
      kill(pid, SIGKILL);  // mid-stream: writes are in flight in every thread
      killed = true;
    }
    if (!killed && output.empty() && now - started > kStartTimeout) {
      ADD_FAILURE() << "the writer acknowledged nothing in " << kStartTimeout.count() << " s";
      kill(pid, SIGKILL);
      killed = true;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    int timeout_ms = killed ? 1000 : 10;
    int ready = poll(&pfd, 1, timeout_ms);
    if (ready < 0) {
      continue;
    }
    if (ready == 0) {
      if (killed) {
        break;  // should not happen: EOF comes when the process is gone
      }
      continue;
    }
    ssize_t n = read(fds[0], buffer, sizeof(buffer));
    if (n <= 0) {
      break;  // EOF: the writer is dead and every byte it wrote has been read
    }
    output.append(buffer, static_cast<size_t>(n));
    if (deadline == std::chrono::steady_clock::time_point::max()) {
      if (on_first_ack) {
        on_first_ack(pid);
      }
      deadline = std::chrono::steady_clock::now() + run_for;  // counted from the first ack
    }
  }
  close(fds[0]);
  int wstatus = 0;
  EXPECT_EQ(waitpid(pid, &wstatus, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
      << "the writer did not die by SIGKILL (status " << wstatus << ")";
  return output;
}

TEST(CrashTest, EveryAcknowledgedWriteSurvivesSigkill) {
  TempDir dir;
  Acknowledged ack;
  std::mt19937 random(std::random_device{}());
  size_t last_count = 0;
  for (int run = 0; run < kRuns; ++run) {
    auto run_for = std::chrono::milliseconds(150 + random() % 450);
    std::string output = RunAndKill(dir.path(), "run" + std::to_string(run), run_for);
    Parse(output, ack);
    ASSERT_GT(ack.keys.size(), last_count) << "run " << run << " acknowledged nothing";
    last_count = ack.keys.size();

    // Reopen: the kernel released the dead writer's directory lock; WAL recovery runs.
    auto store = MustOpen(SqliteOptions{dir.path()});
    ASSERT_NE(store, nullptr);
    size_t missing = 0;
    for (const auto& [key, value] : ack.keys) {
      auto got = store->Get(key);
      ASSERT_TRUE(got.ok()) << got.error().message;
      if (!got->has_value() || **got != value) {
        ++missing;
        ADD_FAILURE() << "acknowledged key lost or wrong after SIGKILL: " << key;
        if (missing > 10) {
          return;
        }
      }
    }
    // Lease everything (lease_ms 0 leaves items visible at a time that later runs still see).
    auto leased = store->Lease(kQueue, SIZE_MAX, INT64_MAX / 4 + run, 0);
    ASSERT_TRUE(leased.ok()) << leased.error().message;
    std::map<int64_t, std::string> present;
    for (const QueueItem& item : *leased) {
      present[item.id] = item.payload;
    }
    for (const auto& [id, payload] : ack.queue_items) {
      auto it = present.find(id);
      ASSERT_TRUE(it != present.end()) << "acknowledged queue item lost: " << id;
      EXPECT_EQ(it->second, payload);
    }
    store->Close();
    std::printf(
        "kill -9 run %d: ran %lld ms after the first ack; %zu keys and %zu queue items "
        "acknowledged so far, all present\n",
        run, static_cast<long long>(run_for.count()), ack.keys.size(), ack.queue_items.size());
  }

  // The database is intact after all the kills.
  sqlite3* db = nullptr;
  std::string path = dir.path() + "/stratus.db";
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "ok");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(CrashTest, AnotherProcessHoldingTheDirectoryIsNamedInTheError) {
  TempDir dir;
  std::string message;
  pid_t writer = 0;
  RunAndKill(dir.path(), "lock", std::chrono::milliseconds(50), [&](pid_t pid) {
    writer = pid;
    auto opened = OpenSqliteStore(SqliteOptions{dir.path()});
    ASSERT_FALSE(opened.ok()) << "two processes opened " << dir.path();
    message = opened.error().message;
  });
  EXPECT_NE(message.find("in use by another stratus (pid " + std::to_string(writer) + ")"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find(dir.path()), std::string::npos) << message;
  // Killed, it no longer holds the directory.
  auto reopened = OpenSqliteStore(SqliteOptions{dir.path()});
  STRATUS_EXPECT_OK(reopened);
}

}  // namespace
}  // namespace stratus::store

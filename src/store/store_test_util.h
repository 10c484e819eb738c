#pragma once
// Test helpers for src/store: temporary data directories and store factories.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "store/sqlite_store.h"
#include "store/store.h"

namespace stratus::store::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                          "/stratus-store-test-XXXXXX";
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr) << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::unique_ptr<Store> MustOpen(const SqliteOptions& options) {
  auto opened = OpenSqliteStore(options);
  EXPECT_TRUE(opened.ok()) << (opened.ok() ? "" : opened.error().message);
  if (!opened.ok()) {
    return nullptr;
  }
  return std::move(opened).value();
}

// Holds the writer thread inside a write function until released, so that the writes queued
// meanwhile form one batch (in the order they were queued). `store` must come from
// OpenSqliteStore.
class WriterGate {
 public:
  explicit WriterGate(Store& store) : store_(store) {
    thread_ = std::thread([this] {
      status_ = store_.Write([this](WriteTxn&) -> Status {
        entered_.set_value();
        release_.get_future().wait();
        return Status::Ok();
      });
    });
    entered_.get_future().wait();
  }
  // Waits until `n` writes are queued behind the gate, then lets the writer go.
  void ReleaseWhenQueued(size_t n) {
    for (int i = 0; i < 10000 && PendingWritesForTest(store_) < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(PendingWritesForTest(store_), n);
    release_.set_value();
    thread_.join();
    EXPECT_TRUE(status_.ok());
  }

 private:
  Store& store_;
  std::promise<void> entered_;
  std::promise<void> release_;
  Status status_;
  std::thread thread_;
};

// Asserts a Status/Result is ok, printing the error otherwise.
#define STRATUS_ASSERT_OK(expr)                                               \
  do {                                                                        \
    const auto& _st = (expr);                                                 \
    ASSERT_TRUE(_st.ok()) << _st.error().code << ": " << _st.error().message; \
  } while (0)
#define STRATUS_EXPECT_OK(expr)                                               \
  do {                                                                        \
    const auto& _st = (expr);                                                 \
    EXPECT_TRUE(_st.ok()) << _st.error().code << ": " << _st.error().message; \
  } while (0)

}  // namespace stratus::store::testing

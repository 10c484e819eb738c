#pragma once
// Test helpers for src/store: temporary data directories and store factories.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

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

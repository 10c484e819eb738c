#include "services/lambda/zip_archive.h"

#include <sys/stat.h>
#include <zip.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace stratus::services::lambda {
namespace {

namespace fs = std::filesystem;

struct Entry {
  std::string name;
  std::string data;
  uint32_t mode = 0100644;  // unix mode bits; 0120777 makes a symlink
};

// Builds a zip in memory with libzip.
std::string MakeZip(const std::vector<Entry>& entries) {
  fs::path path = fs::temp_directory_path() / ("ziptest-" + std::to_string(::getpid()) + ".zip");
  fs::remove(path);
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  for (const auto& e : entries) {
    zip_source_t* src = zip_source_buffer(z, e.data.data(), e.data.size(), 0);
    zip_int64_t idx = zip_file_add(z, e.name.c_str(), src, ZIP_FL_ENC_UTF_8);
    zip_file_set_external_attributes(z, static_cast<zip_uint64_t>(idx), 0, ZIP_OPSYS_UNIX,
                                     e.mode << 16);
  }
  zip_close(z);
  std::ifstream in(path, std::ios::binary);
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(path);
  return out;
}

class ZipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("zipx-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(ZipTest, ExtractsFilesWithModes) {
  std::string zip = MakeZip({{"index.py", "print(1)"}, {"bin/run", "#!/bin/sh", 0100755},
                             {"lib/a/b.txt", "x"}});
  ASSERT_TRUE(InspectZip(zip).ok());
  ASSERT_TRUE(ExtractZip(zip, (root_ / "code").string()).ok());
  EXPECT_TRUE(fs::exists(root_ / "code/index.py"));
  EXPECT_TRUE(fs::exists(root_ / "code/lib/a/b.txt"));
  struct stat st;
  ASSERT_EQ(::stat((root_ / "code/bin/run").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR);
  // A second extraction of the same content is a no-op.
  EXPECT_TRUE(ExtractZip(zip, (root_ / "code").string()).ok());
}

TEST_F(ZipTest, RefusesGarbage) {
  for (std::string bad : {std::string(), std::string("not a zip"), std::string(100, '\0'),
                          std::string("PK\x03\x04garbage", 13)}) {
    auto r = InspectZip(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "InvalidParameterValueException");
    EXPECT_EQ(r.error().message,
              "Could not unzip uploaded file. Please check your file, then try to upload again.");
  }
}

TEST_F(ZipTest, RefusesPathTraversal) {
  for (const char* name : {"../evil", "/etc/passwd", "a/../../b", "a//b", "./x", "a\\..\\b"}) {
    std::string zip = MakeZip({{name, "x"}});
    EXPECT_FALSE(InspectZip(zip).ok()) << name;
    EXPECT_FALSE(ExtractZip(zip, (root_ / "t").string()).ok()) << name;
    EXPECT_FALSE(fs::exists(root_ / "t"));
  }
}

TEST_F(ZipTest, RefusesEscapingSymlinks) {
  std::string abs = MakeZip({{"link", "/etc/passwd", 0120777}});
  EXPECT_FALSE(InspectZip(abs).ok());
  std::string up = MakeZip({{"dir/link", "../../outside", 0120777}});
  EXPECT_FALSE(InspectZip(up).ok());
  EXPECT_FALSE(ExtractZip(up, (root_ / "t").string()).ok());
  // A symlink through another symlink that resolves outside: d/s1 -> .., s2 -> d/s1/..
  std::string chained = MakeZip({{"d/x", "x"}, {"d/s1", "..", 0120777}, {"s2", "d/s1/..", 0120777}});
  EXPECT_FALSE(ExtractZip(chained, (root_ / "t").string()).ok());
  EXPECT_FALSE(fs::exists(root_ / "t"));
  // Links that stay inside are fine.
  std::string ok = MakeZip({{"lib/real.so", "x"}, {"lib/alias.so", "real.so", 0120777}});
  ASSERT_TRUE(ExtractZip(ok, (root_ / "ok").string()).ok());
  EXPECT_TRUE(fs::is_symlink(root_ / "ok/lib/alias.so"));
}

TEST_F(ZipTest, RefusesZipBombs) {
  // 1 MiB of zeros compresses to ~1 KiB; a small limit stands in for the 250 MB one.
  std::string zip = MakeZip({{"zeros", std::string(1 << 20, '\0')}});
  auto st = ExtractZip(zip, (root_ / "bomb").string(), 64 * 1024);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "Unzipped size must be smaller than 65536 bytes");
  EXPECT_FALSE(fs::exists(root_ / "bomb"));
}

TEST(ZipNames, SafeNames) {
  EXPECT_TRUE(IsSafeEntryName("a/b/c.py"));
  EXPECT_FALSE(IsSafeEntryName(""));
  EXPECT_FALSE(IsSafeEntryName("/a"));
  EXPECT_FALSE(IsSafeEntryName("a/../b"));
}

}  // namespace
}  // namespace stratus::services::lambda

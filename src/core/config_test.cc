#include "core/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace stratus {
namespace {

TEST(Config, PrecedenceFileEnvFlags) {
  std::string path = ::testing::TempDir() + "/stratus_config_test.yaml";
  {
    std::ofstream f(path);
    f << "port: 1111\nhost: 0.0.0.0\nlog-level: debug\n";
  }
  Config c;
  ASSERT_TRUE(ApplyConfigFile(c, path).ok());
  EXPECT_EQ(c.port, 1111);
  EXPECT_EQ(c.host, "0.0.0.0");
  ASSERT_TRUE(ApplyEnvironment(c, {"STRATUS_PORT=2222", "PATH=/bin", "STRATUS_UNKNOWN=1"}).ok());
  EXPECT_EQ(c.port, 2222);
  ASSERT_TRUE(ApplyFlags(c, {{"port", "3333"}}).ok());
  EXPECT_EQ(c.port, 3333);
  EXPECT_EQ(c.log_level, "debug");
  std::remove(path.c_str());
}

TEST(Config, BadValuesSayWhatIsExpected) {
  Config c;
  Status s = ApplyFlags(c, {{"port", "99999"}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("0 to 65535"), std::string::npos);
  s = ApplyFlags(c, {{"log-level", "loud"}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("one of"), std::string::npos);
  s = ApplyEnvironment(c, {"STRATUS_IN_MEMORY=maybe"});
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(ApplyConfigFile(c, "/nonexistent/stratus.yaml").ok());
}

TEST(Config, UnknownFileKeyIsRejected) {
  std::string path = ::testing::TempDir() + "/stratus_config_bad.yaml";
  {
    std::ofstream f(path);
    f << "prot: 1\n";
  }
  Config c;
  Status s = ApplyConfigFile(c, path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("unknown setting 'prot'"), std::string::npos);
  std::remove(path.c_str());
}

TEST(Config, ExternalUrl) {
  Config c;
  c.host = "0.0.0.0";
  EXPECT_EQ(ExternalUrl(c, 4566), "http://localhost:4566");
  c.external_url = "http://stratus:1";
  EXPECT_EQ(ExternalUrl(c, 4566), "http://stratus:1");
}

}  // namespace
}  // namespace stratus

#include "jsonata/cli.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/json.h"

namespace stratus::jsonata {
namespace {

struct Captured {
  int rc;
  std::string out, err;
};

Captured RunCaptured(const std::string& expr, const std::string& input, const std::string& bindings) {
  std::stringstream out, err;
  auto* old_out = std::cout.rdbuf(out.rdbuf());
  auto* old_err = std::cerr.rdbuf(err.rdbuf());
  int rc = RunCli(expr, input, bindings);
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  return {rc, out.str(), err.str()};
}

std::string TempFile(const std::string& content) {
  auto path = std::filesystem::temp_directory_path() / ("jsonata_cli_" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << content;
  return path.string();
}

TEST(JsonataCli, PrintsResultAsJson) {
  std::string f = TempFile(R"({"a": {"b": [1, 2, 3]}})");
  auto r = RunCaptured("$sum(a.b) * $k", f, R"({"k": 2})");
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(ParseJsonOrDiscarded(r.out), Json(12));
  EXPECT_TRUE(r.err.empty());
  std::filesystem::remove(f);
}

TEST(JsonataCli, UndefinedPrintsNothing) {
  auto r = RunCaptured("nothing", "", "");
  EXPECT_EQ(r.rc, 0);
  EXPECT_TRUE(r.out.empty());
}

TEST(JsonataCli, ErrorsGoToStderrAsJson) {
  auto r = RunCaptured("1 + 'a'", "", "");
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(r.out.empty());
  Json err = ParseJsonOrDiscarded(r.err);
  EXPECT_EQ(err["code"], "T2002");
  EXPECT_EQ(err["position"], 3);
  EXPECT_TRUE(err["message"].is_string());
  auto syntax = RunCaptured("(", "", "");
  EXPECT_EQ(syntax.rc, 1);
  EXPECT_EQ(ParseJsonOrDiscarded(syntax.err)["code"], "S0207");
}

TEST(JsonataCli, BadInputAndBindings) {
  EXPECT_EQ(RunCaptured("1", "/nonexistent/file.json", "").rc, 1);
  std::string f = TempFile("{not json");
  EXPECT_EQ(ParseJsonOrDiscarded(RunCaptured("1", f, "").err)["code"], "InvalidInput");
  EXPECT_EQ(ParseJsonOrDiscarded(RunCaptured("1", "", "[1]").err)["code"], "InvalidBindings");
  std::filesystem::remove(f);
}

#ifdef STRATUS_JSONATA_CLI_BINARY
TEST(JsonataCli, StandaloneBinary) {
  std::string cmd = std::string("echo '{\"x\": 5}' | ") + STRATUS_JSONATA_CLI_BINARY + " 'x * 2' --input - 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[256] = {0};
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  int status = pclose(p);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(std::string(buf, n), "10\n");
}
#endif

}  // namespace
}  // namespace stratus::jsonata

// Runs the official JSONata test suite (tests/conformance/jsonata) against the library.
// Every case runs; the ones listed in testdata/conformance_skip.txt are skipped explicitly, by
// id, each with its reason (docs/jsonata.md explains them). A per-group table is printed.
//
// Environment: STRATUS_SOURCE_DIR = repository root (set by CTest). JSONATA_CASE=<id prefix>
// runs only matching cases and prints details (for debugging).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "jsonata/jsonata.h"

namespace stratus::jsonata {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path SourceDir() {
  const char* env = std::getenv("STRATUS_SOURCE_DIR");
  return env != nullptr ? fs::path(env) : fs::current_path();
}

// The reference suite compares with chai's deep equality: member order does not matter,
// numbers compare exactly (we allow a relative 1e-13 for printing differences of doubles).
bool SameJson(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    if (x == y) return true;
    return std::fabs(x - y) <= 1e-13 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto f = b.find(it.key());
      if (f == b.end() || !SameJson(it.value(), *f)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!SameJson(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

struct Outcome {
  bool pass = false;
  std::string detail;
};

Outcome RunCase(const Json& tc, const fs::path& group_dir, const fs::path& datasets) {
  Outcome o;
  std::string expr;
  if (tc.contains("expr")) {
    expr = tc["expr"].get<std::string>();
  } else if (tc.contains("expr-file")) {
    expr = ReadFile(group_dir / tc["expr-file"].get<std::string>());
  }
  MaybeJson input;
  if (tc.contains("data")) {
    input = tc["data"];
  } else if (tc.contains("dataset") && tc["dataset"].is_string()) {
    input = ParseJsonOrDiscarded(ReadFile(datasets / (tc["dataset"].get<std::string>() + ".json")));
  }
  Bindings bindings;
  if (tc.contains("bindings") && tc["bindings"].is_object()) {
    auto b = Bindings::FromJson(tc["bindings"]);
    if (b.ok()) bindings = *b;
  }
  Limits limits;
  if (tc.contains("timelimit") && tc["timelimit"].is_number()) {
    limits.time_limit = std::chrono::milliseconds(tc["timelimit"].get<int64_t>());
  }
  if (tc.contains("depth") && tc["depth"].is_number()) limits.max_depth = tc["depth"].get<int>();

  Result<MaybeJson> result = [&]() -> Result<MaybeJson> {
    auto compiled = Expression::Compile(expr);
    if (!compiled.ok()) return std::move(compiled).error();
    return compiled->Evaluate(input, bindings, limits);
  }();

  std::string want;
  if (tc.contains("code")) want = tc["code"].get<std::string>();
  if (tc.contains("error") && tc["error"].is_object() && tc["error"].contains("code")) {
    want = tc["error"]["code"].get<std::string>();
  }
  if (!want.empty()) {
    if (result.ok()) {
      o.detail = "expected error " + want + ", got " + (*result ? DumpJson(**result) : "undefined");
      return o;
    }
    if (result.error().code != want) {
      o.detail = "expected error " + want + ", got " + result.error().code + ": " + result.error().message;
      return o;
    }
    o.pass = true;
    return o;
  }
  if (!result.ok()) {
    o.detail = "unexpected error " + result.error().code + ": " + result.error().message;
    return o;
  }
  if (tc.contains("undefinedResult") && tc["undefinedResult"].get<bool>()) {
    o.pass = !result->has_value();
    if (!o.pass) o.detail = "expected undefined, got " + DumpJson(**result);
    return o;
  }
  if (tc.contains("result")) {
    if (!result->has_value()) {
      o.detail = "expected " + DumpJson(tc["result"]) + ", got undefined";
      return o;
    }
    o.pass = SameJson(**result, tc["result"]);
    if (!o.pass) o.detail = "expected " + DumpJson(tc["result"]) + ", got " + DumpJson(**result);
    return o;
  }
  o.pass = !result->has_value();
  if (!o.pass) o.detail = "expected undefined (no result field), got " + DumpJson(**result);
  return o;
}

std::map<std::string, std::string> LoadSkips(const fs::path& file) {
  std::map<std::string, std::string> skips;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t sp = line.find_first_of(" \t");
    std::string id = line.substr(0, sp);
    std::string reason = sp == std::string::npos ? "" : line.substr(line.find_first_not_of(" \t", sp));
    skips[id] = reason;
  }
  return skips;
}

// nlohmann rejects lone UTF-16 surrogate escapes, which a few cases use inside expression
// strings: keep them as JSONata escapes (the expression's lexer decodes them).
std::string EscapeLoneSurrogates(const std::string& text) {
  std::string out;
  auto hex4 = [&](size_t at, unsigned& v) {
    if (at + 6 > text.size() || text[at] != '\\' || text[at + 1] != 'u') return false;
    v = static_cast<unsigned>(std::strtoul(text.substr(at + 2, 4).c_str(), nullptr, 16));
    return true;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned v = 0;
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '\\') {
      out += "\\\\";
      ++i;
      continue;
    }
    if (hex4(i, v) && v >= 0xD800 && v <= 0xDFFF) {
      unsigned lo = 0;
      if (v <= 0xDBFF && hex4(i + 6, lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
        out += text.substr(i, 12);
        i += 11;
        continue;
      }
      out += "\\" + text.substr(i, 6);
      i += 5;
      continue;
    }
    out.push_back(text[i]);
  }
  return out;
}

TEST(JsonataConformance, OfficialSuite) {
  fs::path root = SourceDir() / "tests/conformance/jsonata";
  ASSERT_TRUE(fs::exists(root / "groups")) << "suite not found under " << root;
  auto skips = LoadSkips(SourceDir() / "src/jsonata/testdata/conformance_skip.txt");
  const char* only = std::getenv("JSONATA_CASE");

  struct Counts {
    int passed = 0, failed = 0, skipped = 0;
  };
  std::map<std::string, Counts> counts;
  std::set<std::string> seen_skips;
  std::vector<std::string> failures;

  std::vector<fs::path> groups;
  for (const auto& g : fs::directory_iterator(root / "groups")) groups.push_back(g.path());
  std::sort(groups.begin(), groups.end());
  for (const auto& gdir : groups) {
    std::string group = gdir.filename().string();
    std::vector<fs::path> files;
    for (const auto& f : fs::directory_iterator(gdir)) {
      if (f.path().extension() == ".json") files.push_back(f.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      Json doc = ParseJsonOrDiscarded(EscapeLoneSurrogates(ReadFile(file)));
      ASSERT_FALSE(doc.is_discarded()) << file;
      std::vector<std::pair<std::string, Json>> cases;
      std::string base = group + "/" + file.stem().string();
      if (doc.is_array()) {
        for (size_t i = 0; i < doc.size(); ++i) cases.emplace_back(base + "[" + std::to_string(i) + "]", doc[i]);
      } else {
        cases.emplace_back(base, doc);
      }
      for (auto& [id, tc] : cases) {
        if (only != nullptr && id.rfind(only, 0) != 0) continue;
        if (skips.count(id) != 0) {
          counts[group].skipped++;
          seen_skips.insert(id);
          continue;
        }
        Outcome o = RunCase(tc, gdir, root / "datasets");
        if (o.pass) {
          counts[group].passed++;
        } else {
          counts[group].failed++;
          failures.push_back(id + ": " + (tc.contains("expr") ? tc["expr"].get<std::string>() : "<file>") +
                             "\n    " + o.detail.substr(0, 600));
        }
      }
    }
  }
  Counts total;
  std::cout << "group                              passed failed skipped\n";
  for (const auto& [g, c] : counts) {
    std::printf("%-34s %6d %6d %7d\n", g.c_str(), c.passed, c.failed, c.skipped);
    total.passed += c.passed;
    total.failed += c.failed;
    total.skipped += c.skipped;
  }
  std::printf("%-34s %6d %6d %7d\n", "TOTAL", total.passed, total.failed, total.skipped);
  for (const auto& f : failures) ADD_FAILURE() << f;
  if (only == nullptr) {
    for (const auto& [id, reason] : skips) {
      EXPECT_TRUE(seen_skips.count(id) != 0) << "skip list names a case that does not exist: " << id;
    }
  }
}

}  // namespace
}  // namespace stratus::jsonata

// Runs one bench case's evaluation N times, for profilers (perf record, valgrind --tool=callgrind):
// a fixed iteration count makes instruction counts per evaluation exact and comparable.
// usage: profile_jsonata CASE [ITERATIONS]   (STRATUS_SOURCE_DIR = the source tree)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "jsonata/jsonata.h"

namespace {

namespace fs = std::filesystem;
using stratus::Json;
namespace jsonata = stratus::jsonata;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CASE [ITERATIONS]\n", argv[0]);
    return 2;
  }
  const std::string wanted = argv[1];
  const long iterations = argc > 2 ? std::atol(argv[2]) : 100000;
  const char* env = std::getenv("STRATUS_SOURCE_DIR");
  fs::path root = env != nullptr ? fs::path(env) : fs::path(STRATUS_SOURCE_DIR_DEFAULT);
  Json cases = stratus::ParseJsonOrDiscarded(ReadFile(root / "bench/jsonata/cases.json"));
  for (const auto& c : cases) {
    if (c["name"].get<std::string>() != wanted) continue;
    Json data = c.contains("dataset")
                    ? stratus::ParseJsonOrDiscarded(ReadFile(root / "tests/conformance/jsonata/datasets" /
                                                             (c["dataset"].get<std::string>() + ".json")))
                    : c["data"];
    jsonata::Bindings bindings;
    if (c.value("states", false)) {
      bindings.Set("states", Json{{"input", data}, {"context", {{"Execution", {{"Id", "exec-1"}}}}}});
    }
    auto compiled = jsonata::Expression::Compile(c["expr"].get<std::string>());
    if (!compiled.ok()) {
      std::fprintf(stderr, "compile error: %s\n", compiled.error().message.c_str());
      return 1;
    }
    jsonata::Input input(data);
    size_t sink = 0;
    double start = CpuSeconds();
    for (long i = 0; i < iterations; ++i) {
      auto r = compiled->Evaluate(input, bindings);
      sink += r.ok() && r->has_value() ? 1 : 0;
    }
    double cpu = CpuSeconds() - start;
    std::printf("%s: %ld evaluations, %.1f ns CPU each (%zu defined)\n", wanted.c_str(), iterations,
                cpu * 1e9 / static_cast<double>(iterations), sink);
    return 0;
  }
  std::fprintf(stderr, "no case named %s\n", wanted.c_str());
  return 1;
}

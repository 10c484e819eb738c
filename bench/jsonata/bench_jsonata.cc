// JSONata compile and evaluate benchmarks on typical Step Functions expressions and heavier
// cases from the official suite (bench/jsonata/cases.json, shared with the reference side in
// compare.sh). Evaluate runs on a prepared Input; the result is converted to stratus::Json,
// as every caller of the public API gets it. Rates are per wall-clock second (UseRealTime), as
// the reference side measures them.
#include <benchmark/benchmark.h>

#include <cstdlib>
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

fs::path SourceDir() {
  const char* env = std::getenv("STRATUS_SOURCE_DIR");
  return env != nullptr ? fs::path(env) : fs::path(STRATUS_SOURCE_DIR_DEFAULT);
}

void RegisterCases() {
  fs::path root = SourceDir();
  Json cases = stratus::ParseJsonOrDiscarded(ReadFile(root / "bench/jsonata/cases.json"));
  if (!cases.is_array()) return;
  for (const auto& c : cases) {
    std::string name = c["name"].get<std::string>();
    std::string expr = c["expr"].get<std::string>();
    Json data = c.contains("dataset")
                    ? stratus::ParseJsonOrDiscarded(
                          ReadFile(root / "tests/conformance/jsonata/datasets" / (c["dataset"].get<std::string>() + ".json")))
                    : c["data"];
    jsonata::Bindings bindings;
    if (c.value("states", false)) {
      bindings.Set("states", Json{{"input", data}, {"context", {{"Execution", {{"Id", "exec-1"}}}}}});
    }
    auto compiled = jsonata::Expression::Compile(expr);
    if (!compiled.ok()) continue;
    jsonata::Input input(data);
    benchmark::RegisterBenchmark(("eval/" + name).c_str(), [e = *compiled, input, bindings](benchmark::State& st) {
      for (auto _ : st) {
        auto r = e.Evaluate(input, bindings);
        benchmark::DoNotOptimize(r);
      }
      st.SetItemsProcessed(st.iterations());
    })->UseRealTime();
    benchmark::RegisterBenchmark(("compile/" + name).c_str(), [expr](benchmark::State& st) {
      for (auto _ : st) {
        auto r = jsonata::Expression::Compile(expr);
        benchmark::DoNotOptimize(r);
      }
      st.SetItemsProcessed(st.iterations());
    })->UseRealTime();
  }
}

}  // namespace

int main(int argc, char** argv) {
  RegisterCases();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

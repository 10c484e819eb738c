// stratus-jsonata: the standalone form of `stratus jsonata` (see cli.h).
#include <cstring>
#include <iostream>
#include <string>

#include "jsonata/cli.h"

namespace {
constexpr int kExitUsage = 2;

int Usage() {
  std::cerr << "usage: stratus-jsonata EXPR [--input FILE|-] [--bindings JSON]\n";
  return kExitUsage;
}
}  // namespace

int main(int argc, char** argv) {
  std::string expr, input, bindings;
  bool have_expr = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--input" && i + 1 < argc) {
      input = argv[++i];
    } else if (arg == "--bindings" && i + 1 < argc) {
      bindings = argv[++i];
    } else if (arg == "-h" || arg == "--help") {
      return Usage();
    } else if (!have_expr) {
      expr = arg;
      have_expr = true;
    } else {
      return Usage();
    }
  }
  if (!have_expr) return Usage();
  return stratus::jsonata::RunCli(expr, input, bindings);
}

#include "jsonata/cli.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "core/json.h"
#include "jsonata/jsonata.h"

namespace stratus::jsonata {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kJsonIndent = 2;

int Fail(const std::string& code, int position, const std::string& message) {
  Json err = {{"code", code}, {"position", position}, {"message", message}};
  std::cerr << DumpJson(err) << std::endl;
  return kExitError;
}

int Fail(const Error& e) {
  int position = e.fields.contains("position") ? e.fields["position"].get<int>() : -1;
  return Fail(e.code, position, e.message);
}

}  // namespace

int RunCli(const std::string& expression, const std::string& input_path, const std::string& bindings_json) {
  MaybeJson input;
  if (!input_path.empty()) {
    std::stringstream text;
    if (input_path == "-") {
      text << std::cin.rdbuf();
    } else {
      std::ifstream file(input_path, std::ios::binary);
      if (!file) return Fail("InvalidInput", -1, "cannot read input file " + input_path);
      text << file.rdbuf();
    }
    Json j = ParseJsonOrDiscarded(text.str());
    if (j.is_discarded()) return Fail("InvalidInput", -1, "the input is not valid JSON");
    input = std::move(j);
  }
  Bindings bindings;
  if (!bindings_json.empty()) {
    Json b = ParseJsonOrDiscarded(bindings_json);
    if (b.is_discarded() || !b.is_object()) {
      return Fail("InvalidBindings", -1, "--bindings must be a JSON object");
    }
    auto parsed = Bindings::FromJson(b);
    if (!parsed.ok()) return Fail(parsed.error());
    bindings = *parsed;
  }
  auto compiled = Expression::Compile(expression);
  if (!compiled.ok()) return Fail(compiled.error());
  auto result = compiled->Evaluate(input, bindings);
  if (!result.ok()) return Fail(result.error());
  if (result->has_value()) {
    std::cout << (*result)->dump(kJsonIndent, ' ', false, nlohmann::detail::error_handler_t::replace) << std::endl;
  }
  return kExitOk;
}

}  // namespace stratus::jsonata

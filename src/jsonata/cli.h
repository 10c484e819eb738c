#pragma once
// `stratus jsonata EXPR [--input FILE|-] [--bindings JSON]`: evaluates a JSONata expression like
// jq. Prints the result as JSON (2-space indented) on stdout; an undefined result prints nothing
// and returns 0; an error prints {"code": ..., "position": N, "message": ...} on stderr and
// returns 1 (unreadable input or bindings use codes "InvalidInput"/"InvalidBindings").
#include <string>

namespace stratus::jsonata {

// input_path: "" = no input (undefined), "-" = stdin, else a file. bindings_json: "" = none,
// else a JSON object of variables. Returns the process exit status.
int RunCli(const std::string& expression, const std::string& input_path, const std::string& bindings_json);

}  // namespace stratus::jsonata

// The `stratus` command.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <map>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/remote.h"
#include "cli/serve.h"
#include "core/config.h"
#include "jsonata/cli.h"
#include "version.h"

extern char** environ;

namespace {

constexpr const char* kDescription =
    "stratus — the serverless cloud in one binary.\n"
    "\n"
    "Serves AWS-compatible APIs on one port -- Lambda, API Gateway, Step Functions, SNS, SQS,\n"
    "DynamoDB, S3, Cognito, IAM/STS, CloudWatch Logs -- so the aws CLI, boto3 and the AWS SDKs\n"
    "work against it unchanged. State is kept on disk and survives kill -9; no Docker needed.\n"
    "\n"
    "  stratus serve                      # http://127.0.0.1:4566, state in ./.stratus\n"
    "  aws --endpoint-url http://localhost:4566 sts get-caller-identity\n"
    "  stratus serve --help               # every setting (flag, STRATUS_* variable, YAML key)\n"
    "\n"
    "Any access key works (a 12-digit key id selects that account; otherwise 000000000000)\n"
    "unless IAM enforcement is turned on.";

void SetUpLogging(const stratus::Config& config) {
  auto logger = spdlog::stderr_color_mt("stratus");
  spdlog::set_default_logger(logger);
  if (config.log_format == "json") {
    spdlog::set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","message":"%v"})",
                        spdlog::pattern_time_type::utc);
  } else {
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
  }
  spdlog::set_level(spdlog::level::from_str(config.log_level));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "stratus"};
  app.require_subcommand(1);
  app.set_version_flag("--version", stratus::kVersion);

  // serve: every setting is a flag; flags beat STRATUS_* variables, which beat the config file.
  CLI::App* serve = app.add_subcommand("serve", "Start the server (foreground; Ctrl-C stops it).");
  std::string config_file;
  serve->add_option("--config", config_file, "YAML file of settings (keys as the flags below)")
      ->check(CLI::ExistingFile);
  std::map<std::string, std::string> flag_values;
  std::map<std::string, CLI::Option*> flag_options;
  stratus::Config defaults;
  for (const auto& setting : stratus::Settings()) {
    std::string help = setting.help + " [env " + setting.env + "]";
    CLI::Option* option = serve->add_option("--" + setting.name, flag_values[setting.name], help);
    if (setting.is_bool) {
      // `--in-memory` alone means true; `--fsync false` / `--fsync=false` still work.
      option->expected(0, 1)->type_name("[BOOL=" + setting.show(defaults) + "]");
    } else {
      option->default_str(setting.show(defaults));
    }
    flag_options[setting.name] = option;
  }

  CLI::App* version = app.add_subcommand("version", "Print the version.");

  CLI::App* jsonata = app.add_subcommand(
      "jsonata", "Evaluate a JSONata expression, like jq: prints the result as JSON.");
  std::string expression;
  std::string input_path;
  std::string bindings;
  jsonata->add_option("expression", expression, "the JSONata expression")->required();
  jsonata->add_option("--input,-i", input_path, "JSON input file, or - for stdin");
  jsonata->add_option("--bindings,-b", bindings, "JSON object of variable bindings");

  // invoke / logs: clients of a running server.
  stratus::cli::RemoteOptions remote;
  CLI::App* invoke = app.add_subcommand("invoke", "Invoke a function on a running stratus and print its result.");
  std::string invoke_name, invoke_payload, invoke_qualifier;
  invoke->add_option("name", invoke_name, "function name or ARN (name:qualifier works too)")->required();
  invoke->add_option("--payload,-p", invoke_payload, "JSON event, or @file to read it from a file");
  invoke->add_option("--qualifier,-q", invoke_qualifier, "version or alias");
  invoke->add_option("--endpoint-url", remote.endpoint, "the server")->default_str(remote.endpoint);
  CLI::App* logs = app.add_subcommand("logs", "Print a function's logs (/aws/lambda/NAME) from a running stratus.");
  std::string logs_name;
  bool logs_follow = false;
  int64_t logs_since = 60;
  logs->add_option("name", logs_name, "function name")->required();
  logs->add_flag("--follow,-f", logs_follow, "keep printing new log lines");
  logs->add_option("--since", logs_since, "minutes of history to print")->default_str("60");
  logs->add_option("--endpoint-url", remote.endpoint, "the server")->default_str(remote.endpoint);

  CLI11_PARSE(app, argc, argv);

  if (invoke->parsed()) {
    return stratus::cli::RunInvoke(remote, invoke_name, invoke_payload, invoke_qualifier);
  }
  if (logs->parsed()) return stratus::cli::RunLogs(remote, logs_name, logs_follow, logs_since);

  if (version->parsed()) {
    std::cout << "stratus " << stratus::kVersion << "\n";
    return 0;
  }

  if (jsonata->parsed()) {
    return stratus::jsonata::RunCli(expression, input_path, bindings);
  }

  stratus::Config config;
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  std::map<std::string, std::string> given;
  for (const auto& [name, option] : flag_options) {
    if (option->count() > 0) {
      bool bare = flag_values[name].empty() && option->get_expected_min() == 0;
      given[name] = bare ? std::string("true") : flag_values[name];
    }
  }
  stratus::Status st;
  if (!config_file.empty()) st = stratus::ApplyConfigFile(config, config_file);
  if (st.ok()) st = stratus::ApplyEnvironment(config, env);
  if (st.ok()) st = stratus::ApplyFlags(config, given);
  if (!st.ok()) {
    std::cerr << "stratus: " << st.error().message << "\n";
    return 2;
  }
  SetUpLogging(config);
  return stratus::cli::Serve(config);
}

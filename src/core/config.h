#pragma once
// Stratus's configuration: one struct, filled from (lowest to highest precedence) built-in
// defaults, a YAML file, STRATUS_* environment variables and command-line flags.
//
// Every setting is described once in the table returned by Settings(); the CLI, the env reader,
// the file reader and `stratus serve --help` all read that table.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"

namespace stratus {

struct Config {
  std::string host = "127.0.0.1";
  uint16_t port = 4566;
  std::string data_dir = ".stratus";
  bool in_memory = false;          // keep state in memory only (nothing survives a restart)
  std::string log_level = "info";  // trace, debug, info, warn, error, off
  std::string log_format = "text"; // text or json
  int io_threads = 0;              // 0 = one per core
  int workers = 64;                // max threads for blocking operations
  uint64_t max_body_bytes = 256ull * 1024 * 1024;
  uint64_t max_header_bytes = 64 * 1024;
  int64_t idle_timeout_ms = 60'000;
  std::string region = "us-east-1";            // when a request does not say
  std::string account_id = "000000000000";     // when an access key does not say
  // How functions and callbacks reach this server, e.g. "http://localhost:4566". Empty = derived
  // from host and port.
  std::string external_url;
  bool fsync = true;               // fsync every commit batch (turn off only for throwaway data)
  // IAM enforcement (docs/iam.md): verify signatures against real secrets and authorize every
  // operation; soft mode logs what would be denied without denying.
  bool enforce_iam = false;
  bool iam_soft_mode = false;
  // The bootstrap root identity of account_id (the account's root user) under enforcement.
  std::string iam_root_access_key_id = "test";
  std::string iam_root_secret_access_key = "test";
};

// One setting: its flag name ("data-dir"), env var ("STRATUS_DATA_DIR"), help text, and how to
// apply a textual value to a Config.
struct Setting {
  std::string name;
  std::string env;
  std::string help;
  std::function<Status(Config&, const std::string&)> apply;
  std::function<std::string(const Config&)> show;
  bool is_bool = false;  // a bare flag (--fsync) means true
};

const std::vector<Setting>& Settings();

// Applies a YAML file whose top-level keys are setting names ("port: 4566", "data-dir: /x").
// Unknown keys fail with a message naming them.
Status ApplyConfigFile(Config& config, const std::string& path);
// Applies every STRATUS_* variable that names a setting. `environ_entries` are "NAME=value".
Status ApplyEnvironment(Config& config, const std::vector<std::string>& environ_entries);
// Applies explicitly given flags (name -> value).
Status ApplyFlags(Config& config, const std::map<std::string, std::string>& flags);

// The URL functions and other callers use to reach this server.
std::string ExternalUrl(const Config& config, uint16_t bound_port);

}  // namespace stratus

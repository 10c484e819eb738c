#include "core/config.h"

#include <yaml-cpp/yaml.h>

#include "core/strings.h"

namespace stratus {

namespace {

Status BadValue(const std::string& name, const std::string& value, const std::string& expected) {
  return Error("InvalidConfiguration",
               "setting '" + name + "' has value '" + value + "'; expected " + expected);
}

template <class T>
Setting IntSetting(std::string name, std::string help, T Config::*field, int64_t lo, int64_t hi) {
  Setting s;
  s.env = "STRATUS_" + ReplaceAll(ToUpper(name), "-", "_");
  s.help = std::move(help);
  s.apply = [name, field, lo, hi](Config& c, const std::string& v) -> Status {
    auto n = ParseInt64(Trim(v));
    if (!n || *n < lo || *n > hi) {
      return BadValue(name, v,
                      "an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
    }
    c.*field = static_cast<T>(*n);
    return Status::Ok();
  };
  s.show = [field](const Config& c) { return std::to_string(c.*field); };
  s.name = std::move(name);
  return s;
}

Setting StringSetting(std::string name, std::string help, std::string Config::*field,
                      std::vector<std::string> allowed = {}) {
  Setting s;
  s.env = "STRATUS_" + ReplaceAll(ToUpper(name), "-", "_");
  s.help = std::move(help);
  s.apply = [name, field, allowed](Config& c, const std::string& v) -> Status {
    if (!allowed.empty()) {
      bool ok = false;
      for (const auto& a : allowed) ok = ok || a == v;
      if (!ok) return BadValue(name, v, "one of: " + Join(allowed, ", "));
    }
    c.*field = v;
    return Status::Ok();
  };
  s.show = [field](const Config& c) { return c.*field; };
  s.name = std::move(name);
  return s;
}

Setting BoolSetting(std::string name, std::string help, bool Config::*field) {
  Setting s;
  s.env = "STRATUS_" + ReplaceAll(ToUpper(name), "-", "_");
  s.help = std::move(help);
  s.apply = [name, field](Config& c, const std::string& v) -> Status {
    std::string l = ToLower(Trim(v));
    if (l == "1" || l == "true" || l == "yes" || l == "on") {
      c.*field = true;
    } else if (l == "0" || l == "false" || l == "no" || l == "off") {
      c.*field = false;
    } else {
      return BadValue(name, v, "true or false");
    }
    return Status::Ok();
  };
  s.show = [field](const Config& c) { return std::string(c.*field ? "true" : "false"); };
  s.is_bool = true;
  s.name = std::move(name);
  return s;
}

}  // namespace

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> kSettings = [] {
    std::vector<Setting> v;
    v.push_back(StringSetting("host", "address to listen on (0.0.0.0 for every interface)",
                              &Config::host));
    v.push_back(IntSetting("port", "port to listen on (0 picks a free one)", &Config::port, 0,
                           65535));
    v.push_back(StringSetting("data-dir", "directory for all state (created if missing)",
                              &Config::data_dir));
    v.push_back(BoolSetting("in-memory", "keep all state in memory; nothing survives a restart",
                            &Config::in_memory));
    v.push_back(StringSetting("log-level", "trace, debug, info, warn, error or off",
                              &Config::log_level,
                              {"trace", "debug", "info", "warn", "error", "off"}));
    v.push_back(StringSetting("log-format", "text or json", &Config::log_format,
                              {"text", "json"}));
    v.push_back(IntSetting("io-threads", "network threads (0 = one per core)",
                           &Config::io_threads, 0, 256));
    v.push_back(IntSetting("workers", "maximum threads for blocking operations",
                           &Config::workers, 1, 4096));
    v.push_back(IntSetting("max-body-bytes", "largest request body accepted",
                           &Config::max_body_bytes, 1024, int64_t{1} << 40));
    v.push_back(IntSetting("max-header-bytes", "largest request header section accepted",
                           &Config::max_header_bytes, 1024, 16 * 1024 * 1024));
    v.push_back(IntSetting("idle-timeout-ms", "close connections idle this long",
                           &Config::idle_timeout_ms, 100, int64_t{1} << 40));
    v.push_back(StringSetting("region", "region for requests that do not name one",
                              &Config::region));
    v.push_back(StringSetting("account-id", "account for access keys that do not name one",
                              &Config::account_id));
    v.push_back(StringSetting("external-url",
                              "URL that functions use to reach stratus (default from host/port)",
                              &Config::external_url));
    v.push_back(BoolSetting("fsync", "fsync each commit (false only for throwaway data)",
                            &Config::fsync));
    v.push_back(BoolSetting("enforce-iam",
                            "verify signatures against IAM/STS secrets and authorize every "
                            "operation with IAM policies (docs/iam.md)",
                            &Config::enforce_iam));
    v.push_back(BoolSetting("iam-soft-mode",
                            "with enforce-iam: log what would be denied instead of denying",
                            &Config::iam_soft_mode));
    v.push_back(StringSetting("iam-root-access-key-id",
                              "access key id of the account's root user (the bootstrap admin)",
                              &Config::iam_root_access_key_id));
    v.push_back(StringSetting("iam-root-secret-access-key",
                              "secret access key of the account's root user",
                              &Config::iam_root_secret_access_key));
    return v;
  }();
  return kSettings;
}

namespace {
const Setting* FindSetting(const std::string& name) {
  for (const auto& s : Settings()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}
}  // namespace

Status ApplyConfigFile(Config& config, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    return Error("InvalidConfiguration", "cannot read config file " + path + ": " + e.what());
  }
  if (root.IsNull()) return Status::Ok();
  if (!root.IsMap()) {
    return Error("InvalidConfiguration",
                 "config file " + path + " must be a YAML mapping of setting: value");
  }
  for (const auto& kv : root) {
    std::string key = kv.first.as<std::string>();
    const Setting* s = FindSetting(key);
    if (!s) {
      return Error("InvalidConfiguration", "config file " + path + ": unknown setting '" + key +
                                               "' (see `stratus serve --help`)");
    }
    if (!kv.second.IsScalar()) {
      return Error("InvalidConfiguration",
                   "config file " + path + ": setting '" + key + "' must be a scalar");
    }
    STRATUS_RETURN_IF_ERROR(s->apply(config, kv.second.as<std::string>()));
  }
  return Status::Ok();
}

Status ApplyEnvironment(Config& config, const std::vector<std::string>& environ_entries) {
  for (const auto& entry : environ_entries) {
    size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    std::string name = entry.substr(0, eq);
    if (!StartsWith(name, "STRATUS_")) continue;
    for (const auto& s : Settings()) {
      if (s.env == name) {
        STRATUS_RETURN_IF_ERROR(s.apply(config, entry.substr(eq + 1)));
      }
    }
  }
  return Status::Ok();
}

Status ApplyFlags(Config& config, const std::map<std::string, std::string>& flags) {
  for (const auto& [name, value] : flags) {
    const Setting* s = FindSetting(name);
    if (!s) return Error("InvalidConfiguration", "unknown flag --" + name);
    STRATUS_RETURN_IF_ERROR(s->apply(config, value));
  }
  return Status::Ok();
}

std::string ExternalUrl(const Config& config, uint16_t bound_port) {
  if (!config.external_url.empty()) return config.external_url;
  std::string host = config.host == "0.0.0.0" || config.host == "::" ? "localhost" : config.host;
  return "http://" + host + ":" + std::to_string(bound_port);
}

}  // namespace stratus

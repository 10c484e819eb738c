#pragma once
// The CLI as a client of a running stratus: `stratus invoke` and `stratus logs` call the Lambda
// and CloudWatch Logs APIs over HTTP, signed with SigV4 like any AWS SDK (credentials from
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, default "test"; region from AWS_REGION /
// AWS_DEFAULT_REGION, default us-east-1).
#include <string>

namespace stratus::cli {

struct RemoteOptions {
  std::string endpoint = "http://localhost:4566";
  std::string region;  // "" = from the environment
};

// Invokes a function synchronously and prints its response payload on stdout and its log tail
// on stderr. `payload` is JSON text or "@file". Exit code: 0 on success, 1 when the function
// failed (FunctionError), 2 when the call failed.
int RunInvoke(const RemoteOptions& options, const std::string& function, const std::string& payload,
              const std::string& qualifier);

// Prints the log events of /aws/lambda/<function> (the last hour), then with `follow` keeps
// printing new ones until interrupted.
int RunLogs(const RemoteOptions& options, const std::string& function, bool follow,
            int64_t since_minutes);

}  // namespace stratus::cli

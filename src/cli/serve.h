#pragma once
// `stratus serve`: builds the store, the services and the server from a Config and runs until
// SIGINT/SIGTERM, then shuts down gracefully (stop accepting, drain, stop services, close the
// store).
#include "core/config.h"

namespace stratus::cli {

// Returns the process exit code.
int Serve(const Config& config);

}  // namespace stratus::cli

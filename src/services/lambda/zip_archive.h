#pragma once
// Zip archives of function code and layers: validation and extraction (libzip).
//
// Archives come from clients, so nothing in them is trusted: entry names with absolute paths or
// ".." components, symlinks whose target leaves the extraction root, more entries or more
// uncompressed bytes than Lambda allows (a zip bomb declares small sizes and inflates to
// gigabytes: bytes are counted as they are inflated, not as declared) are refused. Errors are
// InvalidParameterValueException values with Lambda's messages.
//
// Thread-safe: free functions without shared state.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace stratus::services::lambda {

// Lambda's limits on an unzipped deployment package (function and layers together).
inline constexpr uint64_t kMaxUnzippedBytes = 262'144'000;
inline constexpr uint64_t kMaxZipEntries = 100'000;

struct ZipSummary {
  uint64_t entries = 0;
  uint64_t uncompressed_bytes = 0;  // as declared by the archive
};

// Checks that `zip` is a readable archive whose entries are safe to extract. Does not inflate.
Result<ZipSummary> InspectZip(std::string_view zip);

// Extracts `zip` into `dir`, which must not exist: entries go to a sibling temporary directory
// that is renamed to `dir` when complete, so a crash never leaves a half-extracted tree under
// `dir`. Files keep their unix permission bits (reduced to rwx for owner, r-x for others);
// directories are 0755. Fails (and removes the partial tree) on any unsafe entry or when the
// inflated bytes exceed `max_bytes`. If `dir` appears meanwhile (another thread extracted the
// same content), that is success.
Status ExtractZip(std::string_view zip, const std::string& dir,
                  uint64_t max_bytes = kMaxUnzippedBytes);

// True when `name` is a relative path without "..", "." or empty components (a safe entry name).
bool IsSafeEntryName(std::string_view name);

}  // namespace stratus::services::lambda

#pragma once
// Internal: the table of embedded model and overlay files that tools/embed_models.py generates.
#include <cstddef>

namespace stratus::aws::internal {

struct EmbeddedFile {
  bool overlay;        // an overlay (models/overlays/) rather than an AWS model
  const char* stem;    // "sqs-2012-11-05"
  const char* begin;   // stripped JSON text, not NUL-terminated at `end`
  const char* end;
};

extern const EmbeddedFile kEmbeddedFiles[];
extern const size_t kEmbeddedFileCount;

}  // namespace stratus::aws::internal

#pragma once
// The decoder of aws-chunked framing (aws/sigv4/aws_chunked.h describes the wire form), the only
// one: bodies decoded as they arrive (S3's streamed bodies) feed it piece by piece, in any split,
// and DecodeAwsChunked feeds it a whole body held in memory. The payload comes out as it is
// found. Signatures are not checked here: the
// decoder hands each chunk's claimed signature to its consumer at the chunk's end (after its
// data), and keeps the trailer signature for whoever verifies the chain.
//
// Errors: IncompleteBody when the framing does not end
// (or a chunk announces more bytes than the body has left: found at its header, before any of
// its bytes are passed on), InvalidRequest for a size that is not hex, an over-long header line,
// data not followed by CRLF or bytes after the end, MalformedTrailerError for a trailer line
// without ':' or over 16 KiB of trailers.
//
// Not thread-safe: one body, one thread at a time.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/sigv4/aws_chunked.h"
#include "core/result.h"

namespace stratus::aws {

// Receives what ChunkStreamDecoder finds, in wire order.
class ChunkConsumer {
 public:
  virtual ~ChunkConsumer() = default;
  // Payload bytes; valid during the call only.
  virtual void Data(std::string_view data) = 0;
  // A chunk (the zero-length last one too) has ended; `signature` is its chunk-signature
  // extension, lowercase ("" when it has none). Called in the signed modes only.
  virtual void ChunkEnd(std::string_view signature) = 0;
};

class ChunkStreamDecoder {
 public:
  // `wire_length` is the body's Content-Length: a chunk larger than what is left of it fails
  // at once.
  ChunkStreamDecoder(AwsChunkedMode mode, uint64_t wire_length);

  // Feeds the next wire bytes. After the first error the decoder stays failed and returns it.
  Status Feed(std::string_view in, ChunkConsumer& out);
  // The body has ended: whether its framing did too.
  Status End();

  // Valid after End succeeded: the trailers in arrival order (names lowercase, values trimmed),
  // without x-amz-trailer-signature, which is in trailer_signature() (lowercase, "" if none).
  const std::vector<std::pair<std::string, std::string>>& trailers() const { return trailers_; }
  const std::string& trailer_signature() const { return trailer_signature_; }

 private:
  enum class State { kSize, kData, kDataEnd, kTrailers, kDone };
  Status SizeLine(ChunkConsumer& out);
  Status TrailerLine();

  const AwsChunkedMode mode_;
  const uint64_t wire_length_;
  uint64_t consumed_ = 0;  // wire bytes fed so far
  State state_ = State::kSize;
  std::string line_;       // a partial size line, chunk terminator or trailer line
  uint64_t left_ = 0;      // data bytes left in the current chunk
  std::string signature_;  // the current chunk's claimed signature
  std::vector<std::pair<std::string, std::string>> trailers_;
  std::string trailer_signature_;
  size_t trailer_bytes_ = 0;
  std::optional<Error> failed_;
};

}  // namespace stratus::aws

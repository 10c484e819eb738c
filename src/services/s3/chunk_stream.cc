#include "services/s3/chunk_stream.h"

#include <algorithm>

#include "core/strings.h"

namespace stratus::services::s3 {

namespace {

// As aws_chunked.cc: a size line is at most this long (16 hex digits and a signature fit easily).
constexpr size_t kMaxChunkHeaderLine = 4096;
constexpr size_t kMaxHexSizeDigits = 16;
constexpr size_t kMaxTrailerBytes = 16 * 1024;
constexpr std::string_view kChunkSignatureExt = "chunk-signature=";
constexpr std::string_view kTrailerSignatureName = "x-amz-trailer-signature";

Error IncompleteBody() {
  return Error("IncompleteBody", "The request body terminated unexpectedly", 400);
}
Error Malformed(const std::string& what) {
  return Error("InvalidRequest", "The aws-chunked request body is malformed: " + what, 400);
}
Error MalformedTrailer() {
  return Error("MalformedTrailerError",
               "The request contained trailing data that was not well-formed or did not conform "
               "to our published schema.",
               400);
}

}  // namespace

ChunkStreamDecoder::ChunkStreamDecoder(aws::AwsChunkedMode mode, uint64_t wire_length)
    : mode_(mode), wire_length_(wire_length) {}

Status ChunkStreamDecoder::Feed(std::string_view in, ChunkConsumer& out) {
  if (failed_) return *failed_;
  Status st = Status::Ok();
  while (!in.empty() && st.ok()) {
    switch (state_) {
      case State::kSize: {
        size_t nl = in.find('\n');
        std::string_view part = in.substr(0, nl == std::string_view::npos ? in.size() : nl + 1);
        line_ += part;
        in.remove_prefix(part.size());
        consumed_ += part.size();
        if (nl == std::string_view::npos) {
          if (line_.size() > kMaxChunkHeaderLine) st = Malformed("chunk header too long");
          break;
        }
        st = SizeLine(out);
        break;
      }
      case State::kData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(left_, in.size()));
        out.Data(in.substr(0, n));
        in.remove_prefix(n);
        consumed_ += n;
        left_ -= n;
        if (left_ == 0) {
          if (mode_ != aws::AwsChunkedMode::kUnsignedTrailer) out.ChunkEnd(signature_);
          state_ = State::kDataEnd;
        }
        break;
      }
      case State::kDataEnd: {
        line_.push_back(in.front());
        in.remove_prefix(1);
        ++consumed_;
        if (line_.size() == 2) {
          if (line_ != "\r\n") {
            st = Malformed("chunk data not followed by CRLF");
            break;
          }
          line_.clear();
          state_ = State::kSize;
        }
        break;
      }
      case State::kTrailers: {
        size_t nl = in.find('\n');
        std::string_view part = in.substr(0, nl == std::string_view::npos ? in.size() : nl + 1);
        line_ += part;
        in.remove_prefix(part.size());
        consumed_ += part.size();
        trailer_bytes_ += part.size();
        if (trailer_bytes_ > kMaxTrailerBytes) {
          st = MalformedTrailer();
          break;
        }
        if (nl != std::string_view::npos) st = TrailerLine();
        break;
      }
      case State::kDone:
        if (in.find_first_not_of("\r\n") != std::string_view::npos) {
          st = Malformed(mode_ == aws::AwsChunkedMode::kSigned
                             ? "unexpected data after the last chunk"
                             : "unexpected data after the trailers");
          break;
        }
        consumed_ += in.size();
        in = {};
        break;
    }
  }
  if (!st.ok()) failed_ = st.error();
  return st;
}

Status ChunkStreamDecoder::SizeLine(ChunkConsumer& out) {
  if (line_.size() < 2 || line_[line_.size() - 2] != '\r') {
    return Malformed("invalid chunk size '" + std::string(Trim(line_)) + "'");
  }
  std::string_view header(line_.data(), line_.size() - 2);
  if (header.size() > kMaxChunkHeaderLine) return Malformed("chunk header too long");
  size_t semi = header.find(';');
  std::string_view size_text = Trim(header.substr(0, semi));
  if (size_text.empty() || size_text.size() > kMaxHexSizeDigits) {
    return Malformed("invalid chunk size '" + std::string(size_text) + "'");
  }
  uint64_t size = 0;
  for (char c : size_text) {
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : -1;
    if (d < 0) return Malformed("invalid chunk size '" + std::string(size_text) + "'");
    size = size * 16 + static_cast<uint64_t>(d);
  }
  // A chunk larger than the rest of the body can never complete: say so before taking its bytes.
  if (size > wire_length_ - std::min(consumed_, wire_length_)) return IncompleteBody();
  signature_.clear();
  while (semi != std::string_view::npos) {
    size_t next = header.find(';', semi + 1);
    std::string_view ext = Trim(header.substr(
        semi + 1, next == std::string_view::npos ? std::string_view::npos : next - semi - 1));
    if (StartsWith(ext, kChunkSignatureExt)) {
      signature_ = ToLower(ext.substr(kChunkSignatureExt.size()));
    }
    semi = next;
  }
  line_.clear();
  left_ = size;
  if (size > 0) {
    state_ = State::kData;
    return Status::Ok();
  }
  if (mode_ != aws::AwsChunkedMode::kUnsignedTrailer) out.ChunkEnd(signature_);
  state_ = State::kTrailers;
  return Status::Ok();
}

Status ChunkStreamDecoder::TrailerLine() {
  std::string_view line = line_;
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) {
    state_ = State::kDone;
    line_.clear();
    return Status::Ok();
  }
  // Without trailers, only the final empty line may follow the last chunk.
  if (mode_ == aws::AwsChunkedMode::kSigned) {
    return Malformed("unexpected data after the last chunk");
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return MalformedTrailer();
  std::string name = ToLower(Trim(line.substr(0, colon)));
  std::string value(Trim(line.substr(colon + 1)));
  if (name == kTrailerSignatureName) {
    trailer_signature_ = ToLower(value);
  } else {
    trailers_.emplace_back(std::move(name), std::move(value));
  }
  line_.clear();
  return Status::Ok();
}

Status ChunkStreamDecoder::End() {
  if (failed_) return *failed_;
  switch (state_) {
    case State::kSize:
    case State::kData:
    case State::kDataEnd:
      return IncompleteBody();
    case State::kTrailers:
      // A last trailer line without its line end, or none at all after the last chunk.
      if (!line_.empty()) {
        Status st = TrailerLine();
        if (!st.ok()) failed_ = st.error();
        return st;
      }
      return Status::Ok();
    case State::kDone:
      return Status::Ok();
  }
  return Status::Ok();
}

}  // namespace stratus::services::s3

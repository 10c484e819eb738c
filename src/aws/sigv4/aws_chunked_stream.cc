#include "aws/sigv4/aws_chunked_stream.h"

#include <algorithm>

#include "core/strings.h"

namespace stratus::aws {

namespace {

constexpr size_t kMaxTrailerBytes = 16 * 1024;
}  // namespace

ChunkStreamDecoder::ChunkStreamDecoder(AwsChunkedMode mode, uint64_t wire_length)
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
          if (line_.size() > kAwsChunkedMaxHeaderLine) st = AwsChunkedMalformed("chunk header too long");
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
          if (mode_ != AwsChunkedMode::kUnsignedTrailer) out.ChunkEnd(signature_);
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
            st = AwsChunkedMalformed("chunk data not followed by CRLF");
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
          st = AwsChunkedMalformedTrailer();
          break;
        }
        if (nl != std::string_view::npos) st = TrailerLine();
        break;
      }
      case State::kDone:
        if (in.find_first_not_of("\r\n") != std::string_view::npos) {
          st = AwsChunkedMalformed(mode_ == AwsChunkedMode::kSigned
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
    return AwsChunkedMalformed("invalid chunk size '" + std::string(Trim(line_)) + "'");
  }
  std::string_view header(line_.data(), line_.size() - 2);
  if (header.size() > kAwsChunkedMaxHeaderLine) return AwsChunkedMalformed("chunk header too long");
  size_t semi = header.find(';');
  std::string_view size_text = Trim(header.substr(0, semi));
  if (size_text.empty() || size_text.size() > kAwsChunkedMaxHexSizeDigits) {
    return AwsChunkedMalformed("invalid chunk size '" + std::string(size_text) + "'");
  }
  uint64_t size = 0;
  for (char c : size_text) {
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : -1;
    if (d < 0) return AwsChunkedMalformed("invalid chunk size '" + std::string(size_text) + "'");
    size = size * 16 + static_cast<uint64_t>(d);
  }
  // A chunk larger than the rest of the body can never complete: say so before taking its bytes.
  if (size > wire_length_ - std::min(consumed_, wire_length_)) return AwsChunkedIncompleteBody();
  signature_.clear();
  while (semi != std::string_view::npos) {
    size_t next = header.find(';', semi + 1);
    std::string_view ext = Trim(header.substr(
        semi + 1, next == std::string_view::npos ? std::string_view::npos : next - semi - 1));
    if (StartsWith(ext, kAwsChunkSignatureExt)) {
      signature_ = ToLower(ext.substr(kAwsChunkSignatureExt.size()));
    }
    semi = next;
  }
  line_.clear();
  left_ = size;
  if (size > 0) {
    state_ = State::kData;
    return Status::Ok();
  }
  if (mode_ != AwsChunkedMode::kUnsignedTrailer) out.ChunkEnd(signature_);
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
  if (mode_ == AwsChunkedMode::kSigned) {
    return AwsChunkedMalformed("unexpected data after the last chunk");
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return AwsChunkedMalformedTrailer();
  std::string name = ToLower(Trim(line.substr(0, colon)));
  std::string value(Trim(line.substr(colon + 1)));
  if (name == kAwsTrailerSignatureName) {
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
      return AwsChunkedIncompleteBody();
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

}  // namespace stratus::aws

#include "services/stepfunctions/parquet_thrift.h"

#include <cstdint>
#include <cstring>
#include <string>

namespace stratus::services::stepfunctions {

namespace {

constexpr char kReaderFailed[] = "States.ItemReaderFailed";

// Compact protocol type ids.
enum : uint8_t {
  kStop = 0,
  kTrue = 1,
  kFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

class Decoder {
 public:
  Decoder(std::string_view data, size_t pos, std::string_view what) : data_(data), pos_(pos), what_(what) {}

  size_t pos() const { return pos_; }

  Result<Json> Struct(int depth) {
    if (depth > kMaxThriftDepth) return Fail("nests too deeply");
    Json out = Json::object();
    int64_t last_id = 0;
    for (;;) {
      STRATUS_ASSIGN_OR_RETURN(uint8_t header, Byte());
      uint8_t type = header & 0x0f;
      if (type == kStop) return out;
      int64_t id = 0;
      if (uint8_t delta = header >> 4; delta != 0) {
        id = last_id + delta;
      } else {
        STRATUS_ASSIGN_OR_RETURN(uint64_t raw, Varint());
        id = Zigzag(raw);
      }
      last_id = id;
      Json value;
      if (type == kTrue || type == kFalse) {
        value = type == kTrue;
      } else {
        STRATUS_ASSIGN_OR_RETURN(value, Value(type, depth));
      }
      out[std::to_string(id)] = std::move(value);
    }
  }

 private:
  Error Fail(const std::string& why) const {
    return Error(kReaderFailed, "The Parquet file's " + std::string(what_) + " " + why + " (at byte " +
                                    std::to_string(pos_) + ")");
  }

  Result<uint8_t> Byte() {
    if (pos_ >= data_.size()) return Fail("is truncated");
    return static_cast<uint8_t>(data_[pos_++]);
  }

  Result<uint64_t> Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      STRATUS_ASSIGN_OR_RETURN(uint8_t b, Byte());
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return Fail("has a varint longer than 10 bytes");
  }

  static int64_t Zigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

  // A collection's size, which cannot exceed the bytes left (each element takes at least one).
  Result<size_t> Size(uint64_t n) {
    if (n > data_.size() - pos_) return Fail("claims " + std::to_string(n) + " elements in " +
                                             std::to_string(data_.size() - pos_) + " bytes");
    return static_cast<size_t>(n);
  }

  Result<Json> Value(uint8_t type, int depth) {
    switch (type) {
      case kByte: {
        STRATUS_ASSIGN_OR_RETURN(uint8_t b, Byte());
        return Json(static_cast<int64_t>(static_cast<int8_t>(b)));
      }
      case kI16:
      case kI32:
      case kI64: {
        STRATUS_ASSIGN_OR_RETURN(uint64_t raw, Varint());
        return Json(Zigzag(raw));
      }
      case kDouble: {
        if (data_.size() - pos_ < 8) return Fail("is truncated");
        double d;
        std::memcpy(&d, data_.data() + pos_, 8);
        pos_ += 8;
        return Json(d);
      }
      case kBinary: {
        STRATUS_ASSIGN_OR_RETURN(uint64_t n, Varint());
        if (n > data_.size() - pos_) return Fail("has a string longer than the bytes left");
        std::string s(data_.substr(pos_, static_cast<size_t>(n)));
        pos_ += static_cast<size_t>(n);
        return Json(std::move(s));
      }
      case kList:
      case kSet: {
        if (depth >= kMaxThriftDepth) return Fail("nests too deeply");
        STRATUS_ASSIGN_OR_RETURN(uint8_t header, Byte());
        uint64_t n = header >> 4;
        uint8_t elem = header & 0x0f;
        if (n == 15) {
          STRATUS_ASSIGN_OR_RETURN(n, Varint());
        }
        STRATUS_ASSIGN_OR_RETURN(size_t count, Size(n));
        Json arr = Json::array();
        for (size_t i = 0; i < count; ++i) {
          if (elem == kTrue || elem == kFalse) {
            STRATUS_ASSIGN_OR_RETURN(uint8_t b, Byte());
            arr.push_back(b == kTrue);
          } else {
            STRATUS_ASSIGN_OR_RETURN(Json v, Value(elem, depth + 1));
            arr.push_back(std::move(v));
          }
        }
        return arr;
      }
      case kMap: {
        if (depth >= kMaxThriftDepth) return Fail("nests too deeply");
        STRATUS_ASSIGN_OR_RETURN(uint64_t n, Varint());
        STRATUS_ASSIGN_OR_RETURN(size_t count, Size(n));
        Json arr = Json::array();
        if (count == 0) return arr;
        STRATUS_ASSIGN_OR_RETURN(uint8_t types, Byte());
        for (size_t i = 0; i < count; ++i) {
          Json pair = Json::array();
          for (uint8_t t : {static_cast<uint8_t>(types >> 4), static_cast<uint8_t>(types & 0x0f)}) {
            if (t == kTrue || t == kFalse) {
              STRATUS_ASSIGN_OR_RETURN(uint8_t b, Byte());
              pair.push_back(b == kTrue);
            } else {
              STRATUS_ASSIGN_OR_RETURN(Json v, Value(t, depth + 1));
              pair.push_back(std::move(v));
            }
          }
          arr.push_back(std::move(pair));
        }
        return arr;
      }
      case kStruct: return Struct(depth + 1);
      default: return Fail("has an unknown Thrift type " + std::to_string(type));
    }
  }

  std::string_view data_;
  size_t pos_;
  std::string_view what_;
};

}  // namespace

Result<Json> DecodeThriftStruct(std::string_view data, size_t& pos, std::string_view what) {
  Decoder d(data, pos, what);
  STRATUS_ASSIGN_OR_RETURN(Json out, d.Struct(0));
  pos = d.pos();
  return out;
}

}  // namespace stratus::services::stepfunctions

// Scalars, timestamps and errors shared by every codec.
#include <cmath>
#include <limits>

#include "aws/protocol/internal.h"
#include "core/strings.h"
#include "core/time_format.h"

namespace stratus::aws::internal {

Error SerializationError(std::string message) {
  return Error("SerializationException", std::move(message), 400);
}

Error MalformedXml(std::string message) {
  return Error("MalformedXML",
               message.empty() ? "The XML you provided was not well-formed or did not validate "
                                 "against our published schema"
                               : std::move(message),
               400);
}

TsFormat TimestampFormatOf(const Member& member, TsFormat fallback) {
  const std::string& f = member.EffectiveTimestampFormat();
  if (f == "iso8601") return TsFormat::kIso8601;
  if (f == "rfc822") return TsFormat::kHttpDate;
  if (f == "unixTimestamp") return TsFormat::kEpoch;
  return fallback;
}

std::string FormatTimestamp(double seconds, TsFormat format) {
  switch (format) {
    case TsFormat::kIso8601: return FormatIso8601(seconds);
    case TsFormat::kHttpDate: return FormatHttpDate(seconds);
    case TsFormat::kEpoch: return FormatDouble(seconds);
  }
  return FormatIso8601(seconds);
}

Json EpochJson(double seconds) {
  double whole = std::floor(seconds);
  if (whole == seconds && std::fabs(seconds) < 9e15) return static_cast<int64_t>(seconds);
  // Millisecond precision is what every AWS form carries; round away binary noise.
  return std::round(seconds * 1000.0) / 1000.0;
}

std::optional<double> ParseTimestampText(std::string_view text) {
  text = Trim(text);
  if (auto v = ParseIso8601(text)) return v;
  if (auto v = ParseHttpDate(text)) return v;
  if (auto v = ParseDouble(text); v && std::isfinite(*v)) return v;
  return std::nullopt;
}

std::optional<double> CanonicalSeconds(const Json& value) {
  if (value.is_number()) return value.get<double>();
  if (value.is_string()) return ParseTimestampText(value.get_ref<const std::string&>());
  return std::nullopt;
}

bool IsScalar(ShapeType type) {
  return type != ShapeType::kStructure && type != ShapeType::kList && type != ShapeType::kMap;
}

namespace {

bool IntegerInRange(ShapeType type, int64_t v) {
  switch (type) {
    case ShapeType::kByte: return v >= -128 && v <= 127;
    case ShapeType::kShort: return v >= -32768 && v <= 32767;
    case ShapeType::kInteger:
      return v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max();
    default: return true;
  }
}

}  // namespace

std::optional<Json> ScalarFromText(const Shape& shape, std::string_view text, TsFormat ts) {
  switch (shape.type) {
    case ShapeType::kString:
      if (!IsValidUtf8(text)) return std::nullopt;
      return Json(std::string(text));
    case ShapeType::kBoolean: {
      // Case-insensitive, as AWS's parsers are: botocore 1.29 sends boolean headers as "True".
      std::string_view t = Trim(text);
      if (t.size() == 4 && ToLower(t) == "true") return Json(true);
      if (t.size() == 5 && ToLower(t) == "false") return Json(false);
      return std::nullopt;
    }
    case ShapeType::kInteger:
    case ShapeType::kLong:
    case ShapeType::kByte:
    case ShapeType::kShort: {
      auto v = ParseInt64(Trim(text));
      if (!v || !IntegerInRange(shape.type, *v)) return std::nullopt;
      return Json(*v);
    }
    case ShapeType::kFloat:
    case ShapeType::kDouble:
    case ShapeType::kBigDecimal: {
      std::string_view t = Trim(text);
      if (t == "NaN" || t == "Infinity" || t == "-Infinity") return Json(std::string(t));
      auto v = ParseDouble(t);
      if (!v || !std::isfinite(*v)) return std::nullopt;
      return Json(*v);
    }
    case ShapeType::kTimestamp: {
      auto v = ParseTimestampText(text);
      if (!v) return std::nullopt;
      return EpochJson(*v);
    }
    case ShapeType::kBlob: {
      std::string_view t = Trim(text);
      if (!Base64Decode(t)) return std::nullopt;
      return Json(std::string(t));
    }
    default: return std::nullopt;
  }
}

std::string FloatText(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number()) return FormatDouble(value.get<double>());
  return {};
}

std::string ScalarToText(const Shape& shape, const Json& value, TsFormat ts) {
  switch (shape.type) {
    case ShapeType::kBoolean:
      if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
      break;
    case ShapeType::kInteger:
    case ShapeType::kLong:
    case ShapeType::kByte:
    case ShapeType::kShort:
      if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
      if (value.is_number()) return FormatDouble(value.get<double>());
      break;
    case ShapeType::kFloat:
    case ShapeType::kDouble:
    case ShapeType::kBigDecimal: return FloatText(value);
    case ShapeType::kTimestamp:
      if (auto secs = CanonicalSeconds(value)) return FormatTimestamp(*secs, ts);
      break;
    default: break;
  }
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return {};
  return DumpJson(value);
}

void AddRequestIdHeader(HttpResponse& response, const ResponseMeta& meta) {
  if (!meta.request_id.empty()) response.headers.Add("x-amzn-RequestId", meta.request_id);
}

void DropBodyWhereHttpForbidsIt(const Operation& operation, HttpResponse& response) {
  // A modelled Content-Length (S3's ContentLength) describes the object; the server frames the
  // body it sends itself, so only HEAD keeps it.
  if (operation.http_method != "HEAD") response.headers.Remove("Content-Length");
  if (response.status != 204 && response.status != 304 && operation.http_method != "HEAD") return;
  response.body.clear();
  response.file.reset();
  if (operation.http_method != "HEAD") response.headers.Remove("Content-Type");
}

}  // namespace stratus::aws::internal

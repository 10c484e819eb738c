#include "services/lambda/function_name.h"

#include <cctype>

#include "core/strings.h"
#include "services/lambda/errors.h"

namespace stratus::services::lambda {

namespace {

// ASCII letters and digits (std::isalnum in the "C" locale, without a locale lookup per byte).
bool AsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool ValidName(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n) {
    if (!AsciiAlnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

// The ':'-separated parts of a function name or ARN, as views of it (no copies: this runs on
// every Invoke). `count` is the number of parts; the first kMaxParts are kept.
struct Parts {
  static constexpr size_t kMaxParts = 8;
  std::string_view part[kMaxParts];
  size_t count = 0;
  std::string_view operator[](size_t i) const { return part[i]; }
  size_t size() const { return count; }
};

Parts SplitParts(std::string_view text) {
  Parts p;
  size_t pos = 0;
  while (true) {
    size_t next = text.find(':', pos);
    std::string_view piece =
        text.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
    if (p.count < Parts::kMaxParts) p.part[p.count] = piece;
    ++p.count;
    if (next == std::string_view::npos) return p;
    pos = next + 1;
  }
}

bool ValidQualifier(std::string_view q) {
  if (q.empty() || q.size() > 128) return false;
  if (q == "$LATEST") return true;
  for (char c : q) {
    if (!AsciiAlnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

bool IsVersionNumber(std::string_view q) {
  if (q.empty() || q.size() > 10) return false;
  for (char c : q) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

Result<FunctionRef> ParseFunctionRef(std::string_view text, std::string_view qualifier) {
  FunctionRef ref;
  // Every index read below is < parts.size() and < Parts::kMaxParts (larger counts are errors).
  Parts parts = SplitParts(text);
  if (StartsWith(text, "arn:")) {
    // arn:aws:lambda:region:account:function:name[:qualifier]
    if (parts.size() < 7 || parts.size() > 8 || parts[2] != "lambda" || parts[5] != "function") {
      return InvalidParameterValue("1 validation error detected: Value '" + std::string(text) +
                                   "' at 'functionName' failed to satisfy constraint: Member must "
                                   "satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:"
                                   "lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
                                   "(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
    }
    ref.region = parts[3];
    ref.account = parts[4];
    ref.name = parts[6];
    if (parts.size() == 8) ref.qualifier = parts[7];
  } else if (parts.size() >= 3 && parts[1] == "function") {
    ref.account = parts[0];
    ref.name = parts[2];
    if (parts.size() == 4) ref.qualifier = parts[3];
    if (parts.size() > 4) return InvalidParameterValue("Invalid function name: " + std::string(text));
  } else if (parts.size() <= 2) {
    ref.name = parts[0];
    if (parts.size() == 2) ref.qualifier = parts[1];
  } else {
    return InvalidParameterValue("Invalid function name: " + std::string(text));
  }
  if (!ValidName(ref.name)) {
    return InvalidParameterValue("1 validation error detected: Value '" + std::string(text) +
                                 "' at 'functionName' failed to satisfy constraint: Member must "
                                 "satisfy regular expression pattern: [a-zA-Z0-9-_]+");
  }
  if (!qualifier.empty()) {
    if (!ref.qualifier.empty() && ref.qualifier != qualifier) {
      return InvalidParameterValue(
          "The derived qualifier from the function name does not match the specified qualifier.");
    }
    ref.qualifier = std::string(qualifier);
  }
  if (!ref.qualifier.empty() && !ValidQualifier(ref.qualifier)) {
    return InvalidParameterValue("Invalid qualifier: " + ref.qualifier);
  }
  return ref;
}

std::string FunctionArn(std::string_view region, std::string_view account, std::string_view name,
                        std::string_view qualifier) {
  std::string arn = "arn:aws:lambda:" + std::string(region) + ":" + std::string(account) +
                    ":function:" + std::string(name);
  if (!qualifier.empty()) arn += ":" + std::string(qualifier);
  return arn;
}

std::string LayerArn(std::string_view region, std::string_view account, std::string_view name,
                     int64_t version) {
  std::string arn = "arn:aws:lambda:" + std::string(region) + ":" + std::string(account) +
                    ":layer:" + std::string(name);
  if (version > 0) arn += ":" + std::to_string(version);
  return arn;
}

}  // namespace stratus::services::lambda

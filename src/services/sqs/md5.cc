#include "services/sqs/md5.h"

#include <algorithm>
#include <vector>

#include "core/crypto.h"
#include "core/strings.h"

namespace stratus::services::sqs {

namespace {

void AppendLengthPrefixed(std::string& out, std::string_view bytes) {
  uint32_t n = static_cast<uint32_t>(bytes.size());
  out.push_back(static_cast<char>((n >> 24) & 0xFF));
  out.push_back(static_cast<char>((n >> 16) & 0xFF));
  out.push_back(static_cast<char>((n >> 8) & 0xFF));
  out.push_back(static_cast<char>(n & 0xFF));
  out.append(bytes);
}

constexpr char kStringTransport = 1;
constexpr char kBinaryTransport = 2;

}  // namespace

std::string Md5OfBody(std::string_view body) { return Md5Hex(body); }

std::string Md5OfAttributes(const Json& attributes) {
  if (!attributes.is_object() || attributes.empty()) return {};
  std::vector<std::string> names;
  names.reserve(attributes.size());
  for (const auto& [name, _] : attributes.items()) names.push_back(name);
  std::sort(names.begin(), names.end());
  std::string buf;
  for (const auto& name : names) {
    const Json& a = attributes[name];
    std::string type = a.value("DataType", "");
    AppendLengthPrefixed(buf, name);
    AppendLengthPrefixed(buf, type);
    if (StartsWith(type, "Binary")) {
      buf.push_back(kBinaryTransport);
      auto raw = Base64Decode(a.value("BinaryValue", ""));
      AppendLengthPrefixed(buf, raw ? *raw : std::string());
    } else {
      buf.push_back(kStringTransport);
      AppendLengthPrefixed(buf, a.value("StringValue", ""));
    }
  }
  return Md5Hex(buf);
}

}  // namespace stratus::services::sqs

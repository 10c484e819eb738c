#include "services/sqs/message_checks.h"

#include <cctype>
#include <cstdint>
#include <cstring>
#include <set>

#include "core/strings.h"
#include "services/sqs/errors.h"
#include "services/sqs/queue_config.h"

namespace stratus::services::sqs {

namespace {

bool IsValidBatchId(std::string_view id) {
  if (id.empty() || id.size() > 80) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}


}  // namespace

bool HasOnlyValidCharacters(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  size_t i = 0;
  while (i < s.size()) {
    if (i + 8 <= s.size()) {  // eight printable ASCII bytes at a time: every one valid
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (((w & kHighBits) | ((w - kOnes * 0x20) & ~w & kHighBits)) == 0) {
        i += 8;
        continue;
      }
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp = 0;
    int len = 1;
    if (c < 0x80) {
      cp = c;
    } else if ((c >> 5) == 0x6) {
      cp = c & 0x1F;
      len = 2;
    } else if ((c >> 4) == 0xE) {
      cp = c & 0x0F;
      len = 3;
    } else {
      cp = c & 0x07;
      len = 4;
    }
    for (int k = 1; k < len && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    i += len;
    bool ok = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
              (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
    if (!ok) return false;
  }
  return true;
}

Status CheckBatch(const Json& entries, const std::string& entry_type) {
  if (!entries.is_array() || entries.empty()) {
    return Error("EmptyBatchRequest",
                 "There should be at least one " + entry_type + " in the request.");
  }
  if (entries.size() > static_cast<size_t>(kMaxBatchEntries)) {
    return Error("TooManyEntriesInBatchRequest",
                 "Maximum number of entries per request are 10. You have sent " +
                     std::to_string(entries.size()) + ".");
  }
  std::set<std::string> ids;
  for (const auto& e : entries) {
    std::string id = e.value("Id", "");
    if (!IsValidBatchId(id)) {
      return Error("InvalidBatchEntryId",
                   "A batch entry id can only contain alphanumeric characters, hyphens and "
                   "underscores. It can be at most 80 letters long.");
    }
    if (!ids.insert(id).second) return Error("BatchEntryIdsNotDistinct", "Id " + id + " repeated.");
  }
  return Status::Ok();
}

Result<int64_t> CheckAttributes(const Json& attrs) {
  if (!attrs.is_object()) return int64_t{0};
  if (attrs.size() > 10) {
    return InvalidParameterValue("Number of message attributes [" + std::to_string(attrs.size()) +
                                 "] exceeds the allowed maximum [10].");
  }
  int64_t bytes = 0;
  for (const auto& [name, a] : attrs.items()) {
    std::string type = a.value("DataType", "");
    if (type.empty()) {
      return InvalidParameterValue("The message attribute '" + name +
                                   "' must contain non-empty message attribute type.");
    }
    bool is_binary = StartsWith(type, "Binary");
    if (!StartsWith(type, "String") && !StartsWith(type, "Number") && !is_binary) {
      return InvalidParameterValue(
          "The type of message (user) attribute '" + name +
          "' is invalid. You must use only the following supported type prefixes: Binary, Number, "
          "String.");
    }
    if (a.contains("StringListValues") || a.contains("BinaryListValues")) {
      return UnsupportedOperation("Message attribute list values in SendMessage operation are "
                                  "not supported.");
    }
    std::string value = is_binary ? a.value("BinaryValue", "") : a.value("StringValue", "");
    if (value.empty()) {
      return InvalidParameterValue("The message attribute '" + name +
                                   "' must contain non-empty message attribute value for message "
                                   "attribute type '" + type.substr(0, type.find('.')) + "'.");
    }
    if (StartsWith(type, "Number") && !ParseDouble(value)) {
      return InvalidParameterValue("Could not cast message attribute '" + name +
                                   "' value to number.");
    }
    if (!is_binary && !HasOnlyValidCharacters(value)) return InvalidMessageContents();
    int64_t value_bytes = static_cast<int64_t>(value.size());
    if (is_binary) value_bytes = value_bytes * 3 / 4;
    bytes += static_cast<int64_t>(name.size() + type.size()) + value_bytes;
  }
  return bytes;
}


std::string SequenceNumber(uint64_t seq) {
  std::string s = std::to_string(seq);
  if (s.size() < 20) s.insert(0, 20 - s.size(), '0');
  return s;
}

}  // namespace stratus::services::sqs

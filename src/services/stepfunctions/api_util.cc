#include "services/stepfunctions/api_util.h"

#include <string_view>

#include "core/crypto.h"
#include "core/strings.h"

namespace stratus::services::stepfunctions {

Error NotFound(const char* code, const char* what, const std::string& arn) {
  return Error(code, std::string(what) + " Does Not Exist: '" + arn + "'");
}

Error InvalidArn(const std::string& arn) {
  return Error("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: " + arn + "'");
}

bool ValidName(const std::string& n) {
  constexpr size_t kMaxNameLength = 80;
  if (n.empty() || n.size() > kMaxNameLength) return false;
  for (unsigned char c : n) {
    if (c <= 0x20 || c == 0x7f ||
        std::string_view("<>{}[]?*\"#%\\^|~`$&,;:/").find(static_cast<char>(c)) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

std::optional<ArnParts> ParseStatesArn(const std::string& arn) {
  auto p = Split(arn, ':');
  if (p.size() < 7 || p[0] != "arn" || p[2] != "states") return std::nullopt;
  ArnParts a{p[3], p[4], p[5], p[6], p.size() > 7 ? p[7] : ""};
  return a;
}

Result<Json> Paginate(Json items, const Json& in, const char* field) {
  constexpr size_t kDefaultPage = 100;
  size_t max = static_cast<size_t>(in.value("maxResults", int64_t{0}));
  if (max == 0) max = kDefaultPage;
  size_t offset = 0;
  if (in.contains("nextToken")) {
    auto d = Base64Decode(in.value("nextToken", ""));
    auto n = d ? ParseInt64(*d) : std::nullopt;
    if (!n || *n < 0) return Error("InvalidToken", "Invalid Token: '" + in.value("nextToken", "") + "'");
    offset = static_cast<size_t>(*n);
  }
  Json out = Json::object();
  Json page = Json::array();
  for (size_t i = offset; i < items.size() && page.size() < max; ++i) page.push_back(std::move(items[i]));
  out[field] = std::move(page);
  if (offset + max < items.size()) out["nextToken"] = Base64Encode(std::to_string(offset + max));
  return out;
}

}  // namespace stratus::services::stepfunctions

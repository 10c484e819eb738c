#include "services/apigateway/templates.h"

#include <cctype>

namespace stratus::services::apigateway {

namespace {

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

Error NeedsVelocity(std::string_view what) {
  return Error("UnsupportedMappingTemplate",
               "Mapping template uses '" + std::string(what) +
                   "', which needs the Velocity engine stratus does not have yet; only "
                   "passthrough and $context/$stageVariables substitution are supported "
                   "(docs/apigateway.md)",
               500, false);
}

std::string Lookup(const Json* root, const std::vector<std::string>& path) {
  if (!root) return {};
  const Json* cur = root;
  for (const auto& p : path) {
    if (!cur->is_object() || !cur->contains(p)) return {};
    cur = &(*cur)[p];
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_null()) return {};
  return cur->dump();
}

}  // namespace

bool IsPlainTemplate(std::string_view tpl) {
  return tpl.find_first_of("$#") == std::string_view::npos;
}

Result<std::string> RenderTemplate(std::string_view tpl, const TemplateInputs& in) {
  std::string out;
  out.reserve(tpl.size());
  size_t i = 0;
  // A directive is a '#' starting a line (after blanks) followed by a letter or '#'/'*'.
  bool line_start = true;
  while (i < tpl.size()) {
    char ch = tpl[i];
    if (line_start && ch == '#' && i + 1 < tpl.size() &&
        (std::isalpha(static_cast<unsigned char>(tpl[i + 1])) || tpl[i + 1] == '#' ||
         tpl[i + 1] == '*' || tpl[i + 1] == '{')) {
      size_t end = i + 1;
      while (end < tpl.size() && IsNameChar(tpl[end])) ++end;
      return NeedsVelocity(tpl.substr(i, end - i));
    }
    if (ch == '\n') {
      line_start = true;
      out.push_back(ch);
      ++i;
      continue;
    }
    if (ch != ' ' && ch != '\t') line_start = false;
    if (ch != '$') {
      out.push_back(ch);
      ++i;
      continue;
    }
    // A reference: $name(.name)* or ${name(.name)*}, possibly a call.
    size_t j = i + 1;
    bool braced = j < tpl.size() && tpl[j] == '{';
    if (braced) ++j;
    std::vector<std::string> parts;
    std::string cur;
    while (j < tpl.size()) {
      if (IsNameChar(tpl[j])) {
        cur.push_back(tpl[j]);
        ++j;
      } else if (tpl[j] == '.' && !cur.empty() && j + 1 < tpl.size() && IsNameChar(tpl[j + 1])) {
        parts.push_back(cur);
        cur.clear();
        ++j;
      } else {
        break;
      }
    }
    if (!cur.empty()) parts.push_back(cur);
    if (parts.empty()) {  // a lone '$'
      out.push_back('$');
      ++i;
      continue;
    }
    if (braced) {
      if (j >= tpl.size() || tpl[j] != '}') return NeedsVelocity(tpl.substr(i, j - i));
      ++j;
    }
    bool call = j < tpl.size() && tpl[j] == '(';
    std::string head = parts[0];
    if (head == "input") {
      if (parts.size() == 2 && parts[1] == "body" && !call) {
        out.append(in.body);
        i = j;
        continue;
      }
      if (parts.size() == 2 && parts[1] == "json" && call) {
        size_t close = tpl.find(')', j);
        std::string arg(tpl.substr(j + 1, close == std::string_view::npos ? 0 : close - j - 1));
        if (close != std::string_view::npos && (arg == "'$'" || arg == "\"$\"")) {
          out.append(in.body.empty() ? std::string_view("{}") : in.body);
          i = close + 1;
          continue;
        }
      }
      return NeedsVelocity(tpl.substr(i, (call ? tpl.find(')', j) + 1 : j) - i));
    }
    if ((head == "context" || head == "stageVariables" || head == "stageVariable") && !call) {
      std::vector<std::string> rest(parts.begin() + 1, parts.end());
      out += head == "context" ? Lookup(in.context, rest) : Lookup(in.stage_variables, rest);
      i = j;
      continue;
    }
    return NeedsVelocity(tpl.substr(i, j - i));
  }
  return out;
}

bool IsSupportedTemplate(std::string_view tpl) {
  TemplateInputs none;
  return RenderTemplate(tpl, none).ok();
}

}  // namespace stratus::services::apigateway

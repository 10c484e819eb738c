#include "services/s3/names.h"

#include <cctype>

#include "core/strings.h"

namespace stratus::services::s3 {

namespace {

bool IsIpv4(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (i <= s.size()) {
    size_t dot = s.find('.', i);
    std::string_view p = s.substr(i, dot == std::string_view::npos ? std::string_view::npos : dot - i);
    if (p.empty() || p.size() > 3) return false;
    for (char c : p) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    ++parts;
    if (dot == std::string_view::npos) break;
    i = dot + 1;
  }
  return parts == 4;
}

}  // namespace

bool ValidBucketName(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  if (name.find("..") != std::string_view::npos) return false;
  if (name.find(".-") != std::string_view::npos || name.find("-.") != std::string_view::npos) {
    return false;
  }
  if (IsIpv4(name)) return false;
  for (std::string_view p : {"xn--", "sthree-", "amzn-s3-demo-"}) {
    if (StartsWith(name, p)) return false;
  }
  for (std::string_view s : {"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}) {
    if (EndsWith(name, s)) return false;
  }
  return true;
}

bool ValidRegionName(std::string_view region) {
  if (region.size() < 9 || region.size() > 25) return false;
  int dashes = 0;
  for (char c : region) {
    if (c == '-') {
      ++dashes;
    } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return dashes >= 2 && std::isdigit(static_cast<unsigned char>(region.back()));
}

HostStyle ParseHost(std::string_view host) {
  HostStyle out;
  // Strip the port (an IPv6 literal never names a bucket).
  if (host.empty() || host.front() == '[') return out;
  host = host.substr(0, host.find(':'));
  // Most requests name no bucket in the host (path style, "localhost:4566"): without a ".s3"
  // label, in any case, there is nothing to lower-case.
  bool s3_label = false;
  for (size_t i = 0; i + 2 < host.size() && !s3_label; ++i) {
    s3_label = host[i] == '.' && (host[i + 1] == 's' || host[i + 1] == 'S') && host[i + 2] == '3';
  }
  if (!s3_label) return out;
  std::string lower = ToLower(host);
  std::string_view h = lower;
  // The first ".s3" label that follows a bucket: ".s3." / ".s3-<region>." / ".s3-website...".
  size_t pos = 0;
  while ((pos = h.find(".s3", pos)) != std::string_view::npos) {
    std::string_view rest = h.substr(pos + 3);
    if (pos == 0) {
      pos += 3;
      continue;
    }
    if (StartsWith(rest, "-website")) {
      std::string_view after = rest.substr(8);
      if (StartsWith(after, ".") || StartsWith(after, "-")) {
        out.kind = HostStyle::kWebsite;
        out.bucket = std::string(h.substr(0, pos));
        return out;
      }
    } else if (StartsWith(rest, ".") || (StartsWith(rest, "-") && rest.find('.') != std::string_view::npos)) {
      out.kind = HostStyle::kVirtual;
      out.bucket = std::string(h.substr(0, pos));
      return out;
    }
    pos += 3;
  }
  return out;
}

}  // namespace stratus::services::s3

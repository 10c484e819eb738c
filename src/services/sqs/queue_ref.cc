#include "services/sqs/queue_ref.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "core/strings.h"

namespace stratus::services::sqs {

namespace {

bool IsAccount(std::string_view s) {
  if (s.size() != 12) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The region of an "sqs.<region>.<domain>" or "<region>.queue.amazonaws.com" host, if any.
std::string RegionOfHost(std::string_view host) {
  host = host.substr(0, host.find(':'));
  auto parts = Split(host, '.');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i] == "sqs" && std::count(parts[i + 1].begin(), parts[i + 1].end(), '-') >= 2) {
      return parts[i + 1];
    }
    if (i + 1 < parts.size() && parts[i + 1] == "queue" &&
        std::count(parts[i].begin(), parts[i].end(), '-') >= 2) {
      return parts[i];
    }
  }
  return {};
}

constexpr std::string_view kB64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kReceiptPrefix = "AQEB";  // looks like AWS's, marks version 1

void PutU64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (i * 8)) & 0xFF));
}
uint64_t GetU64(std::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

}  // namespace

std::optional<QueueRef> ParseQueueRef(std::string_view s, std::string_view default_region,
                                      std::string_view default_account) {
  QueueRef q;
  if (StartsWith(s, "arn:")) {
    auto parts = Split(s, ':');
    if (parts.size() != 6 || parts[2] != "sqs" || parts[5].empty()) return std::nullopt;
    q.region = parts[3].empty() ? std::string(default_region) : parts[3];
    q.account = parts[4].empty() ? std::string(default_account) : parts[4];
    q.name = parts[5];
    return q;
  }
  std::string_view path = s;
  std::string host;
  if (auto scheme = s.find("://"); scheme != std::string_view::npos) {
    std::string_view rest = s.substr(scheme + 3);
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    host = std::string(rest.substr(0, slash));
    path = rest.substr(slash);
  }
  if (auto query = path.find('?'); query != std::string_view::npos) path = path.substr(0, query);
  auto segments = Split(path, '/');
  std::vector<std::string> parts;
  for (auto& p : segments) {
    if (!p.empty()) parts.push_back(p);
  }
  if (parts.size() == 2 && IsAccount(parts[0])) {
    q.account = parts[0];
    q.name = parts[1];
  } else if (parts.size() == 1 && host.empty()) {
    // A bare queue name (some tools pass it): the caller's account.
    q.account = std::string(default_account);
    q.name = parts[0];
  } else {
    return std::nullopt;
  }
  q.region = RegionOfHost(host);
  if (q.region.empty()) q.region = std::string(default_region);
  return q;
}

std::string QueueArn(const QueueRef& q) {
  return "arn:aws:sqs:" + q.region + ":" + q.account + ":" + q.name;
}

std::string QueueUrl(std::string_view base, const QueueRef& q) {
  std::string b(base);
  while (!b.empty() && b.back() == '/') b.pop_back();
  return b + "/" + q.account + "/" + q.name;
}

bool IsValidQueueName(std::string_view name, bool fifo) {
  if (fifo) {
    if (!EndsWith(name, ".fifo")) return false;
    name.remove_suffix(5);
  }
  if (name.empty() || name.size() + (fifo ? 5 : 0) > 80) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

std::string EncodeReceipt(const Receipt& r) {
  std::string raw;
  PutU64(raw, r.queue_id);
  PutU64(raw, r.seq);
  PutU64(raw, r.nonce);
  std::string out(kReceiptPrefix);
  // base64url without padding: 24 bytes -> 32 characters.
  for (size_t i = 0; i < raw.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(raw[i]) << 16) |
                 (static_cast<unsigned char>(raw[i + 1]) << 8) | static_cast<unsigned char>(raw[i + 2]);
    out.push_back(kB64Url[(v >> 18) & 63]);
    out.push_back(kB64Url[(v >> 12) & 63]);
    out.push_back(kB64Url[(v >> 6) & 63]);
    out.push_back(kB64Url[v & 63]);
  }
  return out;
}

std::optional<Receipt> DecodeReceipt(std::string_view handle) {
  if (!StartsWith(handle, kReceiptPrefix)) return std::nullopt;
  handle.remove_prefix(kReceiptPrefix.size());
  if (handle.size() != 32) return std::nullopt;
  std::string raw;
  for (size_t i = 0; i < handle.size(); i += 4) {
    uint32_t v = 0;
    for (size_t j = 0; j < 4; ++j) {
      auto pos = kB64Url.find(handle[i + j]);
      if (pos == std::string_view::npos) return std::nullopt;
      v = (v << 6) | static_cast<uint32_t>(pos);
    }
    raw.push_back(static_cast<char>((v >> 16) & 0xFF));
    raw.push_back(static_cast<char>((v >> 8) & 0xFF));
    raw.push_back(static_cast<char>(v & 0xFF));
  }
  Receipt r;
  r.queue_id = GetU64(raw);
  r.seq = GetU64(std::string_view(raw).substr(8));
  r.nonce = GetU64(std::string_view(raw).substr(16));
  return r;
}

}  // namespace stratus::services::sqs

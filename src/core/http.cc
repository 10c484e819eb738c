#include "core/http.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include <spdlog/spdlog.h>

namespace stratus {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) {
      return false;
    }
  }
  return true;
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const auto& [k, v] : entries_) {
    if (IEquals(k, name)) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

std::string_view Headers::GetOr(std::string_view name, std::string_view fallback) const {
  auto v = Get(name);
  return v ? *v : fallback;
}

std::vector<std::string_view> Headers::GetAll(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : entries_) {
    if (IEquals(k, name)) {
      out.emplace_back(v);
    }
  }
  return out;
}

void Headers::Set(std::string name, std::string value) {
  Remove(name);
  entries_.emplace_back(std::move(name), std::move(value));
}

void Headers::Add(std::string name, std::string value) {
  entries_.emplace_back(std::move(name), std::move(value));
}

void Headers::Remove(std::string_view name) {
  std::erase_if(entries_, [&](const Entry& e) { return IEquals(e.first, name); });
}

struct Responder::State {
  Fn fn;
  std::atomic<bool> sent{false};
  // A handler that drops its responder without answering is a bug; the client still gets an
  // answer instead of a connection that hangs forever.
  ~State() {
    if (!sent.load() && fn) {
      spdlog::error("bug: a request was dropped without a response; answering 500");
      HttpResponse r;
      r.status = 500;
      r.body = R"({"__type":"InternalFailure","message":"The request processing has failed."})";
      r.headers.Set("Content-Type", "application/json");
      fn(std::move(r));
    }
  }
};

Responder::Responder(Fn fn) : state_(std::make_shared<State>()) { state_->fn = std::move(fn); }

void Responder::Send(HttpResponse response) const {
  if (!state_) {
    return;
  }
  if (state_->sent.exchange(true)) {
    spdlog::error("bug: a response was sent twice for one request; the second is dropped");
    return;
  }
  state_->fn(std::move(response));
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string UrlDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string UrlEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3 / 2);
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query,
                                                            bool plus_as_space) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view part = query.substr(pos, amp - pos);
    if (!part.empty()) {
      size_t eq = part.find('=');
      if (eq == std::string_view::npos) {
        out.emplace_back(UrlDecode(part, plus_as_space), "");
      } else {
        out.emplace_back(UrlDecode(part.substr(0, eq), plus_as_space),
                         UrlDecode(part.substr(eq + 1), plus_as_space));
      }
    }
    pos = amp + 1;
  }
  return out;
}

std::string_view StatusReason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 416: return "Requested Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

namespace {

// Appends `region` to `out`; false when its file cannot be read whole.
bool AppendRegion(const FileRegion& region, std::string& out) {
  if (region.length == 0) return true;
  int fd = ::open(region.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t base = out.size();
  out.resize(base + region.length);
  uint64_t got = 0;
  bool ok = true;
  while (got < region.length) {
    ssize_t n = ::pread(fd, out.data() + base + got, region.length - got,
                        static_cast<off_t>(region.offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    got += static_cast<uint64_t>(n);
  }
  ::close(fd);
  return ok;
}

}  // namespace

std::optional<std::string> ReadFileBody(const FileBody& body) {
  std::string out;
  out.reserve(body.TotalLength());
  if (!AppendRegion(FileRegion{body.path, body.offset, body.length}, out)) return std::nullopt;
  for (const auto& r : body.more) {
    if (!AppendRegion(r, out)) return std::nullopt;
  }
  return out;
}

}  // namespace stratus

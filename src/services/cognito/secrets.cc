#include "services/cognito/secrets.h"

#include <cctype>

#include "core/crypto.h"
#include "core/strings.h"

namespace stratus::services::cognito::secrets {

namespace {

constexpr size_t kMaxPasswordBytes = 256;
constexpr int64_t kTotpStepSeconds = 30;
constexpr std::string_view kBase32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view kSymbols = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ";

}  // namespace

std::string Base32Encode(std::string_view data) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : data) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32Alphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kBase32Alphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

std::optional<std::string> Base32Decode(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char raw : text) {
    if (raw == '=' || raw == ' ') continue;
    char c = static_cast<char>(std::toupper(static_cast<unsigned char>(raw)));
    auto pos = kBase32Alphabet.find(c);
    if (pos == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 5) | static_cast<uint32_t>(pos);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

std::string Hotp(std::string_view key, uint64_t counter, int digits) {
  std::string msg(8, '\0');
  for (int i = 7; i >= 0; --i) {
    msg[static_cast<size_t>(i)] = static_cast<char>(counter & 0xFF);
    counter >>= 8;
  }
  std::string mac = HmacSha1(key, msg);
  int offset = static_cast<unsigned char>(mac[19]) & 0x0F;
  uint32_t bin = (static_cast<uint32_t>(static_cast<unsigned char>(mac[offset]) & 0x7F) << 24) |
                 (static_cast<uint32_t>(static_cast<unsigned char>(mac[offset + 1])) << 16) |
                 (static_cast<uint32_t>(static_cast<unsigned char>(mac[offset + 2])) << 8) |
                 static_cast<uint32_t>(static_cast<unsigned char>(mac[offset + 3]));
  uint32_t mod = 1;
  for (int i = 0; i < digits; ++i) mod *= 10;
  std::string s = std::to_string(bin % mod);
  while (static_cast<int>(s.size()) < digits) s.insert(s.begin(), '0');
  return s;
}

bool VerifyTotp(std::string_view key, std::string_view code, int64_t now_seconds,
                int64_t* used_step) {
  if (code.size() != 6 || key.empty()) return false;
  int64_t step = now_seconds / kTotpStepSeconds;
  for (int64_t d : {0, -1, 1}) {
    if (step + d < 0) continue;
    if (ConstantTimeEquals(Hotp(key, static_cast<uint64_t>(step + d)), code)) {
      if (used_step) *used_step = step + d;
      return true;
    }
  }
  return false;
}

std::string SecretHash(std::string_view client_secret, std::string_view username,
                       std::string_view client_id) {
  return Base64Encode(HmacSha256(client_secret, std::string(username) + std::string(client_id)));
}

std::string NumericCode(int digits) {
  return RandomAlnum(static_cast<size_t>(digits), "0123456789");
}

std::string TemporaryPassword() {
  return RandomAlnum(4, "ABCDEFGHJKLMNPQRSTUVWXYZ") + RandomAlnum(4, "abcdefghijkmnopqrstuvwxyz") +
         RandomAlnum(3, "23456789") + RandomAlnum(1, "!#%*+=?");
}

std::optional<std::string> PolicyViolation(const Json& policy, std::string_view password) {
  int64_t min_len = policy.is_object() ? policy.value("MinimumLength", int64_t{8}) : 8;
  auto require = [&](const char* name) {
    return policy.is_object() ? policy.value(name, true) : true;
  };
  if (password.size() > kMaxPasswordBytes) return "Password must have length less than or equal to 256";
  if (static_cast<int64_t>(password.size()) < min_len) return "Password not long enough";
  bool upper = false, lower = false, digit = false, symbol = false;
  for (char c : password) {
    upper = upper || std::isupper(static_cast<unsigned char>(c));
    lower = lower || std::islower(static_cast<unsigned char>(c));
    digit = digit || std::isdigit(static_cast<unsigned char>(c));
    symbol = symbol || kSymbols.find(c) != std::string_view::npos;
  }
  if (require("RequireNumbers") && !digit) return "Password must have numeric characters";
  if (require("RequireLowercase") && !lower) return "Password must have lowercase characters";
  if (require("RequireUppercase") && !upper) return "Password must have uppercase characters";
  if (require("RequireSymbols") && !symbol) return "Password must have symbol characters";
  return std::nullopt;
}

}  // namespace stratus::services::cognito::secrets

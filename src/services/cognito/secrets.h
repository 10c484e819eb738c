#pragma once
// One-time passwords (HOTP/TOTP, RFC 4226/6238) and Cognito's
// SECRET_HASH. Pure functions; thread-safe. Passwords and secrets are never logged here or by
// callers.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.h"

namespace stratus::services::cognito::secrets {

// RFC 4648 base32 (uppercase, no padding) as authenticator apps read it.
std::string Base32Encode(std::string_view data);
std::optional<std::string> Base32Decode(std::string_view text);
// The HOTP value (RFC 4226) of `counter`, `digits` long, zero-padded, with HMAC-SHA1.
std::string Hotp(std::string_view key, uint64_t counter, int digits = 6);
// True when `code` is the TOTP (30 s steps, SHA-1, 6 digits) of `key` at `now_seconds` or one
// step either side (clock drift). `used_step`, when given, receives the matching step so callers
// can refuse a code that was already used.
bool VerifyTotp(std::string_view key, std::string_view code, int64_t now_seconds,
                int64_t* used_step = nullptr);

// Cognito's SECRET_HASH: base64(HMAC-SHA256(client_secret, username + client_id)).
std::string SecretHash(std::string_view client_secret, std::string_view username,
                       std::string_view client_id);

// A random numeric code ("483920") for confirmations, resets and SMS/email MFA.
std::string NumericCode(int digits = 6);
// A temporary password satisfying any Cognito password policy (upper, lower, digit, symbol).
std::string TemporaryPassword();

// Checks a password against a pool's PasswordPolicy; returns the reason it fails
// ("Password must have uppercase characters") or nullopt.
std::optional<std::string> PolicyViolation(const Json& password_policy, std::string_view password);

}  // namespace stratus::services::cognito::secrets

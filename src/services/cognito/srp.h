#pragma once
// SRP-6a as Amazon Cognito speaks it (USER_SRP_AUTH → PASSWORD_VERIFIER), byte for byte what
// amazon-cognito-identity-js's AuthenticationHelper computes:
//
//   N, g   the 3072-bit MODP group of RFC 3526 (§4), g = 2
//   H      SHA-256; numbers enter hashes as "padded hex" bytes: the minimal big-endian bytes
//          with a 0x00 prepended when the top bit is set (a positive two's complement form)
//   k      H(pad(N) | pad(g))
//   x      H(pad(salt) | H(poolName | userIdForSrp | ":" | password))
//   v      g^x mod N                         (the verifier stored instead of the password)
//   B      (k·v + g^b) mod N                 (server; b is a fresh 256-bit secret)
//   u      H(pad(A) | pad(B))
//   S      (A · v^u)^b mod N                 (server side; the client gets the same S)
//   K      HKDF-SHA256(ikm = pad(S), salt = pad(u), info = "Caldera Derived Key")[0..16)
//   sig    HMAC-SHA256(K, poolName | userIdForSrp | secretBlock | timestamp), base64
//
// "poolName" is the part of the user pool id after the underscore. Numbers travel as lowercase
// hex strings. Pure functions over OpenSSL BIGNUMs; thread-safe.
#include <optional>
#include <string>
#include <string_view>

namespace stratus::services::cognito::srp {

// A verifier record for one password.
struct Verifier {
  std::string salt_hex;      // as sent in the SALT challenge parameter
  std::string verifier_hex;  // v, lowercase hex
};

// The server's half of one SRP exchange.
struct ServerEphemeral {
  std::string b_hex;  // secret b (keep server side only)
  std::string B_hex;  // public B, sent as SRP_B
};

// Makes a verifier for `password` with a fresh random salt.
Verifier MakeVerifier(std::string_view pool_name, std::string_view user_id_for_srp,
                      std::string_view password);
// The same with a given salt (tests).
Verifier MakeVerifierWithSalt(std::string_view pool_name, std::string_view user_id_for_srp,
                              std::string_view password, std::string_view salt_hex);

// True when `password` is the one `stored` was made from (x recomputed with the stored salt,
// g^x compared with v in constant time). This is how USER_PASSWORD_AUTH checks a password: the
// verifier is what the store keeps, and costs one fixed-base exponentiation.
bool CheckPassword(std::string_view pool_name, std::string_view user_id_for_srp,
                   std::string_view password, const Verifier& stored);

// Generates b and B for verifier v. Never fails for a valid verifier; nullopt for a malformed one.
std::optional<ServerEphemeral> MakeServerEphemeral(std::string_view verifier_hex);
// The same with a given secret b (tests).
std::optional<ServerEphemeral> MakeServerEphemeralWithSecret(std::string_view verifier_hex,
                                                             std::string_view b_hex);

// The 16-byte key K both sides derive. nullopt when A is malformed or A mod N == 0 (an attack),
// or u == 0.
std::optional<std::string> ServerKey(std::string_view A_hex, std::string_view B_hex,
                                     std::string_view b_hex, std::string_view verifier_hex);

// The expected PASSWORD_CLAIM_SIGNATURE (base64) for a key K.
std::string ClaimSignature(std::string_view key, std::string_view pool_name,
                           std::string_view user_id_for_srp, std::string_view secret_block,
                           std::string_view timestamp);

// The client's side (what amazon-cognito-identity-js does), for tests and benchmarks:
// a = random, A = g^a; and the key from B and the salt.
struct ClientEphemeral {
  std::string a_hex;
  std::string A_hex;
};
ClientEphemeral MakeClientEphemeral();
std::optional<ClientEphemeral> MakeClientEphemeralWithSecret(std::string_view a_hex);
std::optional<std::string> ClientKey(std::string_view pool_name, std::string_view user_id_for_srp,
                                     std::string_view password, std::string_view a_hex,
                                     std::string_view A_hex, std::string_view B_hex,
                                     std::string_view salt_hex);

// The timestamp format of TIMESTAMP ("Tue Nov 7 09:05:03 UTC 2023": day unpadded).
std::string FormatTimestamp(int64_t epoch_seconds);

// "padded hex" bytes of a hex number (exposed for tests).
std::string PaddedBytes(std::string_view hex);

}  // namespace stratus::services::cognito::srp

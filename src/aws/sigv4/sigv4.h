#pragma once
// AWS Signature Version 4: parsing a signed request (Authorization header or presigned query),
// building the canonical request and string to sign, and verifying the signature. Pure functions,
// thread-safe. Used by the front door for every AWS API request and by IAM enforcement.
#include <optional>
#include <string>
#include <vector>

#include "core/http.h"
#include "core/result.h"

namespace stratus::aws {

// What a request claims about its signer, parsed without verifying anything.
struct SigV4Claim {
  std::string algorithm;        // "AWS4-HMAC-SHA256"
  std::string access_key_id;
  std::string date;             // credential scope date, "20150830"
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;  // lowercase, in the order given
  std::string signature;        // lowercase hex
  std::string amz_date;         // X-Amz-Date "20150830T123600Z"
  std::string security_token;   // X-Amz-Security-Token, if any
  bool presigned = false;       // from the query string (X-Amz-Signature)
  std::optional<int64_t> expires_seconds;  // presigned X-Amz-Expires
  std::string payload_hash;     // x-amz-content-sha256 when sent (or "UNSIGNED-PAYLOAD")
};

// Parses the SigV4 claim of a request. Returns nullopt when the request carries no SigV4
// signature at all (anonymous); an Error (IncompleteSignature, InvalidClientTokenId-style) when
// it carries a malformed one.
Result<std::optional<SigV4Claim>> ParseSigV4(const HttpRequest& request);

// The canonical request (task 1 of the SigV4 spec) for `request` as signed by `claim`.
// `payload_hash` is the hex SHA-256 of the body, or the literal from x-amz-content-sha256.
std::string CanonicalRequest(const HttpRequest& request, const SigV4Claim& claim,
                             std::string_view payload_hash);
// The string to sign (task 2) for a canonical request.
std::string StringToSign(const SigV4Claim& claim, std::string_view canonical_request);
// The signing key (task 3) for a secret, date, region and service.
std::string SigningKey(std::string_view secret_access_key, std::string_view date,
                       std::string_view region, std::string_view service);
// The hex signature over a string to sign.
std::string Sign(std::string_view signing_key, std::string_view string_to_sign);

// Verifies the claim against `secret_access_key`. On mismatch returns AWS's
// SignatureDoesNotMatch error with the canonical request and string to sign in its message, as
// AWS does. Checks presigned expiry against `now_epoch_seconds`.
Status VerifySigV4(const HttpRequest& request, const SigV4Claim& claim,
                   std::string_view secret_access_key, int64_t now_epoch_seconds);

// Signs an outgoing request in place (adds Authorization, X-Amz-Date, x-amz-content-sha256),
// for tests and for stratus calling AWS-shaped endpoints (SNS http deliveries do not need it).
void SignRequest(HttpRequest& request, std::string_view access_key_id,
                 std::string_view secret_access_key, std::string_view region,
                 std::string_view service, int64_t now_epoch_seconds,
                 std::string_view session_token = {});

// The account id derived from an access key id: AWS encodes the account in the key; stratus
// follows the community convention that a 12-digit key id is the account itself, and otherwise
// uses the default account 000000000000.
std::string AccountForAccessKey(std::string_view access_key_id);

}  // namespace stratus::aws

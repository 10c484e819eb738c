// What a Cognito sign-in and a token check cost the server, piece by piece (docs/cognito.md):
//   * the server's SRP work per USER_SRP_AUTH sign-in: B = kv + g^b (InitiateAuth) and
//     S = (A·v^u)^b with the HKDF key (RespondToAuthChallenge),
//   * signing one token (RS256, RSA-2048) — a sign-in signs two (ID and access),
//   * checking a password against its SRP verifier (USER_PASSWORD_AUTH checks one per sign-in),
//   * verifying a Cognito access token as API Gateway's JWT authorizer does (JWKS cached).
//
//   bench_cognito [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <string>

#include "core/clock.h"
#include "core/json.h"
#include "services/apigateway/jwt.h"
#include "services/cognito/jwt.h"
#include "services/cognito/srp.h"

namespace stratus::services::cognito {
namespace {

constexpr std::string_view kPool = "AbCdEf123";
constexpr std::string_view kUser = "6f0c2a5e-1b7d-4c1e-9d7a-2f7e0c9b1a11";
constexpr std::string_view kPassword = "Bench-passw0rd!";
constexpr std::string_view kIssuer = "http://127.0.0.1:4566/us-east-1_AbCdEf123";

void BM_SrpInitiate(benchmark::State& state) {
  srp::Verifier v = srp::MakeVerifier(kPool, kUser, kPassword);
  for (auto _ : state) {
    auto e = srp::MakeServerEphemeral(v.verifier_hex);
    benchmark::DoNotOptimize(e);
  }
}
BENCHMARK(BM_SrpInitiate);

void BM_SrpVerify(benchmark::State& state) {
  srp::Verifier v = srp::MakeVerifier(kPool, kUser, kPassword);
  srp::ClientEphemeral c = srp::MakeClientEphemeral();
  auto e = srp::MakeServerEphemeral(v.verifier_hex);
  for (auto _ : state) {
    auto key = srp::ServerKey(c.A_hex, e->B_hex, e->b_hex, v.verifier_hex);
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_SrpVerify);

// The whole server side of one SRP sign-in, and a check that both sides agree.
void BM_SrpServerSignIn(benchmark::State& state) {
  srp::Verifier v = srp::MakeVerifier(kPool, kUser, kPassword);
  srp::ClientEphemeral c = srp::MakeClientEphemeral();
  for (auto _ : state) {
    auto e = srp::MakeServerEphemeral(v.verifier_hex);
    auto key = srp::ServerKey(c.A_hex, e->B_hex, e->b_hex, v.verifier_hex);
    benchmark::DoNotOptimize(key);
  }
  auto e = srp::MakeServerEphemeral(v.verifier_hex);
  auto server = srp::ServerKey(c.A_hex, e->B_hex, e->b_hex, v.verifier_hex);
  auto client = srp::ClientKey(kPool, kUser, kPassword, c.a_hex, c.A_hex, e->B_hex, v.salt_hex);
  if (!server || !client || *server != *client) state.SkipWithError("SRP keys disagree");
}
BENCHMARK(BM_SrpServerSignIn);

Json AccessClaims() {
  return Json{{"sub", std::string(kUser)}, {"iss", std::string(kIssuer)},
              {"client_id", "v5emfa1lb5ar22x3043gwu1j0h"}, {"origin_jti", "0f5e4c1a-7b2d-4e8a-9c3f-1d2e3f4a5b6c"},
              {"event_id", "9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4"}, {"token_use", "access"},
              {"scope", "aws.cognito.signin.user.admin"}, {"auth_time", 1700000000},
              {"exp", 4102444800}, {"iat", 1700000000}, {"jti", "3c2b1a09-8f7e-6d5c-4b3a-291807f6e5d4"},
              {"username", "bench@example.com"}};
}

void BM_SignToken(benchmark::State& state) {
  auto key = jwt::SigningKey::Generate("kid-1");
  Json claims = AccessClaims();
  for (auto _ : state) {
    std::string t = key->Sign(claims);
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_SignToken);

void BM_PasswordCheck(benchmark::State& state) {
  srp::Verifier v = srp::MakeVerifier(kPool, kUser, kPassword);
  for (auto _ : state) {
    if (!srp::CheckPassword(kPool, kUser, kPassword, v)) state.SkipWithError("password check failed");
  }
}
BENCHMARK(BM_PasswordCheck)->Unit(benchmark::kMicrosecond);

// API Gateway's JWT authorizer on a Cognito access token, the JWKS already cached.
void BM_ApiGatewayVerifyJwt(benchmark::State& state) {
  auto key = jwt::SigningKey::Generate("kid-1");
  Json jwks = Json{{"keys", Json::array({key->PublicJwk()})}};
  std::string token = key->Sign(AccessClaims());
  ManualClock clock;
  apigateway::JwksCache cache(
      [&](const std::string& url, int64_t) -> Result<std::string> {
        if (url.ends_with("/jwks.json")) return DumpJson(jwks);
        return Error("NotFound", "no discovery document", 404);
      },
      clock);
  apigateway::JwtRequirements req{std::string(kIssuer), {"v5emfa1lb5ar22x3043gwu1j0h"}};
  for (auto _ : state) {
    auto claims = apigateway::VerifyJwt(token, req, cache, 1700000100);
    if (!claims.ok()) state.SkipWithError(claims.error().message.c_str());
  }
}
BENCHMARK(BM_ApiGatewayVerifyJwt);

// The same token again through the verified-token cache (what the authorizer pays per request
// once a client's token has been seen).
void BM_ApiGatewayVerifyJwtCached(benchmark::State& state) {
  auto key = jwt::SigningKey::Generate("kid-1");
  Json jwks = Json{{"keys", Json::array({key->PublicJwk()})}};
  std::string token = key->Sign(AccessClaims());
  ManualClock clock;
  apigateway::JwksCache cache(
      [&](const std::string& url, int64_t) -> Result<std::string> {
        if (url.ends_with("/jwks.json")) return DumpJson(jwks);
        return Error("NotFound", "no discovery document", 404);
      },
      clock);
  apigateway::VerifiedJwtCache verified;
  apigateway::JwtRequirements req{std::string(kIssuer), {"v5emfa1lb5ar22x3043gwu1j0h"}};
  for (auto _ : state) {
    auto v = verified.Verify("api/auth", token, req, cache, 1700000100);
    if (!v.ok()) state.SkipWithError(v.error().message.c_str());
  }
}
BENCHMARK(BM_ApiGatewayVerifyJwtCached);

}  // namespace
}  // namespace stratus::services::cognito

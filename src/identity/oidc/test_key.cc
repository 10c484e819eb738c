#include "identity/oidc/test_key.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "core/strings.h"

namespace stratus::identity::oidc {

std::string Base64UrlEncodeForTest(std::string_view raw) {
  std::string s = Base64Encode(raw);
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

void TestRsaKey::Free::operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }

TestRsaKey::TestRsaKey() {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  EVP_PKEY_keygen_init(ctx);
  EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048);
  EVP_PKEY* k = nullptr;
  EVP_PKEY_generate(ctx, &k);
  EVP_PKEY_CTX_free(ctx);
  key_.reset(k);
}

Json TestRsaKey::Jwk(const std::string& kid) const {
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_N, &n);
  EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_E, &e);
  auto bytes = [](BIGNUM* b) {
    std::string s(BN_num_bytes(b), '\0');
    BN_bn2bin(b, reinterpret_cast<unsigned char*>(s.data()));
    BN_free(b);
    return s;
  };
  return Json{{"kty", "RSA"}, {"kid", kid}, {"alg", "RS256"},
              {"n", Base64UrlEncodeForTest(bytes(n))}, {"e", Base64UrlEncodeForTest(bytes(e))}};
}

std::string TestRsaKey::Sign(const Json& header, const Json& claims) const {
  std::string input = Base64UrlEncodeForTest(header.dump()) + "." + Base64UrlEncodeForTest(claims.dump());
  EVP_MD_CTX* m = EVP_MD_CTX_new();
  EVP_DigestSignInit(m, nullptr, EVP_sha256(), nullptr, key_.get());
  size_t len = 0;
  EVP_DigestSign(m, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(m, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(m);
  sig.resize(len);
  return input + "." + Base64UrlEncodeForTest(sig);
}

}  // namespace stratus::identity::oidc

#include "services/cognito/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <array>
#include <cstdint>

#include "core/strings.h"

namespace stratus::services::cognito::jwt {

namespace {

constexpr int kRsaBits = 2048;
constexpr size_t kMaxTokenBytes = 16 * 1024;

std::string BnBytes(const BIGNUM* b) {
  std::string out(static_cast<size_t>(BN_num_bytes(b)), '\0');
  BN_bn2bin(b, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

}  // namespace

std::string Base64UrlEncode(std::string_view data) {
  std::string s = Base64Encode(data);
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

namespace {

// The value of each base64url character, or -1: a table, because every token check decodes
// about a kilobyte of it.
constexpr std::array<int8_t, 256> kBase64UrlValues = [] {
  std::array<int8_t, 256> t{};
  t.fill(-1);
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (size_t i = 0; i < kAlphabet.size(); ++i) {
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return t;
}();

}  // namespace

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = kBase64UrlValues[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

SigningKey::~SigningKey() { EVP_PKEY_free(key_); }

std::unique_ptr<SigningKey> SigningKey::Generate(std::string kid) {
  EVP_PKEY* key = EVP_RSA_gen(kRsaBits);
  if (!key) return nullptr;
  return std::unique_ptr<SigningKey>(new SigningKey(std::move(kid), key));
}

std::unique_ptr<SigningKey> SigningKey::FromPem(std::string kid, std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return nullptr;
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!key) return nullptr;
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    EVP_PKEY_free(key);
    return nullptr;
  }
  return std::unique_ptr<SigningKey>(new SigningKey(std::move(kid), key));
}

std::unique_ptr<SigningKey> SigningKey::FromJwk(const Json& jwk) {
  if (!jwk.is_object() || jwk.value("kty", "") != "RSA") return nullptr;
  auto n = Base64UrlDecode(jwk.value("n", ""));
  auto e = Base64UrlDecode(jwk.value("e", ""));
  if (!n || !e || n->empty() || e->empty() || n->size() > 1024) return nullptr;
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                           static_cast<int>(n->size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                           static_cast<int>(e->size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  EVP_PKEY* key = nullptr;
  if (ctx && params && EVP_PKEY_fromdata_init(ctx) > 0) {
    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  if (!key) return nullptr;
  return std::unique_ptr<SigningKey>(new SigningKey(jwk.value("kid", ""), key));
}

std::string SigningKey::PrivatePem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key_, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

Json SigningKey::PublicJwk() const {
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  EVP_PKEY_get_bn_param(key_, OSSL_PKEY_PARAM_RSA_N, &n);
  EVP_PKEY_get_bn_param(key_, OSSL_PKEY_PARAM_RSA_E, &e);
  Json jwk = Json{{"alg", "RS256"},
                  {"e", n && e ? Base64UrlEncode(BnBytes(e)) : ""},
                  {"kid", kid_},
                  {"kty", "RSA"},
                  {"n", n ? Base64UrlEncode(BnBytes(n)) : ""},
                  {"use", "sig"}};
  BN_free(n);
  BN_free(e);
  return jwk;
}

std::string SigningKey::SignRaw(std::string_view data) const {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  std::string sig;
  size_t len = 0;
  if (EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key_) > 0 &&
      EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) > 0) {
    sig.resize(len);
    if (EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) > 0) {
      sig.resize(len);
    } else {
      sig.clear();
    }
  }
  EVP_MD_CTX_free(md);
  return sig;
}

std::string SigningKey::Sign(const Json& claims, const Json& extra_header) const {
  Json header = Json{{"kid", kid_}, {"alg", "RS256"}};
  for (const auto& [k, v] : extra_header.items()) header[k] = v;
  std::string input = Base64UrlEncode(DumpJson(header)) + "." + Base64UrlEncode(DumpJson(claims));
  return input + "." + Base64UrlEncode(SignRaw(input));
}

bool SigningKey::Verify(std::string_view signing_input, std::string_view signature) const {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key_) > 0 &&
            EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(),
                             reinterpret_cast<const unsigned char*>(signing_input.data()),
                             signing_input.size()) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

Result<Parsed> Parse(std::string_view token) {
  auto invalid = [](std::string why) { return Error("NotAuthorizedException", std::move(why)); };
  if (token.empty() || token.size() > kMaxTokenBytes) return invalid("Invalid token");
  auto d1 = token.find('.');
  auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    return invalid("Invalid token");
  }
  auto header_raw = Base64UrlDecode(token.substr(0, d1));
  auto claims_raw = Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1));
  auto sig = Base64UrlDecode(token.substr(d2 + 1));
  if (!header_raw || !claims_raw || !sig) return invalid("Invalid token");
  Parsed p;
  p.header = ParseJsonOrDiscarded(*header_raw);
  p.claims = ParseJsonOrDiscarded(*claims_raw);
  if (!p.header.is_object() || !p.claims.is_object()) return invalid("Invalid token");
  const Json& alg = p.header["alg"];
  if (!alg.is_string() || alg.get<std::string>() != "RS256") {
    return invalid("Invalid token: unsupported algorithm");
  }
  if (!p.header["kid"].is_string()) return invalid("Invalid token: no key id");
  if (sig->empty()) return invalid("Invalid token: no signature");
  p.signing_input = std::string(token.substr(0, d2));
  p.signature = std::move(*sig);
  return p;
}

}  // namespace stratus::services::cognito::jwt

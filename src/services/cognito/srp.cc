#include "services/cognito/srp.h"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <memory>
#include <vector>

#include <openssl/bn.h>

#include "core/crypto.h"
#include "core/strings.h"

namespace stratus::services::cognito::srp {

namespace {

// RFC 3526 §4: the 3072-bit MODP group.
constexpr std::string_view kNHex =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF";
constexpr int kGenerator = 2;
// b: 256 bits. Cognito's clients never see b (only B), so its size is the server's choice; 256
// bits match the 3072-bit group's 128-bit security level (a discrete log of a short exponent
// costs ~2^(bits/2)), and keep the server's three exponentiations short.
constexpr size_t kServerSecretBytes = 32;
constexpr size_t kClientSecretBytes = 128;  // a: what amazon-cognito-identity-js uses
constexpr size_t kSaltBytes = 16;
constexpr size_t kDerivedKeyBytes = 16;
constexpr std::string_view kHkdfInfo = "Caldera Derived Key";

struct BnFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
struct CtxFree {
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};
struct MontFree {
  void operator()(BN_MONT_CTX* m) const { BN_MONT_CTX_free(m); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;
using Ctx = std::unique_ptr<BN_CTX, CtxFree>;
using Mont = std::unique_ptr<BN_MONT_CTX, MontFree>;

// The fixed-base table for g^e: digits of kFixedBaseWindow bits, exponents up to
// kFixedBaseBits (the server's b).
constexpr int kFixedBaseWindow = 4;
constexpr int kFixedBaseBits = static_cast<int>(kServerSecretBytes) * 8;
constexpr int kFixedBaseDigits = kFixedBaseBits / kFixedBaseWindow;

// Scratch space for BIGNUM arithmetic, one per thread (a BN_CTX is not thread-safe but is
// reusable, so its pool of temporaries is allocated once per thread, not once per call).
BN_CTX* ThreadCtx() {
  thread_local Ctx ctx(BN_CTX_new());
  return ctx.get();
}

Bn NewBn() { return Bn(BN_new()); }

Bn FromBytes(std::string_view bytes) {
  return Bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                      static_cast<int>(bytes.size()), nullptr));
}

// Parses hex (either case, optional leading zeros); null when not hex or empty.
Bn FromHex(std::string_view hex) {
  if (hex.empty() || hex.size() > 4096) return nullptr;
  for (char c : hex) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return nullptr;
  }
  BIGNUM* raw = nullptr;
  std::string s(hex);
  if (BN_hex2bn(&raw, s.c_str()) == 0) return nullptr;
  return Bn(raw);
}

std::string ToHex(const BIGNUM* b) {
  char* raw = BN_bn2hex(b);
  std::string s = ToLower(raw);
  OPENSSL_free(raw);
  if (s.empty()) s = "0";
  // BN_bn2hex pads to whole bytes; jsbn's toString(16) does not.
  size_t i = 0;
  while (i + 1 < s.size() && s[i] == '0') ++i;
  return s.substr(i);
}

// The padded-hex bytes of a number (see srp.h).
std::string Padded(const BIGNUM* b) {
  std::string bytes(static_cast<size_t>(BN_num_bytes(b)), '\0');
  BN_bn2bin(b, reinterpret_cast<unsigned char*>(bytes.data()));
  if (bytes.empty() || (static_cast<unsigned char>(bytes[0]) & 0x80) != 0) {
    bytes.insert(bytes.begin(), '\0');
  }
  return bytes;
}

// The group constants, built once and immutable afterwards, so shared by every thread:
// BN_mod_exp_mont and BN_mod_mul_montgomery only read a BN_MONT_CTX.
struct Group {
  Bn N = FromHex(kNHex);
  Bn g = NewBn();
  Bn k;
  Mont mont{BN_MONT_CTX_new()};  // Montgomery form of N, so no exponentiation rebuilds it
  Bn one_mont = NewBn();         // 1 in Montgomery form
  // g_powers[j] = g^(2^(kFixedBaseWindow·j)) in Montgomery form, j < kFixedBaseDigits.
  std::vector<Bn> g_powers;

  Group() {
    BN_CTX* ctx = ThreadCtx();
    BN_set_word(g.get(), kGenerator);
    k = FromBytes(Sha256(Padded(N.get()) + Padded(g.get())));
    BN_MONT_CTX_set(mont.get(), N.get(), ctx);
    BN_to_montgomery(one_mont.get(), BN_value_one(), mont.get(), ctx);
    Bn p = NewBn();
    BN_to_montgomery(p.get(), g.get(), mont.get(), ctx);
    for (int j = 0; j < kFixedBaseDigits; ++j) {
      g_powers.emplace_back(BN_dup(p.get()));
      for (int s = 0; s < kFixedBaseWindow; ++s) {
        BN_mod_mul_montgomery(p.get(), p.get(), p.get(), mont.get(), ctx);
      }
    }
  }

  // r = base^e mod N.
  void Exp(BIGNUM* r, const BIGNUM* base, const BIGNUM* e) const {
    BN_mod_exp_mont(r, base, e, N.get(), ThreadCtx(), mont.get());
  }

  // r = g^e mod N. Exponents of up to kFixedBaseBits bits use the fixed-base windowed method of
  // Brickell, Gordon, McCurley and Wilson over g_powers: with e's base-2^w digits e_j,
  // g^e = Π_{d=1}^{2^w-1} (Π_{j: e_j = d} P_j)^d, evaluated as running products, which costs
  // (non-zero digits) + 2^w multiplications instead of one squaring per exponent bit. Its timing
  // depends on e; e is a fresh single-use secret per exchange, so one timing reveals little.
  void ExpG(BIGNUM* r, const BIGNUM* e) const {
    if (BN_num_bits(e) > kFixedBaseBits) {
      BN_mod_exp_mont_word(r, kGenerator, e, N.get(), ThreadCtx(), mont.get());
      return;
    }
    BN_CTX* ctx = ThreadCtx();
    int digit[kFixedBaseDigits];
    for (int j = 0; j < kFixedBaseDigits; ++j) {
      int d = 0;
      for (int s = kFixedBaseWindow - 1; s >= 0; --s) {
        d = (d << 1) | BN_is_bit_set(e, j * kFixedBaseWindow + s);
      }
      digit[j] = d;
    }
    Bn acc(BN_dup(one_mont.get()));
    Bn run(BN_dup(one_mont.get()));
    bool run_is_one = true;
    for (int d = (1 << kFixedBaseWindow) - 1; d >= 1; --d) {
      for (int j = 0; j < kFixedBaseDigits; ++j) {
        if (digit[j] != d) continue;
        if (run_is_one) {
          BN_copy(run.get(), g_powers[j].get());
          run_is_one = false;
        } else {
          BN_mod_mul_montgomery(run.get(), run.get(), g_powers[j].get(), mont.get(), ctx);
        }
      }
      if (!run_is_one) BN_mod_mul_montgomery(acc.get(), acc.get(), run.get(), mont.get(), ctx);
    }
    BN_from_montgomery(r, acc.get(), mont.get(), ctx);
  }
};

const Group& G() {
  static const Group group;
  return group;
}

// H(poolName | user | ":" | password) then x = H(pad(salt) | that).
Bn ComputeX(std::string_view pool_name, std::string_view user, std::string_view password,
            const BIGNUM* salt) {
  std::string inner =
      Sha256(std::string(pool_name) + std::string(user) + ":" + std::string(password));
  // The client hashes hex-decoded bytes: hexHash(padHex(salt) + usernamePasswordHash).
  return FromBytes(Sha256(Padded(salt) + inner));
}

Bn ComputeU(const BIGNUM* A, const BIGNUM* B) {
  return FromBytes(Sha256(Padded(A) + Padded(B)));
}

std::string Hkdf(std::string_view ikm, std::string_view salt) {
  std::string prk = HmacSha256(salt, ikm);
  std::string info(kHkdfInfo);
  info.push_back('\x01');
  return HmacSha256(prk, info).substr(0, kDerivedKeyBytes);
}

Bn RandomBn(size_t bytes) { return FromBytes(RandomBytes(bytes)); }

}  // namespace

std::string PaddedBytes(std::string_view hex) {
  Bn b = FromHex(hex);
  return b ? Padded(b.get()) : std::string();
}

Verifier MakeVerifierWithSalt(std::string_view pool_name, std::string_view user_id_for_srp,
                              std::string_view password, std::string_view salt_hex) {
  const Group& g = G();
  Bn salt = FromHex(salt_hex);
  if (!salt) salt = FromHex("0");
  Bn x = ComputeX(pool_name, user_id_for_srp, password, salt.get());
  Bn v = NewBn();
  g.ExpG(v.get(), x.get());
  return Verifier{ToHex(salt.get()), ToHex(v.get())};
}

Verifier MakeVerifier(std::string_view pool_name, std::string_view user_id_for_srp,
                      std::string_view password) {
  Bn salt = RandomBn(kSaltBytes);
  return MakeVerifierWithSalt(pool_name, user_id_for_srp, password, ToHex(salt.get()));
}

bool CheckPassword(std::string_view pool_name, std::string_view user_id_for_srp,
                   std::string_view password, const Verifier& stored) {
  if (stored.salt_hex.empty() || stored.verifier_hex.empty()) return false;
  Verifier v = MakeVerifierWithSalt(pool_name, user_id_for_srp, password, stored.salt_hex);
  return ConstantTimeEquals(v.verifier_hex, stored.verifier_hex);
}

std::optional<ServerEphemeral> MakeServerEphemeralWithSecret(std::string_view verifier_hex,
                                                             std::string_view b_hex) {
  const Group& g = G();
  Bn v = FromHex(verifier_hex);
  Bn b = FromHex(b_hex);
  if (!v || !b) return std::nullopt;
  BN_CTX* ctx = ThreadCtx();
  Bn kv = NewBn();
  Bn gb = NewBn();
  Bn B = NewBn();
  BN_mod_mul(kv.get(), g.k.get(), v.get(), g.N.get(), ctx);
  g.ExpG(gb.get(), b.get());
  BN_mod_add(B.get(), kv.get(), gb.get(), g.N.get(), ctx);
  if (BN_is_zero(B.get())) return std::nullopt;
  return ServerEphemeral{ToHex(b.get()), ToHex(B.get())};
}

std::optional<ServerEphemeral> MakeServerEphemeral(std::string_view verifier_hex) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    Bn b = RandomBn(kServerSecretBytes);
    auto e = MakeServerEphemeralWithSecret(verifier_hex, ToHex(b.get()));
    if (e) return e;
  }
  return std::nullopt;
}

std::optional<std::string> ServerKey(std::string_view A_hex, std::string_view B_hex,
                                     std::string_view b_hex, std::string_view verifier_hex) {
  const Group& g = G();
  Bn A = FromHex(A_hex);
  Bn B = FromHex(B_hex);
  Bn b = FromHex(b_hex);
  Bn v = FromHex(verifier_hex);
  if (!A || !B || !b || !v) return std::nullopt;
  BN_CTX* ctx = ThreadCtx();
  Bn check = NewBn();
  BN_mod(check.get(), A.get(), g.N.get(), ctx);
  if (BN_is_zero(check.get())) return std::nullopt;  // A ≡ 0 would force S = 0
  Bn u = ComputeU(A.get(), B.get());
  if (BN_is_zero(u.get())) return std::nullopt;
  Bn vu = NewBn();
  Bn base = NewBn();
  Bn S = NewBn();
  g.Exp(vu.get(), v.get(), u.get());
  BN_mod_mul(base.get(), check.get(), vu.get(), g.N.get(), ctx);
  g.Exp(S.get(), base.get(), b.get());
  return Hkdf(Padded(S.get()), Padded(u.get()));
}

std::string ClaimSignature(std::string_view key, std::string_view pool_name,
                           std::string_view user_id_for_srp, std::string_view secret_block,
                           std::string_view timestamp) {
  std::string msg;
  msg.append(pool_name).append(user_id_for_srp).append(secret_block).append(timestamp);
  return Base64Encode(HmacSha256(key, msg));
}

std::optional<ClientEphemeral> MakeClientEphemeralWithSecret(std::string_view a_hex) {
  const Group& g = G();
  Bn a = FromHex(a_hex);
  if (!a) return std::nullopt;
  Bn A = NewBn();
  g.ExpG(A.get(), a.get());
  return ClientEphemeral{ToHex(a.get()), ToHex(A.get())};
}

ClientEphemeral MakeClientEphemeral() {
  Bn a = RandomBn(kClientSecretBytes);
  return *MakeClientEphemeralWithSecret(ToHex(a.get()));
}

std::optional<std::string> ClientKey(std::string_view pool_name, std::string_view user_id_for_srp,
                                     std::string_view password, std::string_view a_hex,
                                     std::string_view A_hex, std::string_view B_hex,
                                     std::string_view salt_hex) {
  const Group& g = G();
  Bn a = FromHex(a_hex);
  Bn A = FromHex(A_hex);
  Bn B = FromHex(B_hex);
  Bn salt = FromHex(salt_hex);
  if (!a || !A || !B || !salt) return std::nullopt;
  BN_CTX* ctx = ThreadCtx();
  Bn u = ComputeU(A.get(), B.get());
  Bn x = ComputeX(pool_name, user_id_for_srp, password, salt.get());
  Bn gx = NewBn();
  Bn kgx = NewBn();
  Bn base = NewBn();
  Bn ux = NewBn();
  Bn exp = NewBn();
  Bn S = NewBn();
  g.ExpG(gx.get(), x.get());
  BN_mod_mul(kgx.get(), g.k.get(), gx.get(), g.N.get(), ctx);
  BN_mod_sub(base.get(), B.get(), kgx.get(), g.N.get(), ctx);
  BN_mul(ux.get(), u.get(), x.get(), ctx);
  BN_add(exp.get(), a.get(), ux.get());
  g.Exp(S.get(), base.get(), exp.get());
  return Hkdf(Padded(S.get()), Padded(u.get()));
}

std::string FormatTimestamp(int64_t epoch_seconds) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t t = static_cast<time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s %s %d %02d:%02d:%02d UTC %d", kDays[tm.tm_wday],
                kMonths[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                tm.tm_year + 1900);
  return buf;
}

}  // namespace stratus::services::cognito::srp

#include "services/sns/signer.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "core/strings.h"

namespace stratus::services::sns {

namespace {
constexpr std::string_view kKeyKey = "sns/signing/key";
constexpr std::string_view kCertKey = "sns/signing/cert";
constexpr int kKeyBits = 2048;
constexpr long kCertDays = 3650;

std::string BioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}
}  // namespace

struct Signer::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

Signer::~Signer() = default;

Signer::Signer(store::Store& store) : store_(store) {}

Status Signer::Ready() const {
  std::call_once(once_, [this] {
    loaded_ = const_cast<Signer*>(this)->LoadOrCreate();
    if (!loaded_.ok()) spdlog::error("sns: signing key unavailable: {}", loaded_.error().message);
  });
  return loaded_;
}

const std::string& Signer::CertificatePem() const {
  (void)Ready();
  return cert_pem_;
}

const std::string& Signer::CertificateFile() const {
  (void)Ready();
  return cert_file_;
}

Status Signer::LoadOrCreate() {
  Signer* s = this;
  store::Store& store = store_;
  s->key_ = std::make_unique<Key>();
  auto key_pem = store.Get(kKeyKey);
  if (!key_pem.ok()) return key_pem.error();
  auto cert_pem = store.Get(kCertKey);
  if (!cert_pem.ok()) return cert_pem.error();
  if (key_pem->has_value() && cert_pem->has_value()) {
    BIO* bio = BIO_new_mem_buf((*key_pem)->data(), static_cast<int>((*key_pem)->size()));
    s->key_->pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    s->cert_pem_ = **cert_pem;
  }
  if (s->key_->pkey == nullptr) {
    EVP_PKEY_CTX* kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nullptr);
    if (!kctx || EVP_PKEY_keygen_init(kctx) <= 0 ||
        EVP_PKEY_CTX_set_rsa_keygen_bits(kctx, kKeyBits) <= 0 ||
        EVP_PKEY_keygen(kctx, &s->key_->pkey) <= 0) {
      EVP_PKEY_CTX_free(kctx);
      return InternalFailure("sns: cannot generate the signing key");
    }
    EVP_PKEY_CTX_free(kctx);
    X509* cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), kCertDays * 24 * 3600);
    X509_set_pubkey(cert, s->key_->pkey);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("sns.amazonaws.com"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, s->key_->pkey, EVP_sha256());
    BIO* cb = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(cb, cert);
    s->cert_pem_ = BioString(cb);
    BIO_free(cb);
    X509_free(cert);
    BIO* kb = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(kb, s->key_->pkey, nullptr, nullptr, 0, nullptr, nullptr);
    std::string kp = BioString(kb);
    BIO_free(kb);
    std::string cp = s->cert_pem_;
    Status st = store.Write([&](store::WriteTxn& txn) -> Status {
      STRATUS_RETURN_IF_ERROR(txn.Put(kKeyKey, kp));
      return txn.Put(kCertKey, cp);
    });
    if (!st.ok()) return st.error();
  }
  s->cert_file_ = "SimpleNotificationService-" + Sha256Hex(s->cert_pem_).substr(0, 32) + ".pem";
  return Status::Ok();
}

std::string Signer::CanonicalString(const Json& m) {
  std::string type = m.value("Type", "");
  std::vector<const char*> fields;
  if (type == "Notification") {
    fields = {"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"};
  } else {
    fields = {"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"};
  }
  std::string out;
  for (const char* f : fields) {
    if (!m.contains(f) || !m[f].is_string()) continue;
    out += f;
    out += '\n';
    out += m[f].get<std::string>();
    out += '\n';
  }
  return out;
}

std::string Signer::SignMessage(const Json& message, const std::string& version) const {
  if (!Ready().ok() || key_ == nullptr || key_->pkey == nullptr) return {};
  std::string data = CanonicalString(message);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const EVP_MD* md = version == "2" ? EVP_sha256() : EVP_sha1();
  std::string sig(static_cast<size_t>(EVP_PKEY_get_size(key_->pkey)), '\0');
  size_t len = sig.size();
  bool ok = EVP_DigestSignInit(ctx, nullptr, md, nullptr, key_->pkey) == 1 &&
            EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return {};
  sig.resize(len);
  return Base64Encode(sig);
}

}  // namespace stratus::services::sns

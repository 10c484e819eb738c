#pragma once
// The key SNS signs its messages with, and the certificate subscribers verify them against.
//
// At first start an RSA-2048 key and a self-signed X.509 certificate are generated and kept in
// the store (sns/signing/key, sns/signing/cert), so signatures stay verifiable across restarts.
// The certificate is served at SigningCertURL (see SnsService). Signatures follow AWS's
// scheme: the canonical "Name\nvalue\n" string of the message's signed fields, signed with
// SHA1withRSA (SignatureVersion 1) or SHA256withRSA (2), base64-encoded.
//
// Lazy: nothing is read or generated until the first use (a signature or the certificate), so
// server startup does not pay for OpenSSL's key decoding. Thread-safe: every method may be
// called concurrently.
#include <memory>
#include <mutex>
#include <string>

#include "core/json.h"
#include "core/result.h"
#include "store/store.h"

namespace stratus::services::sns {

class Signer {
 public:
  // On first use, loads the key and certificate from the store, generating and storing them
  // when absent. `store` outlives the signer.
  explicit Signer(store::Store& store);
  ~Signer();
  // Loads now (first use); the error is kept and logged, and every later call returns it.
  Status Ready() const;

  // The certificate in PEM form and a stable file name for it ("SimpleNotificationService-<hex>.pem");
  // empty when the key cannot be loaded (Ready() says why).
  const std::string& CertificatePem() const;
  const std::string& CertificateFile() const;

  // Signs the canonical string of `message` (an SNS JSON message: Notification,
  // SubscriptionConfirmation or UnsubscribeConfirmation) with `version` "1" or "2". Empty
  // when the key cannot be loaded.
  std::string SignMessage(const Json& message, const std::string& version) const;
  // The canonical string AWS signs for `message`.
  static std::string CanonicalString(const Json& message);

 private:
  struct Key;
  Status LoadOrCreate();
  store::Store& store_;
  mutable std::once_flag once_;
  mutable Status loaded_;
  // Written once under once_, read-only afterwards.
  std::unique_ptr<Key> key_;
  std::string cert_pem_;
  std::string cert_file_;
};

}  // namespace stratus::services::sns

#pragma once
// The key SNS signs its messages with, and the certificate subscribers verify them against.
//
// At first start an RSA-2048 key and a self-signed X.509 certificate are generated and kept in
// the store (sns/signing/key, sns/signing/cert), so signatures stay verifiable across restarts.
// The certificate is served at SigningCertURL (see SnsService). Signatures follow AWS's
// scheme: the canonical "Name\nvalue\n" string of the message's signed fields, signed with
// SHA1withRSA (SignatureVersion 1) or SHA256withRSA (2), base64-encoded.
//
// Thread-safe after Load: Sign may be called concurrently.
#include <memory>
#include <string>

#include "core/json.h"
#include "core/result.h"
#include "store/store.h"

namespace stratus::services::sns {

class Signer {
 public:
  ~Signer();
  // Loads the key and certificate from the store, generating and storing them when absent.
  static Result<std::unique_ptr<Signer>> Load(store::Store& store);

  // The certificate in PEM form and a stable file name for it ("SimpleNotificationService-<hex>.pem").
  const std::string& CertificatePem() const { return cert_pem_; }
  const std::string& CertificateFile() const { return cert_file_; }

  // Signs the canonical string of `message` (an SNS JSON message: Notification,
  // SubscriptionConfirmation or UnsubscribeConfirmation) with `version` "1" or "2".
  std::string SignMessage(const Json& message, const std::string& version) const;
  // The canonical string AWS signs for `message`.
  static std::string CanonicalString(const Json& message);

 private:
  Signer() = default;
  struct Key;
  std::unique_ptr<Key> key_;
  std::string cert_pem_;
  std::string cert_file_;
};

}  // namespace stratus::services::sns

#pragma once
// Authorizer: the identity hook of the front door (DESIGN.md "How a request flows": identity).
// The IAM service implements it and sets ServiceClients::authorizer at construction; without
// one, every well-formed signature is accepted and the caller is the access key's account root.
//
// The front door calls, for every AWS API request:
//   1. Authenticate — after routing, before the service's PrepareRequest rewrites the request
//      (so the signature is checked on the bytes the client signed). It establishes the Caller
//      (a user, a role session, the bootstrap root) and, when enforcement is on, verifies the
//      signature against the key's real secret, answering SignatureDoesNotMatch,
//      InvalidClientTokenId, ExpiredToken, IncompleteSignature in the dialect's wording.
//   2. Authorize — after the input is decoded and validated, before the handler, only while
//      Enforcing(): may the caller run `<service>:<Action>` on the operation's resources? The
//      answer is Ok or the protocol's AccessDenied error with AWS's message.
// and for every InternalCall (service-to-service), Authorize with `internal` set: the caller is
// InternalCall::principal_arn (a role ARN acting through a service, a service principal such as
// "sns.amazonaws.com", or the account root when empty).
//
// Thread-safety: both methods are called concurrently from io threads, workers and services'
// threads. Authenticate must not block (it runs on an io thread). Authorize completes `done`
// exactly once, possibly before returning (the common, in-memory case) or later from a worker
// thread (when it must read a resource's policy from its service).
#include <functional>
#include <memory>

#include "aws/framework/service.h"
#include "aws/sigv4/sigv4.h"

namespace stratus::aws {

struct AuthorizationRequest {
  std::shared_ptr<CallContext> call;  // caller, service, operation, region, http (remote address)
  // The decoded, validated input; stays valid until `done` is called.
  const Json* input = nullptr;
  Protocol protocol = Protocol::kJson;  // how the error is to be worded (AccessDenied vs ...Exception)
  bool internal = false;                // an InternalCall rather than an HTTP request
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;

  // Fills `caller` for a request signed with `claim` (null: anonymous) and, when enforcing,
  // verifies the signature. `now_ms` is the request's arrival time.
  virtual Status Authenticate(const HttpRequest& request, const SigV4Claim* claim,
                              SigV4Dialect dialect, int64_t now_ms, Caller& caller) = 0;

  // True when operations are to be authorized (--enforce-iam). Read on every request: cheap.
  virtual bool Enforcing() const = 0;

  virtual void Authorize(AuthorizationRequest request, std::function<void(Status)> done) = 0;
};

}  // namespace stratus::aws

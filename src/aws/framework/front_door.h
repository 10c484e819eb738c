#pragma once
// FrontDoor: the HttpHandler every request reaches first (DESIGN.md "How a request flows").
//
//   /_stratus/* (health, metrics)  →  answered here
//   a service's data plane         →  that service (Runtime API, execute-api, function URLs)
//   an AWS API call                →  which service? (X-Amz-Target prefix, SigV4 credential
//                                     scope, query Action, rest path prefixes)
//                                  →  its codec resolves the operation and decodes the input
//                                  →  SigV4 claim → Caller (account from the access key)
//                                  →  input validated against the model
//                                  →  the service's handler (inline / worker / async)
//                                  →  the codec encodes the output or the AWS error
//
// Every response carries the request id and the X-Amzn-Trace-Id of the request. Every failure
// is answered in the protocol of the service the request was for and logged; nothing a request
// contains can crash the server.
//
// Thread-safe: Handle is called concurrently from every io thread. A service's model and codecs
// load on its first request (once, guarded by a once_flag per service).
//
// The front door is also the OperationCaller of ServiceClients: services call each other through
// it with validation, metrics and tracing as for HTTP requests.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "aws/framework/service.h"
#include "core/server.h"

namespace stratus::aws {

// One service as registered with the front door: built already, or built on first use.
//
// A lazy service costs nothing until a request or in-process call is routed to it (or its start
// is needed at boot). Its slot declares the descriptor the service will have (routing needs it
// before the service exists; the two must be equal, which services' tests check). Only a
// service without a data plane and without ClaimsRequest may be lazy: those hooks are offered
// every request and are not consulted for a service that is not built yet. A lazy service whose
// constructor sets ServiceClients (IAM's authorizer) says `before_first_call`: it is built
// before the first API request or in-process call reads them.
struct ServiceSlot {
  std::unique_ptr<Service> built;
  Service::Descriptor descriptor;
  std::function<std::unique_ptr<Service>()> make;
  bool before_first_call = false;

  static ServiceSlot Built(std::unique_ptr<Service> service);
  static ServiceSlot Lazy(Service::Descriptor descriptor,
                          std::function<std::unique_ptr<Service>()> make,
                          bool before_first_call = false);
};

class FrontDoor final : public HttpHandler, public RejectFormatter, public OperationCaller {
 public:
  // Services in routing order (the first data plane match wins).
  FrontDoor(ServiceContext& context, std::vector<std::unique_ptr<Service>> services,
            std::string version);
  FrontDoor(ServiceContext& context, std::vector<ServiceSlot> services, std::string version);
  ~FrontDoor() override;

  void Handle(HttpRequest request, Responder responder) override;
  // Offers an API request's body to the service it is routed to (Service::OpenBodySink), for
  // bodies of at least kStreamedBodyMinBytes; data planes and /_stratus/ paths never stream.
  std::shared_ptr<BodySink> OpenBodySink(const HttpRequest& head) override;
  static constexpr uint64_t kStreamedBodyMinBytes = 1024 * 1024;
  HttpResponse FormatReject(const HttpRequest& request, int status, std::string_view code,
                            std::string_view message) const override;

  // OperationCaller: in-process calls between services. Blocking (kWorker) handlers run on the
  // calling thread, so call from a worker or background thread, never from an io thread;
  // kAsync handlers complete later from wherever they finish.
  void Call(InternalCall call, Completion done) override;

  // Starts services' background work (Service::Start). With `start_now`, only the services for
  // which it returns true start here; every other service starts on its first use: the first
  // API request routed to it, data-plane request it matches, body sink it is offered, or
  // in-process Call to it (a few milliseconds, once, on the thread that brought that use). The
  // caller answers for `start_now` returning true for every service with durable pending work
  // (services::MustStartAtBoot), so laziness delays nothing. Without it, every service starts
  // here. Fails with the first service that fails to start at boot; a deferred service that
  // fails to start answers each use with the error (503), without retrying.
  // A lazy service (ServiceSlot) is built when it starts.
  Status StartServices(
      const std::function<bool(const Service::Descriptor&)>& start_now = nullptr);
  // Stops every started service, in reverse order; no service starts afterwards.
  void StopServices();
  // Service::Quiesce on every started service (the server has begun draining).
  void QuiesceServices();
  // True once the service named `name` has started / has been built (tests, diagnostics).
  bool Started(std::string_view name) const;
  bool Built(std::string_view name) const;

  // The /_stratus/health document.
  Json Health() const;
  // Health().dump(), written without building the document.
  std::string HealthBody() const;


 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stratus::aws

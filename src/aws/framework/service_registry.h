// The services a FrontDoor serves, and how a request finds its service: by X-Amz-Target, by a
// service's own claim on a request, by the SigV4 signing name, by the query protocol's Action,
// or by a REST path prefix. Internal to the framework: services and the server see FrontDoor
// (front_door.h) only.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "aws/framework/front_door.h"
#include "aws/framework/service.h"
#include "aws/protocol/codec.h"
#include "aws/sigv4/sigv4.h"
#include "core/server.h"

namespace stratus::aws::internal {

// True when the request's body is an HTML form (the query protocol's encoding).
bool IsFormRequest(const HttpRequest& r);
// The Action of a query-protocol request, from the form body or the query string; empty if none.
std::string QueryAction(const HttpRequest& r);
// A JSON answer with the given status (stratus's own endpoints, data-plane start failures).
HttpResponse PlainJson(int status, const Json& body);

// One registered service: built at registration or on first use, and, once loaded, its model
// and codecs.
struct ServiceEntry {
  Service::Descriptor descriptor;  // the service's (for a lazy one, as declared by its slot)
  std::unique_ptr<Service> owned;  // written once under build_once
  std::function<std::unique_ptr<Service>()> make;  // lazy services only
  bool before_first_call = false;                  // ServiceSlot::before_first_call
  std::once_flag build_once;
  std::atomic<Service*> instance{nullptr};  // set once built
  std::once_flag load_once;
  // Written once under load_once; read after it.
  const ServiceModel* model = nullptr;
  std::unordered_map<int, std::unique_ptr<Codec>> codecs;  // by Protocol
  std::atomic<bool> loaded{false};

  // Service::Start, at boot or on first use (FrontDoor::StartServices). `started` is the
  // lock-free fast path; the rest is guarded by start_mu.
  std::atomic<bool> started{false};
  std::mutex start_mu;
  bool stopping = false;               // StopServices began: no late starts
  std::optional<Error> start_failure;  // Start failed once; not retried

  // The service, built on the first call for a lazy one (once; concurrent callers wait).
  Service* Get();
  // The service if built, else null (for hooks a lazy service does not have).
  Service* IfBuilt() const { return instance.load(std::memory_order_acquire); }
  // Runs the service's Start() once, unless it already ran, failed or shutdown began. Blocks
  // concurrent callers until the first Start returns.
  Status EnsureStarted();
  // Loads the model and codecs on first use. Returns false (and logs) if the model is missing:
  // a build defect, reported to the client as an internal error.
  bool Load();
  // The codec that matches how the request is encoded.
  const Codec* CodecFor(const HttpRequest& r) const;
};

// The registered services and their routing tables, fixed at construction.
class ServiceRegistry {
 public:
  explicit ServiceRegistry(std::vector<ServiceSlot> slots);

  // Offers a request to each service's data plane in order; the first that matches takes it
  // (started first, if its start was deferred). False when none matches.
  bool OfferDataPlane(HttpRequest& request, Responder& responder);
  // True when some built service's data plane matches (no side effects).
  bool AnyDataPlane(const HttpRequest& request) const;
  // Builds the services that set ServiceClients (ServiceSlot::before_first_call) before the
  // first API request or in-process call reads them; once.
  void EnsureClients();
  // Which service a request is for; null when nothing identifies one.
  ServiceEntry* Route(const HttpRequest& r, const std::optional<SigV4Claim>& claim);

  std::vector<std::unique_ptr<ServiceEntry>> entries;  // in registration order
  std::unordered_map<std::string, ServiceEntry*> by_name;

 private:
  std::once_flag clients_once_;
  std::unordered_map<std::string, ServiceEntry*> by_target_prefix_;
  std::unordered_multimap<std::string, ServiceEntry*> by_signing_name_;
  std::vector<ServiceEntry*> query_services_;
  std::vector<std::pair<std::string, ServiceEntry*>> rest_prefixes_;  // longest first
  ServiceEntry* rest_fallback_ = nullptr;
};

}  // namespace stratus::aws::internal

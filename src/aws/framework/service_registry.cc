// Routing a request to its service; the registry behind FrontDoor (service_registry.h).
#include "aws/framework/service_registry.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "aws/model/model.h"
#include "core/strings.h"

namespace stratus::aws {

ServiceSlot ServiceSlot::Built(std::unique_ptr<Service> service) {
  ServiceSlot slot;
  slot.built = std::move(service);
  return slot;
}

ServiceSlot ServiceSlot::Lazy(Service::Descriptor descriptor,
                              std::function<std::unique_ptr<Service>()> make,
                              bool before_first_call) {
  ServiceSlot slot;
  slot.descriptor = std::move(descriptor);
  slot.make = std::move(make);
  slot.before_first_call = before_first_call;
  return slot;
}

namespace internal {

bool IsFormRequest(const HttpRequest& r) {
  return StartsWith(ToLower(r.headers.GetOr("content-type")), "application/x-www-form-urlencoded");
}

// The Action of a query-protocol request, from the form body or the query string.
std::string QueryAction(const HttpRequest& r) {
  auto find = [](std::string_view text) -> std::string {
    for (auto& [k, v] : ParseQuery(text)) {
      if (k == "Action") return v;
    }
    return {};
  };
  if (IsFormRequest(r)) {
    std::string a = find(r.body);
    if (!a.empty()) return a;
  }
  return find(r.query);
}

HttpResponse PlainJson(int status, const Json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump();
  r.headers.Set("Content-Type", "application/json");
  return r;
}

Service* ServiceEntry::Get() {
  if (Service* s = instance.load(std::memory_order_acquire)) return s;
  std::call_once(build_once, [this] {
    owned = make();
    if (owned->descriptor().name != descriptor.name) {
      spdlog::error("service {}: its slot declares it as {}", owned->descriptor().name,
                    descriptor.name);
    }
    spdlog::debug("service {}: built on first use", descriptor.name);
    instance.store(owned.get(), std::memory_order_release);
  });
  return instance.load(std::memory_order_acquire);
}

Status ServiceEntry::EnsureStarted() {
  if (started.load(std::memory_order_acquire)) return Status::Ok();
  std::lock_guard lock(start_mu);
  if (started.load(std::memory_order_relaxed)) return Status::Ok();
  if (start_failure) return *start_failure;
  const std::string& name = descriptor.name;
  if (stopping) return Error("ServiceUnavailable", "stratus is shutting down.", 503);
  Status st = Get()->Start();
  if (!st.ok()) {
    start_failure = Error(
        "ServiceUnavailable",
        "service " + name + " failed to start: " + st.error().code + ": " + st.error().message,
        503);
    return *start_failure;
  }
  started.store(true, std::memory_order_release);
  return Status::Ok();
}

bool ServiceEntry::Load() {
  std::call_once(load_once, [this] {
    const auto& d = descriptor;
    model = FindEmbeddedModel(d.model);
    if (!model) {
      spdlog::error("service {}: embedded model '{}' not found", d.name, d.model);
      return;
    }
    codecs[static_cast<int>(d.protocol)] = MakeCodec(d.protocol, *model);
    for (Protocol p : d.extra_protocols) {
      const ServiceModel* variant = FindEmbeddedModel(d.model, p);
      if (!variant) {
        spdlog::error("service {}: no {} variant of model '{}'", d.name, ProtocolName(p), d.model);
        continue;
      }
      codecs[static_cast<int>(p)] = MakeCodec(p, *variant);
    }
    loaded.store(true);
    spdlog::debug("service {}: model {} loaded", d.name, d.model);
  });
  return model != nullptr;
}

const Codec* ServiceEntry::CodecFor(const HttpRequest& r) const {
  auto get = [&](Protocol p) -> const Codec* {
    auto it = codecs.find(static_cast<int>(p));
    return it == codecs.end() ? nullptr : it->second.get();
  };
  if (r.headers.Has("x-amz-target")) {
    if (auto* c = get(Protocol::kJson)) return c;
  }
  if (IsFormRequest(r) || r.query.find("Action=") != std::string::npos) {
    if (auto* c = get(Protocol::kQuery)) return c;
  }
  return get(descriptor.protocol);
}

ServiceRegistry::ServiceRegistry(std::vector<ServiceSlot> slots) {
  for (auto& slot : slots) {
    auto e = std::make_unique<ServiceEntry>();
    if (slot.built) {
      e->descriptor = slot.built->descriptor();
      e->owned = std::move(slot.built);
      e->instance.store(e->owned.get());
      std::call_once(e->build_once, [] {});
    } else {
      e->descriptor = std::move(slot.descriptor);
      e->make = std::move(slot.make);
      e->before_first_call = slot.before_first_call;
    }
    const auto& d = e->descriptor;
    by_name[d.name] = e.get();
    if (!d.target_prefix.empty()) by_target_prefix_[d.target_prefix] = e.get();
    if (!d.signing_name.empty()) by_signing_name_.emplace(d.signing_name, e.get());
    for (const auto& n : d.signing_names) by_signing_name_.emplace(n, e.get());
    bool speaks_query = d.protocol == Protocol::kQuery;
    for (Protocol p : d.extra_protocols) speaks_query = speaks_query || p == Protocol::kQuery;
    if (speaks_query) query_services_.push_back(e.get());
    if (d.protocol == Protocol::kRestJson || d.protocol == Protocol::kRestXml) {
      if (d.path_prefixes.empty()) {
        rest_fallback_ = e.get();
      }
      for (const auto& p : d.path_prefixes) rest_prefixes_.emplace_back(p, e.get());
    }
    entries.push_back(std::move(e));
  }
  std::sort(rest_prefixes_.begin(), rest_prefixes_.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

bool ServiceRegistry::OfferDataPlane(HttpRequest& request, Responder& responder) {
  for (auto& e : entries) {
    Service* svc = e->IfBuilt();  // a lazy service has no data plane (ServiceSlot)
    if (!svc || !svc->MatchDataPlane(request)) continue;
    if (Status st = e->EnsureStarted(); !st.ok()) {
      responder.Send(PlainJson(st.error().http_status, Json{{"message", st.error().message}}));
    } else {
      svc->HandleDataPlane(std::move(request), std::move(responder));
    }
    return true;
  }
  return false;
}

bool ServiceRegistry::AnyDataPlane(const HttpRequest& request) const {
  for (const auto& e : entries) {
    if (Service* svc = e->IfBuilt(); svc && svc->MatchDataPlane(request)) return true;
  }
  return false;
}

void ServiceRegistry::EnsureClients() {
  std::call_once(clients_once_, [this] {
    for (auto& e : entries) {
      if (e->before_first_call) e->Get();
    }
  });
}

ServiceEntry* ServiceRegistry::Route(const HttpRequest& r, const std::optional<SigV4Claim>& claim) {
  if (auto target = r.headers.Get("x-amz-target")) {
    std::string_view t = *target;
    auto dot = t.find('.');
    auto it = by_target_prefix_.find(std::string(t.substr(0, dot)));
    if (it != by_target_prefix_.end()) return it->second;
  } else {
    for (const auto& e : entries) {
      Service* svc = e->IfBuilt();  // a lazy service claims nothing (ServiceSlot)
      if (svc && svc->ClaimsRequest(r)) return e.get();
    }
  }
  if (claim) {
    auto [lo, hi] = by_signing_name_.equal_range(claim->service);
    ServiceEntry* first = lo == hi ? nullptr : lo->second;
    if (first && std::next(lo) == hi) return first;
    // Several services share a signing name (API Gateway v1/v2): the path decides.
    for (auto it = lo; it != hi; ++it) {
      for (const auto& p : it->second->descriptor.path_prefixes) {
        if (StartsWith(r.path, p)) return it->second;
      }
    }
    if (first) return first;
  }
  std::string action = QueryAction(r);
  if (!action.empty()) {
    for (ServiceEntry* e : query_services_) {
      if (e->Get()->FindHandler(action)) return e;
    }
    if (query_services_.size() == 1) return query_services_[0];
  }
  for (const auto& [prefix, e] : rest_prefixes_) {
    if (StartsWith(r.path, prefix)) return e;
  }
  return rest_fallback_;
}

}  // namespace internal
}  // namespace stratus::aws

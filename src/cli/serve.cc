#include "cli/serve.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <spdlog/spdlog.h>

#include "aws/framework/front_door.h"
#include "core/server.h"
#include "core/worker_pool.h"
#include "services/all_services.h"
#include "store/store.h"
#include "trace/recorder.h"
#include "version.h"

namespace stratus::cli {

namespace {

// Blocks SIGINT/SIGTERM in every thread (threads inherit the mask) so that one thread can wait
// for them with sigwait; ignores SIGPIPE (a client closing mid-write is an error code, not a
// signal).
sigset_t BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return set;
}

// Extra listeners come from the HttpServer, which is built after the services.
class ServerListeners final : public aws::ListenerRegistry {
 public:
  void Attach(HttpServer* server) { server_ = server; }
  Result<uint16_t> Open(uint64_t tag) override {
    if (!server_) return Error("ServiceUnavailable", "the server is not listening yet");
    return server_->AddListener(tag);
  }
  void Close(uint64_t tag) override {
    if (server_) server_->RemoveListener(tag);
  }

 private:
  HttpServer* server_ = nullptr;  // set before services start; read-only afterwards
};

}  // namespace

int Serve(const Config& config) {
  auto started = std::chrono::steady_clock::now();
  sigset_t signals = BlockShutdownSignals();

  store::SqliteOptions store_options;
  store_options.data_dir = config.in_memory ? "" : config.data_dir;
  store_options.fsync = config.fsync;
  auto opened = store::OpenSqliteStore(store_options);
  if (!opened.ok()) {
    spdlog::critical("cannot open the store: {}", opened.error().message);
    return 1;
  }
  std::unique_ptr<store::Store> store = std::move(opened).value();

  WorkerPool workers(static_cast<size_t>(config.workers));
  Metrics metrics;
  auto recorder = std::make_unique<trace::InMemoryRecorder>();
  aws::ServiceClients clients;
  uint16_t bound_port = 0;
  ServerListeners listeners;
  aws::ServiceContext context{*store,   SystemClock::Instance(), config, workers, metrics,
                              *recorder, clients,
                              [&config, &bound_port] { return ExternalUrl(config, bound_port); },
                              listeners};
  // Services without a data plane are built on first use (services::MakeServiceSlots).
  aws::FrontDoor front_door(context, services::MakeServiceSlots(context), kVersion);

  ServerOptions server_options;
  server_options.host = config.host;
  server_options.port = config.port;
  server_options.io_threads = config.io_threads;
  server_options.max_body_bytes = config.max_body_bytes;
  server_options.max_header_bytes = config.max_header_bytes;
  server_options.idle_timeout_ms = config.idle_timeout_ms;
  HttpServer server(server_options, front_door, front_door);
  if (Status st = server.Listen(); !st.ok()) {
    spdlog::critical("{}", st.error().message);
    return 1;
  }
  bound_port = server.port();
  listeners.Attach(&server);
  // A service with nothing durable in the store starts on first use: an idle server pays
  // neither its background threads nor the code its start runs (docs/PERFORMANCE.md).
  auto start_now = [&store](const aws::Service::Descriptor& d) {
    return services::MustStartAtBoot(*store, d);
  };
  if (Status st = front_door.StartServices(start_now); !st.ok()) {
    spdlog::critical("{}", st.error().message);
    return 1;
  }

  std::atomic<bool> finished{false};
  std::thread signal_waiter([&server, &front_door, &finished, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (!finished.load()) {
      spdlog::info("received {}; shutting down (draining requests in flight)",
                   sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    server.Stop();
    // Long polls answer now rather than holding the drain up for their full wait.
    if (!finished.load()) front_door.QuiesceServices();
  });

  double ready_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  // The ready line is machine-read by tests and tools: keep its shape.
  spdlog::info("stratus {} ready on http://{}:{} ({}, {:.1f} ms)", kVersion, config.host,
               bound_port, config.in_memory ? "in memory" : "data in " + config.data_dir,
               ready_ms);

  server.Run();

  // Run returned: either a signal arrived or Stop was called. Wake the waiter if it still waits.
  finished.store(true);
  pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  front_door.StopServices();
  store->Close();
  spdlog::info("stopped");
  return 0;
}

}  // namespace stratus::cli

#pragma once
// Shared by the Executor's source files, and by nothing else: an instance, an invocation in
// flight, and Executor::Impl. executor.cc: scheduling (admission, dispatch, completion), start
// and stop; executor_instances.cc: launching, killing and reaping instances;
// executor_runtime_api.cc: the Runtime API; executor_supervisor.cc: the supervisor thread (output
// lines, exits, timeouts, memory, idleness).
#include "services/lambda/executor.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace stratus::services::lambda {

// Listener tags of instances: this prefix in the top 16 bits, a counter below.
inline constexpr uint64_t kTagSpace = 0x4C41;  // "LA"
inline constexpr int kTagShift = 48;
inline constexpr uint64_t kCounterMask = (uint64_t{1} << kTagShift) - 1;

// An invocation's instance has its memory read every kMemoryPollMs once the invocation has
// run that long (the out-of-memory check); short warm invocations skip it, and their REPORT's
// peak is refreshed from /proc at most every kPeakRefreshMs per instance (a /proc status read
// costs 30-50 us, which 64 busy instances polled every 100 ms made ~2 us of every request).
inline constexpr int64_t kMemoryPollMs = 100;
inline constexpr int64_t kPeakRefreshMs = 1000;

// Which of an instance's fds an epoll event is for: the low 2 bits of its data (the instance's
// tag counter above them).
enum FdKind : uint64_t { kStdout = 0, kStderr = 1, kPidfd = 2 };

// `v` with two decimals, as REPORT lines and timeout messages show durations.
std::string TwoDecimals(double v);
// A Runtime API error response ({"errorMessage", "errorType"}).
HttpResponse RuntimeError(int status, std::string_view type, std::string_view message);
// A function error payload ({"errorType", "errorMessage"}).
std::string ErrorPayload(std::string_view type, std::string_view message);

struct Pending {
  InvokeRequest request;
  InvokeDone done;
  int64_t assigned_ns = 0;  // when it was given to its instance (monotonic)
  bool dispatched = false;
  int64_t dispatched_ns = 0;
  int64_t dispatched_ms = 0;  // wall clock
  int64_t deadline_ns = 0;
  bool cold = false;
  std::vector<aws::LogSink::Event> logs;
};

struct Instance {
  uint64_t tag = 0;
  uint16_t port = 0;
  std::shared_ptr<const FunctionSpec> spec;
  std::string key;
  std::string function_key;
  Process proc;
  std::string log_stream;
  std::string scratch;     // host scratch dir without isolation
  bool launched = false;   // proc is valid
  bool ready = false;      // called `next` once: init is done
  bool dead = false;       // killed or exited; never reused
  bool retiring = false;   // end when the current invocation ends
  bool oom = false;
  bool out_open = false, err_open = false;
  double init_ms = 0;
  bool init_reported = false;
  Responder parked;        // the runtime's pending `next`
  // The io thread the runtime's last Runtime API request arrived on (its connection's thread):
  // an invocation started on that thread is handed over without waking another thread.
  std::thread::id io_thread;
  std::unique_ptr<Pending> current;
  int64_t spawned_ns = 0;
  int64_t idle_since_ns = 0;
  std::string out_partial, err_partial;
  uint64_t peak_bytes = 0;  // the highest VmHWM seen
  int64_t peak_read_ns = 0;  // when peak_bytes was last read (monotonic)
};

struct Executor::Impl {
  ExecutorOptions options;
  const Clock& clock;
  aws::ListenerRegistry& listeners;
  trace::Recorder& tracer;
  LogShipper& logs;
  CodeCache& code;

  mutable std::mutex mu;  // guards everything below
  std::unordered_map<uint64_t, std::shared_ptr<Instance>> instances;  // by tag
  std::unordered_map<std::string, std::vector<std::shared_ptr<Instance>>> free;  // by spec key
  std::unordered_map<std::string, int> running;  // by function key
  int total_running = 0;
  uint64_t next_counter = 1;
  uint32_t next_uid_slot = 0;
  bool stopping = false;
  int64_t last_memory_poll_ns = 0;

  std::mutex spawn_mu;  // guards spawn_queue, spawn_stop, and the creation of the threads below
  std::condition_variable spawn_cv;
  std::deque<std::shared_ptr<Instance>> spawn_queue;
  bool spawn_stop = false;
  bool threads_started = false;
  std::vector<std::thread> spawners;  // started with the first instance (StartThreads)

  int epfd = -1;
  int wake_fd = -1;
  std::thread supervisor;  // started with the first instance (StartThreads)
  std::atomic<bool> stop_flag{false};

  using Completions = std::vector<std::function<void()>>;

  Impl(ExecutorOptions o, const Clock& c, aws::ListenerRegistry& l, trace::Recorder& t,
       LogShipper& s, CodeCache& cc)
      : options(std::move(o)), clock(c), listeners(l), tracer(t), logs(s), code(cc) {}

  int64_t NowNs() const { return clock.MonotonicNanos(); }
  int64_t NowMs() const { return clock.NowMillis(); }

  void AddLine(Instance& inst, std::string text);

  // Reads what `fd` has now (non-blocking); guarded by mu.
  void ReadPipe(Instance& inst, bool is_err);

  void DrainPipes(Instance& inst);

  // Builds the `next` response for inst.current and starts its clock; guarded by mu.
  HttpResponse Dispatch(Instance& inst);

  // Ends inst.current with `outcome`: logs END/REPORT, frees the concurrency slot, and returns
  // what to run after the lock is released. `status` is "" (success), "timeout" or "error".
  std::function<void()> Complete(Instance& inst, InvokeOutcome outcome, std::string_view status,
                                 std::string_view error_type);

  // An error outcome the platform reports for the function (timeouts, crashes).
  std::function<void()> Fail(Instance& inst, std::string_view type, std::string_view message,
                             std::string_view status);

  // Kills the process (the exit is noticed through the pidfd, which cleans up); guarded by mu.
  void Kill(Instance& inst);

  void RemoveFromFree(Instance& inst);

  // The process exited: fail its invocation, release everything; guarded by mu.
  void Reap(std::shared_ptr<Instance> inst, Completions& after);

  void Release(Instance& inst);

  std::vector<std::string> Environment(const Instance& inst, const SandboxPaths& paths,
                                       RuntimeKind kind);

  // Starts the process for `inst` (inst.current holds the invocation that waits for it).
  // Called without mu. Returns an error for API-level failures.
  Status Spawn(const std::shared_ptr<Instance>& inst, Completions& after);

  // Starts `fresh` (on a spawner thread); fails its invocation when it cannot start.
  void StartInstance(const std::shared_ptr<Instance>& fresh);

  // Forks happen here, on threads that live as long as the executor: an instance's
  // parent-death signal follows the thread that forked it.
  void SpawnerLoop();

  void SupervisorLoop();

  // Starts the supervisor and the spawners, once, unless stopping: with the first instance, so
  // that a server whose functions are never invoked holds none of these threads. Requires
  // spawn_mu; after spawn_stop is set no thread is created, so Stop may join them unlocked.
  void StartThreads();

  // Timeouts, memory and idleness of one instance; guarded by mu.
  void Check(Instance& inst, int64_t now, bool poll_memory, bool check_idle, Completions& after);

  void Wake();
};

}  // namespace stratus::services::lambda

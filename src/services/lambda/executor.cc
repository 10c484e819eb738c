#include "services/lambda/executor.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "core/strings.h"
#include "core/time_format.h"
#include "services/lambda/errors.h"

namespace stratus::services::lambda {

namespace {

// Listener tags of instances: this prefix in the top 16 bits, a counter below.
constexpr uint64_t kTagSpace = 0x4C41;  // "LA"
constexpr int kTagShift = 48;
constexpr uint64_t kCounterMask = (uint64_t{1} << kTagShift) - 1;

constexpr size_t kTailBytes = 4096;
constexpr size_t kMaxLineBytes = 256 * 1024;  // a CloudWatch event's limit
constexpr size_t kMaxResponseBytes = 6 * 1024 * 1024;
constexpr int64_t kSupervisorTickMs = 50;
constexpr int64_t kMemoryPollMs = 100;
constexpr int kSpawnerThreads = 2;
constexpr size_t kMaxLinesHeld = 10'000;  // per invocation, before shipping early
constexpr std::string_view kRuntimePrefix = "/2018-06-01/runtime/";

enum FdKind : uint64_t { kStdout = 0, kStderr = 1, kPidfd = 2 };

std::string TwoDecimals(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

HttpResponse JsonResponse(int status, const std::string& body) {
  HttpResponse r;
  r.status = status;
  r.body = body;
  r.headers.Set("Content-Type", "application/json");
  return r;
}

HttpResponse RuntimeError(int status, std::string_view type, std::string_view message) {
  return JsonResponse(status, DumpJson(Json{{"errorMessage", message}, {"errorType", type}}));
}

std::string ErrorPayload(std::string_view type, std::string_view message) {
  return DumpJson(Json{{"errorType", type}, {"errorMessage", message}});
}

std::string LogStreamName(int64_t now_ms, std::string_view version) {
  std::string date = FormatIso8601(now_ms / 1000).substr(0, 10);  // YYYY-MM-DD
  for (char& c : date) {
    if (c == '-') c = '/';
  }
  return date + "/[" + std::string(version) + "]" + HexEncode(RandomBytes(16));
}

}  // namespace

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
  std::unique_ptr<Pending> current;
  int64_t spawned_ns = 0;
  int64_t idle_since_ns = 0;
  std::string out_partial, err_partial;
  uint64_t peak_bytes = 0;  // the highest VmHWM seen
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

  std::mutex spawn_mu;  // guards spawn_queue, spawn_stop
  std::condition_variable spawn_cv;
  std::deque<std::shared_ptr<Instance>> spawn_queue;
  bool spawn_stop = false;
  std::vector<std::thread> spawners;

  int epfd = -1;
  int wake_fd = -1;
  std::thread supervisor;
  std::atomic<bool> stop_flag{false};

  using Completions = std::vector<std::function<void()>>;

  Impl(ExecutorOptions o, const Clock& c, aws::ListenerRegistry& l, trace::Recorder& t,
       LogShipper& s, CodeCache& cc)
      : options(std::move(o)), clock(c), listeners(l), tracer(t), logs(s), code(cc) {}

  int64_t NowNs() const { return clock.MonotonicNanos(); }
  int64_t NowMs() const { return clock.NowMillis(); }

  // ---- lines -------------------------------------------------------------------------------

  void AddLine(Instance& inst, std::string text) {
    aws::LogSink::Event e{NowMs(), std::move(text)};
    if (inst.current) {
      inst.current->logs.push_back(std::move(e));
      if (inst.current->logs.size() >= kMaxLinesHeld && !inst.current->request.tail) {
        logs.Ship(inst.spec->account, inst.spec->region, inst.spec->log_group, inst.log_stream,
                  std::move(inst.current->logs));
        inst.current->logs.clear();
      }
    } else {
      logs.Ship(inst.spec->account, inst.spec->region, inst.spec->log_group, inst.log_stream,
                {std::move(e)});
    }
  }

  // Reads what `fd` has now (non-blocking); guarded by mu.
  void ReadPipe(Instance& inst, bool is_err) {
    int fd = is_err ? inst.proc.err_fd : inst.proc.out_fd;
    bool& open = is_err ? inst.err_open : inst.out_open;
    std::string& partial = is_err ? inst.err_partial : inst.out_partial;
    if (!open || fd < 0) return;
    char buf[16384];
    while (true) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n > 0) {
        partial.append(buf, static_cast<size_t>(n));
        size_t start = 0;
        while (true) {
          size_t nl = partial.find('\n', start);
          if (nl == std::string::npos) break;
          AddLine(inst, partial.substr(start, nl - start));
          start = nl + 1;
        }
        partial.erase(0, start);
        if (partial.size() >= kMaxLineBytes) {
          AddLine(inst, std::move(partial));
          partial.clear();
        }
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      // EOF or error: the write end is closed.
      if (!partial.empty()) {
        AddLine(inst, std::move(partial));
        partial.clear();
      }
      open = false;
      ::epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
      return;
    }
  }

  void DrainPipes(Instance& inst) {
    ReadPipe(inst, false);
    ReadPipe(inst, true);
  }

  // ---- dispatch and completion ---------------------------------------------------------------

  // Builds the `next` response for inst.current and starts its clock; guarded by mu.
  HttpResponse Dispatch(Instance& inst) {
    Pending& p = *inst.current;
    const FunctionSpec& spec = *inst.spec;
    p.dispatched = true;
    p.dispatched_ns = NowNs();
    p.dispatched_ms = NowMs();
    p.deadline_ns = p.dispatched_ns + int64_t{spec.timeout_s} * 1'000'000'000;
    p.logs.insert(p.logs.begin(), aws::LogSink::Event{
                                      p.dispatched_ms, "START RequestId: " + p.request.request_id +
                                                           " Version: " + spec.version});
    HttpResponse r;
    r.status = 200;
    r.body = p.request.payload;
    r.headers.Set("Content-Type", "application/json");
    r.headers.Set("Lambda-Runtime-Aws-Request-Id", p.request.request_id);
    r.headers.Set("Lambda-Runtime-Deadline-Ms",
                  std::to_string(p.dispatched_ms + int64_t{spec.timeout_s} * 1000));
    r.headers.Set("Lambda-Runtime-Invoked-Function-Arn", p.request.invoked_arn);
    r.headers.Set("Lambda-Runtime-Trace-Id", p.request.trace.DownstreamHeader());
    if (!p.request.client_context.empty()) {
      r.headers.Set("Lambda-Runtime-Client-Context", p.request.client_context);
    }
    if (!p.request.cognito_identity.empty()) {
      r.headers.Set("Lambda-Runtime-Cognito-Identity", p.request.cognito_identity);
    }
    return r;
  }

  // Ends inst.current with `outcome`: logs END/REPORT, frees the concurrency slot, and returns
  // what to run after the lock is released. `status` is "" (success), "timeout" or "error".
  std::function<void()> Complete(Instance& inst, InvokeOutcome outcome, std::string_view status,
                                 std::string_view error_type) {
    std::unique_ptr<Pending> p = std::move(inst.current);
    const FunctionSpec& spec = *inst.spec;
    int64_t end_ns = NowNs();
    int64_t end_ms = NowMs();
    double duration_ms =
        p->dispatched ? static_cast<double>(end_ns - p->dispatched_ns) / 1e6 : 0.0;
    if (!p->dispatched) {
      p->logs.insert(p->logs.begin(), aws::LogSink::Event{
                                          end_ms, "START RequestId: " + p->request.request_id +
                                                      " Version: " + spec.version});
    }
    // The peak resident set: polled while invocations run; read here only for invocations
    // the poll may have missed (the first, or long ones), to keep /proc reads off short warm
    // invocations.
    if (inst.launched && (inst.peak_bytes == 0 || duration_ms >= kMemoryPollMs)) {
      inst.peak_bytes = std::max(inst.peak_bytes, ReadMemoryUse(inst.proc.pid).peak);
    }
    uint64_t peak = inst.peak_bytes;
    std::string report = "REPORT RequestId: " + p->request.request_id +
                         "\tDuration: " + TwoDecimals(duration_ms) + " ms\tBilled Duration: " +
                         std::to_string(static_cast<int64_t>(std::ceil(std::max(duration_ms, 1.0)))) +
                         " ms\tMemory Size: " + std::to_string(spec.memory_mb) +
                         " MB\tMax Memory Used: " + std::to_string((peak + (1 << 20) - 1) >> 20) +
                         " MB";
    if (inst.ready && !inst.init_reported) {
      report += "\tInit Duration: " + TwoDecimals(inst.init_ms) + " ms";
      inst.init_reported = true;
    }
    if (!status.empty()) {
      report += "\tStatus: " + std::string(status);
      if (!error_type.empty()) report += "\tError Type: " + std::string(error_type);
    }
    p->logs.push_back({end_ms, "END RequestId: " + p->request.request_id});
    p->logs.push_back({end_ms, std::move(report)});
    if (p->request.tail) {
      std::string tail;
      for (auto it = p->logs.rbegin(); it != p->logs.rend() && tail.size() < kTailBytes; ++it) {
        tail.insert(0, it->message + "\n");
      }
      if (tail.size() > kTailBytes) tail.erase(0, tail.size() - kTailBytes);
      outcome.log_tail = std::move(tail);
    }
    logs.Ship(spec.account, spec.region, spec.log_group, inst.log_stream, std::move(p->logs));

    // Free the slot; the instance takes new work unless it is ending.
    if (--running[inst.function_key] <= 0) running.erase(inst.function_key);
    --total_running;
    if (!inst.dead) {
      if (inst.retiring) {
        Kill(inst);
      } else {
        inst.idle_since_ns = end_ns;
        free[inst.key].push_back(instances.at(inst.tag));
      }
    }

    trace::Segment seg = trace::NewSegment(
        p->request.trace, spec.name, "AWS::Lambda::Function",
        static_cast<double>(p->dispatched ? p->dispatched_ms : end_ms) / 1000.0);
    seg.end_time = static_cast<double>(end_ms) / 1000.0;
    seg.aws = Json{{"function_arn", spec.function_arn},
                   {"request_id", p->request.request_id},
                   {"account_id", spec.account}};
    if (!outcome.function_error.empty()) seg.error = true;
    return [this, seg = std::move(seg), done = std::move(p->done),
            outcome = std::move(outcome)]() mutable {
      tracer.Record(std::move(seg));
      done(std::move(outcome));
    };
  }

  // An error outcome the platform reports for the function (timeouts, crashes).
  std::function<void()> Fail(Instance& inst, std::string_view type, std::string_view message,
                             std::string_view status) {
    std::string id = inst.current->request.request_id;
    InvokeOutcome o;
    o.function_error = "Unhandled";
    o.payload = ErrorPayload(type, "RequestId: " + id + " Error: " + std::string(message));
    if (status == "timeout") {
      inst.current->logs.push_back(
          {NowMs(), FormatIso8601(static_cast<double>(NowMs()) / 1000.0, true) + " " + id + " Task timed out after " +
                        std::string(message.substr(message.rfind("after ") + 6))});
    } else {
      inst.current->logs.push_back({NowMs(), "RequestId: " + id + " Error: " + std::string(message)});
      inst.current->logs.push_back({NowMs(), std::string(type)});
    }
    return Complete(inst, std::move(o), status, type);
  }

  // ---- instance lifecycle ------------------------------------------------------------------

  // Kills the process (the exit is noticed through the pidfd, which cleans up); guarded by mu.
  void Kill(Instance& inst) {
    inst.dead = true;
    if (inst.parked) {
      HttpResponse r = RuntimeError(410, "InstanceStopped", "The instance is being stopped.");
      r.close = true;
      inst.parked.Send(std::move(r));
      inst.parked = Responder();
    }
    if (inst.launched) KillProcessGroup(inst.proc.pid);
    RemoveFromFree(inst);
  }

  void RemoveFromFree(Instance& inst) {
    auto it = free.find(inst.key);
    if (it == free.end()) return;
    auto& v = it->second;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i].get() == &inst) {
        v.erase(v.begin() + static_cast<ptrdiff_t>(i));
        break;
      }
    }
    if (v.empty()) free.erase(it);
  }

  // The process exited: fail its invocation, release everything; guarded by mu.
  void Reap(std::shared_ptr<Instance> inst, Completions& after) {
    int status = 0;
    pid_t r = ::waitpid(inst->proc.pid, &status, WNOHANG);
    if (r == 0) return;  // spurious
    DrainPipes(*inst);
    bool was_dead = inst->dead;
    inst->dead = true;
    if (inst->current) {
      std::string reason;
      if (r > 0 && WIFEXITED(status)) {
        reason = WEXITSTATUS(status) == 0 ? "Runtime exited without providing a reason"
                                          : "Runtime exited with error: exit status " +
                                                std::to_string(WEXITSTATUS(status));
      } else if (r > 0 && WIFSIGNALED(status)) {
        reason = std::string("Runtime exited with error: signal: ") +
                 (WTERMSIG(status) == SIGKILL ? "killed" : strsignal(WTERMSIG(status)));
      } else {
        reason = "Runtime exited with error: exit status 1";
      }
      if (inst->oom) {
        after.push_back(Fail(*inst, "Runtime.OutOfMemory", reason, "error"));
      } else {
        after.push_back(Fail(*inst, "Runtime.ExitError", reason, "error"));
      }
    } else if (!was_dead && inst->ready) {
      spdlog::info("lambda: an instance of {} exited while idle", inst->spec->name);
    }
    Release(*inst);
  }

  void Release(Instance& inst) {
    if (inst.parked) {
      HttpResponse r = RuntimeError(410, "InstanceStopped", "The instance has stopped.");
      r.close = true;
      inst.parked.Send(std::move(r));
      inst.parked = Responder();
    }
    RemoveFromFree(inst);
    if (inst.launched) {
      for (int* fd : {&inst.proc.out_fd, &inst.proc.err_fd, &inst.proc.pidfd}) {
        if (*fd >= 0) {
          ::epoll_ctl(epfd, EPOLL_CTL_DEL, *fd, nullptr);
          ::close(*fd);
          *fd = -1;
        }
      }
      inst.launched = false;
    }
    listeners.Close(inst.tag);
    if (!inst.scratch.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(inst.scratch, ec);
    }
    instances.erase(inst.tag);
  }

  std::vector<std::string> Environment(const Instance& inst, const SandboxPaths& paths,
                                       RuntimeKind kind) {
    const FunctionSpec& s = *inst.spec;
    std::vector<std::string> env;
    for (const auto& [k, v] : s.env) env.push_back(k + "=" + v);
    auto set = [&](std::string k, std::string v) { env.push_back(k + "=" + v); };
    std::string opt = paths.opt_root.empty() ? "/opt" : paths.opt_root;
    set("PATH", "/usr/local/bin:/usr/bin:/bin:" + opt + "/bin");
    set("LD_LIBRARY_PATH", paths.task_root + ":" + paths.task_root + "/lib:" + opt + "/lib");
    set("LANG", "en_US.UTF-8");
    set("TZ", ":UTC");
    set("_HANDLER", s.handler);
    set("LAMBDA_TASK_ROOT", paths.task_root);
    set("LAMBDA_RUNTIME_DIR", paths.runtime_root);
    set("TMPDIR", paths.tmp);
    set("AWS_EXECUTION_ENV", "AWS_Lambda_" + s.runtime);
    set("AWS_LAMBDA_FUNCTION_NAME", s.name);
    set("AWS_LAMBDA_FUNCTION_VERSION", s.version);
    set("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", std::to_string(s.memory_mb));
    set("AWS_LAMBDA_LOG_GROUP_NAME", s.log_group);
    set("AWS_LAMBDA_LOG_STREAM_NAME", inst.log_stream);
    set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    set("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:" + std::to_string(inst.port));
    set("AWS_REGION", s.region);
    set("AWS_DEFAULT_REGION", s.region);
    // The role's credentials: its STS session under IAM enforcement; otherwise placeholders
    // whose 12-digit access key id selects the function's account.
    ExecutorOptions::RoleCredentials creds{s.account, "stratus-function-secret",
                                           "stratus-function-session"};
    if (options.role_credentials) {
      auto assumed = options.role_credentials(s);
      if (assumed.ok()) {
        creds = std::move(*assumed);
      } else {
        spdlog::warn("lambda: cannot assume the execution role {} of {}: {}", s.role, s.name,
                     assumed.error().message);
      }
    }
    set("AWS_ACCESS_KEY_ID", creds.access_key_id);
    set("AWS_SECRET_ACCESS_KEY", creds.secret_access_key);
    set("AWS_SESSION_TOKEN", creds.session_token);
    set("AWS_ENDPOINT_URL", options.endpoint_url ? options.endpoint_url() : "");
    set("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR");
    if (kind == RuntimeKind::kPython) {
      set("PYTHONUNBUFFERED", "1");
      set("PYTHONDONTWRITEBYTECODE", "1");
      set("PYTHONPATH", paths.runtime_root + "/python:" + opt + "/python");
    } else if (kind == RuntimeKind::kNode) {
      set("NODE_PATH", opt + "/nodejs/node_modules:" + paths.runtime_root + "/node:" +
                           paths.task_root);
    }
    return env;
  }

  // Starts the process for `inst` (inst.current holds the invocation that waits for it).
  // Called without mu. Returns an error for API-level failures.
  Status Spawn(const std::shared_ptr<Instance>& inst, Completions& after) {
    const FunctionSpec& s = *inst->spec;
    int64_t t0 = NowNs();
    auto runtime = FindRuntime(s.runtime);
    if (!runtime) return InvalidParameterValue("The runtime " + s.runtime + " is not supported.");
    STRATUS_ASSIGN_OR_RETURN(std::string code_dir, code.CodeDir(s.code_sha));
    STRATUS_ASSIGN_OR_RETURN(std::string opt_dir, code.OptDir(s.layer_shas));

    LaunchSpec launch;
    launch.code_dir = code_dir;
    launch.opt_dir = opt_dir;
    launch.tmp_bytes = static_cast<uint64_t>(s.ephemeral_mb) << 20;
    if (!options.sandbox.isolate) {
      inst->scratch = options.scratch_dir + "/" + std::to_string(inst->tag & kCounterMask);
      std::error_code ec;
      std::filesystem::create_directories(inst->scratch, ec);
      launch.scratch_dir = inst->scratch;
    }
    SandboxPaths paths = PathsFor(options.sandbox, launch, options.runtime_dir);
    {
      std::lock_guard lock(mu);
      launch.uid = options.first_uid + (next_uid_slot++ % 60'000);
    }
    launch.gid = launch.uid;

    std::string missing_entry;
    switch (runtime->kind) {
      case RuntimeKind::kPython:
        if (options.interpreters.python.empty()) {
          return ServiceError("python3 is not installed on this host; install it to run " + s.runtime);
        }
        launch.argv = {options.interpreters.python, paths.runtime_root + "/python/bootstrap.py"};
        break;
      case RuntimeKind::kNode: {
        if (options.interpreters.node.empty()) {
          return ServiceError("node is not installed on this host; install it to run " + s.runtime);
        }
        launch.argv = {options.interpreters.node, paths.runtime_root + "/node/bootstrap.js"};
        break;
      }
      case RuntimeKind::kProvided: {
        std::error_code ec;
        if (std::filesystem::exists(code_dir + "/bootstrap", ec)) {
          launch.argv = {paths.task_root + "/bootstrap"};
        } else if (!opt_dir.empty() && std::filesystem::exists(opt_dir + "/bootstrap", ec)) {
          launch.argv = {paths.opt_root + "/bootstrap"};
        } else {
          missing_entry = "Couldn't find valid bootstrap(s): [" + paths.task_root +
                          "/bootstrap " + (paths.opt_root.empty() ? "/opt" : paths.opt_root) +
                          "/bootstrap]";
        }
        break;
      }
    }
    if (!missing_entry.empty()) {
      std::lock_guard lock(mu);
      inst->dead = true;
      after.push_back(Fail(*inst, "Runtime.InvalidEntrypoint", missing_entry, "error"));
      Release(*inst);
      return Status::Ok();
    }
    launch.env = Environment(*inst, paths, runtime->kind);

    auto port = listeners.Open(inst->tag);
    if (!port.ok()) return ServiceError("cannot open the Runtime API endpoint: " + port.error().message);
    // The port is known only now: fix the environment.
    for (auto& e : launch.env) {
      if (StartsWith(e, "AWS_LAMBDA_RUNTIME_API=")) e = "AWS_LAMBDA_RUNTIME_API=127.0.0.1:" + std::to_string(*port);
    }
    int64_t t1 = NowNs();
    auto proc = Launch(options.sandbox, launch);
    int64_t t2 = NowNs();
    spdlog::debug("lambda: {} instance: queued {:.2f} ms, prepared {:.2f} ms, launched {:.2f} ms",
                  s.name, static_cast<double>(t0 - inst->spawned_ns) / 1e6,
                  static_cast<double>(t1 - t0) / 1e6, static_cast<double>(t2 - t1) / 1e6);
    std::lock_guard lock(mu);
    inst->port = *port;
    if (!proc.ok()) {
      if (proc.error().code == "Runtime.InvalidEntrypoint") {
        inst->dead = true;
        after.push_back(Fail(*inst, "Runtime.InvalidEntrypoint", proc.error().message, "error"));
        Release(*inst);
        return Status::Ok();
      }
      listeners.Close(inst->tag);
      return ServiceError(proc.error().message);
    }
    inst->proc = *proc;
    inst->launched = true;
    inst->out_open = inst->err_open = true;
    uint64_t counter = inst->tag & kCounterMask;
    auto add = [&](int fd, FdKind kind) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = (counter << 2) | kind;
      ::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    };
    add(inst->proc.out_fd, kStdout);
    add(inst->proc.err_fd, kStderr);
    add(inst->proc.pidfd, kPidfd);
    if (inst->dead) KillProcessGroup(inst->proc.pid);  // stopped meanwhile
    return Status::Ok();
  }

  // Starts `fresh` (on a spawner thread); fails its invocation when it cannot start.
  void StartInstance(const std::shared_ptr<Instance>& fresh) {
    Completions after;
    Status st = Spawn(fresh, after);
    if (!st.ok()) {
      InvokeDone failed;
      {
        std::lock_guard lock(mu);
        if (fresh->current) {
          failed = std::move(fresh->current->done);
          fresh->current.reset();
          if (--running[fresh->function_key] <= 0) running.erase(fresh->function_key);
          --total_running;
        }
        fresh->dead = true;
        if (instances.count(fresh->tag)) Release(*fresh);
      }
      spdlog::warn("lambda: cannot start an instance of {}: {}", fresh->spec->name,
                   st.error().message);
      if (failed) failed(std::move(st).error());
    }
    for (auto& f : after) f();
  }

  // Forks happen here, on threads that live as long as the executor: an instance's
  // parent-death signal follows the thread that forked it.
  void SpawnerLoop() {
    std::unique_lock lock(spawn_mu);
    while (true) {
      spawn_cv.wait(lock, [this] { return spawn_stop || !spawn_queue.empty(); });
      if (spawn_queue.empty()) return;  // stopping
      std::shared_ptr<Instance> fresh = std::move(spawn_queue.front());
      spawn_queue.pop_front();
      lock.unlock();
      StartInstance(fresh);
      lock.lock();
    }
  }

  // ---- supervisor ----------------------------------------------------------------------------

  void SupervisorLoop() {
    epoll_event events[64];
    int64_t last_idle_check = NowNs();
    while (!stop_flag.load()) {
      int n = ::epoll_wait(epfd, events, 64, static_cast<int>(kSupervisorTickMs));
      Completions after;
      {
        std::lock_guard lock(mu);
        for (int i = 0; i < n; ++i) {
          uint64_t data = events[i].data.u64;
          if (data == ~uint64_t{0}) {
            uint64_t v;
            ssize_t ignored = ::read(wake_fd, &v, sizeof(v));
            (void)ignored;
            continue;
          }
          uint64_t tag = (kTagSpace << kTagShift) | (data >> 2);
          auto it = instances.find(tag);
          if (it == instances.end()) continue;
          std::shared_ptr<Instance> inst = it->second;
          switch (static_cast<FdKind>(data & 3)) {
            case kStdout: ReadPipe(*inst, false); break;
            case kStderr: ReadPipe(*inst, true); break;
            case kPidfd: Reap(inst, after); break;
          }
        }
        int64_t now = NowNs();
        bool poll_memory = now - last_memory_poll_ns >= kMemoryPollMs * 1'000'000;
        if (poll_memory) last_memory_poll_ns = now;
        bool check_idle = now - last_idle_check >= 1'000'000'000;
        if (check_idle) last_idle_check = now;
        std::vector<std::shared_ptr<Instance>> all;
        all.reserve(instances.size());
        for (auto& [tag, inst] : instances) all.push_back(inst);
        for (auto& inst : all) Check(*inst, now, poll_memory, check_idle, after);
      }
      for (auto& f : after) f();
    }
  }

  // Timeouts, memory and idleness of one instance; guarded by mu.
  void Check(Instance& inst, int64_t now, bool poll_memory, bool check_idle, Completions& after) {
    if (!inst.launched) return;  // still starting (Spawn owns it)
    if (inst.current) {
      const Pending& p = *inst.current;
      // Not yet taken by the runtime: a cold instance may spend Lambda's init limit first; a
      // warm one is between its last response and its next `next`.
      int64_t deadline = p.dispatched ? p.deadline_ns
                                      : p.assigned_ns + (inst.ready ? 0 : options.init_timeout_ms * 1'000'000) +
                                            int64_t{inst.spec->timeout_s} * 1'000'000'000;
      if (now >= deadline) {
        DrainPipes(inst);
        after.push_back(Fail(inst, "Sandbox.Timedout",
                             "Task timed out after " + TwoDecimals(inst.spec->timeout_s) +
                                 " seconds",
                             "timeout"));
        Kill(inst);
        return;
      }
      if (poll_memory && inst.launched && !inst.dead) {
        MemoryUse use = ReadMemoryUse(inst.proc.pid);
        inst.peak_bytes = std::max(inst.peak_bytes, use.peak);
        if (use.rss > (static_cast<uint64_t>(inst.spec->memory_mb) << 20)) {
          inst.oom = true;
          spdlog::info("lambda: {} exceeded its memory ({} MB); ending the instance",
                       inst.spec->name, inst.spec->memory_mb);
          KillProcessGroup(inst.proc.pid);  // Reap reports Runtime.OutOfMemory
        }
      }
      return;
    }
    if (check_idle && !inst.dead && inst.ready &&
        (inst.retiring || now - inst.idle_since_ns >= options.idle_timeout_ms * 1'000'000)) {
      Kill(inst);
    }
  }

  void Wake() {
    uint64_t one = 1;
    ssize_t ignored = ::write(wake_fd, &one, sizeof(one));
    (void)ignored;
  }
};

Executor::Executor(ExecutorOptions options, const Clock& clock, aws::ListenerRegistry& listeners,
                   trace::Recorder& tracer, LogShipper& logs, CodeCache& code)
    : impl_(std::make_unique<Impl>(std::move(options), clock, listeners, tracer, logs, code)) {}

Executor::~Executor() { Stop(); }

Status Executor::Start() {
  Impl& d = *impl_;
  d.epfd = ::epoll_create1(EPOLL_CLOEXEC);
  d.wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (d.epfd < 0 || d.wake_fd < 0) return InternalFailure("lambda: cannot create epoll");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = ~uint64_t{0};
  ::epoll_ctl(d.epfd, EPOLL_CTL_ADD, d.wake_fd, &ev);
  d.supervisor = std::thread([&d] { d.SupervisorLoop(); });
  for (int i = 0; i < kSpawnerThreads; ++i) d.spawners.emplace_back([&d] { d.SpawnerLoop(); });
  return Status::Ok();
}

void Executor::Stop() {
  Impl& d = *impl_;
  {
    std::lock_guard lock(d.spawn_mu);
    d.spawn_stop = true;
  }
  d.spawn_cv.notify_all();
  for (auto& t : d.spawners) {
    if (t.joinable()) t.join();
  }
  Impl::Completions after;
  {
    std::lock_guard lock(d.mu);
    if (d.stopping) return;
    d.stopping = true;
    std::vector<std::shared_ptr<Instance>> all;
    for (auto& [tag, inst] : d.instances) all.push_back(inst);
    for (auto& inst : all) {
      if (inst->current) {
        auto done = std::move(inst->current->done);
        inst->current.reset();
        after.push_back([done = std::move(done)] {
          done(ServiceError("The server is shutting down."));
        });
      }
      d.Kill(*inst);
      if (inst->launched) ::waitpid(inst->proc.pid, nullptr, 0);
      d.Release(*inst);
    }
  }
  d.stop_flag.store(true);
  if (d.wake_fd >= 0) d.Wake();
  if (d.supervisor.joinable()) d.supervisor.join();
  for (auto& f : after) f();
  if (d.epfd >= 0) ::close(d.epfd);
  if (d.wake_fd >= 0) ::close(d.wake_fd);
  d.epfd = d.wake_fd = -1;
}

bool Executor::IsInstanceTag(uint64_t tag) { return (tag >> kTagShift) == kTagSpace; }

void Executor::Invoke(std::shared_ptr<const FunctionSpec> spec, InvokeRequest request,
                      InvokeDone done) {
  Impl& d = *impl_;
  auto pending = std::make_unique<Pending>();
  pending->request = std::move(request);
  pending->done = std::move(done);
  pending->assigned_ns = d.NowNs();
  std::string key = spec->Key();
  std::string fkey = spec->FunctionKey();

  Responder to_send;
  HttpResponse dispatch;
  std::shared_ptr<Instance> fresh;
  {
    std::unique_lock lock(d.mu);
    if (d.stopping) {
      lock.unlock();
      pending->done(ServiceError("The server is shutting down."));
      return;
    }
    int running = 0;
    if (auto it = d.running.find(fkey); it != d.running.end()) running = it->second;
    if (spec->reserved_concurrency && running >= *spec->reserved_concurrency) {
      lock.unlock();
      pending->done(TooManyRequests("ReservedFunctionConcurrentInvocationLimitExceeded"));
      return;
    }
    if (d.total_running >= d.options.account_concurrency) {
      lock.unlock();
      pending->done(TooManyRequests("ConcurrentInvocationLimitExceeded"));
      return;
    }
    ++d.running[fkey];
    ++d.total_running;
    auto it = d.free.find(key);
    if (it != d.free.end() && !it->second.empty()) {
      std::shared_ptr<Instance> inst = std::move(it->second.back());
      it->second.pop_back();
      if (it->second.empty()) d.free.erase(it);
      inst->current = std::move(pending);
      if (inst->parked) {
        to_send = std::move(inst->parked);
        inst->parked = Responder();
        dispatch = d.Dispatch(*inst);
      }
    } else {
      fresh = std::make_shared<Instance>();
      fresh->tag = (kTagSpace << kTagShift) | (d.next_counter++ & kCounterMask);
      fresh->spec = spec;
      fresh->key = key;
      fresh->function_key = fkey;
      fresh->spawned_ns = d.NowNs();
      fresh->log_stream = LogStreamName(d.NowMs(), spec->version);
      pending->cold = true;
      fresh->current = std::move(pending);
      d.instances[fresh->tag] = fresh;
    }
  }
  if (to_send) {
    to_send.Send(std::move(dispatch));
    return;
  }
  // Assigned to a warm instance between its response and its next `next`: it takes the
  // invocation when that request arrives.
  if (!fresh) return;
  {
    std::lock_guard lock(d.spawn_mu);
    d.spawn_queue.push_back(std::move(fresh));
  }
  d.spawn_cv.notify_one();
}

void Executor::HandleRuntimeApi(HttpRequest request, Responder responder) {
  Impl& d = *impl_;
  std::string_view path = request.path;
  if (!StartsWith(path, kRuntimePrefix)) {
    responder.Send(RuntimeError(404, "NotFound", "No such Runtime API path: " + request.path));
    return;
  }
  path.remove_prefix(kRuntimePrefix.size());
  Impl::Completions after;
  HttpResponse reply = JsonResponse(202, R"({"status":"OK"})");
  HttpResponse dispatch;
  Responder to_send;
  {
    std::lock_guard lock(d.mu);
    auto it = d.instances.find(request.listener_tag);
    if (it == d.instances.end() || it->second->dead) {
      HttpResponse r = RuntimeError(410, "InstanceStopped", "This instance has stopped.");
      r.close = true;
      responder.Send(std::move(r));
      return;
    }
    std::shared_ptr<Instance> inst = it->second;
    Instance& in = *inst;
    if (path == "invocation/next" && request.method == "GET") {
      if (!in.ready) {
        in.ready = true;
        in.init_ms = static_cast<double>(d.NowNs() - in.spawned_ns) / 1e6;
      }
      if (in.parked) {
        // A runtime that reconnected: the newer request supersedes the parked one.
        spdlog::debug("lambda: {} instance sent a second `next`; answering the first",
                      in.spec->name);
        in.parked.Send(RuntimeError(400, "InvalidStateTransition", "A newer `next` replaced this one."));
        in.parked = Responder();
      }
      if (in.current && !in.current->dispatched) {
        to_send = responder;
        dispatch = d.Dispatch(in);
      } else {
        in.parked = std::move(responder);
        if (!in.current) in.idle_since_ns = d.NowNs();
        return;
      }
    } else if (path == "init/error" && request.method == "POST") {
      d.DrainPipes(in);
      if (in.current) {
        Json body = ParseJsonOrDiscarded(request.body);
        std::string type = std::string(request.headers.GetOr("Lambda-Runtime-Function-Error-Type",
                                                             "Runtime.Unknown"));
        if (body.is_object() && body.contains("errorType") && body["errorType"].is_string()) {
          type = body["errorType"].get<std::string>();
        }
        InvokeOutcome o;
        o.function_error = "Unhandled";
        o.payload = body.is_object() ? request.body : ErrorPayload(type, "Runtime failed to initialize");
        in.current->logs.push_back({d.NowMs(), "INIT_REPORT Init Duration: " +
                                                   TwoDecimals(static_cast<double>(d.NowNs() - in.spawned_ns) / 1e6) +
                                                   " ms\tPhase: init\tStatus: error\tError Type: " + type});
        after.push_back(d.Complete(in, std::move(o), "error", type));
      }
      d.Kill(in);
    } else if (StartsWith(path, "invocation/") && request.method == "POST") {
      std::string_view rest = path.substr(std::string_view("invocation/").size());
      size_t slash = rest.find('/');
      std::string_view id = rest.substr(0, slash);
      std::string_view verb = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
      if (!in.current || !in.current->dispatched || in.current->request.request_id != id) {
        reply = RuntimeError(400, "InvalidRequestID", "Invalid request ID");
      } else if (verb == "response") {
        d.DrainPipes(in);
        InvokeOutcome o;
        if (request.body.size() > kMaxResponseBytes) {
          o.function_error = "Unhandled";
          o.payload = ErrorPayload("Function.ResponseSizeTooLarge",
                                   "Response payload size exceeded maximum allowed payload size (" +
                                       std::to_string(kMaxResponseBytes) + " bytes).");
          reply = RuntimeError(413, "RequestEntityTooLarge",
                               "Exceeded maximum allowed payload size (6291556 bytes).");
          after.push_back(d.Complete(in, std::move(o), "error", "Function.ResponseSizeTooLarge"));
        } else {
          o.payload = std::move(request.body);
          after.push_back(d.Complete(in, std::move(o), "", ""));
        }
      } else if (verb == "error") {
        d.DrainPipes(in);
        InvokeOutcome o;
        o.function_error = "Unhandled";
        Json body = ParseJsonOrDiscarded(request.body);
        std::string type(request.headers.GetOr("Lambda-Runtime-Function-Error-Type", "Unhandled"));
        if (body.is_object()) {
          o.payload = std::move(request.body);
          if (body.contains("errorType") && body["errorType"].is_string()) {
            type = body["errorType"].get<std::string>();
          }
        } else {
          o.payload = ErrorPayload(type, request.body.empty() ? "Unhandled" : request.body);
        }
        after.push_back(d.Complete(in, std::move(o), "error", type));
      } else {
        reply = RuntimeError(404, "NotFound", "No such Runtime API path: " + request.path);
      }
    } else {
      reply = RuntimeError(404, "NotFound", "No such Runtime API path: " + request.path);
    }
  }
  if (to_send) {
    to_send.Send(std::move(dispatch));
    return;
  }
  responder.Send(std::move(reply));
  for (auto& f : after) f();
}

void Executor::Retire(const std::string& function_key, const std::string& keep_revision) {
  Impl& d = *impl_;
  std::lock_guard lock(d.mu);
  std::vector<std::shared_ptr<Instance>> all;
  for (auto& [tag, inst] : d.instances) {
    if (inst->function_key == function_key &&
        (keep_revision.empty() || inst->spec->revision != keep_revision)) {
      all.push_back(inst);
    }
  }
  for (auto& inst : all) {
    inst->retiring = true;
    if (!inst->current) d.Kill(*inst);
  }
}

int Executor::Running(const std::string& function_key) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->running.find(function_key);
  return it == impl_->running.end() ? 0 : it->second;
}

size_t Executor::InstanceCountForTest() const {
  std::lock_guard lock(impl_->mu);
  return impl_->instances.size();
}

}  // namespace stratus::services::lambda

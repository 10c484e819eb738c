// The Executor's scheduling: admitting an invocation (warm reuse, concurrency limits),
// handing it to an instance, completing it; start and stop. Instance launch is in
// executor_instances.cc, the Runtime API in executor_runtime_api.cc, the supervisor thread in
// executor_supervisor.cc.
#include "services/lambda/executor_internal.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/crypto.h"
#include "core/strings.h"
#include "core/time_format.h"
#include "services/lambda/errors.h"

namespace stratus::services::lambda {

namespace {

constexpr size_t kTailBytes = 4096;

constexpr int kSpawnerThreads = 2;

std::string LogStreamName(int64_t now_ms, std::string_view version) {
  std::string date = FormatIso8601(now_ms / 1000).substr(0, 10);  // YYYY-MM-DD
  for (char& c : date) {
    if (c == '-') c = '/';
  }
  return date + "/[" + std::string(version) + "]" + HexEncode(RandomBytes(16));
}

// "START RequestId: <id> Version: <version>", built in one allocation.
std::string StartLine(const std::string& request_id, const std::string& version) {
  std::string line;
  line.reserve(27 + request_id.size() + version.size());
  line.append("START RequestId: ").append(request_id).append(" Version: ").append(version);
  return line;
}

// Appends the decimal form of `v` (as std::to_string does) without a temporary string.
void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

}  // namespace

std::string TwoDecimals(double v) {
  // Durations (finite, non-negative, under a day) without snprintf, which was a third of
  // completing an invocation's REPORT line: hundredths (below 1e9) rounded to nearest. A value whose
  // hundredths lie within 1e-6 of a half (where "%.2f" rounds the exact binary value, which the
  // product's own rounding could misjudge) and anything else go through snprintf.
  double hundredths = v * 100.0;
  if (!std::signbit(v) && hundredths < 1e9) {
    double whole = std::floor(hundredths);
    double frac = hundredths - whole;
    if (std::fabs(frac - 0.5) > 1e-6) {
      auto n = static_cast<int64_t>(whole) + (frac > 0.5 ? 1 : 0);
      std::string out = std::to_string(n / 100);
      out.push_back('.');
      out.push_back(static_cast<char>('0' + (n % 100) / 10));
      out.push_back(static_cast<char>('0' + n % 10));
      return out;
    }
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

std::string ErrorPayload(std::string_view type, std::string_view message) {
  return DumpJson(Json{{"errorType", type}, {"errorMessage", message}});
}

// ---- dispatch and completion ----------------------------------------------------------------------

HttpResponse Executor::Impl::Dispatch(Instance& inst) {
  Pending& p = *inst.current;
  const FunctionSpec& spec = *inst.spec;
  p.dispatched = true;
  p.dispatched_ns = NowNs();
  p.dispatched_ms = NowMs();
  p.deadline_ns = p.dispatched_ns + int64_t{spec.timeout_s} * 1'000'000'000;
  // Room for START, END and REPORT at once: Complete's two appends then never reallocate.
  p.logs.reserve(p.logs.size() + 3);
  p.logs.insert(p.logs.begin(),
                aws::LogSink::Event{p.dispatched_ms, StartLine(p.request.request_id, spec.version)});
  // A fresh response: every header is added once (Add, not Set, skips a search per header).
  HttpResponse r;
  r.status = 200;
  r.body = std::move(p.request.payload);  // sent once: a dispatched invocation is never re-sent
  r.headers.Add("Content-Type", "application/json");
  r.headers.Add("Lambda-Runtime-Aws-Request-Id", p.request.request_id);
  r.headers.Add("Lambda-Runtime-Deadline-Ms",
                std::to_string(p.dispatched_ms + int64_t{spec.timeout_s} * 1000));
  r.headers.Add("Lambda-Runtime-Invoked-Function-Arn", p.request.invoked_arn);
  r.headers.Add("Lambda-Runtime-Trace-Id", p.request.trace.DownstreamHeader());
  if (!p.request.client_context.empty()) {
    r.headers.Add("Lambda-Runtime-Client-Context", p.request.client_context);
  }
  if (!p.request.cognito_identity.empty()) {
    r.headers.Add("Lambda-Runtime-Cognito-Identity", p.request.cognito_identity);
  }
  return r;
}

std::function<void()> Executor::Impl::Complete(Instance& inst, InvokeOutcome outcome,
                                               std::string_view status,
                                               std::string_view error_type) {
  std::unique_ptr<Pending> p = std::move(inst.current);
  const FunctionSpec& spec = *inst.spec;
  int64_t end_ns = NowNs();
  int64_t end_ms = NowMs();
  double duration_ms =
      p->dispatched ? static_cast<double>(end_ns - p->dispatched_ns) / 1e6 : 0.0;
  if (!p->dispatched) {
    p->logs.insert(p->logs.begin(),
                   aws::LogSink::Event{end_ms, StartLine(p->request.request_id, spec.version)});
  }
  // The peak resident set: polled while long invocations run; read here for the first
  // invocation, long ones, and otherwise at most every kPeakRefreshMs, to keep /proc reads off
  // most short warm invocations.
  if (inst.launched && (inst.peak_bytes == 0 || duration_ms >= kMemoryPollMs ||
                        end_ns - inst.peak_read_ns >= kPeakRefreshMs * 1'000'000)) {
    inst.peak_bytes = std::max(inst.peak_bytes, ReadMemoryUse(inst.proc.pid).peak);
    inst.peak_read_ns = end_ns;
  }
  uint64_t peak = inst.peak_bytes;
  // Appended into one buffer sized for the usual line (a chain of `+` allocates per piece).
  std::string report;
  report.reserve(160 + p->request.request_id.size());
  report.append("REPORT RequestId: ").append(p->request.request_id);
  report.append("\tDuration: ").append(TwoDecimals(duration_ms));
  report.append(" ms\tBilled Duration: ");
  AppendInt(report, static_cast<int64_t>(std::ceil(std::max(duration_ms, 1.0))));
  report.append(" ms\tMemory Size: ");
  AppendInt(report, spec.memory_mb);
  report.append(" MB\tMax Memory Used: ");
  AppendInt(report, static_cast<int64_t>((peak + (1 << 20) - 1) >> 20));
  report.append(" MB");
  if (inst.ready && !inst.init_reported) {
    report += "\tInit Duration: " + TwoDecimals(inst.init_ms) + " ms";
    inst.init_reported = true;
  }
  if (!status.empty()) {
    report += "\tStatus: " + std::string(status);
    if (!error_type.empty()) report += "\tError Type: " + std::string(error_type);
  }
  std::string end_line;
  end_line.reserve(16 + p->request.request_id.size());
  end_line.append("END RequestId: ").append(p->request.request_id);
  p->logs.push_back({end_ms, std::move(end_line)});
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

  // The function's segment, for sampled traces only (the recorder drops the others, as X-Ray
  // does; an unsampled request costs no segment). The closure builds it where it records it, so
  // a segment (~20 members) is moved once, into the recorder, not also through an optional, this
  // closure's capture and std::function's storage (docs/PERFORMANCE.md, "Eleventh pass").
  double seg_start = static_cast<double>(p->dispatched ? p->dispatched_ms : end_ms) / 1000.0;
  bool seg_error = !outcome.function_error.empty();
  return [this, spec = inst.spec, trace = std::move(p->request.trace),
          request_id = std::move(p->request.request_id), seg_start, end_ms, seg_error,
          done = std::move(p->done), outcome = std::move(outcome)]() mutable {
    if (trace.sampled) {
      trace::Segment seg =
          trace::NewSegment(trace, spec->name, "AWS::Lambda::Function", seg_start);
      seg.end_time = static_cast<double>(end_ms) / 1000.0;
      seg.aws_strings.reserve(3);  // no Json object: cheap to build and to free (recorder.h)
      seg.aws_strings.push_back({"function_arn", spec->function_arn});
      seg.aws_strings.push_back({"request_id", std::move(request_id)});
      seg.aws_strings.push_back({"account_id", spec->account});
      if (seg_error) seg.error = true;
      tracer.Record(std::move(seg));
    }
    done(std::move(outcome));
  };
}

std::function<void()> Executor::Impl::Fail(Instance& inst, std::string_view type,
                                           std::string_view message,
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

// ---- Executor ------------------------------------------------------------------------------------

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
  // The supervisor and spawner threads start with the first instance (Impl::StartThreads).
  return Status::Ok();
}

void Executor::Impl::StartThreads() {
  if (threads_started || spawn_stop) return;
  threads_started = true;
  supervisor = std::thread([this] { SupervisorLoop(); });
  for (int i = 0; i < kSpawnerThreads; ++i) spawners.emplace_back([this] { SpawnerLoop(); });
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
      // The most recently freed instance (so that surplus ones go idle and are reaped), but
      // preferring one whose runtime connection lives on this thread: its `next` is then
      // answered here and its response arrives here, with no hand-over between io threads.
      auto& free_list = it->second;
      size_t pick = free_list.size() - 1;
      std::thread::id self = std::this_thread::get_id();
      for (size_t i = free_list.size(); i-- > 0;) {
        if (free_list[i]->io_thread == self) {
          pick = i;
          break;
        }
      }
      std::shared_ptr<Instance> inst = std::move(free_list[pick]);
      free_list.erase(free_list.begin() + static_cast<ptrdiff_t>(pick));
      if (free_list.empty()) d.free.erase(it);
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
    d.StartThreads();
    d.spawn_queue.push_back(std::move(fresh));
  }
  d.spawn_cv.notify_one();
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

void Executor::Quiesce() {
  Impl& d = *impl_;
  std::lock_guard lock(d.mu);
  std::vector<std::shared_ptr<Instance>> all;
  for (auto& [tag, inst] : d.instances) all.push_back(inst);
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

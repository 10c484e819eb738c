// The supervisor thread: instance output becomes log lines, exits are noticed, and timeouts,
// memory and idleness are enforced.
#include "services/lambda/executor_internal.h"

#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "core/strings.h"
#include "services/lambda/errors.h"

namespace stratus::services::lambda {

namespace {

constexpr size_t kMaxLineBytes = 256 * 1024;  // a CloudWatch event's limit

constexpr int64_t kSupervisorTickMs = 50;

constexpr size_t kMaxLinesHeld = 10'000;  // per invocation, before shipping early

}  // namespace

// ---- lines ----------------------------------------------------------------------------------------

void Executor::Impl::AddLine(Instance& inst, std::string text) {
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

void Executor::Impl::ReadPipe(Instance& inst, bool is_err) {
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

void Executor::Impl::DrainPipes(Instance& inst) {
  // One poll(2) for both pipes instead of a read(2) of each: on the invoke path (every response)
  // the pipes are usually empty, and this runs under mu.
  pollfd fds[2];
  bool is_err[2];
  nfds_t n = 0;
  if (inst.out_open && inst.proc.out_fd >= 0) {
    fds[n] = pollfd{inst.proc.out_fd, POLLIN, 0};
    is_err[n++] = false;
  }
  if (inst.err_open && inst.proc.err_fd >= 0) {
    fds[n] = pollfd{inst.proc.err_fd, POLLIN, 0};
    is_err[n++] = true;
  }
  if (n == 0) return;
  int ready = ::poll(fds, n, 0);
  if (ready < 0) {
    // EINTR or the like: read both, as before.
    for (nfds_t i = 0; i < n; ++i) ReadPipe(inst, is_err[i]);
    return;
  }
  for (nfds_t i = 0; i < n && ready > 0; ++i) {
    if (fds[i].revents != 0) ReadPipe(inst, is_err[i]);
  }
}

// ---- supervisor ----------------------------------------------------------------------------------

void Executor::Impl::SupervisorLoop() {
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

void Executor::Impl::Check(Instance& inst, int64_t now, bool poll_memory, bool check_idle,
                           Completions& after) {
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
    // Only invocations that have run kMemoryPollMs already: a short one is over before a poll
    // could stop it (and its REPORT reads the peak itself), so reading /proc for it is waste.
    int64_t running_since = p.dispatched ? p.dispatched_ns : p.assigned_ns;
    if (poll_memory && inst.launched && !inst.dead &&
        now - running_since >= kMemoryPollMs * 1'000'000) {
      MemoryUse use = ReadMemoryUse(inst.proc.pid);
      inst.peak_bytes = std::max(inst.peak_bytes, use.peak);
      inst.peak_read_ns = now;
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

void Executor::Impl::Wake() {
  uint64_t one = 1;
  ssize_t ignored = ::write(wake_fd, &one, sizeof(one));
  (void)ignored;
}

}  // namespace stratus::services::lambda

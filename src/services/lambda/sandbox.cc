#include "services/lambda/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace stratus::services::lambda {

namespace {

// The child runs on a stack of its own in the server's memory (CLONE_VM) until it execs.
constexpr size_t kChildStackBytes = 256 * 1024;

// Lambda's quotas, applied as rlimits.
constexpr rlim_t kMaxOpenFiles = 1024;
constexpr rlim_t kMaxProcesses = 1024;

// Steps the child reports when it fails before exec.
enum ChildStep : int {
  kStepSession = 1,
  kStepNamespace,
  kStepMounts,
  kStepLimits,
  kStepUser,
  kStepChdir,
  kStepFds,
  kStepExec,
};

const char* StepName(int step) {
  switch (step) {
    case kStepSession: return "setsid";
    case kStepNamespace: return "unshare mount namespace";
    case kStepMounts: return "mount";
    case kStepLimits: return "setrlimit";
    case kStepUser: return "switch user";
    case kStepChdir: return "chdir";
    case kStepFds: return "redirect descriptors";
    default: return "exec";
  }
}

// Everything the child needs, as C strings prepared before fork (the child must not allocate).
struct ChildPlan {
  std::vector<std::string> argv_storage, env_storage;
  std::vector<char*> argv, env;
  bool isolate = false;
  std::string code_dir, runtime_dir, opt_dir;  // host paths of the bind sources
  std::string code_src, runtime_src, opt_src;  // "/proc/self/fd/N" sources for bind mounts
  std::string tmp_options, chdir_to;
  std::vector<std::string> hide_dirs;
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t parent = 0;
  int null_fd = -1, out_w = -1, err_w = -1, status_w = -1;
};

[[noreturn]] void ChildFail(int status_fd, int step) {
  int report[2] = {step, errno};
  ssize_t ignored = ::write(status_fd, report, sizeof(report));
  (void)ignored;
  _exit(127);
}

// Descriptor numbers for bind-mount sources in the child (above anything the server uses
// early; the child closes them with everything else before exec).
constexpr int kCodeFd = 1000;
constexpr int kRuntimeFd = 1001;
constexpr int kOptFd = 1002;

bool OpenAt(const char* path, int target) {
  int fd = ::open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  if (fd == target) return true;
  int r = ::dup3(fd, target, O_CLOEXEC);
  ::close(fd);
  return r == target;
}

bool BindReadOnly(const char* source, const char* target) {
  if (::mount(source, target, nullptr, MS_BIND | MS_REC, nullptr) != 0) return false;
  return ::mount(nullptr, target, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
                 nullptr) == 0;
}

[[noreturn]] void RunChild(const ChildPlan& p) {
  const int status = p.status_w;
  if (::setsid() < 0) ChildFail(status, kStepSession);
  if (p.isolate) {
    if (::unshare(CLONE_NEWNS) != 0) ChildFail(status, kStepNamespace);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      ChildFail(status, kStepNamespace);
    }
    // Bind sources are opened inside the new namespace (a bind mount's source must be in the
    // caller's namespace) and before /var is covered, at fixed descriptor numbers whose
    // /proc/self/fd paths were prepared before the fork.
    if (!OpenAt(p.code_dir.c_str(), kCodeFd) || !OpenAt(p.runtime_dir.c_str(), kRuntimeFd) ||
        (!p.opt_dir.empty() && !OpenAt(p.opt_dir.c_str(), kOptFd))) {
      ChildFail(status, kStepMounts);
    }
    if (::mount("tmpfs", "/var", "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755") != 0) {
      ChildFail(status, kStepMounts);
    }
    ::mkdir("/var/task", 0755);
    ::mkdir("/var/runtime", 0755);
    if (::symlink("/tmp", "/var/tmp") != 0) ChildFail(status, kStepMounts);
    if (!BindReadOnly(p.code_src.c_str(), "/var/task")) ChildFail(status, kStepMounts);
    if (!BindReadOnly(p.runtime_src.c_str(), "/var/runtime")) ChildFail(status, kStepMounts);
    if (::mount(nullptr, "/var", nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0) {
      ChildFail(status, kStepMounts);
    }
    if (!p.opt_src.empty()) {
      if (!BindReadOnly(p.opt_src.c_str(), "/opt")) ChildFail(status, kStepMounts);
    } else if (::mount("tmpfs", "/opt", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=755") != 0) {
      ChildFail(status, kStepMounts);
    }
    // The data directory first (it may lie under /tmp), then a private /tmp and /dev/shm.
    for (const auto& dir : p.hide_dirs) {
      if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "size=4k,mode=755") != 0 && errno != ENOENT) {
        ChildFail(status, kStepMounts);
      }
    }
    if (::mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, p.tmp_options.c_str()) != 0) {
      ChildFail(status, kStepMounts);
    }
    ::mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777");
  }
  // SCHED_BATCH (same weight as SCHED_OTHER, no wakeup preemption): the Runtime API answer
  // that wakes the instance then no longer preempts the io thread that sent it in the middle
  // of its batch of ready connections; the instance runs when a core frees or at the next tick.
  // At half of peak load this cut the gateway -> Lambda p99 (docs/PERFORMANCE.md, "The hop's
  // p99 at half of peak"). Unprivileged, inherited by the function's own children; a refusal
  // leaves the default policy, which only costs latency.
  struct sched_param batch{};
  ::sched_setscheduler(0, SCHED_BATCH, &batch);
  struct rlimit nofile{kMaxOpenFiles, kMaxOpenFiles};
  struct rlimit nproc{kMaxProcesses, kMaxProcesses};
  struct rlimit core{0, 0};
  if (::setrlimit(RLIMIT_NOFILE, &nofile) != 0 || ::setrlimit(RLIMIT_CORE, &core) != 0) {
    ChildFail(status, kStepLimits);
  }
  if (p.isolate) {
    // RLIMIT_NPROC counts per uid: each instance has its own uid.
    ::setrlimit(RLIMIT_NPROC, &nproc);
    if (::syscall(SYS_setgroups, 0, nullptr) != 0 ||
        ::syscall(SYS_setresgid, p.gid, p.gid, p.gid) != 0 ||
        ::syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0) {
      ChildFail(status, kStepUser);
    }
  }
  // End with the server (a kill -9 of stratus must not leave instances behind). Set after the
  // credential change, which clears it; the parent may already be gone, hence the check.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != p.parent) _exit(0);
  if (::chdir(p.chdir_to.c_str()) != 0) ChildFail(status, kStepChdir);
  if (::dup2(p.null_fd, 0) < 0 || ::dup2(p.out_w, 1) < 0 || ::dup2(p.err_w, 2) < 0) {
    ChildFail(status, kStepFds);
  }
  // Keep 0-2 and the status pipe (close-on-exec) until exec.
  if (status > 3) ::syscall(SYS_close_range, 3, status - 1, 0);
  ::syscall(SYS_close_range, status + 1, ~0U, 0);
  // The child shares the server's memory until exec: every signal stays blocked (the parent
  // blocked them before clone) until no server handler is left to run here, as posix_spawn does.
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction sa{};
    if (::sigaction(sig, nullptr, &sa) == 0 && sa.sa_handler != SIG_DFL &&
        (sig == SIGPIPE || sa.sa_handler != SIG_IGN)) {
      sa = {};
      sa.sa_handler = SIG_DFL;
      ::sigaction(sig, &sa, nullptr);
    }
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(p.argv[0], p.argv.data(), p.env.data());
  ChildFail(status, kStepExec);
}

int ChildEntry(void* plan) { RunChild(*static_cast<const ChildPlan*>(plan)); }

void CloseIf(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

SandboxPaths PathsFor(const SandboxOptions& options, const LaunchSpec& spec,
                      const std::string& runtime_dir) {
  if (options.isolate) {
    return SandboxPaths{"/var/task", "/var/runtime", spec.opt_dir.empty() ? "" : "/opt", "/tmp"};
  }
  return SandboxPaths{spec.code_dir, runtime_dir, spec.opt_dir, spec.scratch_dir};
}

Result<Process> Launch(const SandboxOptions& options, const LaunchSpec& spec) {
  if (spec.argv.empty()) return InternalFailure("no entry point");
  ChildPlan p;
  p.isolate = options.isolate;
  p.argv_storage = spec.argv;
  p.env_storage = spec.env;
  for (auto& a : p.argv_storage) p.argv.push_back(a.data());
  p.argv.push_back(nullptr);
  for (auto& e : p.env_storage) p.env.push_back(e.data());
  p.env.push_back(nullptr);
  p.hide_dirs = options.hide_dirs;
  p.uid = spec.uid;
  p.gid = spec.gid;
  p.parent = ::getpid();
  p.tmp_options = "size=" + std::to_string(spec.tmp_bytes) + ",mode=1777";

  int out[2] = {-1, -1}, err[2] = {-1, -1}, status[2] = {-1, -1};
  auto cleanup = [&] {
    CloseIf(out[1]);
    CloseIf(err[1]);
    CloseIf(status[0]);
    CloseIf(status[1]);
    CloseIf(p.null_fd);
  };
  if (options.isolate) {
    p.code_dir = spec.code_dir;
    p.runtime_dir = options.runtime_dir;
    p.opt_dir = spec.opt_dir;
    p.code_src = "/proc/self/fd/" + std::to_string(kCodeFd);
    p.runtime_src = "/proc/self/fd/" + std::to_string(kRuntimeFd);
    if (!spec.opt_dir.empty()) p.opt_src = "/proc/self/fd/" + std::to_string(kOptFd);
    p.chdir_to = "/var/task";
  } else {
    p.chdir_to = spec.code_dir;
  }
  p.null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (p.null_fd < 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 ||
      ::pipe2(status, O_CLOEXEC) != 0) {
    int e = errno;
    CloseIf(out[0]);
    CloseIf(err[0]);
    cleanup();
    return InternalFailure("cannot create pipes: " + std::string(strerror(e)));
  }
  p.out_w = out[1];
  p.err_w = err[1];
  p.status_w = status[1];

  // clone(CLONE_VM | CLONE_VFORK), not fork: the child borrows the server's address space
  // until it execs, so starting an instance costs the same however much memory the server
  // holds (fork copied its page tables: 2 ms at 30 MB, 30+ ms after a long run). The calling
  // thread waits until the child has exec'd or failed; the child only makes system calls on
  // data prepared above.
  void* stack = ::mmap(nullptr, kChildStackBytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    int e = errno;
    CloseIf(out[0]);
    CloseIf(err[0]);
    cleanup();
    return InternalFailure("cannot start the function: stack: " + std::string(strerror(e)));
  }
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = ::clone(ChildEntry, static_cast<char*>(stack) + kChildStackBytes,
                      CLONE_VM | CLONE_VFORK | SIGCHLD, &p);
  int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::munmap(stack, kChildStackBytes);
  if (pid < 0) {
    int e = clone_errno;
    CloseIf(out[0]);
    CloseIf(err[0]);
    cleanup();
    return InternalFailure("cannot start the function: clone: " + std::string(strerror(e)));
  }
  CloseIf(status[1]);
  int report[2] = {0, 0};
  ssize_t n;
  do {
    n = ::read(status[0], report, sizeof(report));
  } while (n < 0 && errno == EINTR);
  cleanup();
  if (n > 0) {
    ::waitpid(pid, nullptr, 0);
    CloseIf(out[0]);
    CloseIf(err[0]);
    if (report[0] == kStepExec) {
      return Error("Runtime.InvalidEntrypoint", "fork/exec " + spec.argv[0] + ": " +
                                                    strerror(report[1]));
    }
    return InternalFailure(std::string("cannot start the function: ") + StepName(report[0]) +
                           ": " + strerror(report[1]));
  }
  Process proc;
  proc.pid = pid;
  proc.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  proc.out_fd = out[0];
  proc.err_fd = err[0];
  ::fcntl(proc.out_fd, F_SETFL, O_NONBLOCK);
  ::fcntl(proc.err_fd, F_SETFL, O_NONBLOCK);
  if (proc.pidfd < 0) {
    KillProcessGroup(pid);
    CloseIf(proc.out_fd);
    CloseIf(proc.err_fd);
    return InternalFailure("pidfd_open failed (stratus needs Linux 5.3 or later)");
  }
  ::fcntl(proc.pidfd, F_SETFD, FD_CLOEXEC);
  return proc;
}

void KillProcessGroup(pid_t pid) {
  if (pid <= 0) return;
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, WNOHANG);
}

MemoryUse ReadMemoryUse(pid_t pid) {
  MemoryUse use;
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d/status", static_cast<int>(pid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return use;
  // One read of the whole file (about 1.5 KB) and two searches: the kernel's formatting is most
  // of the cost, so no stdio buffering or per-line sscanf on top.
  char buf[8192];
  size_t len = 0;
  while (len < sizeof(buf) - 1) {
    ssize_t n = ::read(fd, buf + len, sizeof(buf) - 1 - len);
    if (n <= 0) break;
    len += static_cast<size_t>(n);
  }
  ::close(fd);
  buf[len] = '\0';
  auto field_kb = [&](const char* name) -> uint64_t {
    const char* at = std::strstr(buf, name);
    if (!at) return 0;
    return std::strtoull(at + std::strlen(name), nullptr, 10);  // skips the blanks, stops at " kB"
  };
  use.rss = field_kb("\nVmRSS:") * 1024;
  use.peak = field_kb("\nVmHWM:") * 1024;
  return use;
}

}  // namespace stratus::services::lambda

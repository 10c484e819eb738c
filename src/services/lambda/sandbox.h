#pragma once
// Starts function instances as sandboxed processes.
//
// With isolation (the server runs as root; CI does), each instance gets:
//   * its own mount namespace: the code bind-mounted read-only at /var/task, the bootstraps at
//     /var/runtime, the function's layers (merged) at /opt, a private tmpfs /tmp sized to the
//     function's ephemeral storage, a private /dev/shm, and the server's data directory (and the
//     node-local code cache) covered by an empty read-only tmpfs, so nothing of it is readable;
//   * its own unprivileged uid/gid (no supplementary groups), so instances cannot signal or
//     trace each other or the server;
//   * its own session (process group), killed as a whole.
// Without isolation (not root) the instance runs as the server's user in the code directory
// with a private TMPDIR; the data directory is then not hidden (docs/lambda.md says so).
// Both: rlimits (open files, processes, core dumps, file size), stdin from /dev/null, stdout
// and stderr on pipes, every other descriptor closed, the environment exactly as given.
//
// Instances die with the server (PR_SET_PDEATHSIG): the signal follows the *thread* that
// started it, so call Launch from a thread that lives as long as the instances (the executor's
// spawner thread).
//
// Thread-safe: Launch may be called from many threads. It clones with CLONE_VM | CLONE_VFORK
// (the cost does not grow with the server's memory, as fork's page-table copy does); the child
// only makes system calls on data prepared before, and the caller waits until it has exec'd.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace stratus::services::lambda {

struct SandboxOptions {
  bool isolate = false;                // mount namespace + own uid (needs root)
  std::vector<std::string> hide_dirs;  // covered inside the sandbox (data dir, code cache)
  std::string runtime_dir;             // the bootstraps, shown at /var/runtime
};

// Where things are as the instance sees them.
struct SandboxPaths {
  std::string task_root;  // /var/task (isolated) or the code directory
  std::string runtime_root;
  std::string opt_root;   // /opt (isolated) or the merged layers directory ("" without layers)
  std::string tmp;        // /tmp (isolated) or the instance's scratch directory
};

struct LaunchSpec {
  std::vector<std::string> argv;  // argv[0] is the executable's path as the instance sees it
  std::vector<std::string> env;   // "NAME=value"
  std::string code_dir;           // host path of the unpacked code
  std::string opt_dir;            // host path of the merged layers, "" when none
  std::string scratch_dir;        // host path for the instance's /tmp without isolation
  uint64_t tmp_bytes = 512ull * 1024 * 1024;
  uint32_t uid = 0;               // isolated instances run as uid/gid
  uint32_t gid = 0;
};

struct Process {
  pid_t pid = -1;
  int pidfd = -1;   // readable when the process exits
  int out_fd = -1;  // read end of stdout (non-blocking)
  int err_fd = -1;  // read end of stderr (non-blocking)
};

SandboxPaths PathsFor(const SandboxOptions& options, const LaunchSpec& spec,
                      const std::string& runtime_dir);

// Starts the process. Fails with the reason (a missing or non-executable entry point is
// reported as "fork/exec <path>: <strerror>", as Lambda words it).
Result<Process> Launch(const SandboxOptions& options, const LaunchSpec& spec);

// Kills the instance's whole process group and reaps the leader (non-blocking when already
// dead). Closes nothing.
void KillProcessGroup(pid_t pid);

// The resident set of `pid` and its peak, in bytes (from /proc/<pid>/status); 0 when gone.
struct MemoryUse {
  uint64_t rss = 0;
  uint64_t peak = 0;
};
MemoryUse ReadMemoryUse(pid_t pid);

}  // namespace stratus::services::lambda

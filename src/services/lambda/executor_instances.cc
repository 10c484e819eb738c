// Function instances' lifecycle: launching the sandboxed process (environment, code, listener)
// on the spawner threads, killing, reaping and releasing it.
#include "services/lambda/executor_internal.h"

#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include <spdlog/spdlog.h>

#include "core/strings.h"
#include "services/lambda/errors.h"

namespace stratus::services::lambda {

void Executor::Impl::Kill(Instance& inst) {
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

void Executor::Impl::RemoveFromFree(Instance& inst) {
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

void Executor::Impl::Reap(std::shared_ptr<Instance> inst, Completions& after) {
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

void Executor::Impl::Release(Instance& inst) {
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

std::vector<std::string> Executor::Impl::Environment(const Instance& inst,
                                                     const SandboxPaths& paths,
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

Status Executor::Impl::Spawn(const std::shared_ptr<Instance>& inst, Completions& after) {
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

void Executor::Impl::StartInstance(const std::shared_ptr<Instance>& fresh) {
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

void Executor::Impl::SpawnerLoop() {
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

}  // namespace stratus::services::lambda

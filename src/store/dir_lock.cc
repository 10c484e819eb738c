#include "store/dir_lock.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/strings.h"

namespace stratus::store::internal {
namespace {

// Reads what the holder wrote into the lock file ("pid 1234"), best effort.
std::string ReadHolder(int fd) {
  char buffer[64] = {};
  ssize_t n = pread(fd, buffer, sizeof(buffer) - 1, 0);
  if (n <= 0) {
    return "";
  }
  return std::string(Trim(std::string_view(buffer, static_cast<size_t>(n))));
}

}  // namespace

Result<std::unique_ptr<DirLock>> DirLock::Acquire(const std::string& dir) {
  std::string path = dir + "/" + kFileName;
  // O_CLOEXEC: function processes forked by this server must not inherit (and keep) the lock.
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    int err = errno;
    return InternalFailure(fmt::format(
        "store: cannot open the lock file {}: {}; check that the data directory is writable "
        "by this user",
        path, std::strerror(err)));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string holder = ReadHolder(fd);
    close(fd);
    if (err == EWOULDBLOCK) {
      return InternalFailure(fmt::format(
          "store: the data directory {} is in use by another stratus ({}): stop that process or "
          "start this one with another --data-dir",
          dir, holder.empty() ? "pid unknown" : holder));
    }
    return InternalFailure(fmt::format("store: cannot lock {}: {}", path, std::strerror(err)));
  }
  std::string content = fmt::format("pid {}\n", getpid());
  if (ftruncate(fd, 0) != 0 ||
      pwrite(fd, content.data(), content.size(), 0) != static_cast<ssize_t>(content.size())) {
    // The lock itself is held; only the diagnostic content is missing.
    spdlog::warn("store: could not record the pid in {}: {}", path, std::strerror(errno));
  }
  return std::unique_ptr<DirLock>(new DirLock(fd));
}

DirLock::~DirLock() {
  // Closing the descriptor releases the flock. The file stays: deleting it would race with a
  // process that opened it and is about to lock it.
  close(fd_);
}

}  // namespace stratus::store::internal

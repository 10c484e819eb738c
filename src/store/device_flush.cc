#include "store/device_flush.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

namespace stratus::store::internal {

int OpenDeviceFlushFile(const std::string& dir) {
  struct statfs fs {};
  if (::statfs(dir.c_str(), &fs) != 0 || fs.f_type != EXT4_SUPER_MAGIC) return -1;
  int fd = ::open((dir + "/.device-flush").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  // Synced once so that later fdatasyncs find it clean: each is then the device flush alone.
  if (::fdatasync(fd) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace stratus::store::internal

#pragma once

#include <string>

namespace stratus::store::internal {

// A descriptor whose fdatasync flushes the device's write cache and writes nothing else, for the
// file system that holds `dir`; -1 where that cannot be relied on. The store's writers then make
// bytes written over allocated, already durable blocks stable with sync_file_range (write and
// wait) plus this one flush, instead of an fdatasync that would also write the file's inode
// whenever a write changed its mtime (ext4 without a journal does so on every fsync).
//
// Only on ext4, and the descriptor is of a regular file (`dir`/.device-flush, created and synced
// once, never written again): ext4's fsync of a clean regular file issues the cache flush with or
// without a journal (with one, it flushes unless the file's last data transaction is still being
// committed, and that commit then carries the flush). A directory would not do: with a journal,
// ext4 answers a directory's fsync with a journal commit, and when nothing is left to commit it
// returns without flushing the device.
int OpenDeviceFlushFile(const std::string& dir);

}  // namespace stratus::store::internal

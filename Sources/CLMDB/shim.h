#ifndef TOUCHLOG_CLMDB_SHIM_H
#define TOUCHLOG_CLMDB_SHIM_H
#include <lmdb.h>

#if defined(__linux__)
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/syscall.h>
#include <unistd.h>
/// Reserves disk blocks for the first `length` bytes of `fd` without changing its size
/// (fallocate(2) with FALLOC_FL_KEEP_SIZE), so that LMDB can size and map its lock file without a
/// SIGBUS on a full disk. Returns 0, or -1 with errno set.
static inline int touchlog_reserve_blocks(int fd, long long length) {
    return (int)syscall(SYS_fallocate, fd, FALLOC_FL_KEEP_SIZE, (long long)0, length);
}
#endif
#endif

// LD_PRELOAD shim for the power-loss simulation (Tools/powerloss.sh).
// Records, in order, every write to a file named data.mdb (offset and bytes: 'W', or 'D' when written
// through an O_DSYNC descriptor and so durable at once), every fsync/fdatasync of it ('S'), and every line the process writes to
// standard output (the acknowledgements of `touchlog ingest --print-commits`). A machine crash at any
// moment keeps exactly what was synced before it; powerloss.py rebuilds those images from the journal.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static int journal = -1;
static char tracked[1024]; // 1 = data.mdb, 2 = other, 0 = unknown

static void put(const void *p, size_t n) {
    const char *c = p;
    while (n > 0) {
        ssize_t w = syscall(SYS_write, journal, c, n);
        if (w <= 0) abort();
        c += w; n -= (size_t)w;
    }
}

static int ready(void) {
    if (journal >= 0) return 1;
    const char *path = getenv("TOUCHLOG_JOURNAL");
    if (!path) return 0;
    journal = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    return journal >= 0;
}

static int is_data(int fd) {
    if (fd < 0 || fd >= 1024) return 0;
    if (tracked[fd] == 0) {
        char link[64], target[4096];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        target[n > 0 ? n : 0] = 0;
        size_t len = strlen(target);
        tracked[fd] = (len >= 9 && strcmp(target + len - 9, "/data.mdb") == 0) ? 1 : 2;
    }
    return tracked[fd] == 1;
}

static void record(char type, uint64_t offset, const void *data, uint64_t len) {
    put(&type, 1); put(&offset, 8); put(&len, 8);
    if (len) put(data, len);
}

static void after_write(int fd, uint64_t offset, const void *data, ssize_t written) {
    if (written <= 0 || !ready() || !is_data(fd)) return;
    // A write through an O_DSYNC descriptor (LMDB's meta page) is durable by itself: 'D'.
    int flags = fcntl(fd, F_GETFL);
    record(flags >= 0 && (flags & (O_DSYNC | O_SYNC)) ? 'D' : 'W', offset, data, (uint64_t)written);
}

#define REAL(name) static __typeof__(&name) real_##name; if (!real_##name) real_##name = dlsym(RTLD_NEXT, #name)

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
    REAL(pwrite);
    ssize_t w = real_pwrite(fd, buf, n, off);
    after_write(fd, (uint64_t)off, buf, w);
    return w;
}
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) { return pwrite(fd, buf, n, off); }

ssize_t write(int fd, const void *buf, size_t n) {
    REAL(write);
    off_t off = is_data(fd) ? lseek(fd, 0, SEEK_CUR) : 0;
    ssize_t w = real_write(fd, buf, n);
    if (fd == 1 && w > 0 && ready()) record('A', 0, buf, (uint64_t)w);
    after_write(fd, (uint64_t)off, buf, w);
    return w;
}

ssize_t writev(int fd, const struct iovec *iov, int count) {
    REAL(writev);
    off_t off = is_data(fd) ? lseek(fd, 0, SEEK_CUR) : 0;
    ssize_t w = real_writev(fd, iov, count);
    if (w > 0 && ready() && is_data(fd)) {
        ssize_t left = w;
        for (int i = 0; i < count && left > 0; i++) {
            size_t part = iov[i].iov_len < (size_t)left ? iov[i].iov_len : (size_t)left;
            record('W', (uint64_t)off, iov[i].iov_base, part);
            off += (off_t)part; left -= (ssize_t)part;
        }
    }
    return w;
}

ssize_t pwritev(int fd, const struct iovec *iov, int count, off_t off) {
    REAL(pwritev);
    ssize_t w = real_pwritev(fd, iov, count, off);
    if (w > 0 && ready() && is_data(fd)) {
        ssize_t left = w;
        for (int i = 0; i < count && left > 0; i++) {
            size_t part = iov[i].iov_len < (size_t)left ? iov[i].iov_len : (size_t)left;
            record('W', (uint64_t)off, iov[i].iov_base, part);
            off += (off_t)part; left -= (ssize_t)part;
        }
    }
    return w;
}

int fdatasync(int fd) {
    REAL(fdatasync);
    int rc = real_fdatasync(fd);
    if (rc == 0 && ready() && is_data(fd)) record('S', 0, NULL, 0);
    return rc;
}

int fsync(int fd) {
    REAL(fsync);
    int rc = real_fsync(fd);
    if (rc == 0 && ready() && is_data(fd)) record('S', 0, NULL, 0);
    return rc;
}

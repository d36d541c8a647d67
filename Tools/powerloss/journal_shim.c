// LD_PRELOAD shim for the power-loss simulation (Tools/powerloss.sh).
// Records, in order, every write to a file named data.mdb (offset and bytes: 'W', or 'D' when written
// through an O_DSYNC descriptor and so durable at once), every fsync/fdatasync of it ('S'), and every line the process writes to
// standard output (the acknowledgements of `touchlog ingest --print-commits`). A machine crash at any
// moment keeps exactly what was synced before it; powerloss.py rebuilds those images from the journal.
//
// The process has several threads (`ingest` commits on a writer thread while the main thread prints the
// acknowledgements), so each record is written whole, by one writev(2) of the journal, and under one
// lock that also covers the operation it records: records never interleave, and their order in the
// journal is the order in which the operations happened. The journal starts with a header (magic and
// version) so that powerloss.py never reads a journal of another format.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define JOURNAL_MAGIC "TLJOURN2"

static int journal = -1;
// Recursive: a crash handler that writes while this thread holds the lock must not hang.
static pthread_mutex_t lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

// Writes all of `iov` to the journal (one writev; continues after a short write, which only a full
// disk or a signal causes, still under the lock, so nothing else lands in between).
static void put(struct iovec *iov, int count) {
    while (count > 0) {
        ssize_t w = syscall(SYS_writev, journal, iov, count);
        if (w <= 0) abort();
        while (count > 0 && (size_t)w >= iov->iov_len) { w -= (ssize_t)iov->iov_len; iov++; count--; }
        if (count > 0) { iov->iov_base = (char *)iov->iov_base + w; iov->iov_len -= (size_t)w; }
    }
}

// Called with `lock` held.
static int ready(void) {
    if (journal >= 0) return 1;
    const char *path = getenv("TOUCHLOG_JOURNAL");
    if (!path) return 0;
    journal = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (journal < 0) return 0;
    if (lseek(journal, 0, SEEK_END) == 0) {
        struct iovec header = { JOURNAL_MAGIC, 8 };
        put(&header, 1);
    }
    return 1;
}

// Whether `fd` is data.mdb now. Not cached: a descriptor number is reused after close(2), so a cache
// could record another file's writes and syncs as data.mdb's, or miss data.mdb's.
static int is_data(int fd) {
    if (fd < 0) return 0;
    char link[64], target[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0) return 0;
    target[n] = 0;
    return n >= 9 && strcmp(target + n - 9, "/data.mdb") == 0;
}

// Called with `lock` held.
static void record_parts(char type, uint64_t offset, const struct iovec *data, int count) {
    uint64_t len = 0;
    for (int i = 0; i < count; i++) len += data[i].iov_len;
    struct iovec iov[1 + 3 + 64];
    iov[0] = (struct iovec){ &type, 1 };
    iov[1] = (struct iovec){ &offset, 8 };
    iov[2] = (struct iovec){ &len, 8 };
    int n = 3;
    for (int i = 0; i < count && n < (int)(sizeof iov / sizeof iov[0]); i++) iov[n++] = data[i];
    if (n - 3 < count) abort();  // more parts than one record can carry: never from LMDB (one page each)
    put(iov, n);
}

static void record(char type, uint64_t offset, const void *data, uint64_t len) {
    struct iovec part = { (void *)data, (size_t)len };
    record_parts(type, offset, &part, len ? 1 : 0);
}

// Called with `lock` held, after a write of `written` bytes at `offset` through `fd`.
static void after_write(int fd, uint64_t offset, const void *data, ssize_t written) {
    if (written <= 0 || !ready() || !is_data(fd)) return;
    // A write through an O_DSYNC descriptor (LMDB's meta page) is durable by itself: 'D'.
    int flags = fcntl(fd, F_GETFL);
    record(flags >= 0 && (flags & (O_DSYNC | O_SYNC)) ? 'D' : 'W', offset, data, (uint64_t)written);
}

// Called with `lock` held: records what a writev/pwritev of `written` bytes at `offset` wrote, one
// 'W' per buffer (LMDB passes one page or one run of overflow pages per buffer).
static void after_writev(int fd, uint64_t offset, const struct iovec *iov, int count, ssize_t written) {
    if (written <= 0 || !ready() || !is_data(fd)) return;
    int flags = fcntl(fd, F_GETFL);
    char type = flags >= 0 && (flags & (O_DSYNC | O_SYNC)) ? 'D' : 'W';
    ssize_t left = written;
    for (int i = 0; i < count && left > 0; i++) {
        size_t part = iov[i].iov_len < (size_t)left ? iov[i].iov_len : (size_t)left;
        record(type, offset, iov[i].iov_base, part);
        offset += part; left -= (ssize_t)part;
    }
}

#define REAL(name) static __typeof__(&name) real_##name; if (!real_##name) real_##name = dlsym(RTLD_NEXT, #name)

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
    REAL(pwrite);
    pthread_mutex_lock(&lock);
    ssize_t w = real_pwrite(fd, buf, n, off);
    int saved = errno;
    after_write(fd, (uint64_t)off, buf, w);
    pthread_mutex_unlock(&lock);
    errno = saved;
    return w;
}
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) { return pwrite(fd, buf, n, off); }

ssize_t write(int fd, const void *buf, size_t n) {
    REAL(write);
    pthread_mutex_lock(&lock);
    off_t off = is_data(fd) ? lseek(fd, 0, SEEK_CUR) : 0;
    ssize_t w = real_write(fd, buf, n);
    int saved = errno;
    if (fd == 1 && w > 0 && ready()) record('A', 0, buf, (uint64_t)w);
    after_write(fd, (uint64_t)off, buf, w);
    pthread_mutex_unlock(&lock);
    errno = saved;
    return w;
}

ssize_t writev(int fd, const struct iovec *iov, int count) {
    REAL(writev);
    pthread_mutex_lock(&lock);
    off_t off = is_data(fd) ? lseek(fd, 0, SEEK_CUR) : 0;
    ssize_t w = real_writev(fd, iov, count);
    int saved = errno;
    after_writev(fd, (uint64_t)off, iov, count, w);
    pthread_mutex_unlock(&lock);
    errno = saved;
    return w;
}

ssize_t pwritev(int fd, const struct iovec *iov, int count, off_t off) {
    REAL(pwritev);
    pthread_mutex_lock(&lock);
    ssize_t w = real_pwritev(fd, iov, count, off);
    int saved = errno;
    after_writev(fd, (uint64_t)off, iov, count, w);
    pthread_mutex_unlock(&lock);
    errno = saved;
    return w;
}
ssize_t pwritev64(int fd, const struct iovec *iov, int count, off_t off) { return pwritev(fd, iov, count, off); }

int fdatasync(int fd) {
    REAL(fdatasync);
    pthread_mutex_lock(&lock);
    int rc = real_fdatasync(fd);
    int saved = errno;
    if (rc == 0 && ready() && is_data(fd)) record('S', 0, NULL, 0);
    pthread_mutex_unlock(&lock);
    errno = saved;
    return rc;
}

int fsync(int fd) {
    REAL(fsync);
    pthread_mutex_lock(&lock);
    int rc = real_fsync(fd);
    int saved = errno;
    if (rc == 0 && ready() && is_data(fd)) record('S', 0, NULL, 0);
    pthread_mutex_unlock(&lock);
    errno = saved;
    return rc;
}

// Self-test of journal_shim.c (Tools/powerloss.sh --self-test): one thread writes and syncs pages of a
// data.mdb as LMDB does (pwrite, writev, fdatasync, an O_DSYNC meta write) while another prints lines
// on standard output, as `touchlog ingest` commits on its writer thread while the main thread prints
// acknowledgements. powerloss.py --check-journal then requires every record to be whole and in order.
// usage: shim_stress DIRECTORY ROUNDS
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static int rounds;
static char path[4096];

static void *pages(void *unused) {
    (void)unused;
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    int meta = open(path, O_WRONLY | O_DSYNC);
    if (fd < 0 || meta < 0) { perror("open"); exit(1); }
    static char page[2][4096];
    for (int r = 0; r < rounds; r++) {
        memset(page[0], 'a' + r % 26, sizeof page[0]);
        memset(page[1], 'A' + r % 26, sizeof page[1]);
        if (pwrite(fd, page[0], 4096, (off_t)(2 + r % 64) * 4096) != 4096) exit(1);
        struct iovec iov[2] = { { page[0], 4096 }, { page[1], 4096 } };
        if (lseek(fd, (off_t)(70 + r % 64) * 4096, SEEK_SET) < 0 || writev(fd, iov, 2) != 8192) exit(1);
        if (r % 64 == 63) {
            if (fdatasync(fd) != 0) exit(1);
            if (pwrite(meta, page[1], 120, (r / 64 % 2) * 4096 + 32) != 120) exit(1);
        }
    }
    close(meta);
    close(fd);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: shim_stress DIRECTORY ROUNDS\n"); return 2; }
    snprintf(path, sizeof path, "%s/data.mdb", argv[1]);
    rounds = atoi(argv[2]);
    pthread_t writer;
    pthread_create(&writer, NULL, pages, NULL);
    char line[128];
    for (int r = 0; r < rounds; r++) {
        int n = snprintf(line, sizeof line, "{\"committed_through_line\":%d}\n", r + 1);
        if (write(1, line, (size_t)n) != n) return 1;
    }
    pthread_join(writer, NULL);
    return 0;
}

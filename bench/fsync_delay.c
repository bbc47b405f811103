/* LD_PRELOAD shim for bench_register: every fsync/fdatasync first sleeps FSYNC_DELAY_US microseconds.
 * It models a disk whose cache flush is slower than this machine's (a virtual disk with a write-back cache
 * answers a flush in ~0.1 ms; desktop SSDs and hard disks take longer). Latency only, not bandwidth.
 * Built on demand: gcc -shared -fPIC -O2 -o fsync_delay.so fsync_delay.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static long delay_us(void) {
    static long delay = -1;
    if (delay < 0) {
        const char *s = getenv("FSYNC_DELAY_US");
        delay = s ? atol(s) : 0;
    }
    return delay;
}

static void wait_for_disk(void) {
    long d = delay_us();
    if (d > 0) {
        struct timespec ts = {d / 1000000, (d % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    wait_for_disk();
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    wait_for_disk();
    return real(fd);
}

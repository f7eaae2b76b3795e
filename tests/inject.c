/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libhostdev-inject.so: failure injection for runs of the real hostdevctl
 * on a real kernel (the QEMU guest, tests/vm/scenarios/passthrough.sh) or
 * on a sysroot, loaded with LD_PRELOAD.  The shipped library has no test
 * hooks; this interposes the libc write() that util/sysfs.c's
 * hd_sysfs_write() ends in (docs/testing.md):
 *
 *   HOSTDEV_TEST_FAIL_BIND=ADDR  writing ADDR to .../bus/pci/drivers_probe
 *                                fails with EIO, before the kernel sees it
 *                                (the bind of ADDR to its new driver fails)
 *   HOSTDEV_TEST_DELAY_MS=N      after each write to drivers_probe, sleep N ms
 *                                (to kill the process mid-transaction)
 *
 * The in-process fake kernel (tests/fake-kernel.c) reads the same two
 * variables for test-vfio and hostdevctl-fake.  Tests only: never installed.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The path behind @fd ends in "/drivers_probe". */
static int is_drivers_probe(int fd) {
        char link[64], path[PATH_MAX];
        ssize_t n;
        static const char tail[] = "/drivers_probe";

        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        n = readlink(link, path, sizeof(path) - 1);
        if (n < (ssize_t) sizeof(tail) - 1)
                return 0;
        path[n] = 0;
        return strcmp(path + n - (sizeof(tail) - 1), tail) == 0;
}

/* @buf (@count bytes, maybe with a trailing newline) is @addr */
static int names(const void *buf, size_t count, const char *addr) {
        size_t l = strlen(addr);
        while (count > 0 && ((const char *) buf)[count - 1] == '\n')
                count--;
        return count == l && memcmp(buf, addr, l) == 0;
}

ssize_t write(int fd, const void *buf, size_t count) {
        const char *fail = getenv("HOSTDEV_TEST_FAIL_BIND");
        const char *delay = getenv("HOSTDEV_TEST_DELAY_MS");
        ssize_t n;

        if ((!fail && !delay) || !is_drivers_probe(fd))
                return syscall(SYS_write, fd, buf, count);
        if (fail && names(buf, count, fail)) {
                errno = EIO;
                return -1;
        }
        n = syscall(SYS_write, fd, buf, count);
        if (delay) {
                long ms = strtol(delay, NULL, 10);
                struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
                int saved = errno;
                while (ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
                errno = saved;
        }
        return n;
}

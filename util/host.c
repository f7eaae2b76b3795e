/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers the module folders share: PCI device paths, driver lookup, state
 * locks, /proc scans, fixed-size string copies. Kernel files are read
 * through util/sysfs.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

void hd_copy_str(char *dst, size_t size, const char *src) {
        snprintf(dst, size, "%s", src ? src : "");
}

int hd_pci_path(char *buf, size_t size, const char *addr, const char *attr) {
        int n = attr ? snprintf(buf, size, "sys/bus/pci/devices/%s/%s", addr, attr)
                     : snprintf(buf, size, "sys/bus/pci/devices/%s", addr);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

int hd_pci_pathf(char *buf, size_t size, const char *addr, const char *fmt, ...) {
        char attr[PATH_MAX];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(attr, sizeof(attr), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= sizeof(attr))
                return -ENAMETOOLONG;
        return hd_pci_path(buf, size, addr, attr);
}

int hd_sysfs_read_driver(hd_ctx *ctx, const char *devpath, char **ret) {
        _cleanup_free_ char *target = NULL;
        char path[PATH_MAX];
        int n, r;

        n = snprintf(path, sizeof(path), "%s/driver", devpath);
        if (n < 0 || (size_t) n >= sizeof(path))
                return -ENAMETOOLONG;
        r = hd_sysfs_readlink(ctx, path, &target);
        if (r < 0)
                return r;
        return hd_asprintf(ret, "%s", hd_path_basename(target)) < 0 ? -ENOMEM : 0;
}

void hd_pci_read_driver(hd_ctx *ctx, const char *addr, char *buf, size_t size) {
        _cleanup_free_ char *drv = NULL;
        char path[PATH_MAX];

        if (hd_pci_path(path, sizeof(path), addr, NULL) < 0 || hd_sysfs_read_driver(ctx, path, &drv) < 0)
                drv = NULL;
        hd_copy_str(buf, size, drv);
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

int hd_state_lock(hd_ctx *ctx, const char *path, int *ret_fd) {
        uint64_t timeout = ctx ? ctx->lock_timeout_usec : UINT64_MAX, deadline;
        int fd, r, pid = 0;

        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return negative_errno();
        if (timeout == UINT64_MAX) {
                /* wait for the other run */
                while (flock(fd, LOCK_EX) < 0)
                        if (errno != EINTR) {
                                r = negative_errno();
                                close(fd);
                                return r;
                        }
                *ret_fd = fd;
                return 0;
        }
        /* a bounded wait: try, then sleep 20 ms, until the deadline */
        deadline = now_usec() + timeout;
        for (;;) {
                if (flock(fd, LOCK_EX | LOCK_NB) >= 0) {
                        *ret_fd = fd;
                        return 0;
                }
                if (errno != EWOULDBLOCK && errno != EINTR) {
                        r = negative_errno();
                        close(fd);
                        return r;
                }
                if (now_usec() >= deadline)
                        break;
                (void) nanosleep(&(struct timespec) { .tv_nsec = 20 * 1000 * 1000 }, NULL);
        }
        close(fd);
        {
                /* the directory, and the holder when /proc shows it */
                _cleanup_free_ char *dir = strdup(path);
                char *slash = dir ? strrchr(dir, '/') : NULL;
                char who[32] = "";
                if (slash && slash != dir)
                        *slash = 0;
                if (ctx && hd_proc_scan_fds(ctx, path, NULL, &pid) > 0 && pid > 0)
                        snprintf(who, sizeof(who), " (pid %d)", pid);
                return hd_error(ctx, -ETIMEDOUT,
                                "the state directory %s is locked by another hostdev operation%s for %llu.%01llu s; "
                                "nothing changed",
                                dir ?: path, who, (unsigned long long) (timeout / 1000000),
                                (unsigned long long) (timeout % 1000000 / 100000));
        }
}

int hd_proc_foreach_fd(hd_ctx *ctx, hd_proc_fd_fn fn, void *userdata) {
        _cleanup_strv_free_ char **pids = NULL;
        size_t np = 0;

        if (hd_sysfs_list_dir(ctx, "proc", &pids, &np) < 0)
                return 0;
        for (size_t i = 0; i < np; i++) {
                _cleanup_strv_free_ char **fds = NULL;
                char path[PATH_MAX];
                size_t nf = 0;
                unsigned pid;

                if (hd_safe_atou(pids[i], 10, &pid) < 0)
                        continue;
                snprintf(path, sizeof(path), "proc/%s/fd", pids[i]);
                if (hd_sysfs_list_dir(ctx, path, &fds, &nf) < 0)
                        continue; /* gone, or not ours to read */
                for (size_t j = 0; j < nf; j++) {
                        _cleanup_free_ char *t = NULL;
                        int r;
                        snprintf(path, sizeof(path), "proc/%s/fd/%s", pids[i], fds[j]);
                        if (hd_sysfs_readlink(ctx, path, &t) < 0)
                                continue;
                        r = fn(userdata, (int) pid, t);
                        if (r != 0)
                                return r;
                }
        }
        return 0;
}

struct scan_target {
        const char *target, *target2;
        int pid;
};

static int match_target(void *userdata, int pid, const char *link) {
        struct scan_target *s = userdata;
        if (streq(link, s->target) || (s->target2 && streq(link, s->target2))) {
                s->pid = pid;
                return 1;
        }
        return 0;
}

int hd_proc_scan_fds(hd_ctx *ctx, const char *target, const char *target2, int *ret_pid) {
        struct scan_target s = { target, target2, -1 };
        int r = hd_proc_foreach_fd(ctx, match_target, &s);
        if (r > 0 && ret_pid)
                *ret_pid = s.pid;
        return r;
}

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

int hd_state_lock(const char *path, int *ret_fd) {
        int fd, r;

        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return negative_errno();
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

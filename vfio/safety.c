/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host safety: never take away what the host needs.  A PCI device is
 * "needed" when a block device below it backs a mounted filesystem, active
 * swap or an active dm/md/LVM device, when a network interface below it
 * carries the default route (directly or as the lower device of a bond,
 * bridge or VLAN), when it is the boot VGA device with a framebuffer
 * console bound, or when a process holds one of its DRM nodes open.
 * Everything is read through the context root: proc/ and sys/.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>

#include "vfio/vfio-internal.h"

static bool under(const char *path, const char *dev) {
        size_t l = strlen(dev);
        return strncmp(path, dev, l) == 0 && (path[l] == '/' || path[l] == 0);
}

/* The reason of a refusal in *@reason: -EBUSY, or -ENOMEM. */
static int reasonf(char **reason, const char *fmt, ...) _printf_(2, 3);
static int reasonf(char **reason, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = hd_vasprintf(reason, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EBUSY;
}

/* A fact safety needs cannot be read: say so and refuse, never report
 * "safe".  A capture replayed with --sysroot has no proc/ at all. */
static int unknown(hd_ctx *ctx, const char *file, char **reason) {
        return reasonf(reason, "host-safety facts unknown: %s/%s cannot be read%s", ctx->sysroot ?: "", file,
                ctx->sysroot ? " (a capture records no mounts, swaps, routes or open files)" : "");
}

/* Is the block device sys/dev/block/MAJ:MIN (or anything it is built on,
 * through slaves/) below @dev?  Returns the kernel name found in @name. */
static bool block_under(hd_ctx *ctx, const char *majmin, const char *dev, int depth, char *name, size_t nsize) {
        _cleanup_free_ char *sys = NULL;
        _cleanup_strv_free_ char **slaves = NULL;
        char path[PATH_MAX];
        size_t n = 0;

        if (depth > 8)
                return false;
        snprintf(path, sizeof(path), "sys/dev/block/%s", majmin);
        if (hd_sysfs_resolve_link(ctx, path, &sys) < 0)
                return false;
        if (under(sys, dev)) {
                snprintf(name, nsize, "%s", hd_path_basename(sys));
                return true;
        }
        /* dm/md: follow what it is built on; a partition's disk is its parent dir */
        snprintf(path, sizeof(path), "%s/slaves", sys + 1);
        if (hd_sysfs_list_dir(ctx, path, &slaves, &n) < 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *mm = NULL;
                if (hd_sysfs_read_strf(ctx, &mm, "sys/class/block/%s/dev", slaves[i]) < 0)
                        continue;
                if (block_under(ctx, mm, dev, depth + 1, name, nsize))
                        return true;
        }
        return false;
}

static int check_mounts(hd_ctx *ctx, const char *dev, char **reason) {
        _cleanup_free_ char *mi = NULL;
        const char *p;

        if (hd_sysfs_read_full(ctx, "proc/self/mountinfo", &mi, NULL) < 0)
                return unknown(ctx, "proc/self/mountinfo", reason);
        for (p = mi; *p;) {
                const char *nl = strchrnul(p, '\n');
                char majmin[32], mnt[512], blk[64];
                /* id parent maj:min root mountpoint ... */
                if (sscanf(p, "%*u %*u %31s %*s %511s", majmin, mnt) == 2 && !startswith(majmin, "0:") &&
                    block_under(ctx, majmin, dev, 0, blk, sizeof(blk))) {
                        return reasonf(reason, "%s backs the filesystem mounted on %s", blk, mnt);
                }
                p = *nl ? nl + 1 : nl;
        }
        return 0;
}

static int check_swap(hd_ctx *ctx, const char *dev, char **reason) {
        _cleanup_free_ char *sw = NULL;
        const char *p;

        if (hd_sysfs_read_full(ctx, "proc/swaps", &sw, NULL) < 0)
                return unknown(ctx, "proc/swaps", reason);
        p = strchr(sw, '\n'); /* header */
        while (p && *++p) {
                const char *nl = strchrnul(p, '\n');
                char file[512], type[32];
                if (sscanf(p, "%511s %31s", file, type) == 2 && streq(type, "partition") && startswith(file, "/dev/")) {
                        _cleanup_free_ char *mm = NULL;
                        char blk[64];
                        const char *kname = hd_path_basename(file);
                        if (hd_sysfs_read_strf(ctx, &mm, "sys/class/block/%s/dev", kname) >= 0 &&
                            block_under(ctx, mm, dev, 0, blk, sizeof(blk))) {
                                return reasonf(reason, "%s is active swap", file);
                        }
                }
                /* swap files live on a mounted filesystem: check_mounts covers them */
                p = *nl ? nl : NULL;
        }
        return 0;
}

/* A disk or partition below @dev that is held by dm/md (LVM, RAID, crypt). */
static int check_holders(hd_nodedev_list *list, const char *dev, char **reason) {
        hd_ctx *ctx = hd_nodedev_list_get_ctx(list);
        for (size_t i = 0; i < hd_nodedev_list_count(list); i++) {
                hd_device *b = hd_nodedev_list_get(list, i);
                _cleanup_strv_free_ char **entries = NULL;
                size_t n = 0;
                char path[PATH_MAX];

                if (hd_device_get_cap_type(b) != HD_CAP_STORAGE || !under(hd_device_get_syspath(b), dev))
                        continue;
                /* the disk itself, then its partitions (subdirectories with "partition") */
                if (hd_sysfs_list_dir(ctx, hd_device_get_syspath(b), &entries, &n) < 0)
                        continue;
                for (size_t k = 0; k <= n; k++) {
                        _cleanup_strv_free_ char **holders = NULL;
                        size_t nh = 0;
                        char part[PATH_MAX];
                        if (k == n)
                                snprintf(path, sizeof(path), "%s/holders", hd_device_get_syspath(b));
                        else {
                                snprintf(part, sizeof(part), "%s/%s/partition", hd_device_get_syspath(b), entries[k]);
                                if (!hd_sysfs_exists(ctx, part))
                                        continue;
                                snprintf(path, sizeof(path), "%s/%s/holders", hd_device_get_syspath(b), entries[k]);
                        }
                        if (hd_sysfs_list_dir(ctx, path, &holders, &nh) >= 0 && nh > 0) {
                                return reasonf(reason, "%s%s%s is part of the active device %s (dm/md/LVM)",
                                        hd_device_get_sysname(b), k == n ? "" : "/", k == n ? "" : entries[k],
                                        holders[0]);
                        }
                }
        }
        return 0;
}

/* Does the interface, or any lower device of it, sit below @dev? */
static bool net_under(hd_ctx *ctx, const char *ifname, const char *dev, int depth, char *found, size_t fsize) {
        _cleanup_free_ char *sys = NULL;
        _cleanup_strv_free_ char **entries = NULL;
        char path[PATH_MAX];
        size_t n = 0;

        if (depth > 8 || strchr(ifname, '/') || streq(ifname, "..") || streq(ifname, "."))
                return false;
        snprintf(path, sizeof(path), "sys/class/net/%s", ifname);
        if (hd_sysfs_resolve_link(ctx, path, &sys) < 0)
                return false;
        if (under(sys, dev)) {
                snprintf(found, fsize, "%s", ifname);
                return true;
        }
        if (hd_sysfs_list_dir(ctx, sys, &entries, &n) < 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                const char *lower = startswith(entries[i], "lower_");
                if (lower && net_under(ctx, lower, dev, depth + 1, found, fsize))
                        return true;
        }
        return false;
}

static int check_default_route(hd_ctx *ctx, const char *dev, char **reason) {
        _cleanup_free_ char *v4 = NULL, *v6 = NULL;
        const char *p;
        char found[64];

        if (hd_sysfs_read_full(ctx, "proc/net/route", &v4, NULL) < 0)
                return unknown(ctx, "proc/net/route", reason);
        if (v4)
                for (p = strchr(v4, '\n'); p && *++p;) {
                        const char *nl = strchrnul(p, '\n');
                        char ifname[64], dst[16], mask[16];
                        /* Iface Destination Gateway Flags RefCnt Use Metric Mask ... */
                        if (sscanf(p, "%63s %15s %*s %*s %*s %*s %*s %15s", ifname, dst, mask) == 3 &&
                            streq(dst, "00000000") && streq(mask, "00000000") &&
                            net_under(ctx, ifname, dev, 0, found, sizeof(found))) {
                                return reasonf(reason, "%s carries the IPv4 default route%s%s", found,
                                        streq(found, ifname) ? "" : " through ", streq(found, ifname) ? "" : ifname);
                        }
                        p = *nl ? nl : NULL;
                }
        if (hd_sysfs_read_full(ctx, "proc/net/ipv6_route", &v6, NULL) >= 0)
                for (p = v6; p && *p;) {
                        const char *nl = strchrnul(p, '\n');
                        char dst[40], plen[4], ifname[64];
                        /* dst plen src splen nexthop metric refcnt use flags iface */
                        if (sscanf(p, "%39s %3s %*s %*s %*s %*s %*s %*s %*s %63s", dst, plen, ifname) == 3 &&
                            strspn(dst, "0") == 32 && streq(plen, "00") && !streq(ifname, "lo") &&
                            net_under(ctx, ifname, dev, 0, found, sizeof(found))) {
                                return reasonf(reason, "%s carries the IPv6 default route", found);
                        }
                        p = *nl ? nl + 1 : NULL;
                }
        return 0;
}

static int check_console(hd_device *d, char **reason) {
        hd_ctx *ctx = hd_device_get_ctx(d);
        _cleanup_strv_free_ char **vt = NULL;
        long long boot_vga = 0;
        size_t n = 0;

        if (hd_device_read_attr_long(d, "boot_vga", 10, &boot_vga) < 0 || boot_vga != 1)
                return 0;
        if (hd_sysfs_list_dir(ctx, "sys/class/vtconsole", &vt, &n) < 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *name = NULL;
                long long bound = 0;
                if (hd_sysfs_read_longf(ctx, 10, &bound, "sys/class/vtconsole/%s/bind", vt[i]) < 0 || bound != 1)
                        continue;
                if (hd_sysfs_read_strf(ctx, &name, "sys/class/vtconsole/%s/name", vt[i]) >= 0 &&
                    strstr(name, "frame buffer")) {
                        return reasonf(reason, "%s is the boot VGA device and the framebuffer console (%s) is bound to it",
                                hd_device_get_sysname(d), vt[i]);
                }
        }
        return 0;
}

static int check_open_drm(hd_nodedev_list *list, hd_device *d, char **reason) {
        hd_ctx *ctx = hd_nodedev_list_get_ctx(list);
        _cleanup_strv_free_ char **nodes = NULL, **pids = NULL;
        size_t nn = 0, np = 0;

        for (size_t i = 0; i < hd_nodedev_list_count(list); i++) {
                hd_device *x = hd_nodedev_list_get(list, i);
                if (hd_device_get_cap_type(x) == HD_CAP_DRM && hd_device_get_devnode(x) &&
                    under(hd_device_get_syspath(x), hd_device_get_syspath(d)))
                        if (hd_strv_push(&nodes, &nn, strdup(hd_device_get_devnode(x))) < 0)
                                return -ENOMEM;
        }
        if (nn == 0 || hd_sysfs_list_dir(ctx, "proc", &pids, &np) < 0)
                return 0;
        for (size_t i = 0; i < np; i++) {
                _cleanup_strv_free_ char **fds = NULL;
                char dir[64];
                size_t nf = 0;
                if (!isdigit((unsigned char) pids[i][0]))
                        continue;
                snprintf(dir, sizeof(dir), "proc/%s/fd", pids[i]);
                if (hd_sysfs_list_dir(ctx, dir, &fds, &nf) < 0)
                        continue; /* gone, or not ours to look at */
                for (size_t f = 0; f < nf; f++) {
                        _cleanup_free_ char *target = NULL;
                        char path[128];
                        snprintf(path, sizeof(path), "%s/%s", dir, fds[f]);
                        if (hd_sysfs_readlink(ctx, path, &target) < 0)
                                continue;
                        for (size_t k = 0; k < nn; k++)
                                if (streq(target, nodes[k])) {
                                        _cleanup_free_ char *comm = NULL;
                                        (void) hd_sysfs_read_strf(ctx, &comm, "proc/%s/comm", pids[i]);
                                        return reasonf(reason, "%s is open by process %s (%s)", nodes[k], pids[i],
                                                comm ? comm : "?");
                                }
                }
        }
        return 0;
}

/* ---- platform framebuffers and DRM node users (also for gpu/) ---- */

/* A firmware framebuffer (efifb, simpledrm, ...) bound to a platform
 * device: it drives the boot VGA device's BAR. */
static int platform_fb(hd_ctx *ctx, char *buf, size_t size) {
        static const struct { const char *prefix, *name; } fbs[] = {
                { "efi-framebuffer.", "efifb" },
                { "simple-framebuffer.", "simplefb" },
                { "vesa-framebuffer.", "vesafb" },
        };
        _cleanup_strv_free_ char **devs = NULL;
        size_t n = 0;

        if (hd_sysfs_list_dir(ctx, "sys/bus/platform/devices", &devs, &n) < 0)
                return 0;
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < ELEMENTSOF(fbs); k++) {
                        char path[PATH_MAX];
                        const char *name = fbs[k].name;
                        if (!startswith(devs[i], fbs[k].prefix))
                                continue;
                        snprintf(path, sizeof(path), "sys/bus/platform/devices/%s/driver", devs[i]);
                        if (!hd_sysfs_exists(ctx, path))
                                continue;
                        snprintf(path, sizeof(path), "sys/bus/platform/devices/%s/drm", devs[i]);
                        if (streq(name, "simplefb") && hd_sysfs_is_dir(ctx, path))
                                name = "simpledrm";
                        snprintf(buf, size, "%s", name);
                        return 1;
                }
        return 0;
}

/* Does a firmware framebuffer's memory (proc/iomem) lie in one of @d's
 * BARs?  1 yes (its iomem name in @name), 0 no, -ENODATA when iomem cannot
 * tell (unreadable, addresses hidden from non-root, no framebuffer). */
static int iomem_fb(hd_device *d, char *name, size_t nsize) {
        static const char *const fbnames[] = { "efifb", "BOOTFB", "simpledrm", "simple-framebuffer", "vesafb" };
        hd_ctx *ctx = hd_device_get_ctx(d);
        _cleanup_free_ char *iomem = NULL, *res = NULL;
        unsigned long long bars[6][2] = {};
        char path[PATH_MAX];
        bool seen = false;
        const char *p;
        size_t nb = 0;

        if (hd_sysfs_read_full(ctx, "proc/iomem", &iomem, NULL) < 0 ||
            hd_device_attr_path(d, "resource", path, sizeof(path)) < 0 || hd_sysfs_read_full(ctx, path, &res, NULL) < 0)
                return -ENODATA;
        for (p = res; *p && nb < 6;) {
                const char *nl = strchrnul(p, '\n');
                if (sscanf(p, "%llx %llx", &bars[nb][0], &bars[nb][1]) == 2)
                        nb++;
                p = *nl ? nl + 1 : nl;
        }
        for (p = iomem; *p;) {
                const char *nl = strchrnul(p, '\n');
                unsigned long long s0, e0;
                char what[64];
                if (sscanf(p, " %llx-%llx : %63[^\n]", &s0, &e0, what) == 3) {
                        hd_strip(what);
                        for (size_t k = 0; k < ELEMENTSOF(fbnames); k++) {
                                if (!streq(what, fbnames[k]) || (s0 == 0 && e0 == 0))
                                        continue;
                                seen = true;
                                for (size_t b = 0; b < nb; b++)
                                        if (bars[b][1] > 0 && s0 >= bars[b][0] && e0 <= bars[b][1]) {
                                                snprintf(name, nsize, "%s", what);
                                                return 1;
                                        }
                        }
                }
                p = *nl ? nl + 1 : nl;
        }
        return seen ? 0 : -ENODATA;
}

/* The firmware framebuffer (efifb, simpledrm, ...) that holds @d's BAR
 * memory: from proc/iomem when it tells, else the bound platform
 * framebuffer when @d is the boot VGA device.  1 with its name in @buf. */
static int fb_holder(hd_device *d, bool boot_vga, char *buf, size_t size) {
        hd_ctx *ctx = hd_device_get_ctx(d);
        char iname[64], pf[32] = "";
        int r = iomem_fb(d, iname, sizeof(iname));

        if (r == 0)
                return 0;
        if (r > 0) {
                /* "BOOTFB"/"simple-framebuffer": sysfb's name; the bound driver says which */
                if (!streq(iname, "efifb") && !streq(iname, "vesafb") && !streq(iname, "simpledrm") &&
                    platform_fb(ctx, pf, sizeof(pf)) > 0)
                        snprintf(buf, size, "%s", pf);
                else
                        snprintf(buf, size, "%s", iname);
                return 1;
        }
        return boot_vga ? platform_fb(ctx, buf, size) : 0;
}

int hd_device_console_holder(hd_device *d, char *buf, size_t size) {
        char fbcon[128] = "", fb[64] = "";
        long long boot_vga = 0;
        bool is_boot;

        if (size)
                buf[0] = 0;
        is_boot = hd_device_read_attr_long(d, "boot_vga", 10, &boot_vga) >= 0 && boot_vga == 1;
        if (is_boot) {
                _cleanup_free_ char *msg = NULL;
                if (check_console(d, &msg) == -EBUSY) {
                        /* "... console (vtconN) is bound to it" → "the framebuffer console (vtconN)" */
                        const char *p = strstr(msg, "(vtcon");
                        snprintf(fbcon, sizeof(fbcon), "the framebuffer console %.*s",
                                 p ? (int) strcspn(p, ")") + 1 : 0, p ? p : "");
                        hd_strip(fbcon);
                }
        }
        (void) fb_holder(d, is_boot, fb, sizeof(fb));
        if (!fbcon[0] && !fb[0])
                return 0;
        snprintf(buf, size, "%s%s%s", fbcon, fbcon[0] && fb[0] ? " and " : "", fb);
        return 1;
}

static int check_boot_framebuffer(hd_device *d, char **reason) {
        char fb[64] = "";
        long long boot_vga = 0;
        bool is_boot = hd_device_read_attr_long(d, "boot_vga", 10, &boot_vga) >= 0 && boot_vga == 1;

        if (fb_holder(d, is_boot, fb, sizeof(fb)) > 0) {
                return reasonf(reason, "%s%s drives a framebuffer in the memory of %s (boot with video=efifb:off or "
                        "unbind it first)", fb, is_boot ? ", the boot framebuffer," : "", hd_device_get_sysname(d));
        }
        return 0;
}

static int cmp_user(const void *a, const void *b) {
        const hd_gpu_user *x = a, *y = b;
        return x->pid != y->pid ? (x->pid < y->pid ? -1 : 1) : strcmp(x->node, y->node);
}

static void users_free(hd_gpu_user *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(v[i].comm);
                free(v[i].node);
        }
        free(v);
}

int hd_device_drm_users(hd_nodedev_list *list, hd_device *d, hd_gpu_user **ret, size_t *ret_n) {
        hd_ctx *ctx = hd_nodedev_list_get_ctx(list);
        _cleanup_strv_free_ char **nodes = NULL, **pids = NULL;
        hd_gpu_user *v = NULL;
        size_t nn = 0, np = 0, n = 0;

        for (size_t i = 0; i < hd_nodedev_list_count(list); i++) {
                hd_device *x = hd_nodedev_list_get(list, i);
                if (hd_device_get_cap_type(x) == HD_CAP_DRM && hd_device_get_devnode(x) && hd_device_get_syspath(x) &&
                    under(hd_device_get_syspath(x), hd_device_get_syspath(d)))
                        if (hd_strv_push(&nodes, &nn, strdup(hd_device_get_devnode(x))) < 0)
                                return -ENOMEM;
        }
        if (nn > 0 && hd_sysfs_list_dir(ctx, "proc", &pids, &np) < 0)
                np = 0;
        for (size_t i = 0; i < np; i++) {
                _cleanup_strv_free_ char **fds = NULL;
                char dir[64];
                size_t nf = 0;
                unsigned pid;
                if (hd_safe_atou(pids[i], 10, &pid) < 0 || (hd_ctx_is_live(ctx) && (pid_t) pid == getpid()))
                        continue;
                snprintf(dir, sizeof(dir), "proc/%s/fd", pids[i]);
                if (hd_sysfs_list_dir(ctx, dir, &fds, &nf) < 0)
                        continue;
                for (size_t f = 0; f < nf; f++) {
                        _cleanup_free_ char *target = NULL, *comm = NULL;
                        char path[128];
                        hd_gpu_user *u;
                        bool dup = false;
                        size_t k;
                        snprintf(path, sizeof(path), "%s/%s", dir, fds[f]);
                        if (hd_sysfs_readlink(ctx, path, &target) < 0)
                                continue;
                        for (k = 0; k < nn; k++)
                                if (streq(target, nodes[k]))
                                        break;
                        if (k == nn)
                                continue;
                        for (size_t j = 0; j < n; j++)
                                dup = dup || (v[j].pid == (int) pid && streq(v[j].node, nodes[k]));
                        if (dup)
                                continue;
                        u = realloc(v, (n + 1) * sizeof(*v));
                        if (!u) {
                                users_free(v, n);
                                return -ENOMEM;
                        }
                        v = u;
                        u = &v[n++];
                        memset(u, 0, sizeof(*u));
                        u->pid = (int) pid;
                        (void) hd_sysfs_read_strf(ctx, &comm, "proc/%s/comm", pids[i]);
                        u->comm = comm ? TAKE_PTR(comm) : strdup("?");
                        u->node = strdup(nodes[k]);
                        if (!u->comm || !u->node) {
                                users_free(v, n);
                                return -ENOMEM;
                        }
                }
        }
        if (n > 1)
                qsort(v, n, sizeof(*v), cmp_user);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

int hd_host_safety_reason(hd_nodedev_list *list, hd_device *d, char **ret_reason) {
        _cleanup_free_ char *reason = NULL;
        hd_ctx *ctx;
        const char *dev;
        int r;

        if (!list || !d || !hd_device_get_syspath(d) || !ret_reason)
                return -EINVAL;
        ctx = hd_nodedev_list_get_ctx(list);
        dev = hd_device_get_syspath(d);
        if ((r = check_mounts(ctx, dev, &reason)) < 0 ||
            (r = check_swap(ctx, dev, &reason)) < 0 ||
            (r = check_holders(list, dev, &reason)) < 0 ||
            (r = check_default_route(ctx, dev, &reason)) < 0 ||
            (r = check_console(d, &reason)) < 0 ||
            (r = check_boot_framebuffer(d, &reason)) < 0 ||
            (r = check_open_drm(list, d, &reason)) < 0) {
                if (r == -EBUSY)
                        *ret_reason = TAKE_PTR(reason);
                return r;
        }
        return 0;
}

_public_ int hd_host_safety_check(hd_nodedev_list *list, hd_device *d) {
        _cleanup_free_ char *reason = NULL;
        hd_ctx *ctx = list ? hd_nodedev_list_get_ctx(list) : NULL;
        int r;

        hd_error_clear(ctx);
        r = hd_host_safety_reason(list, d, &reason);
        if (r == -EBUSY)
                return hd_error(ctx, r, "%s", reason);
        return r;
}

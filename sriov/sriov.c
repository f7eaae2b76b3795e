/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SR-IOV physical functions: list them with their VFs, change the number
 * of VFs through sysfs, bind VFs to vfio-pci/pci-stub, configure VF links
 * through rtnetlink (sriov/netlink.c).  Persistence: sriov/config.c.
 */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <time.h>

#include "util/result-internal.h"
#include "sriov/sriov-internal.h"

/* ---- small helpers ---- */

static void msleep(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* First network interface of a PCI function, and its ifindex. */
static int pci_netdev(hd_ctx *ctx, const char *addr, char *buf, size_t size, int *ret_ifindex) {
        _cleanup_strv_free_ char **names = NULL;
        char path[PATH_MAX];
        size_t n = 0;
        long long ifindex = -1;

        buf[0] = 0;
        hd_pci_path(path, sizeof(path), addr, "net");
        if (hd_sysfs_list_dir(ctx, path, &names, &n) < 0 || n == 0)
                return -ENODEV;
        hd_copy_str(buf, size, names[0]);
        if (ret_ifindex) {
                if (hd_pci_pathf(path, sizeof(path), addr, "net/%s/ifindex", names[0]) >= 0)
                        (void) hd_sysfs_read_long(ctx, path, 10, &ifindex);
                *ret_ifindex = (int) ifindex;
        }
        return 0;
}

/* PCI address a virtfnN link points to; -ENOENT without one. */
static int virtfn_addr(hd_ctx *ctx, const char *pf, unsigned i, char *buf, size_t size) {
        char path[PATH_MAX];
        _cleanup_free_ char *target = NULL;
        struct hd_pci_addr a;
        int r;

        hd_pci_pathf(path, sizeof(path), pf, "virtfn%u", i);
        r = hd_sysfs_readlink(ctx, path, &target);
        if (r < 0)
                return r;
        if (hd_pci_addr_parse(hd_path_basename(target), &a) < 0)
                return -EBADMSG;
        hd_copy_str(buf, size, hd_path_basename(target));
        return 0;
}

static bool is_pf(hd_device *d) {
        long long total = 0;
        return d && hd_device_get_cap_type(d) == HD_CAP_PCI &&
               hd_device_read_attr_long(d, "sriov_totalvfs", 10, &total) >= 0 && total > 0;
}

/* *dst = a copy of @s, NULL for NULL or "" */
static int dup_nonempty(char **dst, const char *s) {
        *dst = NULL;
        if (isempty(s))
                return 0;
        *dst = strdup(s);
        return *dst ? 0 : -ENOMEM;
}

static void fmt_mac(const unsigned char *m, char *buf, size_t size) {
        snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

_public_ int hd_sriov_parse_mac(const char *s, unsigned char mac[6]) {
        unsigned char m[6];
        if (!s || strlen(s) != 17)
                return -EINVAL;
        for (int i = 0; i < 6; i++) {
                const char *p = s + 3 * i;
                char hex[3] = { p[0], p[1], 0 }, *end;
                if (!isxdigit((unsigned char) p[0]) || !isxdigit((unsigned char) p[1]))
                        return -EINVAL;
                if (i < 5 && p[2] != ':' && p[2] != '-')
                        return -EINVAL;
                if (i > 0 && s[3 * i - 1] != s[2])
                        return -EINVAL; /* one separator throughout */
                m[i] = (unsigned char) strtoul(hex, &end, 16);
        }
        if (m[0] & 1)
                return -EADDRNOTAVAIL; /* multicast, broadcast */
        memcpy(mac, m, 6);
        return 0;
}

/* ---- listing ---- */

#define SRIOV_MAX_VFS 65535

static int pf_fill(hd_nodedev_list *list, hd_device *d, hd_sriov_pf *pf) {
        hd_ctx *ctx = hd_nodedev_list_get_ctx(list);
        long long v;
        struct hd_nl_link link = { .num_vf = -1 };
        bool have_link = false;
        int ifindex = -1;
        char buf[64];

        memset(pf, 0, sizeof(*pf));
        if (dup_nonempty(&pf->addr, hd_device_get_sysname(d)) < 0 || dup_nonempty(&pf->name, hd_device_get_name(d)) < 0)
                return -ENOMEM;
        hd_pci_read_driver(ctx, pf->addr, buf, sizeof(buf));
        if (dup_nonempty(&pf->driver, buf) < 0)
                return -ENOMEM;
        (void) pci_netdev(ctx, pf->addr, buf, sizeof(buf), &ifindex);
        if (dup_nonempty(&pf->netdev, buf) < 0)
                return -ENOMEM;
        if (hd_device_read_attr_long(d, "vendor", 16, &v) >= 0)
                pf->vendor = (unsigned) v;
        if (hd_device_read_attr_long(d, "device", 16, &v) >= 0)
                pf->device = (unsigned) v;
        /* TotalVFs and NumVFs are 16-bit fields of the SR-IOV capability:
         * a larger number is not the kernel's (the VF loop below would run
         * for billions of iterations) */
        if (hd_device_read_attr_long(d, "sriov_totalvfs", 10, &v) >= 0 && v > 0) {
                if (v <= SRIOV_MAX_VFS)
                        pf->totalvfs = (unsigned) v;
                else
                        log_warn(ctx, "%s: sriov_totalvfs %lld is out of range, ignored", pf->addr, v);
        }
        if (hd_device_read_attr_long(d, "sriov_numvfs", 10, &v) >= 0 && v >= 0) {
                if (v <= SRIOV_MAX_VFS)
                        pf->numvfs = (unsigned) v;
                else
                        log_warn(ctx, "%s: sriov_numvfs %lld is out of range, ignored", pf->addr, v);
        }
        pf->autoprobe = hd_device_read_attr_long(d, "sriov_drivers_autoprobe", 10, &v) >= 0 ? !!v : -1;

        if (pf->netdev && ifindex > 0 && hd_ctx_is_live(ctx)) {
                int r = hd_nl_get_link(ifindex, &link);
                if (r >= 0)
                        have_link = true;
                else
                        log_debug(ctx, "%s: RTM_GETLINK of %s failed: %s", pf->addr, pf->netdev, strerror(-r));
        }

        for (unsigned i = 0; i < pf->totalvfs; i++) {
                char addr[32];
                hd_sriov_vf *vf, *n;
                if (virtfn_addr(ctx, pf->addr, i, addr, sizeof(addr)) < 0)
                        continue;
                n = realloc(pf->vfs, (pf->n_vfs + 1) * sizeof(*n));
                if (!n) {
                        hd_nl_link_done(&link);
                        return -ENOMEM;
                }
                pf->vfs = n;
                vf = &pf->vfs[pf->n_vfs++];
                memset(vf, 0, sizeof(*vf));
                vf->index = i;
                vf->spoofchk = vf->trust = vf->link_state = -1;
                if (dup_nonempty(&vf->addr, addr) < 0)
                        goto oom;
                hd_pci_read_driver(ctx, addr, buf, sizeof(buf));
                if (dup_nonempty(&vf->driver, buf) < 0)
                        goto oom;
                (void) pci_netdev(ctx, addr, buf, sizeof(buf), NULL);
                if (dup_nonempty(&vf->netdev, buf) < 0)
                        goto oom;
                for (size_t k = 0; have_link && k < link.n_vfs; k++) {
                        const struct hd_nl_vf *l = &link.vfs[k];
                        if (l->vf != i)
                                continue;
                        vf->has_link_info = true;
                        if (l->has_mac) {
                                char mac[18];
                                fmt_mac(l->mac, mac, sizeof(mac));
                                if (dup_nonempty(&vf->mac, mac) < 0)
                                        goto oom;
                        }
                        vf->vlan = l->vlan;
                        vf->qos = l->qos;
                        vf->spoofchk = l->spoofchk;
                        vf->trust = l->trust;
                        vf->link_state = l->link_state;
                }
        }
        hd_nl_link_done(&link);
        return 0;
oom:
        hd_nl_link_done(&link);
        return -ENOMEM;
}

/* for hd_nodedev_list_collect() */
static int pf_elem_fill(hd_nodedev_list *list, hd_device *d, void *e) { return pf_fill(list, d, e); }
static void pf_array_free(void *v, size_t n) { hd_sriov_pf_free(v, n); }
static int cmp_pf(const void *a, const void *b);
static const struct hd_collect pf_collect = {
        sizeof(hd_sriov_pf), is_pf, pf_elem_fill, pf_array_free, cmp_pf, is_pf, -EOPNOTSUPP,
};

_public_ void hd_sriov_pf_free(hd_sriov_pf *pfs, size_t n) {
        if (!pfs)
                return;
        for (size_t i = 0; i < n; i++) {
                hd_sriov_pf *pf = &pfs[i];
                for (size_t k = 0; k < pf->n_vfs; k++) {
                        free(pf->vfs[k].addr);
                        free(pf->vfs[k].driver);
                        free(pf->vfs[k].netdev);
                        free(pf->vfs[k].mac);
                }
                free(pf->vfs);
                free(pf->addr);
                free(pf->name);
                free(pf->driver);
                free(pf->netdev);
        }
        free(pfs);
}

_public_ int hd_sriov_pf_get(hd_nodedev_list *list, hd_device *d, hd_sriov_pf **ret) {
        return hd_nodedev_list_collect_one(list, &pf_collect, d, ret);
}

static int cmp_pf(const void *x, const void *y) {
        const hd_sriov_pf *a = x, *b = y;
        return strcmp(strempty(a->addr), strempty(b->addr));
}

_public_ int hd_sriov_pf_list(hd_nodedev_list *list, hd_sriov_pf **ret, size_t *ret_n) {
        return hd_nodedev_list_collect(list, &pf_collect, ret, ret_n);
}

/* ---- results ---- */

_printf_(5, 6) static void add_action(hd_result *res, const char *pf, enum hd_outcome st, int err,
                                     const char *fmt, ...) {
        _cleanup_free_ char *what = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (r < 0)
                what = NULL;
        if (!what || hd_result_add_step(res, &(struct hd_result_step_spec) {
                        .subject = pf, .action = what, .outcome = st, .error = err }) < 0)
                if (hd_result_get_status(res) == 0)
                        hd_result_fail(res, NULL, -ENOMEM, "out of memory");
}

/* the first failure is the one reported */
#define set_failure(res, ctx, status, ...)                                      \
        do {                                                                    \
                if (hd_result_get_status(res) == 0)                             \
                        hd_result_fail(res, ctx, status, __VA_ARGS__);          \
        } while (0)

/* ---- lock ---- */

static int lock_sriov(hd_ctx *ctx, int *ret_fd) {
        _cleanup_free_ char *path = NULL;
        const char *dir = hd_ctx_get_state_dir(ctx);
        int r;

        if (!dir)
                return -ENOMEM;
        r = hd_mkdir_p_at(AT_FDCWD, dir, 0700);
        if (r < 0) {
                log_err(ctx, "cannot create state directory %s: %s", dir, strerror(-r));
                return r;
        }
        if (hd_asprintf(&path, "%s/sriov.lock", dir) < 0)
                return -ENOMEM;
        /* Serialize concurrent hostdevctl runs; wait for the other one. */
        return hd_state_lock(ctx, path, ret_fd);
}

/* ---- VF count ---- */

static int write_pf_attr(hd_ctx *ctx, const char *pf, const char *attr, unsigned value) {
        char path[PATH_MAX], v[16];
        hd_pci_path(path, sizeof(path), pf, attr);
        snprintf(v, sizeof(v), "%u", value);
        return hd_sysfs_write(ctx, path, v);
}

/* Wait until virtfn0..n-1 exist and virtfn<n> does not. */
static int wait_vfs(hd_ctx *ctx, const char *pf, unsigned n) {
        for (unsigned waited = 0;; waited += 10) {
                char a[32];
                bool ok = virtfn_addr(ctx, pf, n, a, sizeof(a)) < 0;
                for (unsigned i = 0; ok && i < n; i++)
                        ok = virtfn_addr(ctx, pf, i, a, sizeof(a)) >= 0;
                if (ok)
                        return 0;
                if (waited >= ctx->bind_timeout_ms)
                        return -ETIMEDOUT;
                msleep(10);
        }
}

static const char *numvfs_error(int r) {
        switch (r) {
        case -ENOENT: return "the PF has no driver, or its driver cannot create VFs";
        case -EBUSY: return "the kernel refused: VFs are still enabled";
        case -ERANGE: return "more VFs than sriov_totalvfs";
        default: return strerror(-r);
        }
}

/* VFs that would disappear: refuse when one is detached for a VM or the
 * host needs it.  0 or -EBUSY with the reason in res. */
static int check_destroy(hd_nodedev_list *list, const char *pf, unsigned cur, hd_result *res) {
        hd_ctx *ctx = hd_nodedev_list_get_ctx(list);
        for (unsigned i = 0; i < cur; i++) {
                char addr[32], drv[64];
                hd_device *vf = NULL;
                if (virtfn_addr(ctx, pf, i, addr, sizeof(addr)) < 0)
                        continue;
                hd_pci_read_driver(ctx, addr, drv, sizeof(drv));
                if (hd_driver_is_passthrough(drv)) {
                        set_failure(res, ctx, -EBUSY, "VF %u (%s) of %s is detached for a VM (bound to %s); "
                                    "use --force to destroy it anyway", i, addr, pf, drv);
                        return -EBUSY;
                }
                if (hd_nodedev_list_lookup(list, addr, &vf) >= 0 &&
                    hd_host_safety_check(list, vf) == -EBUSY) {
                        set_failure(res, ctx, -EBUSY, "VF %u (%s) of %s is in use: %s; use --force to destroy it anyway",
                                    i, addr, pf, hd_ctx_get_error(ctx));
                        return -EBUSY;
                }
        }
        return 0;
}

/* Bind the VFs 0..n-1 of @pf to @driver with hd_vfio_detach on a fresh
 * enumeration (the VFs may be new). */
static void bind_vfs(hd_ctx *ctx, const char *pf, unsigned n, const char *driver, unsigned flags,
                     hd_result *res) {
        hd_nodedev_list *fresh = NULL;
        int r;

        r = hd_nodedev_list_new(ctx, &fresh);
        if (r < 0) {
                set_failure(res, ctx, r, "cannot enumerate the new VFs of %s: %s", pf, strerror(-r));
                add_action(res, pf, HD_OUTCOME_FAILED, r, "bind VFs to %s", driver);
                return;
        }
        for (unsigned i = 0; i < n; i++) {
                char addr[32], drv[64];
                hd_device *vf = NULL;
                _hd_cleanup_result_ hd_result *vr = NULL;

                if (virtfn_addr(ctx, pf, i, addr, sizeof(addr)) < 0)
                        continue;
                hd_pci_read_driver(ctx, addr, drv, sizeof(drv));
                if (streq(drv, driver))
                        continue;
                if (flags & HD_SRIOV_DRY_RUN) {
                        add_action(res, pf, HD_OUTCOME_PLANNED, 0, "VF %u %s: %s -> %s", i, addr, drv[0] ? drv : "(none)",
                                   driver);
                        continue;
                }
                r = hd_nodedev_list_lookup(fresh, addr, &vf);
                if (r >= 0)
                        r = hd_vfio_detach(fresh, vf, driver, (flags & HD_SRIOV_FORCE) ? HD_VFIO_FORCE : 0, &vr);
                if (r < 0 || hd_result_get_status(vr) != 0) {
                        int err = r < 0 ? r : hd_result_get_status(vr);
                        add_action(res, pf, HD_OUTCOME_FAILED, err, "VF %u %s: %s -> %s", i, addr,
                                   drv[0] ? drv : "(none)", driver);
                        set_failure(res, ctx, err, "VF %u (%s) of %s: %s", i, addr, pf,
                                    hd_result_get_reason(vr) ?: strerror(-err));
                } else
                        add_action(res, pf, HD_OUTCOME_DONE, 0, "VF %u %s: %s -> %s", i, addr, drv[0] ? drv : "(none)",
                                   driver);
        }
        hd_nodedev_list_unref(fresh);
}

/* The body of hd_sriov_set_numvfs, adding to @res (shared by apply). */
static int set_numvfs(hd_nodedev_list *list, hd_device *d, const hd_sriov_set_opts *o, unsigned flags,
                      hd_result *res) {
        hd_ctx *ctx = hd_nodedev_list_get_ctx(list);
        const char *pf = hd_device_get_sysname(d);
        const char *stub = NULL;
        bool dry = flags & HD_SRIOV_DRY_RUN;
        long long total = 0, cur = 0, ap = -1;
        int want_ap = o->autoprobe, r;

        if (!is_pf(d))
                return -EOPNOTSUPP;
        if (o->driver) {
                if (streq(o->driver, "vfio-pci") || streq(o->driver, "pci-stub"))
                        stub = o->driver;
                else if (!streq(o->driver, "host"))
                        return -EINVAL;
        }
        (void) hd_device_read_attr_long(d, "sriov_totalvfs", 10, &total);
        if (o->numvfs > total) {
                set_failure(res, ctx, -ERANGE, "%s supports at most %lld VFs (sriov_totalvfs), not %u", pf, total,
                            o->numvfs);
                return -ERANGE;
        }
        r = hd_device_read_attr_long(d, "sriov_numvfs", 10, &cur);
        if (r < 0 || cur < 0) {
                set_failure(res, ctx, r < 0 ? r : -EBADMSG, "cannot read sriov_numvfs of %s", pf);
                return r < 0 ? r : -EBADMSG;
        }
        (void) hd_device_read_attr_long(d, "sriov_drivers_autoprobe", 10, &ap);
        if (want_ap < 0 && o->driver)
                want_ap = stub ? 0 : 1;

        /* VFs go away when the count changes and some exist (through 0):
         * never from under a running guest */
        if (cur != o->numvfs && cur > 0)
                for (long long i = 0; i < cur; i++) {
                        _cleanup_free_ char *why = NULL;
                        char addr[32];
                        if (virtfn_addr(ctx, pf, (unsigned) i, addr, sizeof(addr)) >= 0 &&
                            hd_ctx_check_in_use(ctx, "pci", addr, flags & HD_SRIOV_FORCE, &why) == -EBUSY) {
                                set_failure(res, ctx, -EBUSY, "VF %lld of %s: %s", i, pf, why);
                                return 0;
                        }
                }
        if (cur != o->numvfs && cur > 0 && !(flags & HD_SRIOV_FORCE)) {
                if (check_destroy(list, pf, (unsigned) cur, res) < 0)
                        return 0;
        }

        if (want_ap >= 0 && ap >= 0 && want_ap != !!ap) {
                if (dry)
                        add_action(res, pf, HD_OUTCOME_PLANNED, 0, "sriov_drivers_autoprobe %lld -> %d", ap, want_ap);
                else {
                        r = write_pf_attr(ctx, pf, "sriov_drivers_autoprobe", (unsigned) want_ap);
                        add_action(res, pf, r < 0 ? HD_OUTCOME_FAILED : HD_OUTCOME_DONE, r,
                                   "sriov_drivers_autoprobe %lld -> %d", ap, want_ap);
                        if (r < 0) {
                                set_failure(res, ctx, r, "cannot write sriov_drivers_autoprobe of %s: %s", pf, strerror(-r));
                                return 0;
                        }
                }
        }

        if (cur != o->numvfs) {
                if (dry) {
                        add_action(res, pf, HD_OUTCOME_PLANNED, 0, "sriov_numvfs %lld -> %u%s", cur, o->numvfs,
                                   cur > 0 && o->numvfs > 0 ? " (through 0)" : "");
                        if (stub && o->numvfs > 0)
                                add_action(res, pf, HD_OUTCOME_PLANNED, 0, "bind %u new VFs to %s", o->numvfs, stub);
                        return 0;
                }
                if (cur > 0) {
                        r = write_pf_attr(ctx, pf, "sriov_numvfs", 0);
                        if (r >= 0)
                                r = wait_vfs(ctx, pf, 0);
                        if (r < 0) {
                                add_action(res, pf, HD_OUTCOME_FAILED, r, "sriov_numvfs %lld -> 0", cur);
                                set_failure(res, ctx, r, "cannot remove the VFs of %s: %s", pf, numvfs_error(r));
                                return 0;
                        }
                        if (o->numvfs == 0)
                                add_action(res, pf, HD_OUTCOME_DONE, 0, "sriov_numvfs %lld -> 0", cur);
                }
                if (o->numvfs > 0) {
                        r = write_pf_attr(ctx, pf, "sriov_numvfs", o->numvfs);
                        if (r >= 0)
                                r = wait_vfs(ctx, pf, o->numvfs);
                        if (r < 0) {
                                add_action(res, pf, HD_OUTCOME_FAILED, r, "sriov_numvfs %s -> %u", cur > 0 ? "0" : "0",
                                           o->numvfs);
                                set_failure(res, ctx, r, "cannot create %u VFs on %s: %s", o->numvfs, pf,
                                            r == -ETIMEDOUT ? "the VFs did not appear" : numvfs_error(r));
                                return 0;
                        }
                        add_action(res, pf, HD_OUTCOME_DONE, 0, "sriov_numvfs %lld -> %u%s", cur, o->numvfs,
                                   cur > 0 ? " (through 0)" : "");
                }
        }
        if (stub && o->numvfs > 0)
                bind_vfs(ctx, pf, o->numvfs, stub, flags, res);
        return 0;
}

_public_ int hd_sriov_set_numvfs(hd_nodedev_list *list, hd_device *pf, const hd_sriov_set_opts *opts,
                                 unsigned flags, hd_result **ret) {
        _hd_cleanup_result_ hd_result *res = NULL;
        _cleanup_close_ int lock = -1;
        int r;

        if (!list || !pf || !opts || !ret)
                return -EINVAL;
        hd_error_clear(hd_nodedev_list_get_ctx(list));
        if (!is_pf(pf))
                return hd_error(hd_nodedev_list_get_ctx(list), -EOPNOTSUPP,
                                "%s is not an SR-IOV physical function (no sriov_totalvfs)", hd_device_get_name(pf));
        r = hd_result_new(HD_RESULT_SRIOV, &res);
        if (r < 0)
                return r;
        if (!(flags & HD_SRIOV_DRY_RUN)) {
                r = lock_sriov(hd_nodedev_list_get_ctx(list), &lock);
                if (r < 0)
                        return r;
        }
        r = set_numvfs(list, pf, opts, flags, res);
        if (r == -EINVAL)
                return hd_error(hd_nodedev_list_get_ctx(list), r, "unknown driver '%s' (vfio-pci, pci-stub or host)",
                                strempty(opts->driver));
        if (r == -EOPNOTSUPP)
                return r;
        if (r < 0)
                set_failure(res, hd_nodedev_list_get_ctx(list), r, "%s: %s", hd_device_get_sysname(pf), strerror(-r));
        *ret = TAKE_PTR(res);
        return 0;
}

/* ---- VF link settings ---- */

/* @always_qos: "vlan V qos Q" even for QoS 0 (the plan with a sysroot) */
static void describe_vf(const hd_sriov_vf_config *c, bool always_qos, char *buf, size_t size) {
        size_t len;
        snprintf(buf, size, "VF %u:", c->index);
        if (c->set_mac) {
                char m[18];
                fmt_mac(c->mac, m, sizeof(m));
                len = strlen(buf);
                snprintf(buf + len, size - len, " mac %s", m);
        }
        if (c->set_vlan) {
                len = strlen(buf);
                snprintf(buf + len, size - len, c->qos || always_qos ? " vlan %u qos %u" : " vlan %u", c->vlan, c->qos);
        }
        if (c->trust >= 0) {
                len = strlen(buf);
                snprintf(buf + len, size - len, " trust %s", c->trust ? "on" : "off");
        }
        if (c->spoofchk >= 0) {
                len = strlen(buf);
                snprintf(buf + len, size - len, " spoofchk %s", c->spoofchk ? "on" : "off");
        }
}

/* What of @want differs from the VF's current state; when the VF is not
 * in @link (not created yet, or no netlink data) everything does. */
static hd_sriov_vf_config vf_diff(const struct hd_nl_link *link, const hd_sriov_vf_config *want) {
        hd_sriov_vf_config d = *want;
        for (size_t i = 0; link && i < link->n_vfs; i++) {
                const struct hd_nl_vf *v = &link->vfs[i];
                if (v->vf != want->index)
                        continue;
                if (d.set_mac && v->has_mac && memcmp(v->mac, want->mac, 6) == 0)
                        d.set_mac = false;
                if (d.set_vlan && v->has_vlan && v->vlan == want->vlan && v->qos == want->qos)
                        d.set_vlan = false;
                if (d.trust >= 0 && v->trust == want->trust)
                        d.trust = -1;
                if (d.spoofchk >= 0 && v->spoofchk == want->spoofchk)
                        d.spoofchk = -1;
        }
        return d;
}

static bool vf_sets_anything(const hd_sriov_vf_config *c) {
        return c->set_mac || c->set_vlan || c->trust >= 0 || c->spoofchk >= 0;
}

/* Configure one VF through the PF interface @ifindex; @label names the
 * PF in actions. */
static void vf_apply(hd_ctx *ctx, const char *label, const char *ifname, int ifindex, const hd_sriov_vf_config *c,
                     unsigned flags, hd_result *res) {
        struct hd_nl_link link = { .num_vf = -1 };
        hd_sriov_vf_config d;
        char what[200];
        int r;

        r = hd_nl_get_link(ifindex, &link);
        if (r < 0 && !(flags & HD_SRIOV_DRY_RUN)) {
                add_action(res, label, HD_OUTCOME_FAILED, r, "VF %u: read %s", c->index, ifname);
                set_failure(res, ctx, r, "cannot read the VFs of %s through netlink: %s", ifname, strerror(-r));
                return;
        }
        if (r >= 0 && !(flags & HD_SRIOV_DRY_RUN) && (link.num_vf < 0 || c->index >= (unsigned) link.num_vf)) {
                add_action(res, label, HD_OUTCOME_FAILED, -ERANGE, "VF %u", c->index);
                set_failure(res, ctx, -ERANGE, "%s has %d VFs: no VF %u", ifname, link.num_vf < 0 ? 0 : link.num_vf,
                            c->index);
                hd_nl_link_done(&link);
                return;
        }
        d = vf_diff(r >= 0 ? &link : NULL, c);
        hd_nl_link_done(&link);
        if (!vf_sets_anything(&d))
                return;
        describe_vf(&d, false, what, sizeof(what));
        if (flags & HD_SRIOV_DRY_RUN) {
                add_action(res, label, HD_OUTCOME_PLANNED, 0, "%s", what);
                return;
        }
        r = hd_nl_set_vf(ifindex, &d);
        add_action(res, label, r < 0 ? HD_OUTCOME_FAILED : HD_OUTCOME_DONE, r, "%s", what);
        if (r < 0)
                set_failure(res, ctx, r, "%s VF %u: the driver refused (%s)", ifname, c->index,
                            r == -EOPNOTSUPP ? "not supported by this driver" : strerror(-r));
}

/* the number of VFs of PF @d for the reason of -ERANGE */
static int vf_range_error(hd_ctx *ctx, hd_device *d, long long numvfs, unsigned index) {
        return hd_error(ctx, -ERANGE, "%s has %lld VFs: no VF %u", hd_device_get_name(d), numvfs, index);
}

_public_ int hd_sriov_vf_configure(hd_nodedev_list *list, hd_device *d, const hd_sriov_vf_config *c,
                                   unsigned flags, hd_result **ret) {
        _hd_cleanup_result_ hd_result *res = NULL;
        hd_ctx *ctx;
        char ifname[64], label[64];
        int ifindex = -1;
        long long v;

        if (!list || !d || !c || !ret)
                return -EINVAL;
        ctx = hd_nodedev_list_get_ctx(list);
        hd_error_clear(ctx);
        if ((c->set_vlan && (c->vlan > 4095 || c->qos > 7)) || (c->set_mac && (c->mac[0] & 1)))
                return hd_error(ctx, -EINVAL, "invalid VF settings (VLAN 0..4095, QoS 0..7, a unicast MAC)");
        if (hd_device_get_cap_type(d) == HD_CAP_PCI) {
                long long numvfs = 0;
                if (!is_pf(d))
                        return hd_error(ctx, -EOPNOTSUPP,
                                        "%s is not an SR-IOV physical function or its network interface",
                                        hd_device_get_name(d));
                if (pci_netdev(ctx, hd_device_get_sysname(d), ifname, sizeof(ifname), &ifindex) < 0)
                        return hd_error(ctx, -ENODEV,
                                        "%s has no network interface: VF link settings go through the PF's interface",
                                        hd_device_get_name(d));
                (void) hd_device_read_attr_long(d, "sriov_numvfs", 10, &numvfs);
                if (c->index >= numvfs)
                        return vf_range_error(ctx, d, numvfs, c->index);
                hd_copy_str(label, sizeof(label), hd_device_get_sysname(d));
        } else if (hd_device_get_cap_type(d) == HD_CAP_NET) {
                hd_device *p = hd_device_get_parent(d);
                hd_copy_str(ifname, sizeof(ifname), hd_device_get_sysname(d));
                if (hd_device_read_attr_long(d, "ifindex", 10, &v) >= 0)
                        ifindex = (int) v;
                hd_copy_str(label, sizeof(label), p && is_pf(p) ? hd_device_get_sysname(p) : hd_device_get_sysname(d));
                if (p && is_pf(p)) {
                        long long numvfs = 0;
                        (void) hd_device_read_attr_long(p, "sriov_numvfs", 10, &numvfs);
                        if (c->index >= numvfs)
                                return vf_range_error(ctx, d, numvfs, c->index);
                }
        } else
                return hd_error(ctx, -EOPNOTSUPP, "%s is not an SR-IOV physical function or its network interface",
                                hd_device_get_name(d));
        if (!hd_ctx_is_live(ctx)) {
                char what[200];
                hd_device *pf = hd_device_get_cap_type(d) == HD_CAP_NET ? hd_device_get_parent(d) : d;
                const char *addr = pf ? hd_device_get_pci_address(pf) : NULL;

                if (!(flags & HD_SRIOV_DRY_RUN))
                        return hd_error(ctx, -EOPNOTSUPP, "VF link settings need the live host (rtnetlink); with "
                                        "--sysroot only --persist records them");
                /* the plan, which needs no netlink: every setting asked for */
                describe_vf(c, true, what, sizeof(what));
                if (hd_result_new(HD_RESULT_SRIOV, &res) < 0 ||
                    hd_result_add_step(res, &(struct hd_result_step_spec) {
                            .subject = addr ?: hd_device_get_name(d), .action = what, .outcome = HD_OUTCOME_PLANNED,
                            .error_text = "not checked against the VF: no netlink with --sysroot" }) < 0)
                        return -ENOMEM;
                *ret = TAKE_PTR(res);
                return 0;
        }
        if (ifindex <= 0)
                return hd_error(ctx, -ENODEV, "%s has no network interface: VF link settings go through the PF's interface",
                                hd_device_get_name(d));
        if (hd_result_new(HD_RESULT_SRIOV, &res) < 0)
                return -ENOMEM;
        vf_apply(ctx, label, ifname, ifindex, c, flags, res);
        *ret = TAKE_PTR(res);
        return 0;
}

/* ---- apply (used by sriov/config.c) ---- */

int hd_sriov_apply_one(hd_nodedev_list *list, hd_device *d, const hd_sriov_pf_config *cfg, unsigned flags,
                       hd_result *res) {
        hd_ctx *ctx = hd_nodedev_list_get_ctx(list);
        hd_sriov_set_opts o = {
                .numvfs = cfg->numvfs,
                .driver = isempty(cfg->driver) ? NULL : cfg->driver,
                .autoprobe = cfg->autoprobe,
        };
        char ifname[64];
        int ifindex = -1, r;

        r = set_numvfs(list, d, &o, flags, res);
        if (r < 0) {
                add_action(res, hd_device_get_sysname(d), HD_OUTCOME_FAILED, r, "sriov_numvfs -> %u", cfg->numvfs);
                set_failure(res, ctx, r, "%s: %s", hd_device_get_sysname(d), strerror(-r));
        }
        if (hd_result_get_status(res) == 0 && cfg->n_vfs > 0) {
                if (!hd_ctx_is_live(ctx))
                        add_action(res, hd_device_get_sysname(d), HD_OUTCOME_SKIPPED, 0,
                                   "VF link settings of %zu VFs: need the live host (netlink)", cfg->n_vfs);
                else if (pci_netdev(ctx, hd_device_get_sysname(d), ifname, sizeof(ifname), &ifindex) < 0 || ifindex <= 0) {
                        add_action(res, hd_device_get_sysname(d), HD_OUTCOME_FAILED, -ENODEV, "VF link settings");
                        set_failure(res, ctx, -ENODEV, "%s has no network interface for VF link settings", hd_device_get_sysname(d));
                } else
                        for (size_t i = 0; i < cfg->n_vfs; i++)
                                vf_apply(ctx, hd_device_get_sysname(d), ifname, ifindex, &cfg->vfs[i], flags, res);
        }
        return 0;
}

int hd_sriov_lock(hd_ctx *ctx, int *ret_fd) { return lock_sriov(ctx, ret_fd); }

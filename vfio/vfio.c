/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Detach PCI devices from their host drivers to vfio-pci or pci-stub and
 * give them back, as journaled transactions.
 *
 * State directory (hd_ctx_get_state_dir):
 *   lock                    flock()ed for the whole of every transaction
 *   transaction.json        the transaction in progress: op, driver, devices
 *   devices/<addr>.json     per detached device: original driver + override
 * Every file is written to a temporary name, fsync()ed and renamed.
 */
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>

#include "nodedev/device.h"
#include "util/result-internal.h"
#include "vfio/vfio-internal.h"

struct member {
        hd_device *dev;
        char addr[32];
        char orig_driver[64];   /* "" = unbound */
        char orig_override[64]; /* "" = none */
        bool has_record;        /* a devices/<addr>.json exists */
        bool moved;
};

/* ---- small helpers ---- */

static void msleep(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static void read_override(hd_ctx *ctx, const char *addr, char *buf, size_t size) {
        _cleanup_free_ char *s = NULL;
        char path[PATH_MAX];

        buf[0] = 0;
        if (hd_pci_path(path, sizeof(path), addr, "driver_override") >= 0 && hd_sysfs_read_str(ctx, path, &s) >= 0 &&
            !streq(s, "(null)"))
                hd_copy_str(buf, size, s);
}

/* ---- state directory ---- */

static int state_path(hd_ctx *ctx, char *buf, size_t size, const char *rel, const char *addr) {
        const char *dir = hd_ctx_get_state_dir(ctx);
        int n;
        if (!dir)
                return -ENOMEM;
        /* rel is "lock", "transaction.json", "devices" or, with addr, devices/<addr>.json */
        n = addr ? snprintf(buf, size, "%s/%s/%s.json", dir, rel, addr) : snprintf(buf, size, "%s/%s", dir, rel);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

static int lock_state(hd_ctx *ctx, int *ret_fd) {
        char path[PATH_MAX];
        int r;

        r = state_path(ctx, path, sizeof(path), "devices", NULL);
        if (r < 0)
                return r;
        r = hd_mkdir_p_at(AT_FDCWD, path, 0700);
        if (r < 0) {
                log_err(ctx, "cannot create state directory %s: %s", path, strerror(-r));
                return r;
        }
        r = state_path(ctx, path, sizeof(path), "lock", NULL);
        if (r < 0)
                return r;
        /* Serialize concurrent hostdevctl runs; wait for the other one. */
        return hd_state_lock(ctx, path, ret_fd);
}

static int record_write(hd_ctx *ctx, const struct member *m, const char *stub) {
        char path[PATH_MAX];
        json_object *o = json_object_new_object();
        int r;

        json_object_object_add(o, "address", json_object_new_string(m->addr));
        json_object_object_add(o, "original_driver", m->orig_driver[0] ? json_object_new_string(m->orig_driver) : NULL);
        json_object_object_add(o, "original_override",
                               m->orig_override[0] ? json_object_new_string(m->orig_override) : NULL);
        json_object_object_add(o, "stub", json_object_new_string(stub));
        json_object_object_add(o, "time", json_object_new_int64((int64_t) time(NULL)));
        r = state_path(ctx, path, sizeof(path), "devices", m->addr);
        if (r >= 0)
                r = hd_write_file_atomic(path, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY), 0600);
        json_object_put(o);
        return r;
}

/* 1 and the member's original driver/override when a record exists. */
static int record_read(hd_ctx *ctx, struct member *m) {
        char path[PATH_MAX];
        json_object *o, *v;
        int r;

        r = state_path(ctx, path, sizeof(path), "devices", m->addr);
        if (r < 0)
                return r;
        o = json_object_from_file(path);
        if (!o)
                return access(path, F_OK) == 0 ? -EBADMSG : 0;
        m->orig_driver[0] = m->orig_override[0] = 0;
        if (json_object_object_get_ex(o, "original_driver", &v) && json_object_is_type(v, json_type_string))
                hd_copy_str(m->orig_driver, sizeof(m->orig_driver), json_object_get_string(v));
        if (json_object_object_get_ex(o, "original_override", &v) && json_object_is_type(v, json_type_string))
                hd_copy_str(m->orig_override, sizeof(m->orig_override), json_object_get_string(v));
        json_object_put(o);
        m->has_record = true;
        return 1;
}

static void record_remove(hd_ctx *ctx, const char *addr) {
        char path[PATH_MAX];
        if (state_path(ctx, path, sizeof(path), "devices", addr) >= 0)
                (void) unlink(path);
}

static int txn_write(hd_ctx *ctx, const char *op, const char *stub, const struct member *ms, size_t n) {
        char path[PATH_MAX];
        json_object *o = json_object_new_object(), *arr = json_object_new_array();
        int r;

        json_object_object_add(o, "op", json_object_new_string(op));
        json_object_object_add(o, "driver", stub ? json_object_new_string(stub) : NULL);
        json_object_object_add(o, "pid", json_object_new_int((int) getpid()));
        for (size_t i = 0; i < n; i++)
                json_object_array_add(arr, json_object_new_string(ms[i].addr));
        json_object_object_add(o, "devices", arr);
        r = state_path(ctx, path, sizeof(path), "transaction.json", NULL);
        if (r >= 0)
                r = hd_write_file_atomic(path, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY), 0600);
        json_object_put(o);
        return r;
}

static void txn_remove(hd_ctx *ctx) {
        char path[PATH_MAX];
        if (state_path(ctx, path, sizeof(path), "transaction.json", NULL) >= 0)
                (void) unlink(path);
}

/* ---- kernel operations ---- */

static int wait_driver(hd_ctx *ctx, const char *addr, const char *want, char *got, size_t size) {
        unsigned waited = 0;
        for (;;) {
                hd_pci_read_driver(ctx, addr, got, size);
                if (want ? streq(got, want) : got[0] != 0)
                        return 0;
                if (waited >= ctx->bind_timeout_ms)
                        return -ETIMEDOUT;
                msleep(10);
                waited += 10;
        }
}

static int write_attr(hd_ctx *ctx, const char *addr, const char *attr, const char *value) {
        char path[PATH_MAX];
        hd_pci_path(path, sizeof(path), addr, attr);
        return hd_sysfs_write(ctx, path, value);
}

static int unbind(hd_ctx *ctx, const char *addr, const char *driver) {
        char path[PATH_MAX];
        int r;
        if (!driver[0])
                return 0;
        snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s/unbind", driver);
        r = hd_sysfs_write(ctx, path, addr);
        if (r < 0)
                log_err(ctx, "%s: unbind from %s failed: %s", addr, driver, strerror(-r));
        return r;
}

static int ensure_driver_loaded(hd_ctx *ctx, const char *driver) {
        char path[PATH_MAX];
        int r;

        snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s", driver);
        if (hd_sysfs_is_dir(ctx, path))
                return 0;
        r = hd_kmod_load(ctx, streq(driver, "vfio-pci") ? "vfio-pci" : driver);
        if (r < 0)
                return r;
        for (unsigned waited = 0; !hd_sysfs_is_dir(ctx, path); waited += 10) {
                if (waited >= ctx->bind_timeout_ms)
                        return -ETIMEDOUT;
                msleep(10);
        }
        return 0;
}

/* Move one device to @stub. */
static int bind_stub(hd_ctx *ctx, struct member *m, const char *stub) {
        char now[64];
        int r;

        r = write_attr(ctx, m->addr, "driver_override", stub);
        if (r < 0) {
                log_err(ctx, "%s: cannot set driver_override: %s", m->addr, strerror(-r));
                return r;
        }
        hd_pci_read_driver(ctx, m->addr, now, sizeof(now));
        r = unbind(ctx, m->addr, now);
        if (r < 0)
                return r;
        m->moved = true; /* from here on, rollback must restore it */
        r = hd_sysfs_write(ctx, "sys/bus/pci/drivers_probe", m->addr);
        if (r < 0) {
                log_err(ctx, "%s: drivers_probe failed: %s", m->addr, strerror(-r));
                return r;
        }
        log_info(ctx, "%s: waiting up to %u ms for %s to bind to it", m->addr, ctx->bind_timeout_ms, stub);
        r = wait_driver(ctx, m->addr, stub, now, sizeof(now));
        if (r < 0)
                log_err(ctx, "%s: %s did not bind to it within %u ms (%s)", m->addr, stub, ctx->bind_timeout_ms,
                        now[0] ? "still bound to another driver" : "it has no driver now");
        return r;
}

/* Give a device back to its original driver and override. */
static int restore(hd_ctx *ctx, struct member *m) {
        char now[64], path[PATH_MAX];
        int r;

        r = write_attr(ctx, m->addr, "driver_override", m->orig_override[0] ? m->orig_override : "\n");
        if (r < 0) {
                log_err(ctx, "%s: cannot clear driver_override: %s", m->addr, strerror(-r));
                return r;
        }
        hd_pci_read_driver(ctx, m->addr, now, sizeof(now));
        if (streq(now, m->orig_driver) && now[0])
                return 0;
        r = unbind(ctx, m->addr, now);
        if (r < 0)
                return r;
        if (!m->orig_driver[0])
                return 0; /* it was unbound */
        snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s/bind", m->orig_driver);
        r = hd_sysfs_write(ctx, path, m->addr);
        if (r < 0) {
                /* the driver may be gone or refuse a direct bind: let the kernel probe */
                log_debug(ctx, "%s: bind to %s failed (%s), probing", m->addr, m->orig_driver, strerror(-r));
                (void) hd_sysfs_write(ctx, "sys/bus/pci/drivers_probe", m->addr);
        }
        log_info(ctx, "%s: waiting up to %u ms for %s to bind to it", m->addr, ctx->bind_timeout_ms, m->orig_driver);
        r = wait_driver(ctx, m->addr, m->orig_driver, now, sizeof(now));
        if (r < 0)
                log_err(ctx, "%s: %s did not bind to it within %u ms (now %s%s%s)", m->addr, m->orig_driver,
                        ctx->bind_timeout_ms, now[0] ? "on " : "", now[0] ? now : "without a driver", "");
        return r;
}

/* ---- planning ---- */

static int add_step(hd_result *res, const struct member *m, const char *to, enum hd_outcome st, int err) {
        return hd_result_add_step(res, &(struct hd_result_step_spec) {
                .subject = m->addr, .from = m->orig_driver, .to = to, .outcome = st, .error = err });
}

/* The endpoints to move for @devs (with HD_VFIO_GROUP: their whole IOMMU
 * groups), each once, in the order given. */
static int collect_members(hd_nodedev_list *list, hd_device *const *in, size_t n_in, unsigned flags,
                           struct member **ret, size_t *ret_n) {
        _cleanup_free_ struct member *ms = NULL;
        size_t k = 0, cap = 0;
        int grp, r;

        for (size_t j = 0; j < n_in; j++) {
                _cleanup_free_ hd_device **devs = NULL;
                size_t n = 0;

                if (flags & HD_VFIO_GROUP) {
                        grp = hd_device_get_iommu_group(in[j]);
                        if (grp < 0) {
                                log_err(hd_nodedev_list_get_ctx(list), "%s is in no IOMMU group (is the IOMMU on?)",
                                        hd_device_get_sysname(in[j]));
                                return -ENOENT;
                        }
                        r = hd_iommu_group_get_devices(list, (unsigned) grp, &devs, &n);
                        if (r < 0)
                                return r;
                } else {
                        devs = calloc(1, sizeof(*devs));
                        if (!devs)
                                return -ENOMEM;
                        devs[0] = in[j];
                        n = 1;
                }
                for (size_t i = 0; i < n; i++) {
                        bool dup = false;
                        if (hd_device_get_cap_type(devs[i]) != HD_CAP_PCI || hd_pci_device_is_bridge(devs[i]))
                                continue; /* the kernel ignores bridges for viability; mdevs are not bound */
                        for (size_t x = 0; x < k && !dup; x++)
                                dup = ms[x].dev == devs[i];
                        if (dup)
                                continue;
                        if (k == cap) {
                                struct member *nm = reallocarray(ms, cap = cap * 2 + 4, sizeof(*ms));
                                if (!nm)
                                        return -ENOMEM;
                                ms = nm;
                        }
                        memset(&ms[k], 0, sizeof(ms[k]));
                        ms[k].dev = devs[i];
                        hd_copy_str(ms[k].addr, sizeof(ms[k].addr), hd_device_get_sysname(devs[i]));
                        k++;
                }
        }
        if (!ms && !(ms = calloc(1, sizeof(*ms))))
                return -ENOMEM;
        *ret = TAKE_PTR(ms);
        *ret_n = k;
        return 0;
}

static int check_pci_endpoint(hd_ctx *ctx, hd_device *d, size_t n_devs);
static int recover_pending(hd_ctx *ctx, hd_result *res);

/* After a single-device detach: is the device's group viable now (every
 * endpoint on a stub or unbound, read live)?  If not, say so in the
 * result's reason, naming the member that blocks it. */
static bool is_named(hd_device *d, hd_device *const *devs, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (devs[i] == d)
                        return true;
        return false;
}

/* After a detach without --group: is each named device's group viable now
 * (every endpoint on a stub or unbound, read live)?  If not, say so in the
 * result's reason, naming the member that blocks it. */
static void hint_viability(hd_nodedev_list *list, hd_device *const *named, size_t n_named, hd_result *res) {
        for (size_t k = 0; k < n_named; k++) {
                _cleanup_free_ hd_device **devs = NULL;
                int grp = hd_device_get_iommu_group(named[k]);
                size_t n = 0;

                if (grp < 0 || hd_iommu_group_get_devices(list, (unsigned) grp, &devs, &n) < 0)
                        continue;
                for (size_t i = 0; i < n; i++) {
                        char now[64];
                        if (is_named(devs[i], named, n_named) || hd_device_get_cap_type(devs[i]) != HD_CAP_PCI ||
                            hd_pci_device_is_bridge(devs[i]))
                                continue;
                        hd_pci_read_driver(hd_nodedev_list_get_ctx(list), hd_device_get_sysname(devs[i]), now,
                                           sizeof(now));
                        if (now[0] && !hd_driver_is_passthrough(now)) {
                                hd_result_set_reason(res,
                                         "IOMMU group %d is not viable yet: %s is still bound to %s; detach the "
                                         "whole group with --group", grp, hd_device_get_sysname(devs[i]), now);
                                return;
                        }
                }
        }
}

/* Common start of detach and reattach: the members, an empty result and,
 * unless dry-running, the state lock. */
static int begin(hd_nodedev_list *list, hd_device *const *devs, size_t n_devs, unsigned flags, struct member **ret_ms,
                 size_t *ret_n, hd_result **ret_res, int *ret_lock) {
        _cleanup_free_ struct member *ms = NULL;
        hd_result *res;
        size_t n = 0;
        int r;

        if (!devs || n_devs == 0)
                return -EINVAL;
        for (size_t i = 0; i < n_devs; i++) {
                r = check_pci_endpoint(hd_nodedev_list_get_ctx(list), devs[i], n_devs);
                if (r < 0)
                        return r;
        }
        r = collect_members(list, devs, n_devs, flags, &ms, &n);
        if (r < 0)
                return r;
        r = hd_result_new(HD_RESULT_DRIVERS, &res);
        if (r < 0)
                return r;
        *ret_lock = -1;
        if (!(flags & HD_VFIO_DRY_RUN)) {
                r = lock_state(hd_nodedev_list_get_ctx(list), ret_lock);
                if (r < 0) {
                        hd_result_unref(res);
                        return r;
                }
        }
        *ret_ms = TAKE_PTR(ms);
        *ret_n = n;
        *ret_res = res;
        return 0;
}

/* -EINVAL with the context's error for anything but a PCI endpoint (one
 * of @n_devs named together). */
static int check_pci_endpoint(hd_ctx *ctx, hd_device *d, size_t n_devs) {
        if (!d)
                return -EINVAL;
        if (hd_device_get_cap_type(d) != HD_CAP_PCI || hd_pci_device_is_bridge(d))
                return hd_error(ctx, -EINVAL, "%s: not a PCI endpoint (bridges and non-PCI devices cannot be "
                                "detached)%s", hd_device_get_name(d), n_devs > 1 ? "; nothing changed" : "");
        return 0;
}

_public_ int hd_vfio_detach(hd_nodedev_list *list, hd_device *d, const char *driver, unsigned flags,
                            hd_result **ret) {
        return hd_vfio_detach_devices(list, &d, 1, driver, flags, ret);
}

_public_ int hd_vfio_detach_devices(hd_nodedev_list *list, hd_device *const *devs, size_t n_devs, const char *driver,
                                    unsigned flags, hd_result **ret) {
        _hd_cleanup_result_ hd_result *res = NULL;
        _cleanup_free_ struct member *ms = NULL;
        _cleanup_close_ int lock = -1;
        hd_ctx *ctx;
        size_t n = 0, failed = SIZE_MAX;
        int r;

        if (!list || !ret)
                return -EINVAL;
        ctx = hd_nodedev_list_get_ctx(list);
        hd_error_clear(ctx);
        if (!driver)
                driver = "vfio-pci";
        if (!streq(driver, "vfio-pci") && !streq(driver, "pci-stub")) {
                log_debug(ctx, "unsupported stub driver '%s' (vfio-pci or pci-stub)", driver);
                return -EINVAL;
        }
        r = begin(list, devs, n_devs, flags, &ms, &n, &res, &lock);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                hd_pci_read_driver(ctx, ms[i].addr, ms[i].orig_driver, sizeof(ms[i].orig_driver));
                read_override(ctx, ms[i].addr, ms[i].orig_override, sizeof(ms[i].orig_override));
                if (streq(ms[i].orig_override, driver))
                        ms[i].orig_override[0] = 0;
        }

        /* host safety: refuse before any change */
        if (!(flags & HD_VFIO_FORCE))
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *why = NULL;
                        r = hd_host_safety_reason(list, ms[i].dev, &why);
                        if (r == -ENOMEM)
                                return r;
                        if (r == -EBUSY) {
                                hd_result_fail(res, ctx, -EBUSY, "%s%s (use --force to override)",
                                               is_named(ms[i].dev, devs, n_devs) ? "" : "IOMMU group member ", why);
                                /* the plan that was refused: where each device would have gone */
                                for (size_t k = 0; k < n; k++)
                                        add_step(res, &ms[k], driver, HD_OUTCOME_NOT_ATTEMPTED, 0);
                                *ret = TAKE_PTR(res);
                                return 0;
                        }
                }

        if (flags & HD_VFIO_DRY_RUN) {
                for (size_t i = 0; i < n; i++)
                        if (add_step(res, &ms[i], driver,
                                     streq(ms[i].orig_driver, driver) ? HD_OUTCOME_UNCHANGED : HD_OUTCOME_PLANNED, 0) < 0)
                                return -ENOMEM;
                *ret = TAKE_PTR(res);
                return 0;
        }

        r = ensure_driver_loaded(ctx, driver);
        if (r < 0) {
                hd_result_fail(res, ctx, r, "cannot load the %s driver: %s", driver, strerror(-r));
                *ret = TAKE_PTR(res);
                return 0;
        }

        r = recover_pending(ctx, res);
        if (r == -1) {
                for (size_t k = 0; k < n; k++)
                        add_step(res, &ms[k], ms[k].orig_driver, HD_OUTCOME_NOT_ATTEMPTED, 0);
                *ret = TAKE_PTR(res);
                return 0;
        }
        if (r < 0)
                return r;
        /* the recovery may have moved members: read them again */
        for (size_t i = 0; i < n; i++) {
                hd_pci_read_driver(ctx, ms[i].addr, ms[i].orig_driver, sizeof(ms[i].orig_driver));
                read_override(ctx, ms[i].addr, ms[i].orig_override, sizeof(ms[i].orig_override));
                if (streq(ms[i].orig_override, driver))
                        ms[i].orig_override[0] = 0;
        }

        /* journal first: what every member was bound to */
        r = txn_write(ctx, "detach", driver, ms, n);
        if (r < 0) {
                log_err(ctx, "cannot write the transaction journal: %s", strerror(-r));
                return r;
        }
        for (size_t i = 0; i < n; i++) {
                struct member *m = &ms[i];
                if (streq(m->orig_driver, driver))
                        continue; /* already there: no record, nothing to undo */
                struct member existing = *m;
                if (record_read(ctx, &existing) == 1) {
                        /* detached before by us with another stub: keep the true original */
                        hd_copy_str(m->orig_driver, sizeof(m->orig_driver), existing.orig_driver);
                        hd_copy_str(m->orig_override, sizeof(m->orig_override), existing.orig_override);
                }
                r = record_write(ctx, m, driver);
                if (r < 0) {
                        log_err(ctx, "cannot journal %s: %s", m->addr, strerror(-r));
                        failed = i;
                        hd_result_fail(res, ctx, r, "%s", strerror(-r));
                        break;
                }
                r = bind_stub(ctx, m, driver);
                if (r < 0) {
                        failed = i;
                        if (r == -ETIMEDOUT)
                                hd_result_fail(res, ctx, r,
                                         "the %s driver did not bind to %s within %u ms (is %s blacklisted, or does "
                                         "it refuse the device?)", driver, m->addr, ctx->bind_timeout_ms, driver);
                        else
                                hd_result_fail(res, ctx, r, "%s failed to bind to %s: %s", m->addr, driver,
                                               strerror(-r));
                        break;
                }
        }

        if (failed != SIZE_MAX) {
                /* roll back every member that moved, in reverse order */
                for (size_t i = n; i-- > 0;) {
                        if (ms[i].moved) {
                                int rr = restore(ctx, &ms[i]);
                                if (rr < 0) {
                                        char more[128];
                                        snprintf(more, sizeof(more), "; rollback of %s failed: %s", ms[i].addr,
                                                 strerror(-rr));
                                        log_info(ctx, "%s", more + 2);
                                        hd_result_append_reason(res, more);
                                } else
                                        record_remove(ctx, ms[i].addr);
                        } else if (i >= failed)
                                record_remove(ctx, ms[i].addr);
                }
                for (size_t i = 0; i < n; i++) {
                        enum hd_outcome st = i == failed ? HD_OUTCOME_FAILED
                                                      : ms[i].moved ? HD_OUTCOME_ROLLED_BACK
                                                      : i > failed  ? HD_OUTCOME_NOT_ATTEMPTED
                                                                    : HD_OUTCOME_UNCHANGED;
                        add_step(res, &ms[i], i == failed ? driver : ms[i].orig_driver, st,
                                 i == failed ? hd_result_get_status(res) : 0);
                }
        } else {
                for (size_t i = 0; i < n; i++)
                        add_step(res, &ms[i], driver, ms[i].moved ? HD_OUTCOME_DONE : HD_OUTCOME_UNCHANGED, 0);
                if (!(flags & HD_VFIO_GROUP))
                        hint_viability(list, devs, n_devs, res);
        }
        txn_remove(ctx);
        if (hd_result_get_n_steps(res) != n)
                return -ENOMEM;
        *ret = TAKE_PTR(res);
        return 0;
}

static int reattach_members(hd_ctx *ctx, struct member *ms, size_t n, hd_result *res, bool dry_run) {
        for (size_t i = 0; i < n; i++) {
                struct member *m = &ms[i];
                char now[64];
                int r;

                hd_pci_read_driver(ctx, m->addr, now, sizeof(now));
                r = record_read(ctx, m);
                if (r < 0)
                        log_warn(ctx, "%s: unreadable journal record, re-probing instead", m->addr);
                if (r <= 0) {
                        char ovr[64];
                        m->has_record = false;
                        m->orig_driver[0] = m->orig_override[0] = 0;
                        read_override(ctx, m->addr, ovr, sizeof(ovr));
                        /* driverless with a stub's override: a detach of ours was
                         * killed between unbind and bind; give it back too */
                        if (!hd_driver_is_passthrough(now) && !(!now[0] && hd_driver_is_passthrough(ovr))) {
                                hd_copy_str(m->orig_driver, sizeof(m->orig_driver), now);
                                add_step(res, m, now, HD_OUTCOME_UNCHANGED, 0);
                                continue;
                        }
                }
                if (dry_run) {
                        struct member shown = *m;
                        hd_copy_str(shown.orig_driver, sizeof(shown.orig_driver), now);
                        add_step(res, &shown, m->has_record ? m->orig_driver : "(kernel's choice)", HD_OUTCOME_PLANNED, 0);
                        continue;
                }
                if (m->has_record)
                        r = restore(ctx, m);
                else {
                        /* not ours: clear the override and let the kernel pick, as libvirt does */
                        r = write_attr(ctx, m->addr, "driver_override", "\n");
                        if (r >= 0)
                                r = unbind(ctx, m->addr, now);
                        if (r >= 0)
                                r = hd_sysfs_write(ctx, "sys/bus/pci/drivers_probe", m->addr);
                        if (r >= 0) {
                                char got[64];
                                (void) wait_driver(ctx, m->addr, NULL, got, sizeof(got));
                        }
                }
                {
                        struct member shown = *m;
                        char after[64];
                        hd_pci_read_driver(ctx, m->addr, after, sizeof(after));
                        hd_copy_str(shown.orig_driver, sizeof(shown.orig_driver), now);
                        add_step(res, &shown, after, r < 0 ? HD_OUTCOME_FAILED : HD_OUTCOME_DONE, r < 0 ? r : 0);
                }
                if (r < 0) {
                        hd_result_fail(res, ctx, r, "%s could not be given back: %s", m->addr, strerror(-r));
                        continue; /* try the others: reattach is best effort per device */
                }
                if (m->has_record)
                        record_remove(ctx, m->addr);
        }
        return 0;
}

_public_ int hd_vfio_reattach(hd_nodedev_list *list, hd_device *d, unsigned flags, hd_result **ret) {
        return hd_vfio_reattach_devices(list, &d, 1, flags, ret);
}

_public_ int hd_vfio_reattach_devices(hd_nodedev_list *list, hd_device *const *devs, size_t n_devs, unsigned flags,
                                      hd_result **ret) {
        _hd_cleanup_result_ hd_result *res = NULL;
        _cleanup_free_ struct member *ms = NULL;
        _cleanup_close_ int lock = -1;
        hd_ctx *ctx;
        size_t n = 0;
        int r;

        if (!list || !ret)
                return -EINVAL;
        ctx = hd_nodedev_list_get_ctx(list);
        hd_error_clear(ctx);
        r = begin(list, devs, n_devs, flags, &ms, &n, &res, &lock);
        if (r < 0)
                return r;
        /* a device a running guest uses stays where it is */
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *why = NULL;
                r = hd_ctx_check_in_use(ctx, "pci", ms[i].addr, flags & HD_VFIO_FORCE, &why);
                if (r == -ENOMEM)
                        return r;
                if (r == -EBUSY) {
                        hd_result_fail(res, ctx, -EBUSY, "%s", why);
                        for (size_t k = 0; k < n; k++)
                                add_step(res, &ms[k], ms[k].orig_driver, HD_OUTCOME_NOT_ATTEMPTED, 0);
                        *ret = TAKE_PTR(res);
                        return 0;
                }
        }
        if (!(flags & HD_VFIO_DRY_RUN)) {
                r = recover_pending(ctx, res);
                if (r == -1) {
                        *ret = TAKE_PTR(res);
                        return 0;
                }
                if (r < 0)
                        return r;
                r = txn_write(ctx, "reattach", NULL, ms, n);
                if (r < 0)
                        return r;
        }
        r = reattach_members(ctx, ms, n, res, flags & HD_VFIO_DRY_RUN);
        if (r < 0)
                return r;
        if (!(flags & HD_VFIO_DRY_RUN))
                txn_remove(ctx);
        *ret = TAKE_PTR(res);
        return 0;
}

/* Finish an interrupted transaction (the state lock held): give every
 * member its original driver.  0 when there was none, 1 when one was
 * recovered (the result's status says whether every member came back), -EBADMSG
 * for a corrupt journal. */
static int recover_txn(hd_ctx *ctx, hd_result *res) {
        char path[PATH_MAX];
        json_object *txn, *devs;
        int r;

        r = state_path(ctx, path, sizeof(path), "transaction.json", NULL);
        if (r < 0)
                return r;
        txn = json_object_from_file(path);
        if (!txn) {
                if (access(path, F_OK) == 0) {
                        log_err(ctx, "%s is corrupt; remove it after checking the devices by hand", path);
                        return -EBADMSG;
                }
                return 0;
        }
        if (json_object_object_get_ex(txn, "devices", &devs) && json_object_is_type(devs, json_type_array)) {
                size_t n = json_object_array_length(devs);
                _cleanup_free_ struct member *ms = calloc(n ? n : 1, sizeof(*ms));
                size_t k = 0;
                if (!ms) {
                        json_object_put(txn);
                        return -ENOMEM;
                }
                for (size_t i = 0; i < n; i++) {
                        const char *a = json_object_get_string(json_object_array_get_idx(devs, i));
                        struct hd_pci_addr pa;
                        if (a && hd_pci_addr_parse(a, &pa) >= 0)
                                hd_copy_str(ms[k++].addr, sizeof(ms[0].addr), a);
                }
                log_info(ctx, "recovering an interrupted transaction of %zu devices", k);
                for (size_t i = 0; i < k; i++) {
                        if (record_read(ctx, &ms[i]) != 1) {
                                char now[64], ovr[64];
                                hd_pci_read_driver(ctx, ms[i].addr, now, sizeof(now));
                                read_override(ctx, ms[i].addr, ovr, sizeof(ovr));
                                if (!now[0] && hd_driver_is_passthrough(ovr)) {
                                        /* left between unbind and bind, its record lost:
                                         * let the kernel pick its driver */
                                        r = write_attr(ctx, ms[i].addr, "driver_override", "\n");
                                        if (r >= 0)
                                                r = hd_sysfs_write(ctx, "sys/bus/pci/drivers_probe", ms[i].addr);
                                        if (r >= 0)
                                                r = wait_driver(ctx, ms[i].addr, NULL, now, sizeof(now));
                                        add_step(res, &ms[i], now, r < 0 ? HD_OUTCOME_FAILED : HD_OUTCOME_DONE, r < 0 ? r : 0);
                                        if (r < 0)
                                                hd_result_fail(res, ctx, r, "%s", strerror(-r));
                                        continue;
                                }
                                hd_copy_str(ms[i].orig_driver, sizeof(ms[i].orig_driver), now);
                                add_step(res, &ms[i], now, HD_OUTCOME_UNCHANGED, 0);
                                continue;
                        }
                        r = restore(ctx, &ms[i]);
                        add_step(res, &ms[i], ms[i].orig_driver, r < 0 ? HD_OUTCOME_FAILED : HD_OUTCOME_DONE, r < 0 ? r : 0);
                        if (r < 0)
                                hd_result_fail(res, ctx, r, "%s", strerror(-r));
                        else
                                record_remove(ctx, ms[i].addr);
                }
        }
        json_object_put(txn);
        if (hd_result_get_status(res) == 0)
                txn_remove(ctx);
        return 1;
}

/* A journal holding an unfinished transaction is never overwritten: the
 * next detach or reattach recovers it first, or refuses, naming it.
 * 0 to go on; -1 with the result's status and reason set to stop. */
static int recover_pending(hd_ctx *ctx, hd_result *res) {
        _hd_cleanup_result_ hd_result *rec = NULL;
        char path[PATH_MAX];
        int r;

        r = hd_result_new(HD_RESULT_DRIVERS, &rec);
        if (r < 0)
                return r;
        r = state_path(ctx, path, sizeof(path), "transaction.json", NULL);
        if (r < 0)
                return r;
        if (access(path, F_OK) < 0)
                return 0;
        log_warn(ctx, "%s holds an interrupted transaction: recovering it first", path);
        r = recover_txn(ctx, rec);
        if (r < 0 || hd_result_get_status(rec) < 0) {
                int err = r < 0 ? r : hd_result_get_status(rec);
                hd_result_fail(res, ctx, err == -EBUSY ? -EIO : err,
                         "%s holds an interrupted transaction that could not be recovered (%s); nothing else "
                         "was changed: check its devices and run 'hostdevctl recover'", path, strerror(-err));
                return -1;
        }
        for (size_t i = 0; i < hd_result_get_n_steps(rec); i++) {
                const hd_result_step *st = hd_result_get_step(rec, i);
                if (hd_result_step_get_outcome(st) == HD_OUTCOME_DONE)
                        log_warn(ctx, "recovered %s: back on %s", hd_result_step_get_subject(st),
                                 !isempty(hd_result_step_get_to(st)) ? hd_result_step_get_to(st) : "no driver");
        }
        return 0;
}

_public_ int hd_vfio_recover(hd_ctx *ctx, hd_result **ret) {
        _hd_cleanup_result_ hd_result *res = NULL;
        _cleanup_closedir_ DIR *dir = NULL;
        _cleanup_close_ int lock = -1;
        char path[PATH_MAX];
        struct dirent *de;
        int r;

        if (!ctx || !ret)
                return -EINVAL;
        r = hd_result_new(HD_RESULT_DRIVERS, &res);
        if (r < 0)
                return r;
        r = lock_state(ctx, &lock);
        if (r < 0)
                return r;

        /* 1. an interrupted transaction: give every member its original driver */
        r = recover_txn(ctx, res);
        if (r < 0)
                return r;

        /* 2. records of devices bound to a host driver again are stale (reboot);
         * a device left without a driver is given back from its record */
        r = state_path(ctx, path, sizeof(path), "devices", NULL);
        if (r < 0)
                return r;
        dir = opendir(path);
        while (dir && (de = readdir(dir))) {
                struct member m = {};
                char now[64], *dot;
                if (!(dot = strstr(de->d_name, ".json")) || dot[5])
                        continue;
                snprintf(m.addr, sizeof(m.addr), "%.*s", (int) (dot - de->d_name), de->d_name);
                hd_pci_read_driver(ctx, m.addr, now, sizeof(now));
                hd_pci_path(path, sizeof(path), m.addr, NULL);
                if (!hd_sysfs_exists(ctx, path)) {
                        log_info(ctx, "%s: dropping the record of a device that is gone (a destroyed VF)", m.addr);
                        record_remove(ctx, m.addr);
                } else if (now[0] && !hd_driver_is_passthrough(now)) {
                        log_info(ctx, "%s: dropping the stale record (now bound to '%s')", m.addr, now);
                        record_remove(ctx, m.addr);
                } else if (!now[0] && record_read(ctx, &m) == 1) {
                        r = restore(ctx, &m);
                        add_step(res, &m, m.orig_driver, r < 0 ? HD_OUTCOME_FAILED : HD_OUTCOME_DONE, r < 0 ? r : 0);
                        if (r < 0)
                                hd_result_fail(res, ctx, r, "%s", strerror(-r));
                        else
                                record_remove(ctx, m.addr);
                }
        }
        *ret = TAKE_PTR(res);
        return 0;
}

_public_ bool hd_vfio_is_journaled(hd_ctx *ctx, const char *addr) {
        char path[PATH_MAX];

        if (!ctx || !addr || state_path(ctx, path, sizeof(path), "devices", addr) < 0)
                return false;
        return access(path, F_OK) == 0;
}

_public_ bool hd_vfio_transaction_pending(hd_ctx *ctx) {
        char path[PATH_MAX];

        if (!ctx || state_path(ctx, path, sizeof(path), "transaction.json", NULL) < 0)
                return false;
        return access(path, F_OK) == 0;
}

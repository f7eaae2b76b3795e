/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevd's Apply method (hostdevctl apply) and the hotplug apply of a
 * device that appears: its driver override, the SR-IOV state persisted
 * for it as a PF, and the auto-start mdevs whose parent it is, in that
 * order, each announced as PersistedConfigApplied(name, result JSON) and
 * logged (drift, a refusal, as a warning).
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdevd.h"
#include "hostdev/boot.h"
#include "hostdev/listing.h"
#include "hostdev/mdev.h"
#include "hostdev/sriov.h"

#define APPLY_DRY_RUN 2ULL      /* Detach's bit */

static const char *strempty_(const char *s) { return s ?: ""; }

/* ---- hotplug ---- */

/* Log and announce what the apply of one kind did for @name. */
static void announce(struct daemon *d, const char *name, const hd_result *res) {
        json_object *o = NULL;
        char *text = NULL;
        int st = hd_result_get_status(res), r;

        if (st >= 0)
                daemon_logf(5, "%s: persisted configuration applied (%zu changed)", name,
                            hd_result_count_outcome(res, HD_OUTCOME_DONE));
        else
                daemon_logf(4, "%s: persisted configuration %s: %s", name, hd_result_get_status_string(res),
                            hd_result_get_reason(res) ?: strerror(-st));
        if (hd_result_to_json(res, &o) >= 0 && hd_json_to_text(o, &text) >= 0) {
                r = sd_bus_emit_signal(d->bus, MANAGER_PATH, MANAGER_IFACE, "PersistedConfigApplied", "ss", name, text);
                if (r < 0)
                        daemon_logf(3, "cannot emit PersistedConfigApplied(%s): %s", name, strerror(-r));
        }
        free(text);
        json_object_put(o);
}

/* the result of one kind: announced; whether it changed something */
static bool done(struct daemon *d, const char *name, int r, hd_result *res, const char *what) {
        bool changed;

        if (r < 0) {
                daemon_logf(3, "%s: cannot apply the persisted %s: %s", name, what,
                            hd_ctx_get_error(d->ctx) ?: strerror(-r));
                return false;
        }
        if (r == 0)
                return false;   /* nothing of this kind persisted for it */
        changed = hd_result_get_status(res) >= 0 && hd_result_count_outcome(res, HD_OUTCOME_DONE) > 0;
        announce(d, name, res);
        hd_result_unref(res);
        return changed;
}

bool apply_persisted(struct daemon *d, hd_device *dev) {
        const char *path = hd_device_get_syspath(dev), *base = path ? strrchr(path, '/') : NULL;
        /* its directory's name: an mdev parent's name under mdev_bus */
        char *name = strdup(hd_device_get_name(dev)), *sysname = strdup(base ? base + 1 : "");
        char *dir = NULL;
        hd_result *res = NULL;
        bool changed = false;
        int r;

        if (!name || !sysname) {
                free(name);
                free(sysname);
                return false;
        }
        /* 1. the driver override (identity checked; through nodedev-detach) */
        r = ask_libvirt(d);
        if (r >= 0)
                r = hd_device_apply_persisted(d->list, d->sysroot, dev, 0, &res);
        changed |= done(d, name, r, res, "configuration");
        /* 2. a PF: its VF count, VF drivers and VF settings (identity checked) */
        res = NULL;
        r = hd_sriov_config_dir(d->ctx, &dir);
        if (r >= 0)
                r = hd_sriov_apply_device(d->list, dir, dev, 0, &res);
        changed |= done(d, name, r, res, "SR-IOV state");
        free(dir);
        /* 3. a parent: its auto-start mdevs (VFs that step 2 created are
         * new in the next round's tree, and get theirs then) */
        res = NULL;
        r = *sysname ? hd_mdev_apply_parent(d->ctx, sysname, 0, &res) : 0;
        changed |= done(d, name, r, res, "auto-start mdevs");
        free(name);
        free(sysname);
        return changed;
}

/* ---- Apply(t flags) -> s result: hostdevctl apply --json ---- */

static int do_apply(struct daemon *d, sd_bus_message *m) {
        hd_apply_result *res = NULL;
        json_object *o = NULL;
        char *text = NULL, *msg = NULL;
        const char *err = NULL;
        uint64_t flags;
        int r, st;

        r = sd_bus_message_read(m, "t", &flags);
        if (r < 0)
                return r;
        if (flags & ~APPLY_DRY_RUN)
                return sd_bus_reply_method_errorf(m, ERROR_INVALID, "apply: unknown flags 0x%llx",
                                                  (unsigned long long) (flags & ~APPLY_DRY_RUN));
        /* as every write: libvirt asked afresh, the tree of now */
        r = ask_libvirt(d);
        if (r < 0)
                return r;
        r = tree_for_write(d, NULL, 0);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, ERROR_FAILED, "cannot enumerate devices: %s", strerror(-r));
        r = hd_apply(d->list, flags & APPLY_DRY_RUN ? HD_SRIOV_DRY_RUN : 0, &res);
        if (r == -ETIMEDOUT) {
                r = reply_busy(d, m, "apply");
                goto out;
        }
        if (r < 0) {
                r = hd_ctx_get_error(d->ctx) ? sd_bus_reply_method_errorf(m, ERROR_FAILED, "%s", hd_ctx_get_error(d->ctx))
                                             : sd_bus_reply_method_errorf(m, ERROR_FAILED, "apply: %s", strerror(-r));
                goto out;
        }
        if (res->sriov_error < 0) {
                r = sd_bus_reply_method_errorf(m, ERROR_FAILED, "apply: %s/sriov: %s", res->config_dir,
                                               strerror(-res->sriov_error));
                goto out;
        }
        r = hd_apply_result_to_json(res, &o);
        if (r >= 0)
                r = hd_json_to_text(o, &text);
        if (r < 0)
                goto out;
        /* hostdevctl's words on stderr for a failure: the SR-IOV stage's
         * first, else the mdev stage's */
        st = hd_result_get_status(res->sriov);
        if (st < 0)
                r = asprintf(&msg, "apply %s: %s", st == -EBUSY ? "refused" : "failed",
                             strempty_(hd_result_get_reason(res->sriov)));
        else if (res->mdev_error < 0)
                r = asprintf(&msg, "apply: mediated devices: %s", strerror(-res->mdev_error));
        else if (res->mdev && hd_result_get_status(res->mdev) < 0)
                r = asprintf(&msg, "apply: %s", strempty_(hd_result_get_reason(res->mdev)));
        else
                r = 0;
        if (r < 0) {
                msg = NULL;
                r = -ENOMEM;
                goto out;
        }
        if (!msg)
                r = sd_bus_reply_method_return(m, "s", text);
        else {
                sd_bus_message *reply = NULL;
                sd_bus_error e = SD_BUS_ERROR_NULL;
                err = st == -EBUSY ? ERROR_REFUSED : ERROR_FAILED;
                sd_bus_error_set(&e, err, msg);
                r = sd_bus_message_new_method_error(m, &reply, &e);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", text);
                if (r >= 0)
                        r = sd_bus_send(NULL, reply, NULL);
                sd_bus_message_unref(reply);
                sd_bus_error_free(&e);
        }
out:
        free(msg);
        free(text);
        json_object_put(o);
        hd_apply_result_free(res);
        if (!(flags & APPLY_DRY_RUN))
                tree_after_write(d, NULL, 0);
        return r;
}

int method_apply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.apply", do_apply);
}

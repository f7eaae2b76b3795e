/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostdevd's last reads and mdev create's attributes:
 *
 *   VgpuTypes             vgpu types [DEV] --json
 *   Doctor                doctor [DEV...] --json
 *   MdevCreateWithAttrs   mdev create PARENT TYPE [--uuid U] [--attr N=V]... [--dry-run]
 *
 * The reads are the library's renderings (hd_vgpu_types_to_json,
 * hd_check_array_to_json), open to every caller and answered from the
 * daemon's tree; Doctor's host checks read the daemon's root (its
 * --sysroot) as the daemon, so they say what `hostdevctl doctor` says
 * there run as root, whoever calls.  Its answer is the document even when
 * a check fails (hostdevctl's exit status 1 is a "FAIL" in it).  The write
 * goes through authz_run (org.hostdev.mdev) and answers as MdevCreate.
 * Failures are named errors with the CLI's words (without "hostdevctl: ").
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "hostdev/listing.h"
#include "hostdevd.h"
#include "methods-reads.h"
#include "methods-sriov-mdev.h"

#define MAX_DOCTOR_DEVICES 4096u        /* a bound on Doctor's list */

/* hostdevctl's error_exit(): "VERB: the context's reason" */
static int reply_ctx_error(struct daemon *d, sd_bus_message *m, const char *verb, int r) {
        return sd_bus_reply_method_errorf(m, r == -ENODEV ? ERROR_NOT_FOUND : r == -EINVAL ? ERROR_INVALID : ERROR_FAILED,
                                          "%s: %s", verb, hd_ctx_get_error(d->ctx) ?: strerror(-r));
}

/* ---- VgpuTypes(s name) -> s json: vgpu types [NAME] --json; "" every GPU ---- */

int method_vgpu_types(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        hd_vgpu_type *t = NULL;
        hd_device *only = NULL;
        json_object *o = NULL;
        const char *name;
        size_t n = 0;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        if (*name && lookup(d, m, name, &only) < 0)
                return 0;
        r = hd_vgpu_list_types(d->list, only, &t, &n);
        if (r < 0)
                return reply_ctx_error(d, m, "vgpu types", r);
        r = hd_vgpu_types_to_json(t, n, &o);
        hd_vgpu_types_free(t, n);
        if (r < 0)
                return r;
        return reply_json(m, o);
}

/* ---- Doctor(as devices) -> s json: doctor [DEV...] --json ---- */

int method_doctor(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        struct daemon *d = userdata;
        hd_device **devs = NULL;
        json_object *o = NULL;
        hd_check *v = NULL;
        char **names = NULL;
        size_t n = 0, nd = 0;
        int r;

        r = sd_bus_message_read_strv(m, &names);
        if (r < 0)
                return r;
        while (names && names[nd])
                nd++;
        if (nd > MAX_DOCTOR_DEVICES) {
                r = sd_bus_reply_method_errorf(m, ERROR_INVALID, "doctor: too many devices (%zu; at most %u)", nd,
                                               MAX_DOCTOR_DEVICES);
                goto out;
        }
        devs = calloc(nd + 1, sizeof(*devs));
        if (!devs) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < nd; i++) {
                if (lookup(d, m, names[i], &devs[i]) < 0) {
                        r = 0;
                        goto out;
                }
                if (hd_device_get_cap_type(devs[i]) != HD_CAP_PCI) {
                        r = sd_bus_reply_method_errorf(m, ERROR_INVALID, "doctor: %s is not a PCI device",
                                                       hd_device_get_name(devs[i]));
                        goto out;
                }
        }
        r = hd_doctor(d->list, devs, nd, &v, &n);
        if (r < 0) {
                r = reply_ctx_error(d, m, "doctor", r);
                goto out;
        }
        r = hd_check_array_to_json(v, n, &o);
        hd_check_array_free(v, n);
        if (r >= 0)
                r = reply_json(m, o);
out:
        free(devs);
        for (size_t i = 0; names && names[i]; i++)
                free(names[i]);
        free(names);
        return r;
}

/* ---- MdevCreateWithAttrs(s parent, s type, s uuid, a(ss) attrs, t flags)
 * -> s result: mdev create with --attr; flags: 2 dry run ---- */

static int do_mdev_create_with_attrs(struct daemon *d, sd_bus_message *m) {
        const char *parent, *type, *uuid;
        hd_mdev *attrs;
        uint64_t flags;
        int r;

        r = sd_bus_message_read(m, "sss", &parent, &type, &uuid);
        if (r < 0)
                return r;
        attrs = calloc(1, sizeof(*attrs));
        if (!attrs)
                return -ENOMEM;
        r = read_attrs(m, "mdev create", attrs);
        if (r > 0)
                r = sd_bus_message_read(m, "t", &flags);
        if (r > 0)
                r = mdev_create_reply(d, m, parent, type, uuid, attrs->attrs, attrs->n_attrs, flags);
        hd_mdev_free(attrs);
        return r;
}

int method_mdev_create_with_attrs(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return authz_run(userdata, m, "org.hostdev.mdev", do_mdev_create_with_attrs);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The JSON documents of the boot module (include/hostdev/boot.h):
 * `hostdevctl boot plan --json`, `boot status --json` and `override list
 * --json`.  hostdevctl prints them and hostdevd answers them, so both
 * front ends say the same thing byte for byte (docs/json.md).
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>

#include "hostdev/hostdev.h"
#include "util/macro.h"

/* "" and NULL are JSON null, as everywhere in hostdevctl's JSON */
static json_object *str_or_null(const char *s) { return isempty(s) ? NULL : json_object_new_string(s); }

static json_object *strv_json(char *const *v, size_t n) {
        json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < n; i++)
                json_object_array_add(a, json_object_new_string(v[i]));
        return a;
}

_public_ int hd_boot_plan_to_json(const hd_boot_plan *p, json_object **ret) {
        json_object *o, *a;

        if (!p || !ret)
                return -EINVAL;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "root", str_or_null(p->root));
        json_object_object_add(o, "driver", json_object_new_string(p->driver));
        json_object_object_add(o, "initramfs", str_or_null(p->initramfs));
        json_object_object_add(o, "bootloader", str_or_null(p->bootloader));
        json_object_object_add(o, "iommu_vendor", str_or_null(p->iommu_vendor));
        json_object_object_add(o, "binding", json_object_new_string(p->by_ids ? "ids" : "address"));
        json_object_object_add(o, "ids", p->by_ids ? str_or_null(p->ids) : NULL);
        a = json_object_new_array();
        for (size_t i = 0; i < p->n_devices; i++) {
                json_object *d = json_object_new_object();
                json_object_object_add(d, "address", json_object_new_string(p->devices[i].addr));
                json_object_object_add(d, "ids", json_object_new_string(p->devices[i].ids));
                json_object_object_add(d, "driver", str_or_null(p->devices[i].driver_now));
                json_object_object_add(d, "host_module", str_or_null(p->devices[i].host_module));
                json_object_object_add(d, "reason", json_object_new_string(p->devices[i].reason));
                json_object_array_add(a, d);
        }
        json_object_object_add(o, "devices", a);
        json_object_object_add(o, "kernel_arguments", strv_json(p->kargs, p->n_kargs));
        a = json_object_new_array();
        for (size_t i = 0; i < p->n_files; i++) {
                json_object *f = json_object_new_object();
                hd_boot_plan one = { .files = &p->files[i], .n_files = 1 };
                char *diff = NULL;
                json_object_object_add(f, "path", json_object_new_string(p->files[i].path));
                json_object_object_add(f, "action", json_object_new_string(!p->files[i].before ? "create"
                                                                           : !p->files[i].after ? "remove" : "edit"));
                json_object_object_add(f, "why", json_object_new_string(p->files[i].why));
                if (hd_boot_plan_format_diff(&one, &diff) >= 0)
                        json_object_object_add(f, "diff", json_object_new_string(diff));
                free(diff);
                json_object_array_add(a, f);
        }
        json_object_object_add(o, "files", a);
        json_object_object_add(o, "commands", strv_json(p->commands, p->n_commands));
        json_object_object_add(o, "notes", strv_json(p->notes, p->n_notes));
        *ret = o;
        return 0;
}

_public_ int hd_boot_status_to_json(const hd_boot_status *s, json_object **ret) {
        json_object *j, *a;

        if (!s || !ret)
                return -EINVAL;
        j = json_object_new_object();
        if (!j)
                return -ENOMEM;
        json_object_object_add(j, "state", json_object_new_string(s->state));
        json_object_object_add(j, "configured", json_object_new_boolean(s->configured));
        json_object_object_add(j, "active", json_object_new_boolean(s->active));
        json_object_object_add(j, "kernel_arguments_live", json_object_new_boolean(s->kargs_live));
        json_object_object_add(j, "kernel_arguments", strv_json(s->kargs, s->n_kargs));
        a = json_object_new_array();
        for (size_t i = 0; i < s->n_devices; i++) {
                json_object *d = json_object_new_object();
                json_object_object_add(d, "address", json_object_new_string(s->devices[i].addr));
                json_object_object_add(d, "configured_driver", json_object_new_string(s->devices[i].want));
                json_object_object_add(d, "driver", str_or_null(s->devices[i].now));
                json_object_array_add(a, d);
        }
        json_object_object_add(j, "devices", a);
        json_object_object_add(j, "softdeps", strv_json(s->softdeps, s->n_softdeps));
        json_object_object_add(j, "drift", strv_json(s->drift, s->n_drift));
        *ret = j;
        return 0;
}

_public_ int hd_override_array_to_json(const hd_override *v, size_t n, json_object **ret) {
        json_object *a;

        if ((!v && n) || !ret)
                return -EINVAL;
        a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_new_object(), *id = NULL;
                json_object_object_add(e, "address", json_object_new_string(v[i].addr));
                json_object_object_add(e, "driver", json_object_new_string(v[i].driver));
                if (v[i].has_identity) {
                        id = json_object_new_object();
                        json_object_object_add(id, "ids", json_object_new_string(v[i].ids));
                        json_object_object_add(id, "subsystem", json_object_new_string(v[i].subsys));
                        json_object_object_add(id, "serial", str_or_null(v[i].serial));
                }
                json_object_object_add(e, "identity", id);
                json_object_object_add(e, "bound", str_or_null(v[i].now));
                json_object_object_add(e, "match", json_object_new_string(v[i].match));
                json_object_object_add(e, "reason", str_or_null(v[i].why));
                json_object_array_add(a, e);
        }
        *ret = a;
        return 0;
}

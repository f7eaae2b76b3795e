/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The JSON listings of SR-IOV and mediated devices that hostdevctl and
 * hostdevd both answer (include/hostdev/listing.h): `sriov list --json`,
 * `mdev list --json`, `mdev types --json`, `gpu --json` and `vgpu types
 * --json`.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdev/gpu.h"
#include "hostdev/hostdev.h"
#include "hostdev/listing.h"
#include "hostdev/mdev.h"
#include "hostdev/sriov.h"
#include "util/macro.h"

static json_object *str_or_null(const char *s) { return s && *s ? json_object_new_string(s) : NULL; }
static json_object *bool_or_null(int v) { return v < 0 ? NULL : json_object_new_boolean(v); }

static const char *link_state_word(int s) {
        switch (s) {
        case 0: return "auto";
        case 1: return "enable";
        case 2: return "disable";
        default: return NULL;
        }
}

static json_object *pf_json(const hd_sriov_pf *pf) {
        json_object *o = json_object_new_object(), *vfs = json_object_new_array();
        char id[16];

        if (!o || !vfs) {
                json_object_put(o);
                json_object_put(vfs);
                return NULL;
        }
        json_object_object_add(o, "address", json_object_new_string(pf->addr));
        json_object_object_add(o, "name", json_object_new_string(pf->name));
        snprintf(id, sizeof(id), "0x%04x", pf->vendor);
        json_object_object_add(o, "vendor", json_object_new_string(id));
        snprintf(id, sizeof(id), "0x%04x", pf->device);
        json_object_object_add(o, "device", json_object_new_string(id));
        json_object_object_add(o, "driver", str_or_null(pf->driver));
        json_object_object_add(o, "netdev", str_or_null(pf->netdev));
        json_object_object_add(o, "totalvfs", json_object_new_int((int) pf->totalvfs));
        json_object_object_add(o, "numvfs", json_object_new_int((int) pf->numvfs));
        json_object_object_add(o, "autoprobe", bool_or_null(pf->autoprobe));
        for (size_t i = 0; i < pf->n_vfs; i++) {
                const hd_sriov_vf *v = &pf->vfs[i];
                json_object *jv = json_object_new_object();
                if (!jv) {
                        json_object_put(vfs);
                        json_object_put(o);
                        return NULL;
                }
                json_object_object_add(jv, "index", json_object_new_int((int) v->index));
                json_object_object_add(jv, "address", json_object_new_string(v->addr));
                json_object_object_add(jv, "driver", str_or_null(v->driver));
                json_object_object_add(jv, "netdev", str_or_null(v->netdev));
                json_object_object_add(jv, "mac", v->has_link_info ? str_or_null(v->mac) : NULL);
                json_object_object_add(jv, "vlan", v->has_link_info ? json_object_new_int((int) v->vlan) : NULL);
                json_object_object_add(jv, "qos", v->has_link_info ? json_object_new_int((int) v->qos) : NULL);
                json_object_object_add(jv, "trust", bool_or_null(v->trust));
                json_object_object_add(jv, "spoofchk", bool_or_null(v->spoofchk));
                json_object_object_add(jv, "link_state", str_or_null(link_state_word(v->link_state)));
                json_object_array_add(vfs, jv);
        }
        json_object_object_add(o, "vfs", vfs);
        return o;
}

/* an array of @n objects made by @fn from the items at @items */
static int array_json(const void *items, size_t n, size_t size, json_object *(*fn)(const void *item), json_object **ret) {
        json_object *a;

        if (!ret || (n && !items))
                return -EINVAL;
        a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *o = fn((const char *) items + i * size);
                if (!o || json_object_array_add(a, o) < 0) {
                        json_object_put(o);
                        json_object_put(a);
                        return -ENOMEM;
                }
        }
        *ret = a;
        return 0;
}

static json_object *pf_item(const void *item) { return pf_json(item); }

_public_ int hd_sriov_pf_list_to_json(const hd_sriov_pf *pfs, size_t n, json_object **ret) {
        return array_json(pfs, n, sizeof(*pfs), pf_item, ret);
}

static json_object *mdev_item(const void *item) {
        const hd_mdev *m = item;
        json_object *o = json_object_new_object(), *attrs = json_object_new_array();
        char *name = NULL;

        if (!o || !attrs) {
                json_object_put(o);
                json_object_put(attrs);
                return NULL;
        }
        (void) hd_mdev_nodedev_name(m->uuid, m->parent, &name);
        json_object_object_add(o, "uuid", json_object_new_string(m->uuid));
        json_object_object_add(o, "parent", json_object_new_string(m->parent));
        json_object_object_add(o, "type", m->type ? json_object_new_string(m->type) : NULL);
        json_object_object_add(o, "name", name ? json_object_new_string(name) : NULL);
        json_object_object_add(o, "active", json_object_new_boolean(m->active));
        json_object_object_add(o, "defined", json_object_new_boolean(m->defined));
        json_object_object_add(o, "start", m->defined ? json_object_new_string(m->autostart ? "auto" : "manual") : NULL);
        json_object_object_add(o, "iommu_group", m->iommu_group >= 0 ? json_object_new_int(m->iommu_group) : NULL);
        free(name);
        for (size_t i = 0; i < m->n_attrs; i++) {
                json_object *a = json_object_new_object();
                if (!a) {
                        json_object_put(attrs);
                        json_object_put(o);
                        return NULL;
                }
                json_object_object_add(a, m->attrs[i].name, json_object_new_string(m->attrs[i].value));
                json_object_array_add(attrs, a);
        }
        json_object_object_add(o, "attrs", attrs);
        return o;
}

_public_ int hd_mdev_list_to_json(const hd_mdev *mdevs, size_t n, json_object **ret) {
        return array_json(mdevs, n, sizeof(*mdevs), mdev_item, ret);
}

static json_object *type_item(const void *item) {
        const hd_mdev_type *t = item;
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "parent", json_object_new_string(t->parent));
        json_object_object_add(o, "type", json_object_new_string(t->id));
        json_object_object_add(o, "name", t->name ? json_object_new_string(t->name) : NULL);
        json_object_object_add(o, "device_api", t->device_api ? json_object_new_string(t->device_api) : NULL);
        json_object_object_add(o, "available_instances", t->available >= 0 ? json_object_new_int64(t->available) : NULL);
        json_object_object_add(o, "description", t->description ? json_object_new_string(t->description) : NULL);
        return o;
}

_public_ int hd_mdev_types_to_json(const hd_mdev_type *types, size_t n, json_object **ret) {
        return array_json(types, n, sizeof(*types), type_item, ret);
}

/* ---- gpu --json ---- */

static json_object *gpu_item(const void *item) {
        const hd_gpu *g = item;
        json_object *o = json_object_new_object(), *a;
        char buf[16];

        json_object_object_add(o, "address", json_object_new_string(g->addr));
        json_object_object_add(o, "name", json_object_new_string(hd_device_get_name(g->device)));
        snprintf(buf, sizeof(buf), "%04x", g->vendor_id);
        json_object_object_add(o, "vendor_id", json_object_new_string(buf));
        snprintf(buf, sizeof(buf), "%04x", g->device_id);
        json_object_object_add(o, "device_id", json_object_new_string(buf));
        snprintf(buf, sizeof(buf), "0x%06x", g->class_code);
        json_object_object_add(o, "class", json_object_new_string(buf));
        json_object_object_add(o, "vendor", str_or_null(g->vendor));
        json_object_object_add(o, "product", str_or_null(g->product));
        json_object_object_add(o, "driver", str_or_null(g->driver));
        if (g->drm_source) {
                json_object *d = json_object_new_object();
                json_object_object_add(d, "driver", str_or_null(g->drm_driver));
                json_object_object_add(d, "version", str_or_null(g->drm_version));
                json_object_object_add(d, "date", str_or_null(g->drm_date));
                json_object_object_add(d, "description", str_or_null(g->drm_desc));
                json_object_object_add(d, "source", json_object_new_string(g->drm_source));
                json_object_object_add(d, "card", str_or_null(g->card));
                json_object_object_add(d, "render", str_or_null(g->render));
                json_object_object_add(o, "drm", d);
        } else
                json_object_object_add(o, "drm", NULL);
        a = json_object_new_array();
        for (size_t i = 0; i < g->n_companions; i++) {
                json_object *c = json_object_new_object();
                json_object_object_add(c, "address", json_object_new_string(g->companions[i].addr));
                json_object_object_add(c, "kind", json_object_new_string(g->companions[i].kind));
                json_object_object_add(c, "driver", str_or_null(g->companions[i].driver));
                json_object_array_add(a, c);
        }
        json_object_object_add(o, "companions", a);
        json_object_object_add(o, "boot_vga", json_object_new_boolean(g->boot_vga));
        json_object_object_add(o, "console_holder", str_or_null(g->console_holder));
        a = json_object_new_array();
        for (size_t i = 0; i < g->n_users; i++) {
                json_object *u = json_object_new_object();
                json_object_object_add(u, "pid", json_object_new_int(g->users[i].pid));
                json_object_object_add(u, "comm", json_object_new_string(g->users[i].comm));
                json_object_object_add(u, "node", json_object_new_string(g->users[i].node));
                json_object_array_add(a, u);
        }
        json_object_object_add(o, "drm_users", a);
        json_object_object_add(o, "iommu_group", g->iommu_group >= 0 ? json_object_new_int(g->iommu_group) : NULL);
        json_object_object_add(o, "iommu_group_viable",
                               g->group_viable >= 0 ? json_object_new_boolean(g->group_viable) : NULL);
        json_object_object_add(o, "iommu_group_blocker", str_or_null(g->group_blocker));
        a = json_object_new_array();
        {
                char *m = g->reset_methods ? strdup(g->reset_methods) : NULL;
                char *save = NULL;
                for (char *t = m ? strtok_r(m, " ", &save) : NULL; t; t = strtok_r(NULL, " ", &save))
                        json_object_array_add(a, json_object_new_string(t));
                free(m);
        }
        json_object_object_add(o, "reset_methods", a);
        json_object_object_add(o, "rom", json_object_new_boolean(g->has_rom));
        json_object_object_add(o, "sriov_vfs", json_object_new_int((int) g->n_vfs));
        json_object_object_add(o, "quirk", str_or_null(g->quirk));
        json_object_object_add(o, "passthrough_ready", json_object_new_boolean(g->ready));
        json_object_object_add(o, "reason", str_or_null(g->reason));
        return o;
}

_public_ int hd_gpu_list_to_json(const hd_gpu *gpus, size_t n, json_object **ret) {
        return array_json(gpus, n, sizeof(*gpus), gpu_item, ret);
}

static json_object *vgpu_type_item(const void *item) {
        const hd_vgpu_type *t = item;
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "parent", json_object_new_string(t->parent));
        json_object_object_add(o, "layout", json_object_new_string(hd_vgpu_layout_to_string(t->layout)));
        json_object_object_add(o, "type", json_object_new_string(t->id));
        json_object_object_add(o, "name", str_or_null(t->name));
        json_object_object_add(o, "available", t->available >= 0 ? json_object_new_int64(t->available) : NULL);
        return o;
}

_public_ int hd_vgpu_types_to_json(const hd_vgpu_type *types, size_t n, json_object **ret) {
        return array_json(types, n, sizeof(*types), vgpu_type_item, ret);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The listings front ends share (include/hostdev/listing.h): a node
 * device's fields as `nodedev-list` shows them, and the IOMMU document of
 * `iommu --json`.  Here rather than in nodedev/ because a PCI device's
 * fields include its IOMMU group's viability.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdev/listing.h"
#include "nodedev/device.h"
#include "util/macro.h"

static json_object *str_or_null(const char *s) { return s && *s ? json_object_new_string(s) : NULL; }

/* the IOMMU group of a PCI device and whether it could go to a VM now:
 * -1 for none */
static void pci_state(hd_nodedev_list *list, hd_device *d, int *group, int *viable) {
        *group = -1;
        *viable = -1;
        if (hd_device_get_cap_type(d) != HD_CAP_PCI)
                return;
        *group = hd_device_get_iommu_group(d);
        if (*group >= 0)
                *viable = hd_iommu_group_is_viable(list, (unsigned) *group, NULL);
}

typedef json_object *(*field_fn)(hd_nodedev_list *list, hd_device *d);

static json_object *f_name(hd_nodedev_list *l, hd_device *d) { return str_or_null(hd_device_get_name(d)); }
static json_object *f_parent(hd_nodedev_list *l, hd_device *d) {
        hd_device *p = hd_device_get_parent(d);
        return p ? str_or_null(hd_device_get_name(p)) : NULL;
}
static json_object *f_cap(hd_nodedev_list *l, hd_device *d) {
        return str_or_null(hd_cap_type_to_string(hd_device_get_cap_type(d)));
}
static json_object *f_subsystem(hd_nodedev_list *l, hd_device *d) { return str_or_null(hd_device_get_subsystem(d)); }
static json_object *f_path(hd_nodedev_list *l, hd_device *d) { return str_or_null(hd_device_get_syspath(d)); }
static json_object *f_devnode(hd_nodedev_list *l, hd_device *d) { return str_or_null(hd_device_get_devnode(d)); }
static json_object *f_driver(hd_nodedev_list *l, hd_device *d) { return str_or_null(hd_device_get_driver(d)); }
static json_object *f_iommu(hd_nodedev_list *l, hd_device *d) {
        int group, viable;
        pci_state(l, d, &group, &viable);
        return group < 0 ? NULL : json_object_new_int64(group);
}
static json_object *f_viable(hd_nodedev_list *l, hd_device *d) {
        int group, viable;
        pci_state(l, d, &group, &viable);
        return viable < 0 ? NULL : json_object_new_boolean(viable > 0);
}
static json_object *f_address(hd_nodedev_list *l, hd_device *d) {
        return hd_device_get_cap_type(d) == HD_CAP_PCI ? str_or_null(hd_device_get_pci_address(d)) : NULL;
}
static json_object *f_class(hd_nodedev_list *l, hd_device *d) {
        unsigned cls;
        char buf[16];
        if (hd_pci_device_get_ids(d, NULL, NULL, &cls) < 0)
                return NULL;
        snprintf(buf, sizeof(buf), "0x%06x", cls);
        return json_object_new_string(buf);
}
static json_object *f_id(hd_nodedev_list *l, hd_device *d) {
        unsigned v, dev;
        char buf[256];
        const char *uv, *up;
        if (hd_pci_device_get_ids(d, &v, &dev, NULL) >= 0) {
                snprintf(buf, sizeof(buf), "%04x:%04x", v, dev);
                return json_object_new_string(buf);
        }
        uv = hd_device_get_property(d, "ID_VENDOR_ID");
        up = hd_device_get_property(d, "ID_MODEL_ID");
        if (hd_device_get_cap_type(d) == HD_CAP_USB_DEV && uv && up) {
                snprintf(buf, sizeof(buf), "%s:%s", uv, up);
                return str_or_null(buf);
        }
        return NULL;
}
static json_object *f_vendor_product(hd_device *d, bool vendor) {
        char v[256], p[256];
        if (hd_device_get_vendor_product(d, v, sizeof(v), p, sizeof(p)) < 0)
                return NULL;
        return str_or_null(vendor ? v : p);
}
static json_object *f_vendor(hd_nodedev_list *l, hd_device *d) { return f_vendor_product(d, true); }
static json_object *f_product(hd_nodedev_list *l, hd_device *d) { return f_vendor_product(d, false); }
static json_object *f_active(hd_nodedev_list *l, hd_device *d) { return json_object_new_boolean(hd_device_is_active(d)); }
static json_object *f_persistent(hd_nodedev_list *l, hd_device *d) {
        return json_object_new_boolean(hd_device_is_persistent(d));
}
static json_object *f_autostart(hd_nodedev_list *l, hd_device *d) {
        return json_object_new_boolean(hd_device_get_autostart(d));
}

static const struct {
        const char *key;
        field_fn fn;
} fields[] = {
        { "name", f_name },         { "parent", f_parent },     { "capability", f_cap },
        { "subsystem", f_subsystem }, { "path", f_path },       { "devnode", f_devnode },
        { "driver", f_driver },     { "iommu_group", f_iommu }, { "iommu_group_viable", f_viable },
        { "address", f_address },   { "class", f_class },       { "id", f_id },
        { "vendor", f_vendor },     { "product", f_product },   { "active", f_active },
        { "persistent", f_persistent }, { "autostart", f_autostart },
};

/* nodedev-list --json: the first nine, in this order */
#define N_LIST_FIELDS 9

_public_ int hd_device_field_to_json(hd_nodedev_list *list, hd_device *d, const char *key, json_object **ret) {
        if (!list || !d || !key || !ret)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (streq(fields[i].key, key)) {
                        *ret = fields[i].fn(list, d);
                        return 0;
                }
        return -ENOENT;
}

_public_ int hd_nodedev_list_to_json(hd_nodedev_list *list, bool (*match)(hd_device *d, void *userdata), void *userdata,
                                     json_object **ret) {
        json_object *a;

        if (!list || !ret)
                return -EINVAL;
        a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < hd_nodedev_list_count(list); i++) {
                hd_device *d = hd_nodedev_list_get(list, i);
                json_object *o;
                if (match && !match(d, userdata))
                        continue;
                o = json_object_new_object();
                if (!o || json_object_array_add(a, o) < 0) {
                        json_object_put(o);
                        json_object_put(a);
                        return -ENOMEM;
                }
                for (size_t k = 0; k < N_LIST_FIELDS; k++)
                        json_object_object_add(o, fields[k].key, fields[k].fn(list, d));
        }
        *ret = a;
        return 0;
}

/* a member of an IOMMU group as `iommu --json` shows it */
static json_object *group_member_json(hd_device *d) {
        json_object *o = json_object_new_object();
        if (hd_device_get_cap_type(d) != HD_CAP_PCI) {
                const char *path = hd_device_get_syspath(d);
                json_object_object_add(o, "address", json_object_new_string(path ? strrchr(path, '/') + 1 : ""));
                json_object_object_add(o, "name", json_object_new_string(hd_device_get_name(d)));
                json_object_object_add(o, "capability",
                                       json_object_new_string(hd_cap_type_to_string(hd_device_get_cap_type(d))));
                return o;
        }
        const char *drv = hd_device_get_driver(d);
        const char *addr = hd_device_get_pci_address(d);
        unsigned v, dev, cls;
        char buf[32];
        bool ids = hd_pci_device_get_ids(d, &v, &dev, &cls) >= 0;
        json_object_object_add(o, "address", json_object_new_string(addr ?: ""));
        json_object_object_add(o, "name", json_object_new_string(hd_device_get_name(d)));
        /* the node-device XML's forms: 0x020000, 8086:15bc */
        snprintf(buf, sizeof(buf), "0x%06x", ids ? cls : 0);
        json_object_object_add(o, "class", ids ? json_object_new_string(buf) : NULL);
        if (ids)
                snprintf(buf, sizeof(buf), "%04x:%04x", v, dev);
        json_object_object_add(o, "id", ids ? json_object_new_string(buf) : NULL);
        json_object_object_add(o, "driver", drv ? json_object_new_string(drv) : NULL);
        json_object_object_add(o, "bridge", json_object_new_boolean(hd_pci_device_is_bridge(d)));
        {
                char vendor[128], product[160];
                if (hd_pci_device_get_names(d, vendor, sizeof(vendor), product, sizeof(product)) >= 0) {
                        json_object_object_add(o, "vendor", vendor[0] ? json_object_new_string(vendor) : NULL);
                        json_object_object_add(o, "product", product[0] ? json_object_new_string(product) : NULL);
                }
        }
        return o;
}

_public_ int hd_iommu_to_json(hd_nodedev_list *list, json_object **ret) {
        _cleanup_free_ unsigned *groups = NULL;
        _cleanup_(hd_iommu_info_freep) hd_iommu_info *info = NULL;
        json_object *root, *ji, *jgroups;
        size_t ng = 0;
        int r;

        if (!list || !ret)
                return -EINVAL;
        r = hd_iommu_get_info(hd_nodedev_list_get_ctx(list), &info);
        if (r < 0)
                return r;
        r = hd_iommu_list_groups(list, &groups, &ng);
        if (r < 0)
                return r;
        root = json_object_new_object();
        ji = json_object_new_object();
        jgroups = json_object_new_array();
        if (!root || !ji || !jgroups) {
                json_object_put(root);
                json_object_put(ji);
                json_object_put(jgroups);
                return -ENOMEM;
        }
        json_object_object_add(ji, "enabled", json_object_new_boolean(info->enabled));
        json_object_object_add(ji, "vendor", str_or_null(info->vendor));
        json_object_object_add(ji, "interrupt_remapping", info->intremap < 0 ? NULL : json_object_new_boolean(info->intremap));
        json_object_object_add(ji, "hint", str_or_null(info->hint));
        json_object_object_add(ji, "hypervisor", str_or_null(info->hypervisor));
        json_object_object_add(root, "iommu", ji);
        json_object_object_add(root, "groups", jgroups);
        for (size_t g = 0; g < ng; g++) {
                _cleanup_free_ hd_device **devs = NULL;
                hd_device *blocker = NULL;
                json_object *jg, *jd;
                size_t n = 0;
                int viable;

                if (hd_iommu_group_get_devices(list, groups[g], &devs, &n) < 0)
                        continue;
                viable = hd_iommu_group_is_viable(list, groups[g], &blocker);
                jg = json_object_new_object();
                jd = json_object_new_array();
                json_object_object_add(jg, "number", json_object_new_int((int) groups[g]));
                json_object_object_add(jg, "viable", json_object_new_boolean(viable > 0));
                json_object_object_add(jg, "blocker",
                                       blocker ? json_object_new_string(strrchr(hd_device_get_syspath(blocker), '/') + 1) : NULL);
                for (size_t i = 0; i < n; i++)
                        json_object_array_add(jd, group_member_json(devs[i]));
                json_object_object_add(jg, "devices", jd);
                json_object_array_add(jgroups, jg);
        }
        *ret = root;
        return 0;
}

_public_ int hd_json_to_text(json_object *o, char **ret) {
        const char *s;
        char *copy;

        if (!ret)
                return -EINVAL;
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        copy = strdup(s ?: "null");
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

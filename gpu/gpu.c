/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One view of every GPU for passthrough: names, driver, DRM nodes (libdrm
 * on the live host, the tree with a sysroot), companion functions of the
 * card, boot VGA and what holds it, DRM node users, IOMMU group, reset
 * methods, known quirks, and whether it can go to a guest now.
 */
#include <limits.h>

#include "gpu/gpu-internal.h"
#include "vfio/vfio-internal.h"
#include "quirks.h"

_public_ bool hd_device_is_gpu(hd_device *d) {
        const char *cls;
        unsigned v;

        if (!d || hd_device_get_cap_type(d) != HD_CAP_PCI)
                return false;
        cls = hd_device_get_property(d, "PCI_CLASS");
        return cls && hd_safe_atou(cls, 16, &v) >= 0 && (v >> 16) == 0x03;
}

const char *hd_gpu_quirk_lookup(unsigned vendor, unsigned device) {
        const char *any = NULL;
        for (size_t i = 0; i < ELEMENTSOF(hd_gpu_quirks); i++) {
                if (hd_gpu_quirks[i].vendor != vendor)
                        continue;
                if (hd_gpu_quirks[i].device == (int) device)
                        return hd_gpu_quirks[i].note;
                if (hd_gpu_quirks[i].device < 0 && !any)
                        any = hd_gpu_quirks[i].note;
        }
        return any;
}

int hd_pci_physfn(hd_device *d, char *buf, size_t size) {
        _cleanup_free_ char *target = NULL;
        char path[PATH_MAX];
        int r;

        r = hd_device_attr_path(d, "physfn", path, sizeof(path));
        if (r < 0)
                return r;
        r = hd_sysfs_readlink(hd_device_get_ctx(d), path, &target);
        if (r < 0)
                return r == -EINVAL ? -ENOENT : r;
        snprintf(buf, size, "%s", hd_path_basename(target));
        return 0;
}

static unsigned pci_class(hd_device *d) {
        const char *cls = hd_device_get_property(d, "PCI_CLASS");
        unsigned v = 0;
        if (cls)
                (void) hd_safe_atou(cls, 16, &v);
        return v;
}

static const char *companion_kind(unsigned cls) {
        switch (cls >> 8) {
        case 0x0403: return "audio";
        case 0x0c03: return "usb";
        case 0x0c80: return "serial-bus";
        }
        return "other";
}

_public_ void hd_gpu_companions_free(hd_gpu_companion *v, size_t n) {
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].addr);
                free(v[i].kind);
                free(v[i].driver);
        }
        free(v);
}

_public_ int hd_gpu_get_companions(hd_nodedev_list *list, hd_device *d, hd_gpu_companion **ret, size_t *ret_n) {
        hd_gpu_companion *v = NULL;
        struct hd_pci_addr a, b;
        size_t n = 0;

        if (!list || !d || !ret || !ret_n)
                return -EINVAL;
        if (hd_device_get_cap_type(d) != HD_CAP_PCI || hd_pci_addr_parse(hd_device_get_sysname(d), &a) < 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        /* list->devs is sorted by name: functions come in address order */
        for (size_t i = 0; i < hd_nodedev_list_count(list); i++) {
                hd_device *x = hd_nodedev_list_get(list, i);
                hd_gpu_companion *c;
                const char *drv;
                if (x == d || hd_device_get_cap_type(x) != HD_CAP_PCI ||
                    hd_pci_addr_parse(hd_device_get_sysname(x), &b) < 0 || a.domain != b.domain || a.bus != b.bus ||
                    a.slot != b.slot)
                        continue;
                if (hd_pci_physfn(x, (char[32]){}, 32) >= 0)
                        continue; /* SR-IOV VFs are not functions of the card */
                c = realloc(v, (n + 1) * sizeof(*v));
                if (!c) {
                        hd_gpu_companions_free(v, n);
                        return -ENOMEM;
                }
                v = c;
                c = &v[n++];
                memset(c, 0, sizeof(*c));
                drv = hd_device_get_driver(x);
                if (!(c->addr = strdup(hd_device_get_sysname(x))) || !(c->kind = strdup(companion_kind(pci_class(x)))) ||
                    (drv && !(c->driver = strdup(drv)))) {
                        hd_gpu_companions_free(v, n);
                        return -ENOMEM;
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* DRM nodes and driver from the tree: drm/cardN and drm/renderDN below
 * the device; the DRM driver is the PCI device's driver.  Nodes libdrm
 * found are kept. */
static int drm_from_tree(hd_nodedev_list *list, hd_gpu *g) {
        hd_device *d = g->device;
        size_t l = strlen(hd_device_get_syspath(d));

        for (size_t i = 0; i < hd_nodedev_list_count(list); i++) {
                hd_device *x = hd_nodedev_list_get(list, i);
                const char *base;
                if (hd_device_get_cap_type(x) != HD_CAP_DRM || !hd_device_get_devnode(x) || !hd_device_get_syspath(x) ||
                    strncmp(hd_device_get_syspath(x), hd_device_get_syspath(d), l) != 0 ||
                    hd_device_get_syspath(x)[l] != '/')
                        continue;
                base = hd_path_basename(hd_device_get_syspath(x));
                if (startswith(base, "card") && !g->card) {
                        if (!(g->card = strdup(hd_device_get_devnode(x))))
                                return -ENOMEM;
                } else if (startswith(base, "renderD") && !g->render) {
                        if (!(g->render = strdup(hd_device_get_devnode(x))))
                                return -ENOMEM;
                }
        }
        if (g->card || g->render) {
                free(g->drm_driver);
                g->drm_driver = NULL;
                if (g->driver && !(g->drm_driver = strdup(g->driver)))
                        return -ENOMEM;
                g->drm_source = "sysfs";
        }
        return 0;
}

/* Why @g cannot be passed through now: the first reason wins. */
static int reasonf(hd_gpu *g, const char *fmt, ...) _printf_(2, 3);
static int reasonf(hd_gpu *g, const char *fmt, ...) {
        va_list ap;
        int r;
        if (g->reason)
                return 0;
        g->ready = false;
        va_start(ap, fmt);
        r = hd_vasprintf(&g->reason, fmt, ap);
        va_end(ap);
        return r;
}

/* a copy of @s in *@ret, NULL for NULL or "" */
static int dup_nonempty(const char *s, char **ret) {
        if (isempty(s))
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* Is @x one of the functions of @g's card (same slot)? */
static bool same_card(hd_gpu *g, hd_device *x) {
        if (x == g->device)
                return true;
        for (size_t i = 0; i < g->n_companions; i++)
                if (streq(g->companions[i].addr, hd_device_get_sysname(x)))
                        return true;
        return false;
}

static int gpu_fill(hd_nodedev_list *list, hd_device *d, hd_gpu *g) {
        hd_ctx *ctx = hd_nodedev_list_get_ctx(list);
        const char *id = hd_device_get_property(d, "PCI_ID");
        const char *drv = hd_device_get_driver(d);
        _cleanup_free_ char *reason = NULL;
        char path[PATH_MAX], vendor[256] = "", product[256] = "", holder[256] = "", methods[256] = "";
        long long v;
        int r;

        memset(g, 0, sizeof(*g));
        g->device = d;
        g->iommu_group = -1;
        g->group_viable = -1;
        g->ready = true;
        if (!(g->addr = strdup(hd_device_get_sysname(d))))
                return -ENOMEM;
        if (id)
                (void) sscanf(id, "%x:%x", &g->vendor_id, &g->device_id);
        g->class_code = pci_class(d);
        (void) hd_pci_device_get_names(d, vendor, sizeof(vendor), product, sizeof(product));
        if ((r = dup_nonempty(vendor, &g->vendor)) < 0 || (r = dup_nonempty(product, &g->product)) < 0 ||
            (r = dup_nonempty(drv, &g->driver)) < 0)
                return r;

        if (!hd_ctx_is_live(ctx) || (r = hd_gpu_drm_probe_live(ctx, g)) < 0) {
                if (r == -ENOMEM)
                        return r;
                if ((r = drm_from_tree(list, g)) < 0)
                        return r;
        }

        r = hd_gpu_get_companions(list, d, &g->companions, &g->n_companions);
        if (r < 0)
                return r;
        g->boot_vga = hd_device_read_attr_long(d, "boot_vga", 10, &v) >= 0 && v == 1;
        (void) hd_device_console_holder(d, holder, sizeof(holder));
        r = hd_device_drm_users(list, d, &g->users, &g->n_users);
        if (r < 0)
                return r;
        (void) hd_pci_get_reset_methods(d, methods, sizeof(methods));
        if ((r = dup_nonempty(holder, &g->console_holder)) < 0 || (r = dup_nonempty(methods, &g->reset_methods)) < 0 ||
            (r = dup_nonempty(hd_gpu_quirk_lookup(g->vendor_id, g->device_id), &g->quirk)) < 0)
                return r;
        hd_pci_path(path, sizeof(path), hd_device_get_sysname(d), "rom");
        g->has_rom = hd_sysfs_exists(ctx, path);
        if (hd_device_read_attr_long(d, "sriov_numvfs", 10, &v) >= 0 && v > 0)
                g->n_vfs = (unsigned) v;

        /* can it go to a guest now? */
        r = hd_device_get_iommu_group(d);
        if (r >= 0) {
                _cleanup_free_ hd_device **members = NULL;
                hd_device *blocker = NULL;
                size_t nm = 0;

                g->iommu_group = r;
                g->group_viable = hd_iommu_group_is_viable(list, (unsigned) r, &blocker);
                if (g->group_viable == 0 && blocker && !(g->group_blocker = strdup(hd_device_get_sysname(blocker))))
                        return -ENOMEM;
                if (hd_iommu_group_get_devices(list, (unsigned) r, &members, &nm) >= 0)
                        for (size_t i = 0; i < nm; i++) {
                                const char *md;
                                if (same_card(g, members[i]) || hd_device_get_cap_type(members[i]) != HD_CAP_PCI ||
                                    hd_pci_device_is_bridge(members[i]))
                                        continue;
                                md = hd_device_get_driver(members[i]);
                                if (md && !hd_driver_is_passthrough(md) &&
                                    reasonf(g, "IOMMU group %d also holds %s (driver %s), which is not part of this card",
                                            g->iommu_group, hd_device_get_sysname(members[i]), md) < 0)
                                        return -ENOMEM;
                        }
        } else if (reasonf(g, "no IOMMU group (is the IOMMU on?)") < 0)
                return -ENOMEM;
        if (g->console_holder &&
            reasonf(g, "%sheld by %s", g->boot_vga ? "it is the boot VGA device, " : "", g->console_holder) < 0)
                return -ENOMEM;
        if (g->n_users > 0 &&
            reasonf(g, "%s is open by process %d (%s)", g->users[0].node, g->users[0].pid, g->users[0].comm) < 0)
                return -ENOMEM;
        if (!g->reason && hd_host_safety_reason(list, d, &reason) == -EBUSY && reasonf(g, "%s", reason) < 0)
                return -ENOMEM;
        return 0;
}

/* for hd_nodedev_list_collect() */
static bool listed_gpu(hd_device *d) { return hd_device_is_gpu(d) && hd_pci_physfn(d, (char[32]){}, 32) < 0; }
static int gpu_elem_fill(hd_nodedev_list *list, hd_device *d, void *e) { return gpu_fill(list, d, e); }
static void gpu_array_free(void *v, size_t n) { hd_gpu_array_free(v, n); }
static int cmp_gpu(const void *a, const void *b);
static const struct hd_collect gpu_collect = {
        sizeof(hd_gpu), listed_gpu, gpu_elem_fill, gpu_array_free, cmp_gpu, hd_device_is_gpu, -ENOTTY,
};

static void gpu_done(hd_gpu *g) {
        free(g->addr);
        free(g->vendor);
        free(g->product);
        free(g->driver);
        free(g->drm_driver);
        free(g->drm_version);
        free(g->drm_date);
        free(g->drm_desc);
        free(g->card);
        free(g->render);
        hd_gpu_companions_free(g->companions, g->n_companions);
        free(g->console_holder);
        for (size_t i = 0; i < g->n_users; i++) {
                free(g->users[i].comm);
                free(g->users[i].node);
        }
        free(g->users);
        free(g->group_blocker);
        free(g->reset_methods);
        free(g->quirk);
        free(g->reason);
}

_public_ void hd_gpu_free(hd_gpu *g) {
        if (!g)
                return;
        gpu_done(g);
        free(g);
}

_public_ void hd_gpu_array_free(hd_gpu *g, size_t n) {
        for (size_t i = 0; g && i < n; i++)
                gpu_done(&g[i]);
        free(g);
}

_public_ int hd_gpu_get(hd_nodedev_list *list, hd_device *d, hd_gpu **ret) {
        int r;

        if (!list || !d)
                return -EINVAL;
        hd_error_clear(hd_nodedev_list_get_ctx(list));
        r = hd_nodedev_list_collect_one(list, &gpu_collect, d, ret);
        if (r == -ENOTTY)
                return hd_error(hd_nodedev_list_get_ctx(list), r, "%s is not a display-class PCI device",
                                hd_device_get_name(d));
        return r;
}

static int cmp_gpu(const void *a, const void *b) {
        return strcmp(((const hd_gpu *) a)->addr, ((const hd_gpu *) b)->addr);
}

_public_ int hd_gpu_list(hd_nodedev_list *list, hd_gpu **ret, size_t *ret_n) {
        if (list)
                hd_error_clear(hd_nodedev_list_get_ctx(list));
        return hd_nodedev_list_collect(list, &gpu_collect, ret, ret_n);
}

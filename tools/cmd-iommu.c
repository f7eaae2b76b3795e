/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hostdevctl IOMMU verbs: iommu, iommu explain. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostdev/listing.h"
#include "hostdevctl.h"

/* ---- iommu ---- */

/* "0200" style class code of a PCI device, as lspci prints it */
static const char *pci_label(hd_device *d, char *buf, size_t size) {
        unsigned cls = 0;
        (void) hd_pci_device_get_ids(d, NULL, NULL, &cls);
        snprintf(buf, size, "%04x", cls >> 8);
        return buf;
}

/* "8086:15bc", or NULL */
static const char *pci_id(hd_device *d, char *buf, size_t size) {
        unsigned v, dev;
        if (hd_pci_device_get_ids(d, &v, &dev, NULL) < 0)
                return NULL;
        snprintf(buf, size, "%04x:%04x", v, dev);
        return buf;
}

static int verb_iommu_explain(int argc, char **argv) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_free_ char *text = NULL;
        hd_device *d;
        int r;

        if (open_lookup_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        if (lookup(list, argv[1], &d) < 0)
                return EXIT_FAILURE;
        r = hd_iommu_explain(d, &text);
        if (r < 0) {
                errorf("iommu explain: %s", hd_ctx_get_error(ctx) ?: strerror(-r));
                return EXIT_FAILURE;
        }
        fputs(text, stdout);
        return EXIT_SUCCESS;
}

static int verb_iommu(int argc _unused_, char **argv _unused_) {
        _cleanup_(ctx_unrefp) hd_ctx *ctx = NULL;
        _cleanup_(list_unrefp) hd_nodedev_list *list = NULL;
        _cleanup_free_ unsigned *groups = NULL;
        _cleanup_(hd_iommu_info_freep) hd_iommu_info *info = NULL;
        json_object *root = NULL, *jgroups = NULL;
        bool json = arg_json;
        size_t ng = 0;
        int r;

        if (open_lookup_list(&ctx, &list) < 0)
                return EXIT_FAILURE;
        if (json) {
                /* the library's document (the daemon's ListIommuGroups),
                 * plus what libvirt says about each group */
                r = hd_iommu_to_json(list, &root);
                if (r >= 0)
                        r = hd_iommu_list_groups(list, &groups, &ng);
                if (r < 0) {
                        errorf("iommu: %s", strerror(-r));
                        json_object_put(root);
                        return EXIT_FAILURE;
                }
                json_object_object_get_ex(root, "groups", &jgroups);
                for (size_t g = 0, k = 0; g < ng; g++) {
                        _cleanup_free_ hd_device **devs = NULL;
                        json_object *jg, *jd, *h;
                        size_t n = 0;
                        if (hd_iommu_group_get_devices(list, groups[g], &devs, &n) < 0)
                                continue;
                        jg = json_object_array_get_idx(jgroups, k++);
                        if (!jg || !json_object_object_get_ex(jg, "devices", &jd))
                                break;
                        for (size_t i = 0; i < n; i++) {
                                json_object *u;
                                bool add;
                                u = libvirt_used_by_json(list, devs[i], &add);
                                if (add)
                                        json_object_object_add(json_object_array_get_idx(jd, i), "used_by", u);
                        }
                        h = n ? libvirt_vfio_holder_json(devs[0]) : NULL;
                        if (h)
                                json_object_object_add(jg, "vfio_holder", h);
                }
                print_json(root);
                json_object_put(root);
                return EXIT_SUCCESS;
        }
        r = hd_iommu_get_info(ctx, &info);
        if (r >= 0)
                r = hd_iommu_list_groups(list, &groups, &ng);
        if (r < 0) {
                errorf("iommu: %s", strerror(-r));
                return EXIT_FAILURE;
        }
        printf("IOMMU: %s%s%s%s\n", info->enabled ? "enabled" : "DISABLED",
               info->vendor ? " (" : "", strempty(info->vendor), info->vendor ? ")" : "");
        printf("Interrupt remapping: %s\n", info->intremap < 0 ? "unknown" : info->intremap ? "yes" : "NO");
        if (info->hypervisor)
                printf("Virtual machine: %s\n", info->hypervisor);
        if (info->hint)
                printf("Hint: %s\n", info->hint);
        for (size_t g = 0; g < ng; g++) {
                _cleanup_free_ hd_device **devs = NULL;
                hd_device *blocker = NULL;
                size_t n = 0;
                int viable;

                if (hd_iommu_group_get_devices(list, groups[g], &devs, &n) < 0)
                        continue;
                viable = hd_iommu_group_is_viable(list, groups[g], &blocker);
                if (viable > 0)
                        printf("\nGroup %u: viable\n", groups[g]);
                else if (blocker)
                        printf("\nGroup %u: not viable: %s is bound to %s\n", groups[g],
                               strrchr(hd_device_get_syspath(blocker), '/') + 1, hd_device_get_driver(blocker));
                else
                        printf("\nGroup %u\n", groups[g]);
                for (size_t i = 0; i < n; i++) {
                        char cls[32], vendor[128], product[160];
                        if (hd_device_get_cap_type(devs[i]) != HD_CAP_PCI) {
                                printf("  %s  %s\n", strrchr(hd_device_get_syspath(devs[i]), '/') + 1,
                                       hd_device_get_name(devs[i]));
                                continue;
                        }
                        char idbuf[16];
                        const char *id = pci_id(devs[i], idbuf, sizeof(idbuf));
                        const char *drv = hd_device_get_driver(devs[i]);
                        (void) hd_pci_device_get_names(devs[i], vendor, sizeof(vendor), product, sizeof(product));
                        printf("  %s  %s  %-9s  %-14s %s%s%s%s\n", hd_device_get_pci_address(devs[i]),
                               pci_label(devs[i], cls, sizeof(cls)), id ? id : "?", drv ? drv : "(no driver)",
                               vendor, vendor[0] ? " " : "", product,
                               hd_pci_device_is_bridge(devs[i]) ? " [bridge]" : "");
                        {
                                char ub[512];
                                const char *t = libvirt_used_by_text(list, devs[i], ub, sizeof(ub));
                                if (t && !streq(t, "-"))
                                        printf("      used by: %s\n", streq(t, "?") ? "unknown (libvirt cannot be asked)" : t);
                        }
                }
                {
                        json_object *h = n ? libvirt_vfio_holder_json(devs[0]) : NULL;
                        if (h) {
                                json_object *pid, *comm;
                                json_object_object_get_ex(h, "pid", &pid);
                                json_object_object_get_ex(h, "comm", &comm);
                                printf("  /dev/vfio/%u is open by process %d (%s)\n", groups[g], json_object_get_int(pid),
                                       comm ? json_object_get_string(comm) : "?");
                                json_object_put(h);
                        }
                }
        }
        return EXIT_SUCCESS;
}

static const struct verb iommu_subs[] = {
        { .name = "explain", .fn = verb_iommu_explain, .min_args = 1, .max_args = 1,
          .expect = "expected exactly one device" },
        {}
};

const struct verb iommu_verbs[] = {
        { .name = "iommu", .fn = verb_iommu, .flags = VERB_JSON, .subs = iommu_subs,
          .hint = " (did you mean 'iommu explain DEV'?)",
          .args = "[--json] | explain DEV",
          .summary = "IOMMU status and groups with their devices; whether each group can go to a VM.",
          .help = "A group is viable when every endpoint is bound to vfio-pci (or a vfio variant\n"
            "driver) or pci-stub, or is unbound; bridges are ignored, as the kernel does.\n"
            "'iommu explain DEV' tells why DEV shares its group: the multifunction siblings\n"
            "or the first upstream port without ACS isolation (needs root for config space).\n" },
        {}
};

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DRM facts of a GPU through libdrm, on the live host only: libdrm reads
 * /sys and /dev itself (the documented exception to util/sysfs.c).  The
 * node is opened through the context root, read-only, for drmGetVersion.
 */
#include <fcntl.h>
#include <xf86drm.h>

#include "gpu/gpu-internal.h"

#define MAX_DRM_DEVICES 64

static void free_devices(drmDevicePtr *devs, int n) {
        if (n > 0)
                drmFreeDevices(devs, n);
}

int hd_gpu_drm_probe_live(hd_ctx *ctx, hd_gpu *g) {
        drmDevicePtr devs[MAX_DRM_DEVICES];
        struct hd_pci_addr a;
        const char *node = NULL;
        drmVersionPtr ver;
        int n, found = -1, fd = -1, r;

        if (hd_pci_addr_parse(g->addr, &a) < 0)
                return -EINVAL;
        /* flags 0: no PCI revision read, which would wake sleeping GPUs */
        n = drmGetDevices2(0, devs, MAX_DRM_DEVICES);
        if (n < 0) {
                log_debug(ctx, "drmGetDevices2: %s", strerror(-n));
                return -ENODEV;
        }
        for (int i = 0; i < n; i++) {
                drmPciBusInfoPtr b;
                if (devs[i]->bustype != DRM_BUS_PCI)
                        continue;
                b = devs[i]->businfo.pci;
                if (b->domain == a.domain && b->bus == a.bus && b->dev == a.slot && b->func == a.function) {
                        found = i;
                        break;
                }
        }
        if (found < 0) {
                free_devices(devs, n);
                return -ENODEV;
        }
        if (devs[found]->available_nodes & (1 << DRM_NODE_PRIMARY))
                snprintf(g->card, sizeof(g->card), "%s", devs[found]->nodes[DRM_NODE_PRIMARY]);
        if (devs[found]->available_nodes & (1 << DRM_NODE_RENDER))
                snprintf(g->render, sizeof(g->render), "%s", devs[found]->nodes[DRM_NODE_RENDER]);
        free_devices(devs, n);

        /* the render node needs no DRM master and is usually world-accessible */
        for (int k = 0; k < 2 && fd < 0; k++) {
                node = k == 0 ? g->render : g->card;
                if (!node[0])
                        continue;
                r = hd_sysfs_open(ctx, node, O_RDONLY | O_NOCTTY, &fd);
                if (r < 0) {
                        log_debug(ctx, "%s: cannot open %s: %s", g->addr, node, strerror(-r));
                        fd = -1;
                }
        }
        if (fd < 0)
                return -ENODEV; /* nodes known, driver from the tree */
        ver = drmGetVersion(fd);
        close(fd);
        if (!ver) {
                log_debug(ctx, "%s: drmGetVersion on %s failed", g->addr, node);
                return -ENODEV;
        }
        snprintf(g->drm_driver, sizeof(g->drm_driver), "%.*s", ver->name_len, ver->name ? ver->name : "");
        snprintf(g->drm_version, sizeof(g->drm_version), "%d.%d.%d", ver->version_major, ver->version_minor,
                 ver->version_patchlevel);
        snprintf(g->drm_date, sizeof(g->drm_date), "%.*s", ver->date_len, ver->date ? ver->date : "");
        snprintf(g->drm_desc, sizeof(g->drm_desc), "%.*s", ver->desc_len, ver->desc ? ver->desc : "");
        drmFreeVersion(ver);
        g->drm_source = "libdrm";
        return 0;
}

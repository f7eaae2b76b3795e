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
        if (((devs[found]->available_nodes & (1 << DRM_NODE_PRIMARY)) &&
             !(g->card = strdup(devs[found]->nodes[DRM_NODE_PRIMARY]))) ||
            ((devs[found]->available_nodes & (1 << DRM_NODE_RENDER)) &&
             !(g->render = strdup(devs[found]->nodes[DRM_NODE_RENDER])))) {
                free_devices(devs, n);
                return -ENOMEM;
        }
        free_devices(devs, n);

        /* the render node needs no DRM master and is usually world-accessible */
        for (int k = 0; k < 2 && fd < 0; k++) {
                node = k == 0 ? g->render : g->card;
                if (!node)
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
        r = 0;
        if ((ver->name_len > 0 && ver->name && !(g->drm_driver = strndup(ver->name, (size_t) ver->name_len))) ||
            hd_asprintf(&g->drm_version, "%d.%d.%d", ver->version_major, ver->version_minor,
                        ver->version_patchlevel) < 0 ||
            (ver->date_len > 0 && ver->date && !(g->drm_date = strndup(ver->date, (size_t) ver->date_len))) ||
            (ver->desc_len > 0 && ver->desc && !(g->drm_desc = strndup(ver->desc, (size_t) ver->desc_len))))
                r = -ENOMEM;
        drmFreeVersion(ver);
        if (r < 0)
                return r;
        g->drm_source = "libdrm";
        return 0;
}

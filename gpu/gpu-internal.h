/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "nodedev/device.h"

struct hd_gpu_quirk {
        unsigned vendor;
        int device;             /* -1: any device of the vendor */
        const char *note;
};

/* drm.c: DRM driver, version and nodes of @g through libdrm (live host);
 * 0 when found, -ENODEV when libdrm does not know the device (the nodes it
 * found may be set), -ENOMEM. */
int hd_gpu_drm_probe_live(hd_ctx *ctx, hd_gpu *g);
/* The known-quirk note of vendor:device, or NULL. */
const char *hd_gpu_quirk_lookup(unsigned vendor, unsigned device);
/* PCI address of @d's PF ("physfn"), or -ENOENT for a non-VF. */
int hd_pci_physfn(hd_device *d, char *buf, size_t size);

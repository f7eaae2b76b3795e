/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Policy shared by every front end (hostdevctl and the coming daemon):
 * which operations change the host, and the driver names an operation
 * accepts.
 */
#include <string.h>

#include "internal.h"

/* Operations (verbs and "verb sub-verb") that change devices, driver
 * bindings or files under /etc.  On the live host they need root, also
 * as a dry run: their safety checks read every process's open files. */
static const char *const host_changing_operations[] = {
        "nodedev-detach", "nodedev-reattach", "nodedev-reset", "recover", "apply",
        "nodedev-create", "nodedev-destroy", "nodedev-define", "nodedev-undefine", "nodedev-start",
        "nodedev-autostart", "sriov set", "sriov vf",
        "mdev create", "mdev remove", "mdev define", "mdev undefine", "mdev start", "mdev stop",
        "mdev autostart", "mdev modify", "gpu rom", "vgpu create", "vgpu remove",
        "attach", "detach-device", "qemu-hook",
};

_public_ bool hd_operation_changes_host(const char *name) {
        if (!name)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(host_changing_operations); i++)
                if (streq(host_changing_operations[i], name))
                        return true;
        return false;
}

_public_ const char *hd_driver_from_alias(const char *word, unsigned flags) {
        if (!word)
                return NULL;
        if (streq(word, "vfio") || streq(word, "vfio-pci") || streq(word, "vfio_pci"))
                return "vfio-pci";
        if (streq(word, "stub") || streq(word, "pci-stub") || streq(word, "pci_stub"))
                return "pci-stub";
        if ((flags & HD_DRIVER_ALIAS_HOST) && streq(word, "host"))
                return "host";
        return NULL;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* uevent files (KEY=VALUE lines): hd_uevent_parse() as the sysroot source
 * calls it, then the properties that pick the udev database entry. */
#include "fuzz.h"
#include "nodedev/device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const subsystems[] = { "block", "net", "usb", "pci", "scsi" };
        struct hd_raw_device raw = {};
        char *text, path[4096];
        int r;

        /* the reader's buffer is 8 KiB: larger files are skipped */
        if (size >= 8192)
                return -1;
        text = fuzz_cstr(data, size);
        raw.syspath = strdup("/sys/devices/pci0000:00/0000:00:01.0");
        raw.subsystem = strdup(subsystems[size % ELEMENTSOF(subsystems)]);
        FUZZ_ASSERT(raw.syspath && raw.subsystem);
        r = hd_uevent_parse(text, &raw);
        FUZZ_ASSERT(r == 0 || r == -ENOMEM);
        for (size_t i = 0; i < raw.n_props; i++) {
                const char *eq = strchr(raw.props[i], '=');
                FUZZ_ASSERT(eq && eq > raw.props[i] && !strchr(raw.props[i], '\n'));
        }
        (void) hd_raw_get_prop(&raw, "DEVTYPE");
        (void) hd_raw_get_prop(&raw, "PCI_CLASS");
        r = hd_udev_db_path(&raw, path, sizeof(path));
        FUZZ_ASSERT(r == 0 || r == -ENAMETOOLONG);
        /* what the source appends after the uevent: later entries win */
        r = hd_raw_add_prop(&raw, "SUBSYSTEM", strlen("SUBSYSTEM"), raw.subsystem);
        FUZZ_ASSERT(r == 0 && streq(hd_raw_get_prop(&raw, "SUBSYSTEM"), raw.subsystem));
        hd_raw_device_done(&raw);
        free(text);
        return 0;
}

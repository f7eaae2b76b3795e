/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* uevent files (KEY=VALUE lines): hd_uevent_parse() as the sysroot source
 * calls it, then the properties that pick the udev database entry. */
#include "fuzz-raw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const subsystems[] = { "block", "net", "usb", "pci", "scsi" };
        struct hd_raw_device raw;
        char *text, path[4096];
        int r;

        /* the reader's buffer is 8 KiB: larger files are skipped */
        if (size >= 8192)
                return -1;
        text = fuzz_cstr(data, size);
        fuzz_raw_init(&raw, "/sys/devices/pci0000:00/0000:00:01.0", subsystems, ELEMENTSOF(subsystems), size);
        r = hd_uevent_parse(text, &raw);
        fuzz_raw_check_props(&raw, r);
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
